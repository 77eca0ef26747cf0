"""Smoke run: every notebook executes top to bottom with the smoke profile (tiny models, tens of examples),
writing into a temporary folder, and the offline HTML report is produced."""
import json
import os
import subprocess
import sys

import pytest

from helpers import paths


@pytest.mark.slow
def test_smoke_report(tmp_path):
    env = {**os.environ, "SWM_OUTPUT": str(tmp_path), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.run([sys.executable, str(paths.ROOT / "scripts" / "run_report.py"), "--profile", "smoke",
                           "--out", str(tmp_path / "reports")], env=env, cwd=tmp_path, capture_output=True,
                          text=True, timeout=1500)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    executed = tmp_path / "reports" / "executed" / "smoke"
    assert sorted(p.stem for p in executed.glob("*.ipynb")) == ["01_data", "02_parse", "03_grid", "04_coords",
                                                                "05_analysis"]
    html = (tmp_path / "reports" / "report.html").read_text()
    assert "<img" in html and "05 · Analysis" in html
    records = json.loads((tmp_path / "reports" / "summary.json").read_text())
    assert {r["experiment"] for r in records} >= {"parse", "grid", "coords"}
    fractions = [r for r in records if r["experiment"] != "perf" and r["metric"] != "r2"]  # R^2 may be negative
    bad = [r for r in fractions if not 0 <= r["value"] <= 1]
    assert fractions and not bad, bad[:3]
    assert all(r["value"] <= 1 for r in records if r["metric"] == "r2")
    assert len(list((tmp_path / "figures").glob("*.png"))) >= 10
