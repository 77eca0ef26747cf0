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

# The seed's setting: Alice/Rabbit/House-like scenes, 3 objects, 10x10, qualitative relations between every pair.
SEED_DATA = dict(n_objects=3, width=10, height=10, mode="qualitative", structure="all_pairs")
# Training mixture of the fixed formulation: half the seed's setting, half multi-hop chains/trees, more objects and
# actions, so the test splits probe generalisation beyond what was trained (5+ objects, 5-hop chains, 2 actions).
FIXED_MIX = (
    (0.5, {}),
    (0.2, {"structure": "chain", "n_objects": 4}),
    (0.15, {"structure": "tree", "n_objects": 4}),
    (0.15, {"n_actions": 1}),
)


def _check(profile: str) -> None:
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; use one of {', '.join(PROFILES)}")


def _budget(profile: str, model: str | None) -> dict:
    """Models and sizes per profile. ``model`` overrides the pretrained model of the fine-tuned runs.

    default: SmolLM2-135M (LoRA r=16 on the top 4 of 30 layers, the frozen 26 layers' outputs cached) for the
    coordinates seed replication, the fixed coordinates model and the few-shot baseline; every other run uses the
    4.3M-parameter from-scratch Llama, which trains ~20x faster on this CPU.
    """
    if profile == "smoke":
        return dict(llm="tiny-random", cheap="scratch", n_seed=32, n_fixed=48, n_big=48, epochs=1, n_eval=6,
                    n_iid=10, n_fewshot=4, curve=(16, 32),
                    lora=dict(lora_top_k_layers=1, cache_prefix=True, batch_size=8, lr=1e-3, save_every=0),
                    scratch=dict(method="full", batch_size=8, lr=1e-3, save_every=0, epochs=1))
    if profile == "default":
        return dict(llm=model or "smollm2-135m", cheap="scratch", n_seed=1000, n_fixed=1000, n_big=3000, epochs=3,
                    n_eval=50, n_iid=200, n_fewshot=60, curve=(100, 300, 1000, 3000),
                    lora=dict(lora_r=16, lora_top_k_layers=4, cache_prefix=True, batch_size=16, lr=1e-3),
                    scratch=dict(method="full", batch_size=32, lr=2e-3, epochs=6))
    return dict(llm=model or "smollm2-135m", cheap=model or "smollm2-135m", n_seed=1000, n_fixed=5000, n_big=10000,
                epochs=3, n_eval=300, n_iid=500, n_fewshot=200, curve=(100, 300, 1000, 3000, 10000),
                lora=dict(lora_r=16, lora_top_k_layers=None, cache_prefix=False, batch_size=16, lr=5e-4),
                scratch=dict(method="full", batch_size=32, lr=2e-3, epochs=6))


def _train(b: dict, model: str) -> dict:
    """LoRA settings for a pretrained model, full training for the from-scratch model."""
    if model == "scratch":
        return dict(b["scratch"])
    return {"method": "lora", "epochs": b["epochs"], **b["lora"]}


def _ft(b: dict, model: str, **kw) -> Experiment:
    return Experiment(model=model, method="finetune", train=_train(b, model), **kw)


def baselines(exp: Experiment) -> list[Experiment]:
    """Chance, position prior and the hand-written rule parser + solver on the same data and splits."""
    return [replace(exp, formulation=f"{exp.formulation}-{m}", model=m, method=m, train={})
            for m in ("chance", "prior", "rule")]


def plan(notebook: str, profile: str = "default", model: str | None = None, seed: int = 0) -> dict[str, list[Experiment]]:
    """Named groups of experiments for one notebook (``parse``, ``grid``, ``coords``)."""
    _check(profile)
    b = _budget(profile, model)
    llm, cheap = b["llm"], b["cheap"]
    iid = {"test_iid": b["n_iid"]}
    every = {"test_iid": b["n_iid"], **{s: b["n_eval"] for s in ALL_TEST_SPLITS[1:]}}
    seed_like = dict(seed=seed, data=SEED_DATA, eval_sizes=iid)
    if notebook == "coords":
        seed_exp = _ft(b, llm, experiment="coords", formulation="seed", fmt="coords", target="random",
                       n_train=b["n_seed"], **seed_like)
        fixed = _ft(b, llm, experiment="coords", formulation="fixed", fmt="coords", target="canonical",
                    n_train=b["n_fixed"], mix=FIXED_MIX, **{**seed_like, "eval_sizes": every})
        # ablations on the cheap model; names are left out of the target ('ordered' style: line i = i-th mentioned
        # object) so that a from-scratch model is not also asked to learn to copy names
        abl = dict(experiment="coords", fmt="coords", style="ordered", n_train=b["n_big"], **seed_like)
        return {
            "replication": [seed_exp],
            "baselines": baselines(seed_exp),
            "ambiguity": [_ft(b, cheap, formulation=f"{t}-target", target=t, **abl) for t in ("random", "canonical")],
            "convention": [_ft(b, cheap, formulation="mixed-y", target="canonical",
                               **{**abl, "data": {**SEED_DATA, "axis_convention": "mixed"}})],
            "curve": [_ft(b, cheap, formulation=f"curve-{n}", target="canonical", **{**abl, "n_train": n})
                      for n in b["curve"]],
            "fixed": [fixed],
            "fixed_baselines": baselines(fixed),
            "scratch": [replace(fixed, model=cheap, formulation="fixed-scratch", train=_train(b, cheap))],
            "fewshot": [replace(seed_exp, formulation="fewshot", method="fewshot", train={}, target="canonical",
                                eval_sizes={"test_iid": b["n_fewshot"]})],
        }
    if notebook == "grid":
        seed_exp = _ft(b, cheap, experiment="grid", formulation="seed", fmt="grid", target="random",
                       n_train=b["n_big"], **seed_like)
        fixed = replace(seed_exp, formulation="fixed", target="canonical")
        return {"replication": [seed_exp], "baselines": baselines(seed_exp), "fixed": [fixed]}
    if notebook == "parse":
        seed_exp = _ft(b, cheap, experiment="parse", formulation="seed", fmt="facts", style="json",
                       target="canonical", n_train=b["n_big"], **seed_like)
        fixed = replace(seed_exp, formulation="fixed", style="compact")
        return {"replication": [seed_exp], "baselines": baselines(seed_exp), "fixed": [fixed]}
    raise ValueError(f"unknown notebook {notebook!r}; use parse, grid or coords")
