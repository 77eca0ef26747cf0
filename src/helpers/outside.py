"""Outside benchmarks as run artifacts: StepGame (k = 1..10) and bAbI tasks 17/19.

The hand-written reader + solver of :mod:`helpers.stepgame` / :mod:`helpers.babi` is scored on the validation
files (StepGame) and on held-out training stories (bAbI; their test splits are held by the user), with Wilson
intervals, and the published results are kept beside them. These numbers are the "symbolic upper bound" a model
must approach; the files are read from ``../shared/benchmarks`` (or any path) and never copied.
"""
from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any, Mapping

from . import babi, metrics, paths, runs, stepgame, targets

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
        for k in STEPGAME_KS:
            items = stepgame.load(root / "stepgame" / "valid", k=k, limit=n_per_k)
            res, lab = stepgame.evaluate(items), stepgame.evaluate(items, as_labelled=True)["all"]
            splits[f"k{k}"] = {"relation_acc": metrics.stat(res["all"]["correct"], res["all"]["n"]),
                               "relation_acc_clean": metrics.stat(res["clean"]["correct"], res["clean"]["n"]),
                               "relation_acc_noisy": metrics.stat(res["noisy"]["correct"], res["noisy"]["n"]),
                               # the reader with the inverted templates flipped to the labels' convention: the
                               # ceiling of a model trained on the as_labelled targets (ambiguous ones stay)
                               "relation_acc_as_labelled": metrics.stat(lab["correct"], lab["n"])}
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


# ------------------------------------------------------------------ model-based (the in-domain protocol)
STEPGAME_KS = tuple(range(1, 11))


