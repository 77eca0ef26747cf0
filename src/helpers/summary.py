"""Tidy result records computed from run folders: the one comparison table of the report.

One record per number: ``{"experiment", "formulation", "model", "split", "metric", "value", "n",
"ci_low", "ci_high", "run"}``, written to ``reports/summary.json`` and ``reports/summary.csv``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable

import pandas as pd

from . import paths, runs

METRICS = ("relation_acc", "above_acc", "axis_acc", "validity", "triple_f1", "exact_match", "answer_acc", "r2")
COLUMNS = ["experiment", "formulation", "model", "split", "metric", "value", "n", "ci_low", "ci_high", "run"]


def records(run_dir: Path, metrics: Iterable[str] = METRICS) -> list[dict]:
    """Records of one complete run (every split, every metric it has with a count)."""
    res = runs.read_json(Path(run_dir) / "results.json")
    cfg = res["config"]
    rel = str(Path(run_dir).resolve().relative_to(paths.RUNS.resolve().parent)) if paths.RUNS.resolve() in Path(
        run_dir).resolve().parents else str(run_dir)
    out = []
    for split, scores in res["splits"].items():
        for m in metrics:
            # for the facts formulation "exact match" means the parsed facts equal the story's facts
            s = scores.get("facts_exact_match" if m == "exact_match" and cfg.get("fmt") == "facts" else m)
            if isinstance(s, dict) and s.get("n"):
                out.append({"experiment": cfg["experiment"], "formulation": cfg["formulation"], "model": cfg["model"],
                            "split": split, "metric": m, "value": s["value"], "n": s["n"],
                            "ci_low": s.get("ci_low"), "ci_high": s.get("ci_high"), "run": rel})
    return out


def table(run_dirs: Iterable[Path], metrics: Iterable[str] = METRICS) -> pd.DataFrame:
    rows = [r for d in run_dirs if runs.is_complete(Path(d)) for r in records(d, metrics)]
    return pd.DataFrame(rows, columns=COLUMNS)


def write(df: pd.DataFrame, extra: list[dict] | None = None) -> Path:
    """Write reports/summary.json and .csv (sorted, so commits diff cleanly)."""
    if extra:
        df = pd.concat([df, pd.DataFrame(extra, columns=COLUMNS)], ignore_index=True)
    df = df.sort_values(["experiment", "formulation", "model", "split", "metric"]).reset_index(drop=True)
    paths.REPORTS.mkdir(parents=True, exist_ok=True)
    runs.write_json(paths.REPORTS / "summary.json", df.to_dict(orient="records"))
    df.to_csv(paths.REPORTS / "summary.csv", index=False)
    return paths.REPORTS / "summary.json"


def pivot(df: pd.DataFrame, metric: str = "relation_acc") -> pd.DataFrame:
    """experiment x formulation x model rows, split columns, 'value [lo, hi] (n)' cells."""
    d = df[df.metric == metric].copy()
    d["cell"] = d.apply(lambda r: f"{100 * r.value:.1f} [{100 * r.ci_low:.1f}, {100 * r.ci_high:.1f}] n={r.n}", axis=1)
    return d.pivot_table(index=["experiment", "formulation", "model"], columns="split", values="cell", aggfunc="first")
