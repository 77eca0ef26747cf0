"""Budgets per profile: which runs each notebook makes, on which model, with how much data.

* ``smoke``   - tiny-random model and tens of examples: exercises every code path in minutes (tests).
* ``default`` - sized for a 2-core CPU: SmolLM2-135M with LoRA on its top 4 layers (frozen prefix cached) at the
  seed's budget for every run, the from-scratch Llama as the "does pretraining matter" control, a learning
  curve from 100 to 10000 examples (coordinates, canonical targets); the scaled fix (3000 stories, LoRA on the
  top 8 layers) for facts and coordinates, and the in-domain StepGame / bAbI runs at the same scaled LoRA settings.
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

# The widened training mixture (parse, ``wide-sentences``): a quarter the seed's setting as before; the rest in the
# "wide" phrasings (the outside benchmarks' language) with the "wide" name pool (made-up names, letter-only scenes),
# and a quarter of stories with two actions (more moves in either axis order). Only training and validation
# stories change: the test splits are those of the other facts runs.
_WIDE = {"template_set": "wide", "name_pool": "wide"}
WIDE_MIX = (
    (0.25, {}),
    (0.25, _WIDE),
    (0.15, {"structure": "chain", "n_objects": 4, **_WIDE}),
    (0.1, {"structure": "tree", "n_objects": 4, **_WIDE}),
    (0.25, {"n_actions": 2, **_WIDE}),
)

# The tracked map's mixture (coords, ``scaled-track``): the fixed mixture, with a third of its action stories
# having two actions, so that the map kept per state has been written with a third state (``State3:``) in training,
# as the widened facts mixture's two-action stories do for the facts reader.
TRACK_MIX = (
    (0.5, {}),
    (0.2, {"structure": "chain", "n_objects": 4}),
    (0.15, {"structure": "tree", "n_objects": 4}),
    (0.1, {"n_actions": 1}),
    (0.05, {"n_actions": 2}),
)

# Longer maps for the tracked map (coords, ``scaled-track-long``): TRACK_MIX with its chains and trees one object
# longer and some of the seed's stories replaced by every pair of 4 objects (steps that move placed objects on
# longer maps), the actions as before. Its longest training map then has one object more than TRACK_MIX's.
TRACK_LONG_MIX = (
    (0.35, {}),
    (0.15, {"n_objects": 4}),
    (0.2, {"structure": "chain", "n_objects": 5}),
    (0.15, {"structure": "tree", "n_objects": 5}),
    (0.1, {"n_actions": 1}),
    (0.05, {"n_actions": 2}),
)


def largest_story(data: dict, mix=None) -> int:
    """The most objects a story of ``data`` places, with each part of the training ``mix`` overriding ``data``."""
    return max(part.get("n_objects", data["n_objects"]) for part in [w for _, w in mix or []] or [{}])


PREFIX = "Text: "
"""The prompt prefix of the runs made after the first-token diagnosis (``Experiment.prefix``)."""


def _check(profile: str) -> None:
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; use one of {', '.join(PROFILES)}")


def _budget(profile: str, model: str | None) -> dict:
    """Models and sizes per profile. ``model`` overrides the pretrained model of the fine-tuned runs.

    default: every run on SmolLM2-135M (LoRA r=16 on the top 4 of 30 layers, the frozen 26 layers' outputs
    cached) at the seed's budget (1000 examples, 3 epochs), except the from-scratch control (a 4.3M-parameter
    Llama, full training, 6 epochs); the learning curve runs 100 / 300 / 1000 / 3000 / 10000 examples.
    """
    if profile == "smoke":
        return dict(llm="tiny-random", cheap="scratch", n_seed=32, n_fixed=48, epochs=1, n_eval=6,
                    n_iid=10, n_fewshot=4, n_probe=12, n_outside=20, curve=(16, 32), intermediate=True,
                    lora=dict(lora_top_k_layers=1, cache_prefix=True, batch_size=8, lr=1e-3, save_every=0),
                    fix_train=dict(lr=2e-3, epochs=2),
                    scaled=dict(n_train=64, train=dict(lora_top_k_layers=2, lr=2e-3, epochs=1)), n_mix=64, n_sentences=16,
                    n_wide=16,
                    stepgame=dict(n_train=24, n_val=8, n_per_k=2, n_transfer=2, n_sentences=8),
                    babi=dict(n_train=24, n_val=8, n_heldout=6, n_more=4, epochs=1),
                    scratch=dict(method="full", batch_size=8, lr=1e-3, save_every=0, epochs=1))
    if profile == "default":
        return dict(llm=model or "smollm2-135m", cheap="scratch", n_seed=1000, n_fixed=1000, epochs=3,
                    n_eval=40, n_iid=200, n_fewshot=40, n_probe=240, n_outside=None,
                    curve=(100, 300, 1000, 3000, 10000), intermediate=False,
                    lora=dict(lora_r=16, lora_top_k_layers=4, cache_prefix=True, batch_size=16, lr=1e-3),
                    # the fixed formulation's training: the same 1000 examples and 3 epochs, a higher learning rate
                    # (at lr 1e-3 the top-4 LoRA stays on its loss plateau)
                    fix_train=dict(lr=3e-3, epochs=3),
                    # the scaled fix: 3x the data, LoRA on the top 8 layers, 2 epochs (about 50 min per run)
                    scaled=dict(n_train=3000, train=dict(lora_top_k_layers=8, lr=3e-3, epochs=2)),
                    # facts at the scaled settings on the training mixture (multi-hop, actions), 5000 stories
                    n_mix=5000,
                    # facts read sentence by sentence: the sentences of 1500 stories of the mixture (about 6000)
                    n_sentences=1500,
                    # the widened mixture read sentence by sentence: the sentences of 2000 stories (about 7000)
                    n_wide=2000,
                    # StepGame in-domain: 2000 training stories (k = 1..3), 50 validation stories per k
                    stepgame=dict(n_train=2000, n_val=64, n_per_k=50, n_transfer=30,
                                  # the sentence-by-sentence reader: the sentences of 1000 training stories
                                  n_sentences=1000),
                    # bAbI in-domain: 1000 stories of the 10k file (none of the held-out ones), 3 epochs; all the
                    # held-out stories of the rule run (task 17: 12 stories, 96 questions; task 19: 100) and 150 more
                    # unseen stories of the 10k file (task 17: 1200 questions)
                    babi=dict(n_train=1000, n_val=64, n_heldout=1000, n_more=150, epochs=3),
                    scratch=dict(method="full", batch_size=32, lr=2e-3, epochs=6))
    return dict(llm=model or "smollm2-135m", cheap=model or "smollm2-135m", n_seed=1000, n_fixed=5000,
                epochs=3, n_eval=300, n_iid=500, n_fewshot=200, n_probe=1000, n_outside=None, curve=(100, 300, 1000, 3000, 10000),
                intermediate=True,
                lora=dict(lora_r=16, lora_top_k_layers=None, cache_prefix=False, batch_size=16, lr=5e-4),
                fix_train=dict(lr=1e-3, epochs=6),
                scaled=dict(n_train=10000, train=dict(lr=1e-3, epochs=3)), n_mix=20000, n_sentences=10000, n_wide=10000,
                stepgame=dict(n_train=10000, n_val=300, n_per_k=1000, n_transfer=1000, n_sentences=10000),
                babi=dict(n_train=1000, n_val=64, n_heldout=1000, n_more=150, epochs=6),
                scratch=dict(method="full", batch_size=32, lr=2e-3, epochs=6))


def _train(b: dict, model: str) -> dict:
    """LoRA settings for a pretrained model, full training for the from-scratch model."""
    if model == "scratch":
        return dict(b["scratch"])
    return {"method": "lora", "epochs": b["epochs"], **b["lora"]}


def _ft(b: dict, model: str, fix: bool = False, **kw) -> Experiment:
    """A fine-tuning run; ``fix=True`` uses the fixed formulation's training schedule."""
    train = _train(b, model)
    if fix and model != "scratch":
        train = {**train, **b["fix_train"]}
    return Experiment(model=model, method="finetune", train=train, **kw)