def stepgame_dataset(data: Mapping[str, Any], n_train: int, n_val: int, eval_sizes: Mapping[str, int], seed: int,
                     root: Path | None = None) -> str:
    """Write a dataset folder (project example schema) from the StepGame files; returns its name.

    ``data``: ``mode`` (complete | hybrid | sentences), ``train_k`` (the training files' k; StepGame ships k = 1..3),
    ``as_labelled`` (target maps follow the benchmark's labels where its templates are inverted). Training and
    validation stories are drawn without overlap from the train files, evenly over ``train_k``; the evaluation
    splits ``valid_k{k}`` are the first ``n`` stories of each validation file. The target map of a training story is
    the reader's layout (StepGame gives only the asked relation, not a map), so the hand-written reader is a
    *teacher* here; at test time the model reads the story alone and the answer is read off its map.
    ``sentences``: training and validation examples are the single sentences of ``n_train`` / ``n_val`` stories
    (target: the stated relation and a two-agent map); the evaluation splits are whole stories, as ``complete``.
    """
    root = root or paths.SHARED_BENCHMARKS
    if not available(root):
        raise FileNotFoundError(f"StepGame needs the benchmark files under {root} (set SWM_BENCHMARKS)")
    mode, ks = data.get("mode", "hybrid"), tuple(data.get("train_k", (1, 2, 3)))
    labelled = bool(data.get("as_labelled", True))
    bad = [s for s in eval_sizes if not (s.startswith("valid_k") and s[7:].isdigit() and int(s[7:]) in STEPGAME_KS)]
    if bad:
        raise ValueError(f"StepGame evaluation splits are valid_k1 .. valid_k10, got {bad}")
    sizes = {"train_0": n_train, "val_0": n_val, **eval_sizes}
    key = runs.config_hash({"data": dict(data), "sizes": sizes, "seed": seed})
    name = f"stepgame-{key}"
    if _complete(name, sizes):
        return name
    rng = random.Random(seed)
    pool: list[dict] = []
    share = -(-(n_train + n_val) // len(ks))  # evenly over the k, rounded up
    for k in ks:
        items = stepgame.load(root / "stepgame" / "train", k=k, split="train")
        pool += rng.sample(items, min(share, len(items)))
    rng.shuffle(pool)
    splits = {"train_0": pool[:n_train], "val_0": pool[n_train:n_train + n_val]}
    for s, n in eval_sizes.items():
        splits[s] = stepgame.load(root / "stepgame" / "valid", k=int(s[7:]), limit=n)
    def convert(split: str, items: list[dict]) -> list[dict]:
        if mode != "sentences":
            return stepgame.to_examples(items, mode, as_labelled=labelled)
        if split.startswith("valid_k"):  # scored per story: the model reads each sentence, code joins the map
            return stepgame.to_examples(items, "complete", as_labelled=labelled)
        return stepgame.sentence_examples(items, as_labelled=labelled)
    _write_dataset(name, {s: convert(s, items) for s, items in splits.items()},
                   {"name": name, "source": "StepGame (../shared/benchmarks/stepgame)", "data": dict(data),
                    "sizes": sizes, "seed": seed, "note": "target maps of train/val stories come from the rule reader"})
    return name


def _complete(name: str, sizes: Mapping[str, int]) -> bool:
    """True when data/<name> has its card and every split file (the card is committed, the .jsonl files are not:
    a fresh clone rebuilds them from ../shared/benchmarks, deterministically)."""
    d = paths.DATA / name
    return (d / "card.json").exists() and all((d / f"{s}.jsonl").exists() for s in sizes)


def _write_dataset(name: str, splits: Mapping[str, list[dict]], card: dict) -> None:
    """data/<name>/<split>.jsonl + card.json, written in a temporary folder and renamed (never half-written);
    replaces an incomplete folder of that name."""
    import shutil
    tmp = paths.DATA / f".{name}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True, exist_ok=True)
    for split, exs in splits.items():
        (tmp / f"{split}.jsonl").write_text("".join(json.dumps(e) + "\n" for e in exs))
    runs.write_json(tmp / "card.json", card)
    shutil.rmtree(paths.DATA / name, ignore_errors=True)
    tmp.rename(paths.DATA / name)


def babi_dataset(task: int, data: Mapping[str, Any], n_train: int, n_val: int, eval_sizes: Mapping[str, int],
                 seed: int, root: Path | None = None) -> str:
    """Write a dataset folder from the bAbI training files; returns its name.

    ``heldout``: the stories :func:`rule_babi` scores (``babi.holdout`` of the 1k file, ``data["holdout_frac"]``,
    seed 0), at most ``eval_sizes["heldout"]`` of them. Training and validation stories are drawn from the
    ``data["size"]`` file (1k | 10k; the 1k file of task 17 holds only 125 stories) after removing every story whose
    statements equal a held-out story's, so no held-out story is trained on. ``heldout_more`` (optional): further
    stories of that file, disjoint from training and validation.
    """
    root = root or paths.SHARED_BENCHMARKS
    if not available(root):
        raise FileNotFoundError(f"bAbI needs the benchmark files under {root} (set SWM_BENCHMARKS)")
    if "heldout" not in eval_sizes or set(eval_sizes) - {"heldout", "heldout_more"}:
        raise ValueError(f"bAbI evaluation splits are 'heldout' (and optionally 'heldout_more'), got {sorted(eval_sizes)}")
    size, frac = data.get("size", "1k"), float(data.get("holdout_frac", 0.1))
    sizes = {"train_0": n_train, "val_0": n_val, **eval_sizes}
    key = runs.config_hash({"task": task, "data": dict(data), "sizes": sizes, "seed": seed})
    name = f"babi{task}-{key}"
    if _complete(name, sizes):
        return name
    _, held = babi.holdout(babi.load(root / "babi", task=task, size="1k"), frac, 0)
    seen = {tuple(s["statements"]) for s in held}
    pool = [s for s in babi.load(root / "babi", task=task, size=size) if tuple(s["statements"]) not in seen]
    n_more = eval_sizes.get("heldout_more", 0)
    if len(pool) < n_train + n_val + n_more:
        raise ValueError(f"bAbI {task} ({size}) has {len(pool)} stories outside the held-out set; "
                         f"asked for {n_train} + {n_val} + {n_more}")
    pool = random.Random(seed).sample(pool, n_train + n_val + n_more)
    splits = {"train_0": pool[:n_train], "val_0": pool[n_train:n_train + n_val], "heldout": held[:eval_sizes["heldout"]]}
    if n_more:  # more unseen stories of the same file, for a tighter interval
        splits["heldout_more"] = pool[n_train + n_val:]
    _write_dataset(name, {s: babi.to_examples(stories) for s, stories in splits.items()},
                   {"name": name, "source": f"bAbI task {task} ({size} training file)", "data": dict(data),
                    "sizes": sizes, "seed": seed})
    return name


def babi_answer_stat(examples: list[dict], prediction_rows: list[dict]) -> dict:
    """Answer accuracy on bAbI: each question answered by code from the predicted map (``answer_17`` /
    ``answer_19``), exact match with the gold answer; an invalid map answers nothing. Wilson interval over questions."""
    by_id = {e["id"]: e for e in examples}
    k = n = 0
    for r in prediction_rows:
        ex = by_id[r["id"]]
        answer = babi.answer_17 if ex["babi"]["task"] == 17 else babi.answer_19
        lay = r["pred"][0] if r["valid"] and r["pred"] else None
        for q in ex["babi"]["questions"]:
            k += answer(lay, q["question"]) == q["answer"]
            n += 1
    return metrics.stat(k, n)


def _protocol(formulation: str) -> str:
    return "transfer (trained on our generator only)" if formulation.startswith("transfer") else "in-domain"


def babi_table(rule_dirs: list[Path], model_runs: list[Path]):
    """Per task: the rule reader, each model run (answers read off its map; its protocol named) and MemN2N,
    accuracy % [95% interval] (n)."""
    import pandas as pd

    def cell(st: Mapping) -> str:
        return f"{100 * st['value']:.1f} [{100 * st['ci_low']:.1f}, {100 * st['ci_high']:.1f}] (n={st['n']})"
    rows = []
    for d in rule_dirs:
        res = runs.read_json(Path(d) / "results.json")
        task = res["config"]["experiment"]
        row = {"task": task, "rule reader + solver": cell(res["splits"]["heldout"]["relation_acc"])}
        for md in model_runs:
            mres = runs.read_json(Path(md) / "results.json")
            if mres["config"]["experiment"] != task:
                continue
            form = mres["config"]["formulation"]
            ms, who = mres["splits"], f"{form}, {mres['config']['fmt']} ({_protocol(form)})"
            row[f"{who}: same stories"] = cell(ms["heldout"]["answer_acc"])
            if "heldout_more" in ms:
                row[f"{who}: more unseen stories"] = cell(ms["heldout_more"]["answer_acc"])
            row[f"{who}: valid maps"] = cell(ms["heldout"]["validity"])
        row["MemN2N 1k (published)"] = res["published_memn2n_1k"]
        rows.append(row)
    return pd.DataFrame(rows).set_index("task").T


def stepgame_table(d: Path, model_runs: Mapping[str, Path] | None = None):
    """Our per-k accuracies beside the published ones (percent)."""
    import pandas as pd
    res = runs.read_json(d / "results.json")
    rows = {"rule reader + solver (this repo, validation)": [100 * res["splits"][f"k{k}"]["relation_acc"]["value"]
                                                             for k in STEPGAME_KS],
            "  same, clean stories only": [100 * res["splits"][f"k{k}"]["relation_acc_clean"]["value"]
                                          for k in STEPGAME_KS]}
    if "relation_acc_as_labelled" in res["splits"]["k1"]:
        rows["  same, inverted templates read as labelled"] = [
            100 * res["splits"][f"k{k}"]["relation_acc_as_labelled"]["value"] for k in STEPGAME_KS]
    for label, md in (model_runs or {}).items():
        mres = runs.read_json(Path(md) / "results.json")["splits"]
        rows[label] = [100 * mres[f"valid_k{k}"]["relation_acc"]["value"] if f"valid_k{k}" in mres else None
                       for k in STEPGAME_KS]
    rows.update(res["published"])
    return pd.DataFrame(rows, index=[f"k={k}" for k in STEPGAME_KS]).T.round(1)


def stepgame_same_stories(model_runs: Mapping[str, Path]):
    """Per k: accuracy of every model run on the stories all of them scored (the first n of each validation file,
    n = the smallest run's count), so runs scored on different numbers of stories compare on the same ones. A run
    scored on fewer than half the largest count is left out (shown as empty) rather than shrinking n for all, and a
    run that only re-scores another listed run's model on more stories (a transfer whose source is listed) is not
    shown: :func:`stepgame_vs_ceiling` shows it."""
    import pandas as pd
    by: dict[str, dict[str, list[bool]]] = {}
    listed = {Path(md).resolve() for md in model_runs.values()}
    for label, md in model_runs.items():
        if _rescores(md) in listed:
            continue
        for r in runs.read_jsonl(Path(md) / "predictions.jsonl"):
            by.setdefault(label, {}).setdefault(r["split"], []).append(bool(r["queries"][0].get("correct")))
    rows = []
    for k in STEPGAME_KS:
        s = f"valid_k{k}"
        counts = {label: len(oks.get(s, [])) for label, oks in by.items()}
        keep = [label for label, c in counts.items() if c and 2 * c >= max(counts.values())]
        if not keep:
            continue
        n = min(counts[label] for label in keep)
        row = {"k": k, "n": n}
        for label, oks in by.items():
            if label not in keep:
                row[label] = ""
                continue
            c = sum(oks[s][:n])
            lo, hi = metrics.wilson(c, n)
            row[label] = f"{100 * c / n:.0f} [{100 * lo:.0f}, {100 * hi:.0f}]"
        rows.append(row)
    return pd.DataFrame(rows).set_index("k") if rows else pd.DataFrame()


def _rescores(md: Path) -> Path | None:
    """The run folder whose trained model a transfer run applies (None for other runs)."""
    from .experiments import transfer_source
    p = Path(md) / "config.json"
    src = transfer_source(runs.read_json(p)) if p.exists() else None
    return runs.run_dir(src.experiment, src.to_dict()).resolve() if src else None


def _scored_stories(md: Path) -> dict[int, list[tuple[dict, bool]]]:
    """Per k: the StepGame items a model run scored (from its dataset) and whether it got each right, in the run's
    prediction order (a dataset that a fresh checkout lacks is converted again from ../shared/benchmarks with the run's
    config; a k whose dataset file is still absent is left out)."""
    from . import experiments
    res = runs.read_json(Path(md) / "results.json")
    data = paths.DATA / res["dataset"]
    if not data.exists() and (Path(md) / "config.json").exists():
        name = experiments.dataset_for(experiments.Experiment.from_dict(runs.read_json(Path(md) / "config.json")))
        if name != res["dataset"]:
            raise ValueError(f"{md}: its config now makes dataset {name}, not the {res['dataset']} it was scored on")
    by_split: dict[str, list[dict]] = {}
    for r in runs.read_jsonl(Path(md) / "predictions.jsonl"):
        by_split.setdefault(r["split"], []).append(r)
    out = {}
    for k in STEPGAME_KS:
        s = f"valid_k{k}"
        if (data / f"{s}.jsonl").exists():
            items = {e["id"]: e["stepgame"] for e in runs.read_jsonl(data / f"{s}.jsonl")}
            out[k] = [(items[r["id"]], bool(r["queries"][0].get("correct"))) for r in by_split.get(s, [])]
    return out


def stepgame_vs_ceiling(md: Path):
    """Per k, one model run against what the text allows: its accuracy (Wilson 95% interval), the accuracy of the
    hand-written reader with inverted templates read as labelled on the same stories (the in-domain ceiling: the
    ambiguous templates' labels are not determined by the text), and whether each meets the per-k target."""
    import pandas as pd
    rows = []
    for k, scored in _scored_stories(md).items():
        if not scored:
            continue
        n, c = len(scored), sum(ok for _, ok in scored)
        reader = sum(stepgame.predict(it, as_labelled=True) == it["label"] for it, _ in scored)
        lo, hi = metrics.wilson(c, n)
        rows.append({"k": k, "n": n, "model %": round(100 * c / n, 1), "95% interval": f"[{100 * lo:.1f}, {100 * hi:.1f}]",
                     "reader as labelled % (ceiling)": round(100 * reader / n, 1),
                     f"model >= {100 * targets.STEPGAME_PER_K:.0f}%": c / n >= targets.STEPGAME_PER_K,
                     f"ceiling >= {100 * targets.STEPGAME_PER_K:.0f}%": reader / n >= targets.STEPGAME_PER_K})
    return pd.DataFrame(rows).set_index("k") if rows else pd.DataFrame()


def same_answers(a: Path, b: Path):
    """Per split: the stories two runs both scored, and on how many every query got the same predicted relation
    (e.g. a re-scoring with cheaper decoding against the run it repeats)."""
    import pandas as pd

    def answers(d: Path) -> dict[str, tuple[str, list]]:
        return {r["id"]: (r["split"], [q["pred"] for q in r["queries"]])
                for r in runs.read_jsonl(Path(d) / "predictions.jsonl")}
    pa, pb = answers(a), answers(b)
    rows: dict[str, list[int]] = {}
    for i, (split, ans) in pa.items():
        if i in pb:
            row = rows.setdefault(split, [0, 0])
            row[0] += 1
            row[1] += pb[i][1] == ans
    return pd.DataFrame([{"split": s, "stories in both": n, "same answers": k} for s, (n, k) in rows.items()])


def stepgame_error_sources(model_runs: Mapping[str, Path]):
    """Per model run and k: the stories the model gets wrong, split by whether the reader with inverted templates read
    as labelled (the in-domain ceiling) gets them right. Errors where that reader is also wrong are label noise the
    text cannot resolve (ambiguous templates); errors where it is right are the model's own misreadings. A transfer
    model reads the inverted templates literally, so for it the literal reader's count is the comparison."""
    import pandas as pd
    rows = []
    for label, md in model_runs.items():
        for k, scored in _scored_stories(md).items():
            wrong = [it for it, ok in scored if not ok]
            own = sum(stepgame.predict(it, as_labelled=True) == it["label"] for it in wrong)
            literal = sum(stepgame.predict(it) != it["label"] for it in wrong)
            rows.append({"run": label, "k": k, "n": len(scored), "wrong": len(wrong),
                         "reader (as labelled) also wrong": len(wrong) - own, "model's own misreadings": own,
                         "literal reader also wrong": literal})
    return pd.DataFrame(rows, columns=["run", "k", "n", "wrong", "reader (as labelled) also wrong",
                                       "model's own misreadings", "literal reader also wrong"])


def stepgame_cost(model_runs: Mapping[str, Path]):
    """Per model run and k: accuracy, seconds per story (prediction wall time / stories, this machine) and
    generated SmolLM2 tokens per story (the raw model output re-tokenised)."""
    import pandas as pd
    from . import models
    tok = models.smollm2_tokenizer()
    rows = []
    for label, md in model_runs.items():
        res = runs.read_json(Path(md) / "results.json")
        by_split: dict[str, list[str]] = {}
        for r in runs.read_jsonl(Path(md) / "predictions.jsonl"):
            by_split.setdefault(r["split"], []).append(r["raw"])
        for k in STEPGAME_KS:
            s = f"valid_k{k}"
            if s not in by_split:
                continue
            raws = by_split[s]
            rows.append({"run": label, "k": k, "n": len(raws),
                         "relation_acc": res["splits"][s]["relation_acc"]["value"],
                         "s_per_story": res["timings"][f"predict_{s}"] / len(raws),
                         "tokens_per_story": sum(len(tok(r).input_ids) for r in raws) / len(raws)})
    return pd.DataFrame(rows)


def stepgame_figure(rule_dir: Path, model_runs: Mapping[str, Path], name: str):
    """Accuracy per k (95% intervals) of the model runs beside the rule reader and the GPT-3 + ASP pipeline."""
    import matplotlib.pyplot as plt
    import numpy as np
    from . import plots
    fig, ax = plt.subplots(figsize=(7, 3.8))
    ks = np.array(STEPGAME_KS)
    rule = runs.read_json(Path(rule_dir) / "results.json")["splits"]
    ax.plot(ks, [rule[f"k{k}"]["relation_acc"]["value"] for k in ks], "k--", lw=1, label="rule reader + solver")
    gpt3 = next(v for key, v in PUBLISHED_STEPGAME.items() if key.startswith("GPT-3"))
    ax.plot(ks, np.array(gpt3) / 100, ":", color="grey", label="GPT-3 + ASP (published, test set)")
    for i, (label, md) in enumerate(model_runs.items()):
        sp = runs.read_json(Path(md) / "results.json")["splits"]
        st = [sp.get(f"valid_k{k}", {}).get("relation_acc") for k in ks]
        kk = np.array([k for k, s in zip(ks, st) if s])
        v = np.array([s["value"] for s in st if s])
        lo = np.array([s["ci_low"] for s in st if s])
        hi = np.array([s["ci_high"] for s in st if s])
        ax.errorbar(kk + 0.1 * (i - 0.5), v, yerr=np.clip([v - lo, hi - v], 0, None), marker="o", capsize=2,
                    label=label)
    ax.axhline(targets.STEPGAME_PER_K, color="k", lw=0.6, alpha=0.5)
    ax.set(xlabel="k (hops between the asked agents)", ylabel="accuracy", ylim=(0, 1.02), xticks=ks,
           title="StepGame validation: map -> relation read off by code")
    ax.legend(fontsize=7)
    plots.save(fig, name)
    plt.show()


def findings(rule_dir: Path | None, sg_runs: Mapping[str, Path], babi_runs: list[Path]) -> str:
    """Markdown bullets on the model-based outside results, every number read from the run folders."""
    out = []
    for label, md in sg_runs.items():
        sp = runs.read_json(Path(md) / "results.json")["splits"]
        accs = {k: sp[f"valid_k{k}"]["relation_acc"] for k in STEPGAME_KS if f"valid_k{k}" in sp}
        if not accs:
            continue
        worst = min(accs, key=lambda k: accs[k]["value"])
        n = sum(a["n"] for a in accs.values())
        mean = sum(a["value"] * a["n"] for a in accs.values()) / n
        met = sum(a["value"] >= targets.STEPGAME_PER_K for a in accs.values())
        out.append(f"- **StepGame, {label}.** Accuracy {100 * mean:.1f}% over {n} validation stories (k = 1..10); "
                   f"lowest at k={worst}: {100 * accs[worst]['value']:.1f}% [{100 * accs[worst]['ci_low']:.1f}, "
                   f"{100 * accs[worst]['ci_high']:.1f}]; the {100 * targets.STEPGAME_PER_K:.0f}% target is met at {met} of {len(accs)} k "
                   f"(`figures/05_stepgame_models.png`).")
    for md in babi_runs:
        res = runs.read_json(Path(md) / "results.json")
        sp, task, model = res["splits"], res["config"]["experiment"], res["config"]["model"]
        parts = [f"{s}: {100 * v['answer_acc']['value']:.1f}% [{100 * v['answer_acc']['ci_low']:.1f}, "
                 f"{100 * v['answer_acc']['ci_high']:.1f}] of {v['answer_acc']['n']} questions"
                 for s, v in sp.items() if "answer_acc" in v]
        out.append(f"- **bAbI {task[4:]}, {model}, {res['config']['formulation']} ({res['config']['fmt']}; "
                   f"{_protocol(res['config']['formulation'])}; answers read off the map).** " + "; ".join(parts) + ".")
    return "\n".join(out) or "_no model-based outside runs in this profile_"
