"""Is there a map *inside* the model before it writes one? Linear and MLP probes on hidden states.

For each scene (exact mode, so every coordinate is determined by the text) and each object, take the hidden
state of every layer at the last token of the object's last mention in the text, and fit a probe to the object's
true ``x`` and ``y`` (held-out scenes for testing). Reported per layer: R^2 of the coordinates and the pairwise
sign accuracy (is A left/right, above/below B according to the probed coordinates), as in Othello-GPT and
"Language models represent space and time".
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from tqdm.auto import tqdm

from .formats import example_prompt
from .world import sign


def _mention_end(text: str, name: str) -> int | None:
    """Character index just after the last mention of ``name`` (case-insensitive), or None."""
    i = text.lower().rfind(name.lower())
    return None if i < 0 else i + len(name)


def _ids(tok, text: str) -> list[int]:
    return list(tok.encode(text, add_special_tokens=False))


@torch.no_grad()
def features(tok, model, examples: list[dict], fmt: str = "coords", desc: str = "probe features"):
    """Hidden states [n_items, n_layers+1, hidden] at each object's last mention, with targets and scene ids."""
    model.eval()
    dev = next(model.parameters()).device
    feats, xy, scene, obj = [], [], [], []
    for si, ex in enumerate(tqdm(examples, desc=desc, leave=False)):
        prompt = example_prompt(ex, fmt)
        ids = _ids(tok, prompt)
        out = model(torch.tensor([ids], device=dev), output_hidden_states=True)
        hs = torch.stack(out.hidden_states, 0)[:, 0].float().cpu()  # [L+1, T, H]
        for o in ex["objects"]:
            end = _mention_end(ex["text"], o["name"])
            if end is None:
                continue
            pos = min(len(_ids(tok, ex["text"][:end])), len(ids)) - 1
            feats.append(hs[:, pos].numpy())
            xy.append(ex["canonical"][0][o["name"]])
            scene.append(si)
            obj.append(o["name"])
    return np.stack(feats), np.asarray(xy, dtype=float), np.asarray(scene), obj


