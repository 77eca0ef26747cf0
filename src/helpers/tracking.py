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

Two variants change what a step writes, not what is read from the text:

* ``track-changes``: each step writes only the lines that change: the new objects and the ones that move
  (``State2:`` opens the lines of a new state, which starts as a copy of the last one), or ``no change``. Code
  merges them into the map so far (:func:`apply_delta`); the map in the next prompt is still made only of
  coordinates the model wrote. Output lines that are not ``Name x y`` are dropped.
* ``track-delta``: the same, with every map translated so that the first object placed stays at ``0 0``
  (coordinates may be negative; not done when the facts place an object at an absolute cell), so that a new
  object left of or below everything gets a negative coordinate instead of pushing every placed object. Code
  translates the last map so that its smallest x and y are 0 (:func:`to_grid`), which gives back the least map.
"""
from __future__ import annotations

from typing import Callable, Sequence

from . import sentences
from .formats import COORD_LINE, STATE_HEADER, make_prompt, normalize_facts, write_target
from .solver import canonical_layout

EMPTY_MAP = "(empty)"
"""What the map is before the first sentence that places an object."""
CHANGE_STYLES: tuple[str, ...] = ("track-changes", "track-delta")
"""Tracking styles whose steps write only the lines that change (see above)."""
RELATIVE_STYLES: tuple[str, ...] = ("track-delta",)
"""Tracking styles whose maps keep the first object placed at ``0 0`` (see above)."""
NO_CHANGE = "no change"
"""What a step of :data:`CHANGE_STYLES` writes when the map stays as it is."""
MOVES = "moves:"
"""Opens the line of style ``track-moves`` that names the placed objects a step moves (:func:`moves_line`)."""
NO_MOVES = f"{MOVES} none"
"""The ``track-moves`` line of a step that moves no placed object."""


def _named(facts: dict) -> set[str]:
    out = {r[0] for r in facts["anchors"]} | {a[0] for a in facts["actions"]}
    out |= {n for r in facts["relations"] for n in (r[0], r[2])}
    out |= {a[2] for a in facts["actions"] if len(a) == 3 and a[1] == "to"}
    return out


def map_text(facts: dict, objects: Sequence[str], width: int, height: int, origin: str | None = None) -> str:
    """The least map of ``facts`` over the ``objects`` they name (in that order), written as a ``compact``
    coordinates target (one block per state); translated so that ``origin`` is at ``0 0`` in the first state
    when it is given and no fact places an object at an absolute cell."""
    named = _named(facts)
    objs = [o for o in objects if o in named]
    if not objs:
        return EMPTY_MAP
    layouts = canonical_layout(facts, objs, width, height, order_open=False)
    if origin in layouts[0] and not facts["anchors"]:
        ox, oy = layouts[0][origin]
        layouts = [{n: (x - ox, y - oy) for n, (x, y) in lay.items()} for lay in layouts]
    return write_target({"objects": [{"name": o} for o in objs], "canonical": layouts}, "coords")


def step_prompt(map_so_far: str, sentence: str, example: dict, prefix: str = "", style: str = "track") -> str:
    """The prompt of one step: the map so far, the next sentence, and the usual map header (grid size included)."""
    size = (example["width"], example["height"]) if example.get("size_known", True) else None
    return make_prompt(f"Map so far:\n{map_so_far.strip() or EMPTY_MAP}\nNext: {sentence}", "coords", style,
                       size, prefix)


def moves_line(before: str, after: str) -> str:
    """``moves: <name> <dx> <dy>; ...`` for every object of the first state that ``after`` places elsewhere than
    ``before`` (``moves: none`` when none moves): the part of a step that combines facts, written out first."""
    b, a = _positions(before), _positions(after)
    moved = [f"{n} {a[(0, n)][0] - x:+d} {a[(0, n)][1] - y:+d}"
             for (s, n), (x, y) in b.items() if s == 0 and (0, n) in a and a[(0, n)] != (x, y)]
    return f"{MOVES} {'; '.join(moved)}" if moved else NO_MOVES


def map_size(map_text: str) -> int:
    """How many objects a map text places (each name once, whatever the number of states)."""
    return len({name for _, name in _positions(map_only(map_text))})


def map_only(output: str) -> str:
    """A step's output without its ``moves:`` line: the map that is fed back and read."""
    return "\n".join(ln for ln in output.strip().splitlines() if not ln.startswith(MOVES)).strip()


