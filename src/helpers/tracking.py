"""Keeping a map while reading (the coordinates style ``"track"``).

The model reads a story one sentence at a time and, after each sentence, writes the whole map so far as
coordinate lines (``Name x y``; ``State1:``, ``State2:`` ... once an action has started a new state). Its prompt is
the map it wrote after the previous sentence plus the next sentence, so each step is a small update: place the
object the sentence introduces, shift the others when it does not fit, or copy the map into a new state and move
one object. Code only splits the text into sentences and feeds each output back in; the last output is the
story's map, read as ordinary coordinates. No relation is parsed or solved by code at prediction time.

Training pairs (:func:`pairs`) use a reference map after each prefix of the story: the least layout
(:func:`helpers.solver.canonical_layout` with ``order_open=False``: per axis every coordinate as small as the facts
and the grid allow) of the facts the first t sentences state (matched to sentences as
:func:`helpers.sentences.sentence_examples` does), over the objects those facts name, in the story's object order.
Unlike the canonical map of the other coordinates runs, it never orders the pairs the text leaves open, so a new
fact only ever pushes objects right or up: each step is a local update. Pairs the text leaves open may then share
a row or a column; they are not scored (relation accuracy counts only the axes the text determines), so the final
map is scored exactly as the other runs' maps are, but its exact match with the canonical map is not comparable.
"""
from __future__ import annotations

from typing import Callable, Sequence

from . import sentences
from .formats import make_prompt, normalize_facts, write_target
from .solver import canonical_layout

EMPTY_MAP = "(empty)"
"""What the map is before the first sentence that places an object."""
MOVES = "moves:"
"""Opens the line of style ``track-moves`` that names the placed objects a step moves (:func:`moves_line`)."""


def _named(facts: dict) -> set[str]:
    out = {r[0] for r in facts["anchors"]} | {a[0] for a in facts["actions"]}
    out |= {n for r in facts["relations"] for n in (r[0], r[2])}
    out |= {a[2] for a in facts["actions"] if len(a) == 3 and a[1] == "to"}
    return out


def map_text(facts: dict, objects: Sequence[str], width: int, height: int) -> str:
    """The least map of ``facts`` over the ``objects`` they name (in that order), written as a ``compact``
    coordinates target (one block per state)."""
    named = _named(facts)
    objs = [o for o in objects if o in named]
    if not objs:
        return EMPTY_MAP
    layouts = canonical_layout(facts, objs, width, height, order_open=False)
    return write_target({"objects": [{"name": o} for o in objs], "canonical": layouts}, "coords")


def step_prompt(map_so_far: str, sentence: str, example: dict, prefix: str = "", style: str = "track") -> str:
    """The prompt of one step: the map so far, the next sentence, and the usual map header (grid size included)."""
    size = (example["width"], example["height"]) if example.get("size_known", True) else None
    return make_prompt(f"Map so far:\n{map_so_far.strip() or EMPTY_MAP}\nNext: {sentence}", "coords", style,
                       size, prefix)


def moves_line(before: str, after: str) -> str:
    """``moves: <name> <dx> <dy>; ...`` for every object of the first state that ``after`` places elsewhere than
    ``before`` (``moves: none`` when none moves): the part of a step that combines facts, written out first."""
    b, a = _coords(before), _coords(after)
    moved = [f"{n} {int(a[(0, n)][0]) - int(x):+d} {int(a[(0, n)][1]) - int(y):+d}"
             for (s, n), (x, y) in b.items() if s == 0 and (0, n) in a and a[(0, n)] != (x, y)]
    return f"{MOVES} {'; '.join(moved) if moved else 'none'}"


def map_only(output: str) -> str:
    """A step's output without its ``moves:`` line: the map that is fed back and read."""
    return "\n".join(ln for ln in output.strip().splitlines() if not ln.startswith(MOVES)).strip()


def maps_after_each_sentence(example: dict) -> list[tuple[str, str]]:
    """``(sentence, map after it)`` for every sentence of the story, with the reference maps described above."""
    by_index = {int(s["id"].rsplit("-s", 1)[1]): s["facts"] for s in sentences.sentence_examples(example)}
    objects = [o["name"] for o in example["objects"]]
    acc = {"entities": [], "relations": [], "anchors": [], "actions": []}
    out = []
    for i, sent in enumerate(sentences.split(example["text"])):
        f = normalize_facts(by_index[i]) if i in by_index else None
        if f is not None:
            for k in ("relations", "anchors", "actions"):
                acc[k] = acc[k] + f[k]
        out.append((sent, map_text(acc, objects, example["width"], example["height"])))
    return out


def reference_steps(example: dict) -> list[tuple[str, str, str]]:
    """``(map before, sentence, map after)`` for every sentence of the story (:func:`maps_after_each_sentence`)."""
    steps = maps_after_each_sentence(example)
    before = [EMPTY_MAP] + [m for _, m in steps[:-1]]
    return [(b, s, m) for b, (s, m) in zip(before, steps)]