def ridge(X: np.ndarray, Y: np.ndarray, lam: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Closed-form ridge regression with an unpenalised bias; returns (W, b)."""
    mu, ym = X.mean(0), Y.mean(0)
    Xc = X - mu
    W = np.linalg.solve(Xc.T @ Xc + lam * np.eye(X.shape[1]), Xc.T @ (Y - ym))
    return W, ym - mu @ W


def r2(Y: np.ndarray, P: np.ndarray) -> float:
    """Coefficient of determination averaged over the output columns."""
    ss_res = ((Y - P) ** 2).sum(0)
    ss_tot = ((Y - Y.mean(0)) ** 2).sum(0)
    return float(np.mean(1 - ss_res / np.maximum(ss_tot, 1e-12)))


def pair_sign_acc(P: np.ndarray, Y: np.ndarray, scene: np.ndarray) -> tuple[int, int]:
    """(correct, total) per-axis signs of every pair of objects of the same scene whose true sign is non-zero."""
    k = n = 0
    for s in np.unique(scene):
        idx = np.flatnonzero(scene == s)
        for i in idx:
            for j in idx:
                if i < j:
                    for ax in (0, 1):
                        t = sign(Y[i, ax] - Y[j, ax])
                        if t:
                            n += 1
                            k += int(sign(P[i, ax] - P[j, ax]) == t)
    return k, n


def mlp_probe(Xtr, Ytr, Xte, hidden: int = 128, steps: int = 400, seed: int = 0) -> np.ndarray:
    """A one-hidden-layer MLP probe (standardised inputs), full-batch Adam."""
    g = torch.Generator().manual_seed(seed)
    mu, sd = Xtr.mean(0), Xtr.std(0) + 1e-6
    xt = torch.tensor((Xtr - mu) / sd, dtype=torch.float32)
    yt = torch.tensor(Ytr, dtype=torch.float32)
    net = torch.nn.Sequential(torch.nn.Linear(xt.shape[1], hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, 2))
    for p in net.parameters():
        torch.nn.init.normal_(p, std=0.02, generator=g) if p.dim() > 1 else torch.nn.init.zeros_(p)
    opt = torch.optim.Adam(net.parameters(), lr=3e-3, weight_decay=1e-3)
    for _ in range(steps):
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(net(xt), yt)
        loss.backward()
        opt.step()
    with torch.no_grad():
        return net(torch.tensor((Xte - mu) / sd, dtype=torch.float32)).numpy()


@dataclass
class ProbeResult:
    layer: int
    probe: str
    r2: float
    sign_k: int
    sign_n: int


LAMBDAS = (1.0, 10.0, 100.0, 1e3, 1e4, 1e5)


def _split_scenes(scene: np.ndarray, frac: float, rng: np.random.Generator) -> np.ndarray:
    """Boolean mask of the items whose scene falls in a random ``frac`` of the scenes."""
    scenes = np.unique(scene)
    chosen = set(rng.choice(scenes, size=max(1, int(len(scenes) * frac)), replace=False).tolist())
    return np.array([s in chosen for s in scene])


def fit_linear(X: np.ndarray, Y: np.ndarray, scene: np.ndarray, rng: np.random.Generator):
    """Standardised ridge with the penalty chosen on held-out scenes of the training set; returns predict(X)."""
    mu, sd = X.mean(0), X.std(0) + 1e-6
    Z = (X - mu) / sd
    va = _split_scenes(scene, 0.2, rng)

    def val_r2(lam: float) -> float:
        W, b = ridge(Z[~va], Y[~va], lam)
        return r2(Y[va], Z[va] @ W + b)
    W, b = ridge(Z, Y, max(LAMBDAS, key=val_r2))
    return lambda Xn: ((Xn - mu) / sd) @ W + b


def probe_layers(F: np.ndarray, XY: np.ndarray, scene: np.ndarray, test_frac: float = 0.3,
                 mlp: bool = True, seed: int = 0) -> list[ProbeResult]:
    """Fit a probe per layer on train scenes (penalty picked on a validation part of them) and score it on
    held-out scenes."""
    rng = np.random.default_rng(seed)
    te = _split_scenes(scene, test_frac, rng)
    out = []
    for layer in range(F.shape[1]):
        X = F[:, layer]
        P = fit_linear(X[~te], XY[~te], scene[~te], np.random.default_rng(seed + layer))(X[te])
        out.append(ProbeResult(layer, "linear", r2(XY[te], P), *pair_sign_acc(P, XY[te], scene[te])))
        if mlp:
            P = mlp_probe(X[~te], XY[~te], X[te], seed=seed)
            out.append(ProbeResult(layer, "mlp", r2(XY[te], P), *pair_sign_acc(P, XY[te], scene[te])))
    return out


def random_init_like(model, seed: int = 0):
    """The same architecture with freshly initialised weights (the 'no learning at all' control)."""
    from transformers import AutoModelForCausalLM
    torch.manual_seed(seed)
    m = AutoModelForCausalLM.from_config(model.config)
    return m.to(next(model.parameters()).device).eval()


def run(fixed_run: "Path", base_model: str, n_scenes: int = 240, seed: int = 0, force: bool = False) -> "Path":
    """Probe the fine-tuned model of ``fixed_run``, its base model and a random-init copy on held-out scenes of
    the seed's setting (canonical coordinates, which the text determines). Writes ``runs/probe/<hash>/``."""
    from pathlib import Path

    from . import experiments, generate, models, runs
    from .predict import load_run
    fixed_run = Path(fixed_run)
    cfg = {"experiment": "probe", "formulation": "linear+mlp", "model": base_model, "fixed_run": fixed_run.name,
           "ridge": "standardised, penalty chosen on 20% of training scenes from " + str(LAMBDAS),
           "n_scenes": n_scenes, "seed": seed, "data": {"n_objects": 3, "mode": "qualitative", "structure": "all_pairs"}}
    d, done = runs.start("probe", cfg, force=force)
    if done:
        return d
    timer = runs.Timer()
    exp = experiments.Experiment(experiment="probe", formulation="scenes", data=cfg["data"], n_train=0, n_val=0,
                                 eval_sizes={"test_iid": n_scenes}, seed=seed + 101)
    examples = generate.load_split(experiments.dataset_for(exp), "test_iid")
    results = {}
    with timer("load"):
        trained = load_run(fixed_run)
        tok, base = models.load(base_model)
        rand = random_init_like(base, seed)
    for label, (t, m) in {"fine-tuned": (trained.tok, trained.model), "base": (tok, base),
                          "random-init": (tok, rand)}.items():
        with timer(label):
            F, XY, scene, _ = features(t, m, examples, desc=f"probe {label}")
            results[label] = [vars(r) for r in probe_layers(F, XY, scene, seed=seed)]
    runs.finish(d, cfg, {}, timer.timings, extra={"layers": results, "n_items": int(len(XY))})
    return d


def records(d: "Path") -> list[dict]:
    """Tidy summary records of a probe run (metric r2 and sign accuracy per layer, split 'layerN')."""
    from . import metrics, runs
    res = runs.read_json(d / "results.json")
    out = []
    for label, rows in res["layers"].items():
        for r in rows:
            lo, hi = metrics.wilson(r["sign_k"], r["sign_n"])
            base = {"experiment": "probe", "formulation": f"{r['probe']}-{label}", "model": res["config"]["model"],
                    "split": f"layer{r['layer']}", "run": str(d.name)}
            out.append({**base, "metric": "r2", "value": r["r2"], "n": res["n_items"], "ci_low": None,
                        "ci_high": None})
            out.append({**base, "metric": "axis_acc", "value": r["sign_k"] / max(r["sign_n"], 1), "n": r["sign_n"],
                        "ci_low": lo, "ci_high": hi})
    return out


def figure(d: "Path", name: str = "05_probe"):
    """R^2 and pairwise sign accuracy per layer, for each model and probe."""
    import matplotlib.pyplot as plt
    import pandas as pd

    from . import plots
    df = pd.DataFrame(records(d))
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
    for (form, g) in df.groupby("formulation"):
        for ax, metric in zip(axes, ("r2", "axis_acc")):
            gg = g[g.metric == metric]
            ax.plot([int(s[5:]) for s in gg.split], gg.value, "-" if form.startswith("linear") else "--", label=form)
    axes[0].set(xlabel="layer (0 = embeddings)", ylabel="R^2 of (x, y), held-out scenes", ylim=(-0.2, 1))
    axes[1].set(xlabel="layer", ylabel="pairwise sign accuracy", ylim=(0.4, 1.01))
    axes[1].legend(fontsize=7)
    plots.save(fig, name)
    plt.show()
    return df
