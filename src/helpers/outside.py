"""Outside benchmarks as run artifacts: StepGame (k = 1..10) and bAbI tasks 17/19.

The hand-written reader + solver of :mod:`helpers.stepgame` / :mod:`helpers.babi` is scored on the validation
files (StepGame) and on held-out training stories (bAbI; their test splits are held by the user), with Wilson
intervals, and the published results are kept beside them. These numbers are the "symbolic upper bound" a model
must approach; the files are read from ``../shared/benchmarks`` (or any path) and never copied.
"""
from __future__ import annotations

from pathlib import Path

from . import babi, metrics, paths, runs, stepgame

# Published accuracies (%), noisy StepGame test set, k = 1..10 (shared/benchmarks/README.md).
PUBLISHED_STEPGAME = {
    "GPT-3 parser + ASP solver (Yang et al. 2023)": [92.6, 89.9, 89.1, 93.8, 92.9, 91.6, 91.2, 90.4, 89.0, 88.3],
    "GPT-4 CoT, coordinates (Li et al. 2024, corrected set)": [None, 80, 75, 95, 85, 85, 90, 80, 60, 65],
}
PUBLISHED_BABI = {"babi17": 54.6, "babi19": 10.3}  # MemN2N, 1k training stories


def available(root: Path | None = None) -> bool:
    return (root or paths.SHARED_BENCHMARKS).is_dir()


def rule_stepgame(n_per_k: int | None = None, root: Path | None = None, force: bool = False) -> Path:
    """Rule reader + solver on StepGame validation k = 1..10; clean and noisy stories also reported apart."""
    root = root or paths.SHARED_BENCHMARKS
    cfg = {"experiment": "stepgame", "formulation": "rule", "model": "rule", "n_per_k": n_per_k}
    d, done = runs.start("stepgame", cfg, force=force)
    if done:
        return d
    timer, splits = runs.Timer(), {}
    with timer("evaluate"):
        for k in range(1, 11):
            items = stepgame.load(root / "stepgame" / "valid", k=k, limit=n_per_k)
            res = stepgame.evaluate(items)
            splits[f"k{k}"] = {"relation_acc": metrics.stat(res["all"]["correct"], res["all"]["n"]),
                               "relation_acc_clean": metrics.stat(res["clean"]["correct"], res["clean"]["n"]),
                               "relation_acc_noisy": metrics.stat(res["noisy"]["correct"], res["noisy"]["n"])}
    runs.finish(d, cfg, splits, timer.timings, extra={"published": PUBLISHED_STEPGAME})
    return d


def rule_babi(task: int, holdout_frac: float = 0.1, seed: int = 0, root: Path | None = None,
              force: bool = False) -> Path:
    """Rule reader + solver, answering from the map, on held-out stories of the bAbI 1k training file."""
    root = root or paths.SHARED_BENCHMARKS
    cfg = {"experiment": f"babi{task}", "formulation": "rule", "model": "rule", "holdout_frac": holdout_frac,
           "seed": seed}
    d, done = runs.start(f"babi{task}", cfg, force=force)
    if done:
        return d
    timer = runs.Timer()
    with timer("evaluate"):
        stories = babi.load(root / "babi", task=task, size="1k")
        _, held = babi.holdout(stories, holdout_frac, seed)
        res = babi.evaluate(held)
    n = res["n"]
    splits = {"heldout": {"relation_acc": metrics.stat(round(res["map_acc"] * n), n)}}
    runs.finish(d, cfg, splits, timer.timings, extra={"published_memn2n_1k": PUBLISHED_BABI[f"babi{task}"]})
    return d


def stepgame_table(d: Path):
    """Our per-k accuracies beside the published ones (percent)."""
    import pandas as pd
    res = runs.read_json(d / "results.json")
    rows = {"rule reader + solver (this repo, validation)": [100 * res["splits"][f"k{k}"]["relation_acc"]["value"]
                                                             for k in range(1, 11)],
            "  same, clean stories only": [100 * res["splits"][f"k{k}"]["relation_acc_clean"]["value"]
                                          for k in range(1, 11)]}
    rows.update(res["published"])
    return pd.DataFrame(rows, index=[f"k={k}" for k in range(1, 11)]).T.round(1)