def pairs(example: dict, prefix: str = "", style: str = "track") -> list[tuple[str, str]]:
    """Training pairs of one story: (map before the sentence + the sentence, map after it), one per sentence; with
    style ``track-moves`` the target opens with the step's :func:`moves_line`."""
    return [(step_prompt(b, s, example, prefix, style), _target(b, m, style)) for b, s, m in reference_steps(example)]


def _target(before: str, after: str, style: str) -> str:
    return f"{moves_line(before, after)}\n{after}" if style == "track-moves" else after


def read(generate: Callable[[list[str], list[dict]], list[str]], examples: Sequence[dict],
         prefix: str = "", style: str = "track") -> list[str]:
    """Each story's final map from the model's own maps: step t prompts every story that has a t-th sentence with
    the map its step t-1 wrote (``generate(prompts, examples) -> outputs``, one batched call per step)."""
    split = [sentences.split(ex["text"]) for ex in examples]
    maps = [EMPTY_MAP] * len(examples)
    for t in range(max((len(s) for s in split), default=0)):
        idx = [i for i, s in enumerate(split) if t < len(s)]
        outs = generate([step_prompt(maps[i], split[i][t], examples[i], prefix, style) for i in idx],
                        [examples[i] for i in idx])
        for i, o in zip(idx, outs):
            maps[i] = map_only(o) or EMPTY_MAP
    return maps


# ------------------------------------------------------------------------------------- where the steps go wrong
def _coords(map_text: str) -> dict[tuple[int, str], tuple[str, str]]:
    """(state, name) -> (x, y) of a map text (state counted from 0; no header = state 0)."""
    out, state = {}, 0
    for line in map_text.splitlines():
        if line.startswith("State"):
            state = int(line[5:].rstrip(":")) - 1
        elif line != EMPTY_MAP and " " in line:
            name, x, y = line.rsplit(" ", 2)
            out[(state, name)] = (x, y)
    return out


def step_kind(before: str, after: str) -> str:
    """What one reference step does: ``first`` (the first placement), ``action`` (a new state), ``place`` (a new
    object, the others stay), ``place+push`` (a new object, and placed ones move), ``push`` (no new object, placed
    ones move) or ``unchanged``."""
    if before == EMPTY_MAP:
        return "first"
    b, a = _coords(before), _coords(after)
    if max((s for s, _ in a), default=0) > max((s for s, _ in b), default=0):
        return "action"
    moved = any(a.get(k) != v for k, v in b.items())
    if set(a) - set(b):
        return "place+push" if moved else "place"
    return "push" if moved else "unchanged"


def step_outcomes(generate: Callable[[list[str], list[dict]], list[str]], examples: Sequence[dict],
                  prefix: str = "", style: str = "track") -> list[dict]:
    """Every step teacher-forced: prompted with the reference map before it (not the model's own), so each step is
    scored alone. One row per step: story id, step, kind (:func:`step_kind`), reference and output (as written),
    and ``right`` (the output's map, :func:`map_only`, equals the reference map); for ``track-moves`` also
    ``moves_right`` (its moves line equals the reference one)."""
    rows, prompts, exs = [], [], []
    for ex in examples:
        for t, (b, s, m) in enumerate(reference_steps(ex)):
            prompts.append(step_prompt(b, s, ex, prefix, style))
            exs.append(ex)
            rows.append({"id": ex["id"], "step": t, "kind": step_kind(b, m), "sentence": s,
                         "target": _target(b, m, style)})
    for r, o in zip(rows, generate(prompts, exs)):
        r["output"] = o.strip()
        r["right"] = map_only(r["output"]) == map_only(r["target"])
        if style == "track-moves":
            r["moves_right"] = r["output"].split("\n", 1)[0].strip() == r["target"].split("\n", 1)[0]
    return rows


def diagnose(run_dir, split: str = "test_iid") -> list[dict]:
    """:func:`step_outcomes` of a tracking run on its own ``split`` stories, stored once in the run folder as
    ``steps_<split>.jsonl`` (the model is needed only the first time; the file is committed with the run)."""
    from pathlib import Path
    from . import experiments, generate as G, infer, paths, predict, runs
    d = Path(run_dir)
    out = d / f"steps_{split}.jsonl"
    if runs.jsonl_file(out) is not None:
        return runs.read_jsonl(out)
    exp = experiments.Experiment.from_dict(runs.read_json(d / "config.json"))
    examples = G.load_split(experiments.dataset_for(exp), split, root=paths.DATA)
    p = predict.load_run(d)
    rows = step_outcomes(lambda prompts, _: infer.generate(p.tok, p.model, prompts, exp.max_new_tokens,
                                                           batch_size=exp.eval_batch_size), examples, exp.prefix,
                         exp.style)
    runs.write_jsonl(out, rows)
    return rows
