"""Figures of the report. Each function draws on a given (or new) axes; :func:`save` writes figures/<name>.png."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from . import paths, runs
from .settings import FIG_DPI
from .world import RELATIONS


def save(fig: plt.Figure, name: str) -> Path:
    """Save a figure as figures/<name>.png (fixed dpi, stable name) and return the path."""
    paths.FIGURES.mkdir(parents=True, exist_ok=True)
    out = paths.FIGURES / f"{name}.png"
    fig.savefig(out, dpi=FIG_DPI, bbox_inches="tight")
    return out


def loss_curves(run_dirs: Sequence[Path], labels: Sequence[str], ax: plt.Axes | None = None,
                smooth: int = 5) -> plt.Axes:
    """Training loss (rolling mean) and validation loss of several runs on shared axes."""
    ax = ax or plt.subplots(figsize=(7, 4))[1]
    for d, label, color in zip(run_dirs, labels, sns.color_palette(n_colors=max(len(labels), 1))):
        rows = runs.read_jsonl(Path(d) / "metrics.jsonl")
        tr = pd.DataFrame([r for r in rows if "loss" in r])
        ev = pd.DataFrame([r for r in rows if "val_loss" in r])
        if len(tr):
            ax.plot(tr["step"], tr["loss"].rolling(smooth, min_periods=1).mean(), color=color, label=f"{label} (train)")
        if len(ev):
            ax.plot(ev["step"], ev["val_loss"], "o--", color=color, ms=3, label=f"{label} (val)")
    ax.set(xlabel="optimizer step", ylabel="loss (target tokens)", yscale="log")
    ax.legend(fontsize=7)
    return ax


def confusion(conf: Sequence[Sequence[int]], ax: plt.Axes | None = None, title: str = "",
              cols: Sequence[str] | None = None) -> plt.Axes:
    """Row-normalised relation confusion table (rows = true relation, columns = predicted)."""
    m = np.asarray(conf, dtype=float)
    cols = list(cols or (RELATIONS + ("invalid",) if m.shape[1] == len(RELATIONS) + 1 else RELATIONS))
    norm = m / np.maximum(m.sum(1, keepdims=True), 1)
    ax = ax or plt.subplots(figsize=(6, 5))[1]
    sns.heatmap(norm, annot=m.astype(int), fmt="d", cmap="Blues", vmin=0, vmax=1, cbar=False, ax=ax,
                xticklabels=cols, yticklabels=RELATIONS, annot_kws={"fontsize": 7})
    ax.set(xlabel="predicted", ylabel="true", title=title)
    ax.tick_params(axis="x", rotation=60, labelsize=7)
    ax.tick_params(axis="y", rotation=0, labelsize=7)
    return ax


def heatmap_pair(true_counts: np.ndarray, pred_counts: np.ndarray, name: str, axes=None) -> None:
    """Where an object is (left) vs where the model puts it (right); row 0 of the arrays is y=0 (drawn at the bottom)."""
    axes = axes if axes is not None else plt.subplots(1, 2, figsize=(6, 3))[1]
    for ax, counts, title in zip(axes, (true_counts, pred_counts), ("true", "predicted")):
        sns.heatmap(np.asarray(counts)[::-1], ax=ax, cmap="magma", cbar=False, square=True,
                    xticklabels=range(np.shape(counts)[1]), yticklabels=list(range(np.shape(counts)[0]))[::-1])
        ax.set(title=f"{name}: {title}", xlabel="x", ylabel="y")
        ax.tick_params(labelsize=6)


def accuracy_bars(df: pd.DataFrame, x: str = "label", ax: plt.Axes | None = None, title: str = "",
                  ref: float | None = None) -> plt.Axes:
    """Bars of ``value`` with Wilson 95% intervals (columns value, ci_low, ci_high, n)."""
    ax = ax or plt.subplots(figsize=(max(4, 0.7 * len(df)), 3.5))[1]
    y = df["value"].to_numpy(dtype=float)
    # (a bootstrap interval need not contain its point estimate: clip rather than draw negative bars)
    err = np.clip(np.vstack([y - df["ci_low"].to_numpy(dtype=float), df["ci_high"].to_numpy(dtype=float) - y]), 0, None)
    ax.bar(range(len(df)), y, yerr=err, capsize=3, color=sns.color_palette(n_colors=len(df)))
    ax.set_xticks(range(len(df)), [f"{l}\n(n={n})" for l, n in zip(df[x], df["n"])], rotation=30, ha="right", fontsize=7)
    ax.set(ylim=(0, 1.02), ylabel="accuracy", title=title)
    if ref is not None:
        ax.axhline(ref, color="k", ls=":", lw=1)
    return ax


def learning_curve(df: pd.DataFrame, ax: plt.Axes | None = None, title: str = "") -> plt.Axes:
    """Accuracy vs training examples (columns n_train, value, ci_low, ci_high[, series])."""
    ax = ax or plt.subplots(figsize=(5, 3.5))[1]
    for series, g in df.groupby("series") if "series" in df else [("", df)]:
        g = g.sort_values("n_train")
        ax.plot(g["n_train"], g["value"], "o-", label=series or None)
        ax.fill_between(g["n_train"], g["ci_low"], g["ci_high"], alpha=0.2)
    ax.set(xscale="log", xlabel="training examples", ylabel="relation accuracy", ylim=(0, 1.02), title=title)
    if "series" in df:
        ax.legend(fontsize=7)
    return ax


def draw_map(layout: dict, objects: Sequence[dict], width: int, height: int, ax: plt.Axes | None = None,
             title: str = "", other: dict | None = None) -> plt.Axes:
    """Draw a layout on its grid (y up, as in the convention); ``other`` overlays a second layout as hollow marks."""
    ax = ax or plt.subplots(figsize=(3, 3))[1]
    colors = dict(zip([o["name"] for o in objects], sns.color_palette("tab10", n_colors=max(len(objects), 1))))
    for o in objects:
        if o["name"] in layout:
            x, y = layout[o["name"]]
            ax.scatter([x], [y], s=260, color=colors[o["name"]], zorder=3)
            ax.text(x, y, o.get("symbol", o["name"][0]), ha="center", va="center", color="white", fontsize=9,
                    fontweight="bold", zorder=4)
        if other and o["name"] in other:
            x, y = other[o["name"]]
            ax.scatter([x], [y], s=420, facecolors="none", edgecolors=colors[o["name"]], lw=2, zorder=2)
    ax.set(xlim=(-0.5, width - 0.5), ylim=(-0.5, height - 0.5), aspect="equal", title=title)
    ax.set_xticks(range(width))
    ax.set_yticks(range(height))
    ax.tick_params(labelsize=6)
    ax.grid(True, lw=0.3)
    return ax
