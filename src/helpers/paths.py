"""Every path the project uses, resolved from the repository root so any working directory works."""
from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(os.environ.get("SWM_ROOT", Path(__file__).resolve().parents[2]))
DATA = ROOT / "data"
RUNS = ROOT / "runs"
FIGURES = ROOT / "figures"
REPORTS = ROOT / "reports"
NOTEBOOKS = ROOT / "notebooks"
CACHE = Path(os.environ.get("SWM_CACHE", ROOT / ".cache"))
SHARED_BENCHMARKS = Path(os.environ.get("SWM_BENCHMARKS", ROOT.parent / "shared" / "benchmarks"))