def _scaled(b: dict, exp: Experiment, formulation: str, **train) -> Experiment:
    """``exp`` with the profile's scaled budget: more training stories and more adapted layers (``train``: more
    TrainConfig fields)."""
    sc = b["scaled"]
    return replace(exp, formulation=formulation, n_train=sc["n_train"], train={**exp.train, **sc["train"], **train})


def _twice_the_stories(exp: Experiment) -> Experiment:
    """``exp`` on twice the training stories for half the epochs (at least 1): the same optimizer steps."""
    return replace(exp, n_train=2 * exp.n_train, train={**exp.train, "epochs": max(1, exp.train["epochs"] // 2)})


def _half_again(exp: Experiment, key: str) -> Experiment:
    """``exp`` with the training setting ``key`` at 1.5 times its value (at least one more): ``"epochs"`` for more
    optimizer steps on the same stories, ``"lora_top_k_layers"`` for more adapted layers (fewer frozen ones cached;
    the engine benchmark, ``benchmarks/train_throughput.py``, loses accuracy with fewer adapted layers)."""
    v = exp.train[key]
    return replace(exp, train={**exp.train, key: max(v + 1, 3 * v // 2)})


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
        # the diagnosis runs share the fixed formulation's training schedule; only one thing changes in each
        canonical = _ft(b, llm, fix=True, experiment="coords", formulation="canonical-target", fmt="coords",
                        target="canonical", n_train=b["n_seed"], **seed_like)
        fixed = replace(canonical, formulation="fixed", mix=FIXED_MIX, eval_sizes=every)
        def tracked(style: str, formulation: str, max_new_tokens: int) -> Experiment:
            """A map kept while reading (helpers.tracking) at the scaled budget, on TRACK_MIX, bf16 matmuls."""
            return _scaled(b, replace(fixed, style=style, mix=TRACK_MIX, max_new_tokens=max_new_tokens,
                                      eval_batch_size=64), formulation, precision="bf16")

        return {
            "replication": [seed_exp],
            "baselines": baselines(seed_exp),
            # (b) the same model, data and schedule; only the target changes: random layout vs canonical layout
            "ambiguity": [replace(canonical, formulation="random-target", target="random"), canonical],
            # (c) canonical targets, but half of them drawn with y pointing down
            "convention": [replace(canonical, formulation="mixed-y", data={**SEED_DATA, "axis_convention": "mixed"})],
            # (d) canonical targets, more or less data
            "curve": [canonical if n == b["n_seed"] else replace(canonical, formulation=f"curve-{n}", n_train=n)
                      for n in b["curve"]],
            "fixed": [fixed],
            # an intermediate representation: every pairwise relation first, then the coordinates
            "intermediate": [replace(canonical, formulation="relations-first", style="relations", max_new_tokens=128)]
            if b["intermediate"] else [],
            # the scaled fix: relations first, then coordinates, on the training mixture, more data and layers
            # and the same with only the *stated* relations first (what the text says, in its order)
            "scaled": [_scaled(b, replace(fixed, style="relations", max_new_tokens=128), "scaled"),
                       _scaled(b, replace(fixed, style="stated", max_new_tokens=192), "scaled-stated")],
            # the stated relations (read, in the text's order), then every pair in the objects' order (each a copy or
            # an inversion of a stated line), then the coordinates: the two steps 04 finds failing, written out
            "stated_pairs": [_scaled(b, replace(fixed, style="stated-pairs", max_new_tokens=256),
                                     "scaled-stated-pairs")],
            # the model keeps the map itself: one sentence at a time, each step given the map it wrote after the
            # previous sentence (helpers.tracking); the scaled budget, TRACK_MIX, bf16 matmuls
            "track": [tracked("track", "scaled-track", 192)],
            # the same, each step first writing which placed objects move (the step that fails in scaled-track)
            "track_moves": [tracked("track-moves", "scaled-track-moves", 224)],
            # twice the stories for half the epochs (the same optimizer steps and compute): does pushing placed
            # objects, the step scaled-track gets wrong, improve with more distinct stories?
            "track_2x": [_twice_the_stories(tracked("track", "scaled-track-2x", 192))],
            # the same stories for 1.5 times the epochs: its training loss was still falling when it stopped
            "track_3ep": [_half_again(tracked("track", "scaled-track-3ep", 192), "epochs")],
            # scaled-track-3ep on the widened mixture that took the facts reader to its targets on unseen names,
            # held-out phrasings and actions (more phrasings, made-up and letter names, two-action stories)
            "track_wide": [replace(_half_again(tracked("track", "scaled-track-wide", 192), "epochs"), mix=WIDE_MIX)],
            # scaled-track-3ep with LoRA on more layers (12 instead of 8 in default): is the whole-map reader short of
            # adapted capacity? (the engine benchmark's top-8 LoRA lost accuracy against LoRA on every layer)
            # (none where LoRA already adapts every layer, as in full)
            "track_layers": [_half_again(_half_again(tracked("track", "scaled-track-3ep-top12", 192), "epochs"),
                                         "lora_top_k_layers")]
            if b["scaled"]["train"].get("lora_top_k_layers") else [],
            # scaled-track on longer training maps: do the longer stories fail for their length or for their moves?
            "track_long": [replace(tracked("track", "scaled-track-long", 192), mix=TRACK_LONG_MIX)],
            # each step writes only the lines that change (new and moved objects), merged by code into the map so far;
            # in the least map's frame, or in the frame of the first object placed (negative coordinates allowed)
            "track_changes": [tracked("track-changes", "scaled-track-changes", 96)],
            "track_delta": [tracked("track-delta", "scaled-track-delta", 96)],
            "fixed_baselines": baselines(fixed),
            "scratch": [replace(fixed, model=cheap, formulation="fixed-scratch", train=_train(b, cheap))],
            "fewshot": [replace(canonical, formulation="fewshot", method="fewshot", train={},
                                eval_sizes={"test_iid": b["n_fewshot"]})],
        }
    if notebook in ("grid", "parse"):
        # generation budgets fit the longest targets (JSON facts of 3 objects take ~100 SmolLM2 tokens)
        fmt, seed_style, fixed_style, seed_len, fixed_len = (("grid", "compact", "compact", 64, 64) if notebook == "grid"
                                                             else ("facts", "json", "compact", 160, 96))
        seed_exp = _ft(b, llm, experiment=notebook, formulation="seed", fmt=fmt, style=seed_style,
                       target="random" if notebook == "grid" else "canonical", n_train=b["n_seed"],
                       max_new_tokens=seed_len, **seed_like)
        fixed = _ft(b, llm, fix=True, experiment=notebook, formulation="fixed", fmt=fmt, style=fixed_style,
                    target="canonical", n_train=b["n_seed"], max_new_tokens=fixed_len, **seed_like)
        groups = {"replication": [seed_exp], "baselines": baselines(seed_exp), "fixed": [fixed]}
        if notebook == "parse":
            # the scaled budget on the seed's setting, then on the training mixture scored on every split
            mixed = replace(_scaled(b, fixed, "scaled-mix"), mix=FIXED_MIX, n_train=b["n_mix"], eval_sizes=every,
                            max_new_tokens=192)
            # and read one sentence at a time (facts per sentence, joined by code): any story length is more sentences
            by_sentence = replace(mixed, formulation="scaled-sentences", style="sentences", n_train=b["n_sentences"],
                                  max_new_tokens=48, eval_batch_size=64)
            groups["scaled"] = [_scaled(b, fixed, "scaled"), mixed, by_sentence]
            # the same reader trained on the widened mixture: more phrasings, made-up and letter names, more moves
            # and the prompt's text after a prefix (the first name is not the sequence's first token); the prefix
            # alone on the scaled-sentences data isolates its effect
            wide = replace(by_sentence, formulation="wide-sentences", mix=WIDE_MIX, n_train=b["n_wide"], prefix=PREFIX)
            # the trained wide-sentences model scored again on 5x the stories of the splits it was weakest on
            # (method transfer: no training, the same model; the first stories are those scored above)
            more = {s: 5 * b["n_eval"] for s in ("test_names", "test_templates", "test_actions")}
            groups["wide"] = [replace(by_sentence, formulation="scaled-sentences-prefix", prefix=PREFIX), wide,
                              replace(wide, formulation="wide-sentences-more", method="transfer", n_train=0, n_val=0,
                                      train={"source": wide.to_dict()}, eval_sizes=more)]
            # the same data and budget, each relation written as an x word and a y word (facts style "axes"), so the
            # model decides both axes of a held-out phrasing ("down and to the left") instead of picking one label;
            # then scored on the same 5x stories
            axes = replace(wide, formulation="wide-sentences-axes", style="axes")
            groups["axes"] = [axes, replace(axes, formulation="wide-sentences-axes-more", method="transfer", n_train=0,
                                            n_val=0, train={"source": axes.to_dict()}, eval_sizes=more)]
        else:
            # the scaled budget with a legend (symbol = name) and one token per cell (cells separated by spaces)
            legend = replace(_scaled(b, fixed, "scaled-legend"), style="legend", max_new_tokens=160)
            groups["scaled"] = [legend]
            # the same with the rows printed bottom row first (the only change): the scaled grid's rows collapse
            # (03 section 4); does writing a bottom-left map on the first lines, with no empty lines to plan, undo it?
            groups["rows_up"] = [replace(legend, formulation="scaled-legend-up", style="legend-up")]
            # the same trained model with sample-and-verify (reported apart from greedy decoding): for a grid the
            # format reader rejects, up to 8 samples, keeping the first valid one
            groups["verify"] = [replace(legend, formulation="scaled-legend-verify", method="transfer", n_train=0,
                                        n_val=0, train={"source": legend.to_dict()}, verify=8)]
        return groups
    raise ValueError(f"unknown notebook {notebook!r}; use parse, grid or coords")


def outside_plan(profile: str = "default", model: str | None = None, seed: int = 0) -> dict[str, list[Experiment]]:
    """Model-based runs on the outside benchmarks: *in-domain* (fine-tuned on the benchmark's training files) and
    *transfer* (the facts model trained only on our generator, applied unchanged).

    ``stepgame``: trained on k = 1..3, scored on the validation files, k = 1..10; the *complete* map of every agent vs
    the *hybrid* map of only the agents that link the two asked ones (the model is given the question and must find
    them among the distractors). ``babi``: tasks 17 and 19, answers read off the predicted map."""
    _check(profile)
    b = _budget(profile, model)
    sg = b["stepgame"]
    train = {**_train(b, b["llm"]), **b["scaled"]["train"]}
    exps = [Experiment(experiment="stepgame", formulation=f"in-domain-{mode}", model=b["llm"], fmt="coords",
                       target="canonical", data={"mode": mode, "train_k": [1, 2, 3], "as_labelled": True},
                       n_train=sg["n_train"], n_val=sg["n_val"], train=train, max_new_tokens=mt,
                       eval_sizes={f"valid_k{k}": sg["n_per_k"] for k in range(1, 11)}, seed=seed)
            for mode, mt in (("complete", 160), ("hybrid", 72))]
    # the model reads one sentence at a time (StepGame gives the sentences) and writes its relation and a two-agent
    # map; code joins the relations into the story's map. Trained on the sentences of n_sentences stories.
    exps.append(replace(exps[0], formulation="in-domain-sentences", style="stated", n_train=sg["n_sentences"],
                        n_val=max(4, sg["n_val"] // 4), max_new_tokens=32, eval_batch_size=64,
                        data={**exps[0].data, "mode": "sentences"}))
    # the same with the prompt prefix (the sentence's first agent is then not the sequence's first token)
    exps.append(replace(exps[-1], formulation="in-domain-sentences-prefix", prefix=PREFIX,
                        eval_sizes={f"valid_k{k}": 2 * sg["n_per_k"] for k in range(1, 11)}))
    # and that trained model scored on 4x the stories per k (method transfer: no training; the first are those above)
    exps.append(replace(exps[-1], formulation="in-domain-sentences-prefix-more", method="transfer", n_train=0,
                        n_val=0, train={"source": exps[-1].to_dict()},
                        eval_sizes={f"valid_k{k}": 4 * sg["n_per_k"] for k in range(1, 11)}))
    # and on 10x the stories per k (the first are those above). The join reads only the relation line the model
    # writes first (at most 8 tokens), so generation stops after 10 tokens instead of also writing the two-agent map
    exps.append(replace(exps[-1], formulation="in-domain-sentences-prefix-10x", max_new_tokens=10,
                        eval_sizes={f"valid_k{k}": 10 * sg["n_per_k"] for k in range(1, 11)}))
    # bAbI 17/19: trained on the 10k file minus the held-out stories the rule reader is scored on
    bb = b["babi"]
    babi = [Experiment(experiment=f"babi{t}", formulation="in-domain", model=b["llm"], fmt="coords",
                       target="canonical", data={"size": "10k", "holdout_frac": 0.1}, n_train=bb["n_train"],
                       n_val=bb["n_val"], train={**train, "epochs": bb["epochs"]}, max_new_tokens=mt,
                       eval_sizes={"heldout": bb["n_heldout"], "heldout_more": bb["n_more"]}, seed=seed)
            for t, mt in ((17, 48), (19, 72))]
    # the same stories and budget, the model writing the facts (sentence by sentence translation) and the reference
    # solver building the map from them
    babi += [replace(e, formulation="in-domain-facts", fmt="facts", max_new_tokens=mt)
             for e, mt in zip(babi[:2], (96, 112))]
    # transfer: the facts model trained only on our generator (parse, scaled-sentences) reads the benchmark's
    # stories unchanged, one sentence at a time; the solver builds the map from its facts and the answer is read off
    # the map. Nothing is trained on the benchmark.
    parse = plan("parse", profile, model, seed)
    transfer = []
    # ``transfer-facts``: the reader trained on our phrasings; ``transfer-wide``: on the widened ones (wide-sentences)
    for name, source, n_per_k in (("transfer-facts", parse["scaled"][-1], sg["n_transfer"]),
                                  ("transfer-wide", parse["wide"][1], sg["n_per_k"])):
        tf = dict(model=b["llm"], method="transfer", fmt="facts", style="sentences", target="canonical",
                  train={"source": source.to_dict()}, seed=seed, max_new_tokens=48, eval_batch_size=64,
                  prefix=source.prefix)
        transfer.append(Experiment(experiment="stepgame", formulation=name, n_train=0, n_val=0,
                                   data={"mode": "complete", "train_k": [1, 2, 3], "as_labelled": True},
                                   eval_sizes={f"valid_k{k}": n_per_k for k in range(1, 11)}, **tf))
        # bAbI: the in-domain runs' dataset (same sizes, so the same held-out stories); its training part is unused
        transfer += [replace(e, formulation=name, **tf) for e in babi[:2]]
    # the widened model's facts on StepGame, joined with the benchmark's unit-step rule (as in-domain-sentences)
    # instead of solved as qualitative relations: each relation line is one step, and the map is read as coordinates
    sg_wide = next(e for e in transfer if e.experiment == "stepgame" and e.formulation == "transfer-wide")
    transfer.append(replace(sg_wide, formulation="transfer-wide-steps", fmt="coords", style="stated",
                            data={**sg_wide.data, "mode": "sentences"}))
    # the same with the model that writes each relation as an x word and a y word (parse, wide-sentences-axes)
    axes = parse["axes"][0]
    transfer.append(replace(transfer[-1], formulation="transfer-axes-steps", train={"source": axes.to_dict()},
                            prefix=axes.prefix))
    # and on bAbI: its facts (one x word and one y word per relation) solved into a map, as transfer-wide's
    transfer += [replace(e, formulation="transfer-axes", style="axes", train={"source": axes.to_dict()},
                         prefix=axes.prefix) for e in transfer if e.experiment != "stepgame"
                 and e.formulation == "transfer-wide"]
    return {"stepgame": exps, "babi": babi, "transfer": transfer}


def analysis_budget(profile: str, model: str | None = None) -> dict:
    """What 05_analysis needs beyond the notebooks' runs: the probed model and sizes."""
    _check(profile)
    b = _budget(profile, model)
    return {"llm": b["llm"], "n_probe": b["n_probe"], "n_outside": b["n_outside"]}
