"""One experiment = (dataset, formulation, model, training budget) -> a run folder with scored predictions.

The notebooks call :func:`run` (or :func:`run_all`) with configs from :mod:`helpers.profiles`; everything
they show is read back from the run folders, so a finished run is never recomputed (see :mod:`helpers.runs`).
"""
from __future__ import annotations

import dataclasses
import fcntl
import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import paths, runs
from .formats import SENTENCE_STYLES, TRACK_STYLES
from .world import relation
from .settings import seed_everything, set_threads

METHODS = ("finetune", "transfer", "fewshot", "rule", "prior", "chance")


@dataclass(frozen=True)
class Experiment:
    """Everything that defines one run. Its hash names the run folder."""
    experiment: str                 # parse | grid | coords | stepgame | babi17 | babi19
    formulation: str                # seed | fixed | an ablation name
    model: str = "smollm2-135m"     # smollm2-135m | scratch | tiny-random | any HF id / local dir
    method: str = "finetune"        # one of METHODS
    fmt: str = "coords"             # facts | grid | coords
    style: str = "compact"          # json | compact | relations (format variant)
    target: str = "canonical"       # random (the seed's) | canonical
    data: dict = field(default_factory=dict)      # generate.DataConfig fields of the base (seed-like) distribution
    mix: tuple = ()                 # training mixture: ((fraction, DataConfig overrides), ...); () = base only
    n_train: int = 1000
    n_val: int = 64
    eval_sizes: dict = field(default_factory=lambda: {"test_iid": 200})   # split -> number of stories
    train: dict = field(default_factory=dict)     # train.TrainConfig fields (model/seed filled in here)
    constrain: str | None = None
    max_new_tokens: int = 64
    eval_batch_size: int = 32
    seed: int = 0
    prefix: str = ""                # text before the story in the prompt (see formats.make_prompt)
    verify: int = 0                 # sample-and-verify: samples drawn for an output the format reader rejects

    def to_dict(self) -> dict:
        """All fields; ``prefix`` and ``verify`` only when set, so the runs made before they existed keep their
        hashes."""
        d = dataclasses.asdict(self)
        for k in ("prefix", "verify"):
            if not d[k]:
                del d[k]
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "Experiment":
        """Inverse of :meth:`to_dict`, also for a config read back from JSON (``mix`` as lists)."""
        return cls(**{**d, "mix": tuple(tuple(m) for m in d.get("mix", ()))})

    @property
    def label(self) -> str:
        return f"{self.experiment}/{self.formulation} [{self.model}, {self.method}]"


# ---------------------------------------------------------------- data