def maps_after_each_sentence(example: dict, relative: bool = False) -> list[tuple[str, str]]:
    """``(sentence, map after it)`` for every sentence of the story, with the reference maps described above
    (``relative``: in the frame of the first object placed, the first in story order among those the first
    placing sentence names)."""
    by_index = {int(s["id"].rsplit("-s", 1)[1]): s["facts"] for s in sentences.sentence_examples(example)}
    objects = [o["name"] for o in example["objects"]]
    acc = {"entities": [], "relations": [], "anchors": [], "actions": []}
    out, origin = [], None
    for i, sent in enumerate(sentences.split(example["text"])):
        f = normalize_facts(by_index[i]) if i in by_index else None
        if f is not None:
            for k in ("relations", "anchors", "actions"):
                acc[k] = acc[k] + f[k]
        if relative and origin is None and (named := _named(acc)):
            origin = next(o for o in objects if o in named)
        out.append((sent, map_text(acc, objects, example["width"], example["height"], origin)))
    return out


def reference_steps(example: dict, style: str = "track") -> list[tuple[str, str, str]]:
    """``(map before, sentence, map after)`` for every sentence of the story (:func:`maps_after_each_sentence`);
    for :data:`CHANGE_STYLES` each map is the one merged from the steps' changes (:func:`apply_delta`), as when
    reading."""
    out, before = [], EMPTY_MAP
    for s, m in maps_after_each_sentence(example, relative=style in RELATIVE_STYLES):
        if style in CHANGE_STYLES:
            m = apply_delta(before, delta_text(before, m))
        out.append((before, s, m))
        before = m
    return out


def pairs(example: dict, prefix: str = "", style: str = "track") -> list[tuple[str, str]]:
    """Training pairs of one story: (map before the sentence + the sentence, map after it), one per sentence; with
    style ``track-moves`` the target opens with the step's :func:`moves_line`, with :data:`CHANGE_STYLES` it is
    only the step's changes (:func:`delta_text`)."""
    return [(step_prompt(b, s, example, prefix, style), _target(b, m, style))
            for b, s, m in reference_steps(example, style)]


def _target(before: str, after: str, style: str) -> str:
    if style in CHANGE_STYLES:
        return delta_text(before, after)
    return f"{moves_line(before, after)}\n{after}" if style == "track-moves" else after


# ---------------------------------------------------------------------------- track-changes: only what changes
def _positions(map_text: str) -> dict[tuple[int, str], tuple[int, int]]:
    """(state, name) -> (x, y) of a map text (state counted from 0; no header = state 0), read with the coordinate
    and header patterns of :mod:`helpers.formats`; other lines are skipped."""
    out, state = {}, 0
    for line in map_text.splitlines():
        if h := STATE_HEADER.match(line):
            state = int(h.group(1)) - 1
        elif m := COORD_LINE.match(line.strip()):
            out[(state, m.group(1).strip())] = (int(m.group(2)), int(m.group(3)))
    return out


def _n_states(pos: dict) -> int:
    return max((s for s, _ in pos), default=-1) + 1


def _with_states(pos: dict, n: int) -> dict:
    """``pos`` with states added up to ``n``, each new one a copy of the last."""
    out, last = dict(pos), _n_states(pos) - 1
    for s in range(last + 1, n if last >= 0 else 0):
        out.update({(s, name): p for (t, name), p in pos.items() if t == last})
    return out


def _write_positions(pos: dict, headers: bool | None = None) -> str:
    """A map text of ``pos`` (names in first-appearance order), one block per state that has a line, opened by its
    ``StateK:`` header when ``headers`` (default: when there are several states)."""
    names = list(dict.fromkeys(n for _, n in pos))
    if not names:
        return EMPTY_MAP
    states = sorted({s for s, _ in pos})
    headers = len(states) > 1 if headers is None else headers
    blocks = []
    for s in states:
        here = [m for m in names if (s, m) in pos]
        lines = write_target({"objects": [{"name": m} for m in here], "canonical": [{m: pos[(s, m)] for m in here}]},
                             "coords")
        blocks.append(f"State{s + 1}:\n{lines}" if headers else lines)
    return "\n".join(blocks)


def delta_text(before: str, after: str) -> str:
    """The lines of ``after`` that ``before`` does not already have (a new state counts as a copy of the last
    one), grouped by state (with headers when ``after`` has several states), or :data:`NO_CHANGE`."""
    a = _positions(after)
    b = _with_states(_positions(before), _n_states(a))
    changed = {k: p for k, p in a.items() if b.get(k) != p}
    return _write_positions(changed, headers=_n_states(a) > 1) if changed else NO_CHANGE


