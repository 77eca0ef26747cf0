"""Panels the experiment notebooks show: each reads run folders, draws, saves figures/<name>.png, returns tables.

Keeping these here keeps the notebooks to narrative, parameters and calls.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from . import metrics, plots, runs, summary
from .world import RELATIONS



def label_of(d: Path) -> str:
    c = runs.read_json(Path(d) / "config.json")
    return f"{c['formulation']} ({c['model']})"


def results_table(dirs: Sequence[Path], metric: str = "relation_acc") -> pd.DataFrame:
    """Rows = runs, columns = splits, cells = 'acc [95% CI] n=queries'."""
    return summary.pivot(summary.table(dirs), metric)


def split_scores(d: Path, split: str = "test_iid") -> dict:
    return runs.read_json(Path(d) / "results.json")["splits"][split]


def metric_frame(dirs: Sequence[Path], metric: str, split: str = "test_iid", labels: Sequence[str] | None = None):
    rows = []
    for d, lab in zip(dirs, labels or [label_of(d) for d in dirs]):
        s = split_scores(d, split).get(metric)
        if isinstance(s, dict) and s.get("n"):
            rows.append({"label": lab, **s})
    return pd.DataFrame(rows)


def replication(run_dir: Path, baseline_dirs: Sequence[Path], name: str, split: str = "test_iid") -> pd.DataFrame:
    """Loss curve, accuracy vs baselines (all relations and the seed's 'is A above B'), confusion table."""
    fig, axes = plt.subplots(1, 4, figsize=(20, 4.2))
    plots.loss_curves([run_dir], [label_of(run_dir)], ax=axes[0])
    dirs = [run_dir, *baseline_dirs]
    for ax, m in zip(axes[1:3], ("relation_acc", "above_acc")):
        df = metric_frame(dirs, m, split)
        if len(df):
            plots.accuracy_bars(df, ax=ax, title=f"{m} on {split}")
    plots.confusion(split_scores(run_dir, split)["confusion"], ax=axes[3], title=f"{label_of(run_dir)}: {split}")
    fig.tight_layout()
    plots.save(fig, name)
    plt.show()
    return pd.concat([metric_frame(dirs, m, split).assign(metric=m) for m in ("relation_acc", "above_acc", "validity")])


def predictions(d: Path, split: str | None = None) -> list[dict]:
    rows = runs.read_jsonl(Path(d) / "predictions.jsonl")
    return [r for r in rows if split is None or r["split"] == split]


def position_heatmaps(d: Path, name: str, split: str = "test_iid", n_objects: int = 3) -> None:
    """For the i-th mentioned object: where it is (true target) vs where the model puts it."""
    recs = [r for r in predictions(d, split) if r["valid"]]
    if not recs:
        print("no valid predictions to draw")
        return
    w, h = recs[0]["width"], recs[0]["height"]
    fig, axes = plt.subplots(1, 2 * n_objects, figsize=(4.5 * n_objects, 2.6))
    for i in range(n_objects):
        t, p = np.zeros((h, w)), np.zeros((h, w))
        for r in recs:
            if i < len(r["objects"]) and r["width"] == w:
                nm = r["objects"][i]["name"]
                x, y = r["true"][0][nm]
                t[y, x] += 1
                if nm in r["pred"][0]:
                    px, py = r["pred"][0][nm]
                    if 0 <= px < w and 0 <= py < h:
                        p[py, px] += 1
        plots.heatmap_pair(t, p, f"object {i + 1}", axes=axes[2 * i:2 * i + 2])
    fig.tight_layout()
    plots.save(fig, name)
    plt.show()


def compare(dirs: Sequence[Path], labels: Sequence[str], name: str, metric: str = "relation_acc",
            split: str = "test_iid", title: str = "", ref: float | None = None) -> pd.DataFrame:
    df = metric_frame(dirs, metric, split, labels)
    fig, ax = plt.subplots(figsize=(max(4, 1.1 * len(df)), 3.6))
    plots.accuracy_bars(df, ax=ax, title=title or f"{metric} on {split}", ref=ref)
    plots.save(fig, name)
    plt.show()
    return df


def confusions(dirs: Sequence[Path], labels: Sequence[str], name: str, split: str = "test_iid") -> list[float]:
    """Side-by-side confusion tables; returns each run's share of errors that are the exact opposite relation."""
    fig, axes = plt.subplots(1, len(dirs), figsize=(6 * len(dirs), 5), squeeze=False)
    flips = []
    for ax, d, lab in zip(axes[0], dirs, labels):
        conf = split_scores(d, split)["confusion"]
        plots.confusion(conf, ax=ax, title=lab)
        flips.append(metrics.flip_rate(conf))
    fig.tight_layout()
    plots.save(fig, name)
    plt.show()
    return flips


def sample_size(observed_k: int = 6, n: int = 10, name: str = "04_diag_a_sample_size") -> pd.DataFrame:
    """Diagnosis (a): what 6 of 10 can and cannot tell. Wilson intervals vs the number of queries."""
    ns = [10, 30, 100, 300, 1000, 3000]
    rows = [{"n": m, "acc": observed_k / n, "ci_low": metrics.wilson(round(observed_k / n * m), m)[0],
             "ci_high": metrics.wilson(round(observed_k / n * m), m)[1]} for m in ns]
    df = pd.DataFrame(rows)
    fig, ax = plt.subplots(figsize=(5, 3.4))
    ax.fill_between(df.n, df.ci_low, df.ci_high, alpha=0.3, label="95% Wilson interval at 60% observed")
    ax.axhline(0.5, color="k", ls=":", label="chance for yes/no (above vs below)")
    ax.set(xscale="log", xlabel="number of queries", ylabel="accuracy", ylim=(0, 1))
    ax.legend(fontsize=7)
    plots.save(fig, name)
    plt.show()
    return df


def curve(dirs: Sequence[Path], name: str, split: str = "test_iid", metric: str = "relation_acc") -> pd.DataFrame:
    rows = []
    for d in dirs:
        cfg = runs.read_json(Path(d) / "config.json")
        s = split_scores(d, split)[metric]
        rows.append({"n_train": cfg["n_train"], "series": cfg["model"], **s})
    df = pd.DataFrame(rows)
    fig, ax = plt.subplots(figsize=(5, 3.5))
    plots.learning_curve(df, ax=ax, title=f"{metric} vs training examples ({split})")
    plots.save(fig, name)
    plt.show()
    return df


def all_splits(dirs: Sequence[Path], labels: Sequence[str], name: str, metric: str = "relation_acc",
               show_targets: bool = False) -> pd.DataFrame:
    """Grouped bars: every test split for every run (model and baselines); ``show_targets`` marks each split's
    relation-accuracy target (:mod:`helpers.targets`) with a dotted line."""
    rows = []
    for d, lab in zip(dirs, labels):
        for split, s in runs.read_json(Path(d) / "results.json")["splits"].items():
            if isinstance(s.get(metric), dict) and s[metric].get("n"):
                rows.append({"run": lab, "split": split, **s[metric]})
    df = pd.DataFrame(rows)
    if df.empty:
        return df
    splits = list(dict.fromkeys(df.split))
    fig, ax = plt.subplots(figsize=(1.6 * len(splits) + 2, 3.8))
    width = 0.8 / len(labels)
    for i, lab in enumerate(labels):
        g = df[df.run == lab].set_index("split").reindex(splits)
        x = np.arange(len(splits)) + i * width
        err = np.vstack([g.value - g.ci_low, g.ci_high - g.value]).astype(float)
        ax.bar(x, g.value, width, yerr=np.clip(np.nan_to_num(err), 0, None), capsize=2, label=lab)
    ax.set_xticks(np.arange(len(splits)) + 0.4 - width / 2, splits, rotation=20, fontsize=8)
    ax.set(ylim=(0, 1.02), ylabel=metric)
    if show_targets:
        from . import targets as T
        for j, split in enumerate(splits):
            ax.hlines(T.relation(split), j - width / 2, j + 0.8 - width / 2, color="k", ls=":", lw=1)
    ax.legend(fontsize=7, ncol=2)
    plots.save(fig, name)
    plt.show()
    return df.pivot_table(index="run", columns="split", values="value").reindex(labels)


def examples(d: Path, split: str = "test_iid", n: int = 3, wrong_only: bool = False) -> None:
    """Print a few stories with true and predicted grids and the raw model output."""
    from .world import render_grid
    shown = 0
    for r in predictions(d, split):
        wrong = any(not q.get("correct", True) for q in r.get("queries", [])) or not r["valid"]
        if wrong_only and not wrong:
            continue
        sym = {o["name"]: o["symbol"] for o in r["objects"]}
        true = render_grid({k: tuple(v) for k, v in r["true"][-1].items()}, sym, r["width"], r["height"])
        pred = render_grid({k: tuple(v) for k, v in r["pred"][-1].items() if k in sym}, sym, r["width"], r["height"]) \
            if r["valid"] and r["pred"] else ["(invalid: " + r.get("reason", "") + ")"]
        print(r["text"])
        for a, b in zip(true + [""] * max(0, len(pred) - len(true)), pred + [""] * max(0, len(true) - len(pred))):
            print(f"  {a:<{r['width'] + 4}}{b}")
        print("  raw:", repr(r["raw"][:200]), "\n")
        shown += 1
        if shown >= n:
            break


def losses(dirs: Sequence[Path], labels: Sequence[str], name: str) -> None:
    fig, ax = plt.subplots(figsize=(6.5, 3.6))
    plots.loss_curves(dirs, labels, ax=ax)
    plots.save(fig, name)
    plt.show()


def _entropy(counts: dict) -> float:
    p = np.array(list(counts.values()), dtype=float)
    p = p / p.sum()
    return float(-(p * np.log2(p)).sum())


def shortcuts(d: Path, prior_dir: Path, name: str, split: str = "test_iid") -> pd.DataFrame:
    """Diagnosis (e): does the model read the text, or write a fixed pattern?

    Per mention index: entropy of predicted vs true positions (bits), share of predictions at the single most
    common predicted cell, share identical to the position-prior baseline, and relation accuracy per true label.
    """
    recs = {r["id"]: r for r in predictions(d, split)}
    prior = {r["id"]: r for r in predictions(prior_dir, split)}
    rows = []
    for i in range(3):
        pred, true, same_prior = {}, {}, []
        for rid, r in recs.items():
            if i >= len(r["objects"]) or not r["valid"]:
                continue
            nm = r["objects"][i]["name"]
            p, t = tuple(r["pred"][0].get(nm, (-1, -1))), tuple(r["true"][0][nm])
            pred[p] = pred.get(p, 0) + 1
            true[t] = true.get(t, 0) + 1
            pr = prior.get(rid)
            if pr and pr["valid"]:
                same_prior.append(tuple(pr["pred"][0].get(nm, (-2, -2))) == p)
        if pred:
            rows.append({"object (mention order)": i + 1, "entropy true (bits)": _entropy(true),
                         "entropy predicted (bits)": _entropy(pred),
                         "share at top predicted cell": max(pred.values()) / sum(pred.values()),
                         "share equal to position prior": float(np.mean(same_prior)) if same_prior else np.nan})
    per_label = {}
    for r in recs.values():
        for q in r.get("queries", []):
            if q.get("pred_relation") is not None and q.get("scored", True):
                per_label.setdefault(q["relation"], []).append(bool(q["correct"]))
    fig, ax = plt.subplots(figsize=(6, 3))
    labs = [l for l in RELATIONS if l in per_label]
    ax.bar(labs, [np.mean(per_label[l]) for l in labs])
    ax.set(ylim=(0, 1.02), ylabel="accuracy", title=f"accuracy per true relation ({split})")
    ax.tick_params(axis="x", rotation=45, labelsize=7)
    plots.save(fig, name)
    plt.show()
    return pd.DataFrame(rows)


def targets(d: Path, metric: str = "relation_acc") -> pd.DataFrame:
    """Per split: the measured value with its interval, the issue's target (:mod:`helpers.targets`), and whether it
    is met. ``metric``: ``relation_acc`` (target per split), ``triple_f1`` or ``validity``."""
    from . import targets as T
    fixed = {"triple_f1": T.TRIPLE_F1, "validity": T.GRID_VALIDITY}
    rows = []
    for split, s in runs.read_json(Path(d) / "results.json")["splits"].items():
        st = s.get(metric)
        if isinstance(st, dict) and st.get("n"):
            t = fixed[metric] if metric in fixed else T.relation(split)
            rows.append({"split": split, metric: round(st["value"], 4), "ci_low": round(st["ci_low"], 4),
                         "ci_high": round(st["ci_high"], 4), "n": st["n"], "target": t, "met": st["value"] >= t})
    return pd.DataFrame(rows)