def dataset_for(exp: Experiment) -> str:
    """Name of the generated dataset this experiment trains and tests on (created on first use).

    Test splits are the standard ones around the base config; with a ``mix`` the training and validation
    examples come from several configs (``train_0``, ``train_1``, ... files), concatenated and shuffled.
    """
    from . import generate
    if not _ours(exp):  # an outside benchmark, converted from ../shared/benchmarks
        from . import outside
        paths.DATA.mkdir(parents=True, exist_ok=True)
        with open(paths.DATA / f".{exp.experiment}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if exp.experiment == "stepgame":
                return outside.stepgame_dataset(exp.data, exp.n_train, exp.n_val, exp.eval_sizes, exp.seed)
            return outside.babi_dataset(int(exp.experiment[4:]), exp.data, exp.n_train, exp.n_val, exp.eval_sizes,
                                        exp.seed)
    base = generate.DataConfig(**exp.data)
    specs = generate.standard_splits(base)
    unknown = set(exp.eval_sizes) - set(specs)
    if unknown:
        raise ValueError(f"unknown split(s) {sorted(unknown)}; choose from {sorted(specs)}")
    sizes = {**exp.eval_sizes}
    cfgs = {s: specs[s] for s in exp.eval_sizes}
    for i, (frac, over) in enumerate(exp.mix or ((1.0, {}),)):
        comp = dataclasses.replace(base, **over)
        for split, n in (("train", exp.n_train), ("val", exp.n_val)):
            name = f"{split}_{i}"
            sizes[name], cfgs[name] = round(frac * n), comp
    key = runs.config_hash({"data": dataclasses.asdict(base), "mix": exp.mix, "sizes": sizes, "seed": exp.seed})
    name = f"{exp.experiment}-{key}"
    paths.DATA.mkdir(parents=True, exist_ok=True)
    with open(paths.DATA / f".{name}.lock", "w") as lock:  # two runs in parallel must not write one dataset twice
        fcntl.flock(lock, fcntl.LOCK_EX)
        d = paths.DATA / name  # the card is committed, the .jsonl files are not: regenerate them when missing
        if not (d / "card.json").exists() or any(not (d / f"{s}.jsonl").exists() for s in sizes):
            generate.make_dataset(name, cfgs, sizes, seed=exp.seed, out_dir=paths.DATA)
    return name


def load_training(dataset: str, split: str, exp: Experiment) -> list[dict]:
    """All mixture components of ``train`` or ``val``, shuffled deterministically."""
    from . import generate
    out = []
    for i in range(len(exp.mix) or 1):
        out += generate.load_split(dataset, f"{split}_{i}", root=paths.DATA)
    random.Random(exp.seed).shuffle(out)
    return out


def _pairs(examples: list[dict], exp: Experiment) -> list[tuple[str, str]]:
    from .formats import example_prompt, write_target
    if exp.fmt == "coords" and exp.style in TRACK_STYLES:  # one pair per sentence: map so far + sentence -> new map
        from .tracking import pairs
        return [p for ex in examples for p in pairs(ex, exp.prefix, exp.style)]
    if exp.style in SENTENCE_STYLES:  # one training pair per sentence (StepGame's sentence mode splits its own data)
        from .sentences import sentence_examples
        examples = [s for ex in examples for s in sentence_examples(ex)]
    return [(example_prompt(ex, exp.fmt, exp.style, exp.prefix), write_target(ex, exp.fmt, target=exp.target, style=exp.style))
            for ex in examples]


# ---------------------------------------------------------------- predictors

def _finetune(exp: Experiment, d: Path, train_ex: list[dict], val_ex: list[dict], timer: runs.Timer):
    """Train (or resume) and return a function prompts -> raw texts."""
    from . import infer, models, train as T
    pairs, val_pairs = _pairs(train_ex, exp), _pairs(val_ex, exp)
    with timer("load_model"):
        if exp.model == "scratch":
            tok, model = models.load_scratch([p + t for p, t in pairs], seed=exp.seed)
        else:
            tok, model = models.load(exp.model)
    cfg = T.TrainConfig(**{"model": exp.model, "seed": exp.seed, **exp.train})
    with timer("train"):
        summary, model = T.train(cfg, tok, model, pairs, val_pairs, out_dir=d)
    with timer("save_model"):
        T.save_model(tok, model, d / "model")
    runs.write_json(d / "train_summary.json", summary)

    def predict(prompts: list[str], examples: list[dict]) -> list[str]:
        return infer.generate(tok, model, prompts, max_new_tokens=exp.max_new_tokens,
                              batch_size=exp.eval_batch_size, constrain=exp.constrain,
                              example_names=[[o["name"] for o in ex["objects"]] + [o["symbol"] for o in ex["objects"]]
                                             for ex in examples])
    return _by_sentence(predict, exp)


def sentence_reading(style: str, data: dict) -> str:
    """How a run reads a story: ``"facts"`` (facts styles ``sentences``/``axes``: one sentence at a time, facts
    lines joined), ``"track"`` (coordinates styles ``track``/``track-moves``: one sentence at a time, each step
    given the map the previous one wrote; :mod:`helpers.tracking`), ``"stepgame"`` (StepGame's ``sentences`` mode:
    relation lines laid out by unit steps) or ``""`` (the whole story at once)."""
    if data.get("mode") == "sentences":
        return "stepgame"
    return "facts" if style in SENTENCE_STYLES else "track" if style in TRACK_STYLES else ""


def read_by_sentence(generate, examples: list[dict], reading: str, fmt: str, style: str, prefix: str = "",
                     unique: bool = True) -> list[str]:
    """One output per story from one model call per sentence: ``generate(prompts, examples) -> outputs`` is called
    once for all sentences (prompted with ``fmt``/``style``/``prefix``), then the outputs are joined per story as
    :func:`sentence_reading` names; ``reading="track"`` calls it once per sentence position instead, each prompt
    holding the map written at the step before (:func:`helpers.tracking.read`). StepGame stories are split by their
    ``stepgame`` item's sentence list (else :func:`helpers.sentences.split`), and their map is laid out from that
    item (agents, asked agents).
    ``unique``: a prompt that occurs several times is generated once (right when the output depends on the prompt
    alone: greedy and not constrained by the example's names)."""
    from . import sentences, stepgame
    from .formats import example_prompt
    if reading == "track":  # sequential: each step's prompt holds the map the previous step wrote
        from . import tracking
        return tracking.read(generate, examples, prefix, style)

    def split(ex: dict) -> list[str]:
        return [t.strip() for t in ex["stepgame"]["story"]] if "stepgame" in ex else sentences.split(ex["text"])
    units = [(i, s) for i, ex in enumerate(examples) for s in split(ex)]
    prompts = [example_prompt({**examples[i], "text": s}, fmt, style, prefix) for i, s in units]
    keys = prompts if unique else range(len(prompts))  # units with one key share one generation
    first: dict = {}
    for u, k in enumerate(keys):
        first.setdefault(k, u)
    done = dict(zip(first, generate([prompts[u] for u in first.values()],
                                    [examples[units[u][0]] for u in first.values()])))
    outs = [done[k] for k in keys]
    per: dict[int, list[str]] = {i: [] for i in range(len(examples))}
    for (i, _), o in zip(units, outs):
        per[i].append(o)
    if reading == "stepgame":
        return [stepgame.story_from_sentences(ex["stepgame"], per[i]) for i, ex in enumerate(examples)]
    return [sentences.join(per[i]) for i in range(len(examples))]


def _by_sentence(predict, exp: Experiment, prompt: Experiment | None = None):
    """``predict`` itself, unless ``exp`` reads a story one sentence at a time (:func:`sentence_reading`): then
    :func:`read_by_sentence` with the prompt of ``prompt`` (a transfer run's source: the experiment whose prompt
    the model was trained on), else of ``exp``."""
    reading = sentence_reading(exp.style, exp.data)
    if not reading:
        return predict
    pe = prompt or exp
    return lambda prompts, examples: read_by_sentence(predict, examples, reading, pe.fmt, pe.style, pe.prefix,
                                                      unique=not exp.constrain)


def transfer_source(cfg: dict) -> Experiment | None:
    """The experiment whose trained model a run applies, from the run's ``config.json`` (None unless it is a
    ``transfer`` run with a source); its folder is ``runs.run_dir(src.experiment, src.to_dict())``."""
    src = (cfg.get("train") or {}).get("source") if cfg.get("method") == "transfer" else None
    return Experiment.from_dict(src) if isinstance(src, dict) else None


def source_of(exp: Experiment) -> Experiment:
    """The experiment whose trained model a ``transfer`` run applies (``exp.train["source"]``)."""
    src = exp.train.get("source")
    if not isinstance(src, dict):
        raise ValueError(f"{exp.label}: a transfer run needs train={{'source': <Experiment.to_dict()>}}")
    return Experiment.from_dict(src)


def _transfer(exp: Experiment, timer: runs.Timer, d: Path):
    """A model fine-tuned on another experiment (our generator), applied unchanged to this one's stories. With
    ``exp.verify`` (whole stories only): greedy first, and for an output the format reader rejects, up to
    ``exp.verify`` samples (temperature 0.8), keeping the first it accepts (``infer.sample_and_verify``); each
    story's try (0 greedy, k the k-th sample, -1 none accepted) goes to ``verify.json``."""
    from . import infer, predict as P
    src = source_of(exp)
    sd = run(src)
    if not (sd / "model").is_dir():
        raise FileNotFoundError(f"transfer needs the trained model of {src.label} in {_short(sd)}/model (models are "
                                f"not committed): move {_short(sd)} away and run again to retrain it")
    with timer("load_model"):
        p = P.load_run(sd)

    def generate(prompts: list[str], examples: list[dict]) -> list[str]:
        return infer.generate(p.tok, p.model, prompts, max_new_tokens=exp.max_new_tokens,
                              batch_size=exp.eval_batch_size)
    # the model is prompted as its source was trained (format, style, prefix); ``exp``'s own format and style say
    # how the (joined) output is read, e.g. facts lines joined with StepGame's unit-step rule and read as coordinates
    by = _by_sentence(generate, exp, prompt=src)
    if by is not generate:
        if exp.verify:
            raise ValueError(f"{exp.label}: sample-and-verify reads whole stories, not one sentence at a time")
        return by
    from .formats import example_prompt, read_target
    tries: dict[str, int] = {}

    def verified(prompts: list[str], examples: list[dict]) -> list[str]:
        texts, got = infer.sample_and_verify(
            p.tok, p.model, prompts, exp.max_new_tokens, n=exp.verify, batch_size=exp.eval_batch_size,
            verify=lambda i, t: read_target(t, exp.fmt, examples[i], style=exp.style).valid)
        tries.update({ex["id"]: k for ex, k in zip(examples, got)})
        runs.write_json(d / "verify.json", tries)
        return texts
    gen = verified if exp.verify else generate
    return lambda prompts, examples: gen(
        [example_prompt(ex, src.fmt, src.style, src.prefix) for ex in examples], examples)


def _fewshot(exp: Experiment, train_ex: list[dict], timer: runs.Timer, k: int = 3):
    """The base model, no training: k solved training examples in the prompt."""
    from . import infer, models
    from .formats import example_prompt, write_target
    with timer("load_model"):
        tok, model = models.load(exp.model)
    shots = "".join(example_prompt(ex, exp.fmt, exp.style, exp.prefix) + write_target(ex, exp.fmt, target=exp.target, style=exp.style)
                    + "\n\n" for ex in train_ex[:k])

    def predict(prompts: list[str], examples: list[dict]) -> list[str]:
        outs = infer.generate(tok, model, [shots + p for p in prompts], max_new_tokens=exp.max_new_tokens,
                              batch_size=exp.eval_batch_size)
        return [o.split("\n\n")[0] for o in outs]
    return predict


def _rule(exp: Experiment):
    """Hand-written template parsing + the symbolic solver (the upper bound the seed wanted to avoid)."""
    from . import baselines, solver
    from .formats import write_target

    def predict(prompts: list[str], examples: list[dict]) -> list[str]:
        out = []
        for ex in examples:
            facts = baselines.rule_parser(ex["text"], ex["objects"], ex["width"], ex["height"])
            layouts = solver.layout_from_facts(facts, ex["width"], ex["height"])
            if exp.fmt == "facts":
                out.append(write_target({**ex, "facts": facts}, "facts", style=exp.style))
            else:
                out.append(write_target({**ex, "canonical": layouts}, exp.fmt, style=exp.style) if layouts else "")
        return out
    return predict


def _prior(exp: Experiment, train_ex: list[dict], rng: random.Random):
    """Position prior (each object's most common training position) or chance (uniform random layout)."""
    from . import baselines
    from .formats import write_target
    prior = (baselines.position_prior(train_ex, target="states" if exp.target == "random" else "canonical")
             if exp.method == "prior" else None)

    def predict(prompts: list[str], examples: list[dict]) -> list[str]:
        out = []
        for ex in examples:
            layouts = prior(ex) if prior else baselines.random_layouts(ex, rng)
            fake = {**ex, "canonical": layouts, "states": layouts}
            if exp.fmt == "facts":  # the stated pairs, with the relations read off the baseline's layout
                lay = layouts[0]
                fake["facts"] = {**ex["facts"], "relations": [[r[0], relation(lay[r[0]], lay[r[2]]), r[2]]
                                                             for r in ex["facts"]["relations"]]}
            out.append(write_target(fake, exp.fmt, target="canonical", style=exp.style))
        return out
    return predict


# ---------------------------------------------------------------- evaluation

def _ours(exp: Experiment) -> bool:
    """True for our generator's data; False for outside benchmarks, whose stories must not be copied into runs/."""
    return exp.experiment not in ("stepgame", "babi17", "babi19")


def _shareable_text(exp: Experiment, ex: dict) -> str:
    """The story for predictions.jsonl; outside benchmarks keep only a pointer (their files stay in ../shared)."""
    return ex["text"] if _ours(exp) else f"[{exp.experiment} story {ex['id']}: text not stored; see ../shared/benchmarks]"


def evaluate(predict, exp: Experiment, dataset: str, d: Path, timer: runs.Timer) -> dict[str, dict]:
    """Predict every evaluation split, score it, write predictions.jsonl; returns split -> scores."""
    from . import generate, metrics
    from .formats import example_prompt, read_target
    scores, records = {}, []
    for split in exp.eval_sizes:
        examples = generate.load_split(dataset, split, root=paths.DATA)
        prompts = [example_prompt(ex, exp.fmt, exp.style, exp.prefix) for ex in examples]
        with timer(f"predict_{split}"):
            raws = predict(prompts, examples)
        parsed = [read_target(r, exp.fmt, ex, style=exp.style) for r, ex in zip(raws, examples)]
        scores[split] = metrics.score(examples, parsed, target=exp.target)
        for ex, raw, p, q in zip(examples, raws, parsed, metrics.query_outcomes(examples, parsed)):
            records.append({"split": split, "id": ex["id"], "text": _shareable_text(exp, ex), "objects": ex["objects"],
                            "width": ex["width"], "height": ex["height"], "raw": raw, "valid": p.valid,
                            "reason": p.reason, "pred": [{k: list(v) for k, v in s.items()} for s in p.states],
                            "true": ex["canonical" if exp.target == "canonical" else "states"],
                            "facts_pred": p.facts, "facts_true": ex.get("facts") if _ours(exp) else None,
                            "queries": q})
    runs.write_jsonl(d / "predictions.jsonl", records)
    return scores


def _short(d: Path) -> str:
    """A run folder relative to the output root, for messages."""
    return str(d.relative_to(paths.RUNS.parent)) if paths.RUNS.parent in d.parents else str(d)


def run(exp: Experiment, force: bool = False, verbose: bool = True) -> Path:
    """Run one experiment end to end (reusing a complete run folder) and return its folder."""
    if exp.method not in METHODS:
        raise ValueError(f"unknown method {exp.method!r}; choose one of {METHODS}")
    if exp.verify and exp.method != "transfer":
        raise ValueError(f"{exp.label}: sample-and-verify (verify={exp.verify}) re-scores a trained model; use "
                         f"method 'transfer' with train={{'source': ...}}")
    config = exp.to_dict()
    d, done = runs.start(exp.experiment, config, force=force)
    if done:
        if verbose:
            print(f"reusing {_short(d)}  ({exp.label})")
        return d
    if verbose:
        print(f"running {exp.label} -> {_short(d)}")
    seed_everything(exp.seed)
    set_threads()
    timer = runs.Timer()
    from . import generate
    with timer("data"):
        dataset = dataset_for(exp)
        train_ex = load_training(dataset, "train", exp)
        val_ex = load_training(dataset, "val", exp)
    rng = random.Random(exp.seed)
    if exp.method == "finetune":
        predict = _finetune(exp, d, train_ex, val_ex, timer)
    elif exp.method == "transfer":
        predict = _transfer(exp, timer, d)
    elif exp.method == "fewshot":
        predict = _fewshot(exp, train_ex, timer)
    elif exp.method == "rule":
        predict = _rule(exp)
    else:
        predict = _prior(exp, train_ex, rng)
    scores = _with_answers(exp, dataset, d, evaluate(predict, exp, dataset, d, timer))
    runs.finish(d, config, scores, timer.timings, extra={"dataset": dataset})
    return d


def _with_answers(exp: Experiment, dataset: str, d: Path, scores: dict) -> dict:
    """bAbI's own measure added to the scores: every question answered by code from the predicted map."""
    if exp.experiment.startswith("babi"):
        from . import generate, outside
        rows = runs.read_jsonl(d / "predictions.jsonl")
        for split in scores:
            scores[split]["answer_acc"] = outside.babi_answer_stat(
                generate.load_split(dataset, split, root=paths.DATA), [r for r in rows if r["split"] == split])
    return scores


def rescore(d: Path) -> dict:
    """Score a finished run again from its stored raw outputs (after a reader or metric fix; no model needed).
    Rewrites predictions.jsonl and the splits of results.json, keeps the timings, records the commit and time."""
    import time
    d = Path(d)
    res = load_results(d)
    exp = Experiment.from_dict(res["config"])
    if dataset_for(exp) != res["dataset"]:  # also rebuilds the dataset's .jsonl files when only its card is here
        raise ValueError(f"{d}: its config no longer names dataset {res['dataset']!r}")
    raw = {r["id"]: r["raw"] for r in runs.read_jsonl(d / "predictions.jsonl")}  # ids are unique across splits
    scores = evaluate(lambda prompts, examples: [raw[ex["id"]] for ex in examples], exp, res["dataset"], d,
                      runs.Timer())
    res["splits"] = _with_answers(exp, res["dataset"], d, scores)
    res["rescored"] = {"git_commit": runs.git_commit(), "when": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    runs.write_json(d / "results.json", res)
    return res


def run_all(exps: list[Experiment], force: bool = False) -> list[Path]:
    return [run(e, force=force) for e in exps]


def load_results(d: Path) -> dict[str, Any]:
    return json.loads((Path(d) / "results.json").read_text())