def apply_delta(before: str, delta: str) -> str:
    """The map ``before`` with the lines of ``delta`` (:func:`delta_text`) merged in: a line replaces the object's
    position in its state (no header: the first), a header of a new state first copies the last state."""
    pos = _positions(before)
    d = _positions(delta)
    pos = _with_states(pos, max(_n_states(pos), _n_states(d)))
    pos.update(d)
    n = _n_states(pos)
    names = list(dict.fromkeys(m for _, m in pos))
    for s in range(n):  # an object first placed in a later state is everywhere it is not given: at its nearest
        for m in names:
            if (s, m) not in pos:
                pos[(s, m)] = next(pos[(t, m)] for t in sorted(range(n), key=lambda t: (abs(t - s), t))
                                   if (t, m) in pos)
    return _write_positions({(s, m): pos[(s, m)] for s in range(n) for m in names})


def to_grid(map_text: str) -> str:
    """A relative-frame map translated so that its smallest x and y (over every state) are 0; unchanged when no
    coordinate is negative."""
    pos = _positions(map_text)
    dx = -min([0] + [x for x, _ in pos.values()])
    dy = -min([0] + [y for _, y in pos.values()])
    return _write_positions({k: (x + dx, y + dy) for k, (x, y) in pos.items()}) if dx or dy else map_text


def apply_step(before: str, output: str, style: str) -> str:
    """The map after one step: the output's map (without a ``moves:`` line), or for :data:`CHANGE_STYLES` the map
    before with the output's changes merged in."""
    if style in CHANGE_STYLES:
        return apply_delta(before, output)
    return map_only(output) or EMPTY_MAP


def read(generate: Callable[[list[str], list[dict]], list[str]], examples: Sequence[dict],
         prefix: str = "", style: str = "track") -> list[str]:
    """Each story's final map from the model's own maps: step t prompts every story that has a t-th sentence with
    the map its step t-1 wrote (``generate(prompts, examples) -> outputs``, one batched call per step; for
    :data:`CHANGE_STYLES` the map its changes so far add up to). Relative-frame maps are translated into the grid at
    the end (:func:`to_grid`)."""
    split = [sentences.split(ex["text"]) for ex in examples]
    maps = [EMPTY_MAP] * len(examples)
    for t in range(max((len(s) for s in split), default=0)):
        idx = [i for i, s in enumerate(split) if t < len(s)]
        outs = generate([step_prompt(maps[i], split[i][t], examples[i], prefix, style) for i in idx],
                        [examples[i] for i in idx])
        for i, o in zip(idx, outs):
            maps[i] = apply_step(maps[i], o, style)
    return [to_grid(m) for m in maps] if style in RELATIVE_STYLES else maps


# ------------------------------------------------------------------------------------- where the steps go wrong
def step_kind(before: str, after: str) -> str:
    """What one reference step does: ``first`` (the first placement), ``action`` (a new state), ``place`` (a new
    object, the others stay), ``place+push`` (a new object, and placed ones move), ``push`` (no new object, placed
    ones move) or ``unchanged``."""
    if before == EMPTY_MAP:
        return "first"
    b, a = _positions(before), _positions(after)
    if max((s for s, _ in a), default=0) > max((s for s, _ in b), default=0):
        return "action"
    moved = any(a.get(k) != v for k, v in b.items())
    if set(a) - set(b):
        return "place+push" if moved else "place"
    return "push" if moved else "unchanged"


def push_shape(before: str, after: str) -> str:
    """For a step that moves placed objects: ``translate`` when every placed object moves by the same vector (what
    a relative frame makes unnecessary), else ``reorder``."""
    b, a = _positions(before), _positions(after)
    vectors = {(a[k][0] - x, a[k][1] - y) for k, (x, y) in b.items() if k in a}
    return "translate" if len(vectors) == 1 else "reorder"


def step_outcomes(generate: Callable[[list[str], list[dict]], list[str]], examples: Sequence[dict],
                  prefix: str = "", style: str = "track") -> list[dict]:
    """Every step teacher-forced: prompted with the reference map before it (not the model's own), so each step is
    scored alone. One row per step: story id, step, kind (:func:`step_kind`), reference and output (as written),
    and ``right`` (the output's map, :func:`map_only`, equals the reference map; for :data:`CHANGE_STYLES` the
    merged map has the reference positions); for ``track-moves`` also ``moves_right`` (its moves line equals the
    reference one)."""
    rows, prompts, exs = [], [], []
    for ex in examples:
        for t, (b, s, m) in enumerate(reference_steps(ex, style)):
            prompts.append(step_prompt(b, s, ex, prefix, style))
            exs.append(ex)
            rows.append({"id": ex["id"], "step": t, "kind": step_kind(b, m), "sentence": s,
                         "target": _target(b, m, style), "before": b, "after": m})
    for r, o in zip(rows, generate(prompts, exs)):
        r["output"] = o.strip()
        b, m = r.pop("before"), r.pop("after")
        if style in CHANGE_STYLES:  # the changes may come in any order: compare the merged maps' positions
            r["right"] = _positions(apply_step(b, r["output"], style)) == _positions(m)
        else:
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
