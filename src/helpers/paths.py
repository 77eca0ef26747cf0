"""Every path the project uses, resolved from the repository root so any working directory works.

``SWM_OUTPUT=/some/dir`` relocates everything the project *writes* (data, runs, figures, reports):
the smoke test uses it so that test runs never touch the committed artifacts.
"""
from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
_OUT = Path(os.environ["SWM_OUTPUT"]) if os.environ.get("SWM_OUTPUT") else ROOT
DATA = _OUT / "data"
RUNS = _OUT / "runs"
FIGURES = _OUT / "figures"
REPORTS = _OUT / "reports"
CACHE = Path(os.environ.get("SWM_CACHE", ROOT / ".cache"))
SHARED_BENCHMARKS = Path(os.environ.get("SWM_BENCHMARKS", ROOT.parent / "shared" / "benchmarks"))
