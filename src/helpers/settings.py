"""Shared settings every notebook and script imports: seeds, threads, device, figure style."""
from __future__ import annotations

import os
import random

FIG_DPI = 110
DEFAULT_SEED = 0


def seed_everything(seed: int = DEFAULT_SEED) -> None:
    """Seed python, numpy and torch (CPU and CUDA) for deterministic runs."""
    random.seed(seed)
    try:
        import numpy as np
        np.random.seed(seed)
    except ImportError:
        pass
    try:
        import torch
        torch.manual_seed(seed)
    except ImportError:
        pass


def device() -> str:
    """'cuda' when a GPU is present, else 'cpu'."""
    import torch
    return "cuda" if torch.cuda.is_available() else "cpu"


def set_threads() -> int:
    """Use every core for intra-op parallelism (SWM_THREADS overrides); returns the count."""
    import torch
    n = int(os.environ.get("SWM_THREADS", os.cpu_count() or 1))
    torch.set_num_threads(n)
    return n


def plot_style() -> None:
    """One figure style for the whole report."""
    import matplotlib as mpl
    import seaborn as sns
    sns.set_theme(style="whitegrid", context="notebook")
    mpl.rcParams.update({"figure.dpi": FIG_DPI, "savefig.dpi": FIG_DPI, "savefig.bbox": "tight"})
