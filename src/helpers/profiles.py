"""Budgets per profile: which runs each notebook makes, on which model, with how much data.

* ``smoke``   - tiny-random model and tens of examples: exercises every code path in minutes (tests).
* ``default`` - sized for a 2-core CPU (``make report`` in about an hour): the seed replications and the
  fixed formulation of the coordinates experiment on SmolLM2-135M; the ablations (target ambiguity, axis
  convention, learning curve, grid shortcut, parse formats) on the small from-scratch Llama, which is ~20x cheaper.
* ``full``    - the seed's budgets and every ablation on the pretrained model (a GPU is advised); pass
  ``MODEL=meta-llama/Llama-3.2-1B`` to replicate the seed's exact model.
"""
from __future__ import annotations

from dataclasses import replace

from .experiments import Experiment

PROFILES = ("smoke", "default", "full")
ALL_TEST_SPLITS = ("test_iid", "test_names", "test_objects", "test_grid", "test_templates", "test_hops", "test_actions")

# The seed's setting: Alice/Rabbit/House-like scenes, 3 objects, 10x10, qualitative relations.
SEED_DATA = dict(n_objects=3, width=10, height=10, mode="qualitative", structure="all_pairs")
# Multi-hop training distribution for the fixed formulation: chains and trees, up to 4 objects, some actions.
FIXED_DATA = dict(n_objects=3, width=10, height=10, mode="qualitative", structure="all_pairs")


def _check(profile: str) -> None:
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; use one of {', '.join(PROFILES)}")


def _budget(profile: str, model: str | None) -> dict:
    """Model names and sizes for a profile. ``model`` overrides the pretrained model of the fine-tuned runs."""
    if profile == "smoke":
        return dict(llm="tiny-random", cheap="scratch", n_seed=32, n_big=48, epochs=1, n_eval=8, n_iid=12,
                    curve=(16, 32), lora=dict(lora_top_k_layers=None, cache_prefix=False, batch_size=8, lr=1e-3),
                    scratch=dict(method="full", batch_size=8, lr=1e-3))
    if profile == "default":
        return dict(llm=model or "smollm2-135m", cheap="scratch", n_seed=1000, n_big=4000, epochs=3, n_eval=100,
                    n_iid=200, curve=(100, 300, 1000, 3000),
                    lora=dict(lora_r=16, lora_top_k_layers=8, cache_prefix=True, batch_size=16, lr=1e-3),
                    scratch=dict(method="full", batch_size=32, lr=1e-3))
    return dict(llm=model or "smollm2-135m", cheap=model or "smollm2-135m", n_seed=1000, n_big=10000, epochs=3,
                n_eval=300, n_iid=500, curve=(100, 300, 1000, 3000, 10000),
                lora=dict(lora_r=16, lora_top_k_layers=None, cache_prefix=False, batch_size=16, lr=5e-4),
                scratch=dict(method="full", batch_size=32, lr=1e-3))


def _train(b: dict, model: str, epochs: int | None = None) -> dict:
    """LoRA settings for a pretrained model, full training for the from-scratch model."""
    cfg = b["scratch"] if model == "scratch" else {"method": "lora", **b["lora"]}
    return {**cfg, "epochs": epochs or b["epochs"]}


def _ft(b: dict, model: str, **kw) -> Experiment:
    train = kw.pop("train", None) or _train(b, model)
    return Experiment(model=model, method="finetune", train=train, **kw)


def baselines(exp: Experiment) -> list[Experiment]:
    """Chance, position prior and the hand-written rule parser + solver on the same data and splits."""
    return [replace(exp, formulation=f"{exp.formulation}-{m}", model=m, method=m, train={})
            for m in ("chance", "prior", "rule")]


def plan(notebook: str, profile: str = "default", model: str | None = None, seed: int = 0) -> dict[str, list[Experiment]]:
    """Named groups of experiments for one notebook (``parse``, ``grid``, ``coords``)."""
    _check(profile)
    b = _budget(profile, model)
    evals_iid = {"test_iid": b["n_iid"]}
    evals_all = {"test_iid": b["n_iid"], **{s: b["n_eval"] for s in ALL_TEST_SPLITS[1:]}}
    common = dict(seed=seed, data=SEED_DATA, eval_sizes=evals_iid)
    if notebook == "coords":
        seed_exp = _ft(b, b["llm"], experiment="coords", formulation="seed", fmt="coords", target="random",
                       n_train=b["n_seed"], **common)
        fixed = _ft(b, b["llm"], experiment="coords", formulation="fixed", fmt="coords", target="canonical",
                    n_train=b["n_big"], **{**common, "data": FIXED_DATA, "eval_sizes": evals_all})
        cheap = b["cheap"]
        groups = {
            "replication": [seed_exp],
            "baselines": baselines(seed_exp),
            "ambiguity": [_ft(b, cheap, experiment="coords", formulation=f"{t}-target", fmt="coords", target=t,
                              n_train=b["n_big"], **common) for t in ("random", "canonical")],
            "convention": [_ft(b, cheap, experiment="coords", formulation="mixed-y", fmt="coords", target="canonical",
                               n_train=b["n_big"], **{**common, "data": {**SEED_DATA, "axis_convention": "mixed"}})],
            "curve": [_ft(b, cheap, experiment="coords", formulation=f"curve-{n}", fmt="coords", target="canonical",
                          n_train=n, **common) for n in b["curve"]],
            "fixed": [fixed],
            "fixed_baselines": baselines(fixed),
            "scratch": [replace(fixed, model=cheap, formulation="fixed-scratch", train=_train(b, cheap))],
            "fewshot": [replace(seed_exp, formulation="fewshot", method="fewshot", train={})],
        }
        return groups
    if notebook == "grid":
        seed_exp = _ft(b, b["cheap"], experiment="grid", formulation="seed", fmt="grid", target="random",
                       n_train=b["n_seed"], **common)
        fixed = replace(seed_exp, formulation="fixed", target="canonical", n_train=b["n_big"])
        return {"replication": [seed_exp], "baselines": baselines(seed_exp), "fixed": [fixed]}
    if notebook == "parse":
        seed_exp = _ft(b, b["cheap"], experiment="parse", formulation="seed", fmt="facts", style="json",
                       target="canonical", n_train=b["n_seed"], **common)
        fixed = replace(seed_exp, formulation="fixed", style="compact", n_train=b["n_big"])
        return {"replication": [seed_exp], "baselines": baselines(seed_exp), "fixed": [fixed]}
    raise ValueError(f"unknown notebook {notebook!r}; use parse, grid or coords")
