"""StepGame adapter: load the JSON files, parse the stories by rule, solve them, convert to the project schema.

StepGame (Shi, Zhang, Lipani, AAAI 2022) places agents on a grid; every story sentence states the relation of
one agent to another, and each relation is a *unit step* in one of 8 directions (so chains can cancel to
``overlap``). The question asks for the relation of agent X to agent Y, k hops apart. Distractor sentences
mention agents disconnected from (or branching off) the chain.

Pipeline here: ``parse_story`` (a table of 207 sentence templates -> ``Fact(a, rel, b)``), ``solve`` (BFS over
unit offsets from X), ``world.relation``. A handful of templates in the original generator state the *opposite*
of the relation used for the label (label noise, see ``NOISY_TEMPLATES`` and ``noisy``).
"""
from __future__ import annotations

import json
import re
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping, Sequence

from . import world
from .paths import SHARED_BENCHMARKS

DEFAULT_DIR = SHARED_BENCHMARKS / "stepgame"

# ---------------------------------------------------------------------------------------------------------
# Templates. Placeholders: {a} {b} = the relation is that of a to b. {p} {q} = a pair named first whose
# order carries no meaning; when only {a} is given, b is the member of {p, q} that is not a.
# {x} {y} = names repeated for flavour (ignored). Each line: template -> relation of a to b (literal meaning).
# ---------------------------------------------------------------------------------------------------------
_TEMPLATE_TABLE: dict[str, str] = {
    # --- left ---
    "{a} and {b} are parallel, and {a2} is to the left of {b2}.": "left",
    "{a} is placed in the left direction of {b}.": "left",
    "{a} is on the same horizontal plane directly left to {b}.": "left",
    "{a} is at {b}’s 9 o'clock.": "left",
    "{a} is at {b}'s 9 o'clock.": "left",
    "{a} presents left to {b}.": "left",
    "{a} is positioned left to {b}.": "left",
    "{x} and {y} are side by side with {a} to the left and {b} to the right.": "left",
    "{b} is over there and {a} is on the left.": "left",
    "{b} is over there and {a} is on the left of it.": "left",
    "{a} is sitting in the left direction of {b}.": "left",
    "{a} is at the 9 o'clock position relative to {b}.": "left",
    "{a} is on the left side to {b}.": "left",
    "{x} and {y} are both there with the object {a} is to the left of object {b}.": "left",
    "{a} is to the left of {b}.": "left",
    "{a} and {b} are parallel, and {a2} on the left of {b2}.": "left",
    "{a} is sitting at the 9:00 position of {b}.": "left",
    "{p} and {q} are in a horizontal line with {a} on the left.": "left",
    "{a} is on the left and {b} is on the right.": "left",
    "{a} is to the left of {b} horizontally.": "left",
    "The object labeled {a} is positioned to the left of the object labeled {b}.": "left",
    "{x} and {y} are horizontal and {a} is to the left of {b}.": "left",
    "{x} and {y} are next to each other with {a} on the left and {b} on the right.": "left",
    "{a} is to the left of {b} and is on the same horizontal plane.": "left",
    "{a} is to the left of {b} with a small gap between them.": "left",
    # --- right ---
    "{a} is on the right side to {b}.": "right",
    "{x} and {y} are side by side with {a} to the right and {b} to the left.": "right",
    "{p} and {q} are in a horizontal line with {a} on the right.": "right",
    "{a} is placed in the right direction of {b}.": "right",
    "{a} is to the right of {b} and is on the same horizontal plane.": "right",
    "{b} is over there and {a} is on the right of it.": "right",
    "{b} is over there and {a} is on the right.": "right",
    "{a} is to the right of {b}.": "right",
    "{a} is to the right of {b} with a small gap between them.": "right",
    "{a} is sitting in the right direction of {b}.": "right",
    "{x} and {y} are parallel, and {a} is to the right of {b}.": "right",
    "{x} and {y} are both there with the object {a} is to the right of object {b}.": "right",
    "{a} is positioned right to {b}.": "right",
    "{a} presents right to {b}.": "right",
    "{a} is at the 3 o'clock position relative to {b}.": "right",
    "{a} is on the right and {b} is on the left.": "right",
    "The object labeled {a} is positioned to the right of the object labeled {b}.": "right",
    "{x} and {y} are horizontal and {a} is to the right of {b}.": "right",
    "{a} is on the same horizontal plane directly right to {b}.": "right",
    "{x} and {y} are parallel, and {a} on the right of {b}.": "right",
    "{a} is sitting at the 3:00 position to {b}.": "right",
    "{a} is to the right of {b} horizontally.": "right",
    "{x} and {y} are next to each other with {a} on the right and {b} on the left.": "right",
    "{a} is at {b}'s 3 o'clock.": "right",
    # --- above ---
    "{a} is on top of {b}.": "above",
    "{b} is over there and {a} is directly above it.": "above",
    "{p} and {q} are in a vertical line with {a} on top.": "above",
    "{a} is on the top and {b} is at the bottom.": "above",
    "{b} is over there and {a} is on the top of it.": "above",
    "{x} and {y} are parallel, and {a} is on top of {b}.": "above",
    "{a} is at the 12 o'clock position relative to {b}.": "above",
    "{a} is over {b}.": "above",
    "{a} is to the top of {b} vertically.": "above",
    "{a} is above {b} with a small gap between them.": "above",
    "{a} is on the same vertical plane directly above {b}.": "above",
    "{x} and {y} are parallel, and {a} is over {b}.": "above",
    "{a} is on the top of {b} and is on the same vertical plane.": "above",
    "{x} and {y} are side by side with {a} on the top and {b} at the bottom.": "above",
    "{a} is at {b}'s 12 o'clock.": "above",
    "{a} is on the top side to {b}.": "above",
    "{b} is over there with {a} above.": "above",
    "{a} is sitting at the top position to {b}.": "above",
    "{a} is sitting at the 12:00 position to {b}.": "above",
    "{x} and {y} are vertical and {a} is above {b}.": "above",
    "The object {a} is positioned directly above the object {b}.": "above",
    "{x} and {y} are both there with the object {a} above the object {b}.": "above",
    "{a} is directly above {b}.": "above",
    "{a} presents over {b}.": "above",
    "{a} is positioned above {b}.": "above",
    "{x} and {y} are next to each other with {a} on the top and {b} at the bottom.": "above",
    "{a} is placed on the top of {b}.": "above",
    "{a} is above {b}.": "above",
    # --- below ---
    "{x} and {y} are vertical and {a} is below {b}.": "below",
    "{b} is over there and {a} is at the bottom of it.": "below",
    "{a} is on the same vertical plane directly below {b}.": "below",
    "{p} and {q} are in a vertical line with {a} below {b}.": "below",
    "{b} is over there and {a} is directly below it.": "below",
    "{a} is positioned below {b}.": "below",
    "{a} presents below {b}.": "below",
    "{a} is placed at the bottom of {b}.": "below",
    "{a} is at the bottom of {b} and is on the same vertical plane.": "below",
    "{b} is over there with {a} below.": "below",
    "{a} is at the bottom of {b} vertically.": "below",
    "{a} is at the 6 o'clock position relative to {b}.": "below",
    "{x} and {y} are side by side with {a} at the bottom and {b} on the top.": "below",
    "{a} is at the bottom and {b} is on the top.": "below",
    "{a} is sitting at the lower position to {b}.": "below",
    "{x} and {y} are next to each other with {a} at the bottom {b} on the top.": "below",
    "{a} is at the lower side of {b}.": "below",
    "{x} and {y} are parallel, and {a} is under {b}.": "below",
    "{a} is at the bottom of {b}.": "below",
    "{x} and {y} are both there with the object {a} below the object {b}.": "below",
    "{a} is at {b}'s 6 o'clock.": "below",
    "The object {a} is positioned directly below the object {b}.": "below",
    "{a} is sitting at the 6:00 position to {b}.": "below",
    "{a} is below {b}.": "below",
    "{a} is directly below {b}.": "below",
    "{a} is under {b}.": "below",
    "{x} and {y} are parallel, and {a} is below {b}.": "below",
    "{a} is below {b} with a small gap between them.": "below",
    # --- upper-left ---
    "{a} is slightly off center to the top left and {b} is slightly off center to the bottom right.": "upper-left",
    "{b} is there and {a} is at the 10 position of a clock face.": "upper-left",
    "{a} is to the upper left of {b}.": "upper-left",
    "The object {x} and {y} are there. The object {a} is above and slightly to the left of the object {b}.":
        "upper-left",
    "{a} is upper left of {b}.": "upper-left",
    "{a} is on the left side and above {b}.": "upper-left",
    "{a} is positioned in the top left corner of {b}.": "upper-left",
    "{a} presents upper left to {b}.": "upper-left",
    "If {b} is the center of a clock face, {a} is located between 10 and 11.": "upper-left",
    "The object {a} is upper and slightly to the left of the object {b}.": "upper-left",
    "{a} is placed at the upper left of {b}.": "upper-left",
    "{a} is diagonally left and above {b}.": "upper-left",
    "{a} is above {b} at 10 o'clock.": "upper-left",
    "{a} is above and to the left of {b}.": "upper-left",
    "{a} is at a 45 degree angle to {b}, in the upper lefthand corner.": "upper-left",
    "{a} is positioned above and to the left of {b}.": "upper-left",
    "{a} is diagonally to the upper left of {b}.": "upper-left",
    "Object {a} is above object {b} and to the left of it, too.": "upper-left",
    "The object {a} is positioned above and to the left of object {b}.": "upper-left",
    "{a} is positioned above {b} and to the left.": "upper-left",
    "{a} is north west of {b}.": "upper-left",
    "{a} is sitting at the upper left position to {b}.": "upper-left",
    "{a} is above {b} and to the left of {b2}.": "upper-left",
    "{a} is to the top-left of {b}.": "upper-left",
    "{a} is directly north west of {b}.": "upper-left",
    "{a} is diagonally above {b} to the left at a 45 degree angle.": "upper-left",
    # --- upper-right ---
    "{a} is to the right and above {b} at an angle of about 45 degrees.": "upper-right",
    "{a} is placed at the upper right of {b}.": "upper-right",
    "{a} is on the right side and top of {b}.": "upper-right",
    "{a} is above {b} at 2 o'clock.": "upper-right",
    "{a} is directly north east of {b}.": "upper-right",
    "{a} is on the upper right of {b}.": "upper-right",
    "Object {a} is above object {b} and to the right of it, too.": "upper-right",
    "{a} is to the top right of {b}.": "upper-right",
    "{a} is above and to the right of {b}.": "upper-right",
    "{a} presents upper right to {b}.": "upper-right",
    "{a} is at a 45 degree angle to {b}, in the upper righthand corner.": "upper-right",
    "{a} is positioned in the front right corner of {b}.": "upper-right",
    "{a} is positioned above {b} and to the right.": "upper-right",
    "The object {a} is upper and slightly to the right of the object {b}.": "upper-right",
    "{a} is diagonally to the upper right of {b}.": "upper-right",
    "{a} is to the top-right of {b}.": "upper-right",
    "If {b} is the center of a clock face, {a} is located between 2 and 3.": "upper-right",
    "{a} is upper right to {b}.": "upper-right",
    "{b} is there and {a} is at the 2 position of a clock face.": "upper-right",
    "{a} is diagonally right and above {b}.": "upper-right",
    "{a} is above {b} and to the right of {b2}.": "upper-right",
    "{a} is sitting at the upper right position to {b}.": "upper-right",
    "The objects {x} and {y} are over there. The object {a} is above and slightly to the right of the object {b}.":
        "upper-right",
    "{a} is positioned up and to the right of {b}.": "upper-right",
    "The object {a} is positioned above and to the right of the object {b}.": "upper-right",
    "{a} is diagonally above {b} to the right at a 45 degree.": "upper-right",
    "{a} is north east of {b}.": "upper-right",
    # --- lower-left ---
    "{a} is to the bottom-left of {b}.": "lower-left",
    "{a} presents lower left to {b}.": "lower-left",
    "The object {a} is lower and slightly to the left of the object {b}.": "lower-left",
    "{a} is at a 45 degree angle to {b}, in the lower lefthand corner.": "lower-left",
    "The objects {x} and {y} are over there. The object {a} is lower and slightly to the left of the object {b}.":
        "lower-left",
    "{a} is to the left of {b} and below {b2} at approximately a 45 degree angle.": "lower-left",
    "{a} is positioned in the lower left corner of {b}.": "lower-left",
    "{a} is lower left to {b}.": "lower-left",
    "{a} is diagonally left and below {b}.": "lower-left",
    "{a} is on the lower left of {b}.": "lower-left",
    "{a} is diagonally to the bottom left of {b}.": "lower-left",
    "{a} is below {b} and to the left of {b2}.": "lower-left",
    "{a} is below and to the left of {b}.": "lower-left",
    "{a} is directly south west of {b}.": "lower-left",
    "{a} is below {b} at 7 o'clock.": "lower-left",
    "{a} is on the left side of and below {b}.": "lower-left",
    "{a} is placed at the lower left of {b}.": "lower-left",
    "{a} is to the bottom left of {b}.": "lower-left",
    "If {b} is the center of a clock face, {a} is located between 7 and 8.": "lower-left",
    "{a} is south west of {b}.": "lower-left",
    "{a} is positioned down and to the left of {b}.": "lower-left",
    "{a} is positioned below {b} and to the left.": "lower-left",
    "Object {a} is below object {b} and to the left of it, too.": "lower-left",
    "{a} is diagonally below {b} to the left at a 45 degree angle.": "lower-left",
    "The object {a} is positioned below and to the left of the object {b}.": "lower-left",
    "{a} is sitting at the lower left position to {b}.": "lower-left",
    # --- lower-right ---
    "{a} is below and to the right of {b}.": "lower-right",
    "{a} is to the bottom right of {b}.": "lower-right",
    "{a} is positioned in the lower right corner of {b}.": "lower-right",
    "{b} is there and {a} is at the 5 position of a clock face.": "lower-right",
    "The object {x} and {y} are there. The object {a} is below and slightly to the right of the object {b}.":
        "lower-right",
    "The object {a} is lower and slightly to the right of the object {b}.": "lower-right",
    "{a} is sitting at the lower right position to {b}.": "lower-right",
    "Object {a} is below object {b} and to the right of it, too.": "lower-right",
    "{a} is below {b} and to the right of {b2}.": "lower-right",
    "The object {a} is positioned below and to the right of the object {b}.": "lower-right",
    "{a} is diagonally below {b} to the right at a 45 degree angle.": "lower-right",
    "{a} is positioned below {b} and to the right.": "lower-right",
    "{a} is positioned below and to the right of {b}.": "lower-right",
    "{a} presents lower right to {b}.": "lower-right",
    "{a} is placed at the lower right of {b}.": "lower-right",
    "{a} is diagonally to the bottom right of {b}.": "lower-right",
    "{a} is diagonally right and below {b}.": "lower-right",
    "{a} is on the lower right of {b}.": "lower-right",
    "{a} is on the right side and below {b}.": "lower-right",
    "{a} is at a 45 degree angle to {b}, in the lower righthand corner.": "lower-right",
    "{a} is directly south east of {b}.": "lower-right",
    "{a} is lower right of {b}.": "lower-right",
    "{a} is south east of {b}.": "lower-right",
    "{a} is to the bottom-right of {b}.": "lower-right",
    "{a} is below {b} at 4 o'clock.": "lower-right",
    "If {b} is the center of a clock face, {a} is located between 4 and 5.": "lower-right",
}

NAME = r"[A-Z][A-Za-z0-9]*"


def _compile(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{\w+\})", template)
    out = []
    for p in parts:
        m = re.fullmatch(r"\{(\w+)\}", p)
        out.append(f"(?P<{m.group(1)}>{NAME})" if m else re.escape(p))
    return re.compile("^" + "".join(out) + "$")


TEMPLATES: tuple[tuple[str, re.Pattern[str], str], ...] = tuple(
    (t, _compile(t), rel) for t, rel in _TEMPLATE_TABLE.items())
"""(template, compiled regex, literal relation of a to b)."""

INVERTED_TEMPLATES: frozenset[str] = frozenset({
    # Measured on the k=1 training + validation files (template_agreement / docs/benchmarks.md): for these
    # templates the gold label is always the *inverse* of what the sentence states, e.g. "A is placed at the
    # bottom of B" labelled A above B, "A and B are horizontal and A is to the right of B" labelled left.
    "{x} and {y} are parallel, and {a} on the right of {b}.",
    "{x} and {y} are parallel, and {a} is to the right of {b}.",
    "{x} and {y} are horizontal and {a} is to the right of {b}.",
    "{x} and {y} are both there with the object {a} is to the right of object {b}.",
    "{a} is positioned below {b} and to the left.",
    "{a} is placed at the bottom of {b}.",
})
"""Templates whose gold labels are the inverse of the relation the sentence states."""

AMBIGUOUS_TEMPLATES: frozenset[str] = frozenset({
    # One sentence shared by several relations in the generator: the label agrees with the text about 1/3
    # (upper-right; also used for upper-left and lower-right) and 1/2 (upper-left; also used for lower-left).
    "{a} is to the right and above {b} at an angle of about 45 degrees.",
    "{b} is there and {a} is at the 10 position of a clock face.",
})
"""Templates the generator used for more than one relation (the text does not determine the label)."""

NOISY_TEMPLATES: frozenset[str] = INVERTED_TEMPLATES | AMBIGUOUS_TEMPLATES
"""Templates whose gold labels can disagree with the text (StepGame label noise)."""


@dataclass(frozen=True)
class Fact:
    """``a`` is ``rel`` of ``b`` as stated by sentence number ``sentence`` using ``template``."""
    a: str
    rel: str
    b: str
    sentence: int
    template: str


class StepGameError(ValueError):
    """A StepGame file or sentence that cannot be read."""


# ----------------------------------------------------------------------------------------------- loading
_Q_RE = re.compile(r"^What is the relation of the agent (?P<x>\S+) to the agent (?P<y>\S+)\?$")


def asked_agents(question: str) -> list[str]:
    """The two agents a StepGame question asks about (``[]`` when it is not one)."""
    m = _Q_RE.match(str(question).strip())
    return [m.group("x"), m.group("y")] if m else []
_FILE_RE = re.compile(r"qa(\d+)_(\w+)\.json$")


def _files(path: Path, k: int | None, split: str) -> list[Path]:
    if path.is_file():
        return [path]
    cands = [path / split, path] if (path / split).is_dir() else [path]
    for d in cands:
        fs = sorted(d.glob("qa*_*.json"), key=lambda p: int(_FILE_RE.search(p.name).group(1))
                    if _FILE_RE.search(p.name) else 0)
        fs = [f for f in fs if _FILE_RE.search(f.name) and _FILE_RE.search(f.name).group(2) == split] or fs
        if k is not None:
            fs = [f for f in fs if _FILE_RE.search(f.name) and int(_FILE_RE.search(f.name).group(1)) == k]
        if fs:
            return fs
    raise StepGameError(f"no StepGame file qa{k if k is not None else '*'}_{split}.json found under {path}")


def load(path_or_dir: str | Path | None = None, k: int | None = None, split: str = "valid",
         limit: int | None = None) -> list[dict]:
    """Read StepGame ``qa{k}_{split}.json`` files (a file, a folder of them, or the benchmark root).

    Returns dicts with ``id, k, story, text, question, label, agents, asked``; ``limit`` caps stories per file.
    ``k`` is taken from the file name (``qa{k}_...``); when the name has none, from the ``k`` argument or None.
    """
    path = Path(path_or_dir) if path_or_dir is not None else DEFAULT_DIR
    if not path.exists():
        raise StepGameError(f"StepGame path {path} does not exist (point load() at a qa*_<split>.json file or its folder)")
    out: list[dict] = []
    for f in _files(path, k, split):
        m = _FILE_RE.search(f.name)
        fk = int(m.group(1)) if m else k
        try:
            data = json.loads(f.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as e:
            raise StepGameError(f"{f} is not a readable StepGame JSON file ({e})") from None
        if not isinstance(data, dict):
            raise StepGameError(f"{f} is malformed: expected an object mapping ids to stories, got {type(data).__name__}")
        for i, (sid, item) in enumerate(data.items()):
            if limit is not None and i >= limit:
                break
            try:
                story = [str(s).strip() for s in item["story"]]
                q = str(item["question"]).strip()
                label = str(item["label"]).strip()
            except (KeyError, TypeError):
                raise StepGameError(f"{f} is malformed: story {sid!r} lacks story/question/label") from None
            qm = _Q_RE.match(q)
            if not qm:
                raise StepGameError(f"{f} is malformed: story {sid!r} has an unexpected question {q!r}")
            if label not in world.RELATIONS:
                raise StepGameError(f"{f} is malformed: story {sid!r} has an unknown label {label!r}")
            agents: list[str] = []
            for s in story:
                for n in re.findall(r"\b[A-Z]\b", s):
                    if n not in agents:
                        agents.append(n)
            for n in (qm["x"], qm["y"]):
                if n not in agents:
                    agents.append(n)
            out.append({"id": f"stepgame-{split}-k{fk}-{sid}", "k": fk, "story": story, "text": " ".join(story),
                        "question": q, "label": label, "agents": agents, "asked": [qm["x"], qm["y"]]})
    return out


# ----------------------------------------------------------------------------------------------- parsing
def parse_sentence(sentence: str, index: int = 0) -> Fact | None:
    """The fact one sentence states (literal meaning), or None when no template matches."""
    s = sentence.strip()
    for t, rx, rel in TEMPLATES:
        m = rx.match(s)
        if not m:
            continue
        g = m.groupdict()
        a = g.get("a")
        b = g.get("b")
        if b is None:  # pair template: b is the other member of {p, q}
            p, q = g["p"], g["q"]
            if a not in (p, q):
                continue
            b = q if a == p else p
        return Fact(a, rel, b, index, t)
    return None


def parse_story(sentences: Sequence[str], strict: bool = False, as_labelled: bool = False) -> list[Fact]:
    """Facts stated by the story, one per recognised sentence.

    ``as_labelled=True`` flips the inverted templates to the relation the gold labels use (ambiguous
    templates keep their literal reading). ``strict=True``
    raises ``StepGameError`` for an unrecognised sentence (otherwise it is skipped).
    """
    facts = []
    for i, s in enumerate(sentences):
        f = parse_sentence(s, i)
        if f is None:
            if strict:
                raise StepGameError(f"no StepGame template matches sentence {s!r}")
            continue
        if as_labelled and f.template in INVERTED_TEMPLATES:
            f = Fact(f.a, world.inverse(f.rel), f.b, f.sentence, f.template)
        facts.append(f)
    return facts


# ----------------------------------------------------------------------------------------------- solving
def _graph(facts: Iterable[Fact]) -> dict[str, list[tuple[str, tuple[int, int], Fact]]]:
    g: dict[str, list[tuple[str, tuple[int, int], Fact]]] = {}
    for f in facts:
        if f.a == f.b:
            continue  # generator noise such as "K is diagonally left and above K."
        sx, sy = world.signs_of(f.rel)
        g.setdefault(f.a, []).append((f.b, (-sx, -sy), f))
        g.setdefault(f.b, []).append((f.a, (sx, sy), f))
    return g


def solve(facts: Iterable[Fact], start: str) -> dict[str, tuple[int, int]]:
    """Unit-offset coordinates of every agent reachable from ``start`` (at (0, 0)), by BFS; first fact wins."""
    g = _graph(facts)
    pos = {start: (0, 0)}
    dq = deque([start])
    while dq:
        u = dq.popleft()
        for v, (dx, dy), _ in g.get(u, []):
            if v not in pos:
                pos[v] = (pos[u][0] + dx, pos[u][1] + dy)
                dq.append(v)
    return pos


def path(facts: Iterable[Fact], x: str, y: str) -> list[Fact] | None:
    """Facts on a shortest chain from x to y (in order), or None when they are not connected."""
    g = _graph(facts)
    prev: dict[str, tuple[str, Fact] | None] = {x: None}
    dq = deque([x])
    while dq:
        u = dq.popleft()
        if u == y:
            break
        for v, _, f in g.get(u, []):
            if v not in prev:
                prev[v] = (u, f)
                dq.append(v)
    if y not in prev:
        return None
    chain: list[Fact] = []
    n = y
    while prev[n] is not None:
        u, f = prev[n]
        chain.append(f)
        n = u
    return chain[::-1]


def path_agents(facts: Iterable[Fact], x: str, y: str) -> list[str]:
    """Agents on the shortest chain from x to y, x first ([x, y] when not connected)."""
    chain = path(list(facts), x, y)
    if not chain:
        return [x] if x == y else [x, y]
    names = [x]
    for f in chain:
        nxt = f.b if f.a == names[-1] else f.a
        names.append(nxt)
    return names


def predict(item: Mapping, as_labelled: bool = False) -> str | None:
    """Rule-pipeline answer for a loaded example (None when the asked agents are not connected)."""
    facts = parse_story(item["story"], as_labelled=as_labelled)
    x, y = item["asked"]
    pos = solve(facts, x)
    if y not in pos:
        return None
    return world.relation(pos[x], pos[y])


def noisy(example: Mapping, anywhere: bool = False) -> bool:
    """True when the gold label may disagree with the text: a sentence on the X-Y reasoning chain uses one of
    ``NOISY_TEMPLATES``, or X and Y are not connected at all (the generator sometimes prints a chain sentence
    with the same agent twice, "K is diagonally left and above K.", losing the other agent).

    ``anywhere=True`` flags a noisy template (or self-referential sentence) anywhere in the story instead.
    Accepts a loaded item or a converted example (reads its ``stepgame`` field).
    """
    src = example.get("stepgame", example)
    facts = parse_story(src["story"])
    if anywhere:
        return any(f.template in NOISY_TEMPLATES or f.a == f.b for f in facts)
    x, y = src["asked"]
    chain = path(facts, x, y)
    if chain is None:
        return x != y
    return any(f.template in NOISY_TEMPLATES for f in chain)


def evaluate(items: Sequence[Mapping], as_labelled: bool = False) -> dict:
    """Accuracy of the rule pipeline: overall, on clean stories and on noisy stories (counts included)."""
    res = {"all": [0, 0], "clean": [0, 0], "noisy": [0, 0], "unparsed_sentences": 0, "unconnected": 0}
    for it in items:
        facts = parse_story(it["story"], as_labelled=as_labelled)
        res["unparsed_sentences"] += len(it["story"]) - len(facts)
        p = predict(it, as_labelled=as_labelled)
        res["unconnected"] += p is None
        ok = p == it["label"]
        grp = "noisy" if noisy(it) else "clean"
        for key in ("all", grp):
            res[key][0] += ok
            res[key][1] += 1
    for key in ("all", "clean", "noisy"):
        c, n = res[key]
        res[key] = {"acc": c / n if n else float("nan"), "correct": c, "n": n}
    return res


def template_agreement(items: Sequence[Mapping]) -> dict[str, dict]:
    """Per template: how often the pipeline is right on stories whose X-Y chain uses the template.

    A template that states the opposite of what the labels assume shows agreement near 0.
    """
    stats: dict[str, list[int]] = {}
    for it in items:
        facts = parse_story(it["story"])
        x, y = it["asked"]
        chain = path(facts, x, y) or []
        ok = predict(it) == it["label"]
        for t in {f.template for f in chain}:
            s = stats.setdefault(t, [0, 0])
            s[0] += ok
            s[1] += 1
    return {t: {"agree": c / n, "n": n} for t, (c, n) in sorted(stats.items(), key=lambda kv: kv[1][0] / kv[1][1])}


# ----------------------------------------------------------------------------------------------- conversion
def _components(facts: Sequence[Fact], agents: Sequence[str]) -> list[dict[str, tuple[int, int]]]:
    done: set[str] = set()
    comps = []
    for a in agents:
        if a in done:
            continue
        pos = solve(facts, a)
        done |= set(pos)
        comps.append(pos)
    return comps


def _shift(pos: Mapping[str, tuple[int, int]]) -> dict[str, list[int]]:
    mx = min(p[0] for p in pos.values())
    my = min(p[1] for p in pos.values())
    return {n: [p[0] - mx, p[1] - my] for n, p in pos.items()}


def layout_for(item: Mapping, agents: Sequence[str] | None = None, as_labelled: bool = False) -> dict[str, list[int]]:
    """Deterministic layout of the story: connected components by the rule parser's unit offsets, each shifted
    to start at (0, 0); the component of the first asked agent first, further components placed to its right
    (one empty column between), bottom-aligned. ``agents`` restricts (and orders) the objects kept."""
    return layout_from_facts(parse_story(item["story"], as_labelled=as_labelled), item, agents)


def layout_from_facts(facts: Sequence[Fact], item: Mapping, agents: Sequence[str] | None = None) -> dict[str, list[int]]:
    """:func:`layout_for` from given facts (e.g. a model's); agents no fact mentions get their own component."""
    order = list(item["asked"][:1]) + [a for a in item["agents"] if a != item["asked"][0]]
    keep = list(agents) if agents is not None else list(item["agents"])
    out: dict[str, list[int]] = {}
    x0 = 0
    for comp in _components(facts, order):
        comp = {n: p for n, p in comp.items() if n in keep}
        if not comp:
            continue
        sh = _shift(comp)
        for n, (px, py) in sh.items():
            out[n] = [px + x0, py]
        x0 += max(p[0] for p in sh.values()) + 2
    return {n: out[n] for n in keep if n in out}


# ------------------------------------------------------------------ sentence by sentence (the "sentences" mode)
_REL_LINE = re.compile(r"^\s*(\S+)\s*\|\s*([a-z-]+(?: [a-z]+)?)\s*\|\s*(\S+)\s*$")


def _relation_of(words: str) -> str | None:
    """A relation line's middle part: a label, or an x word and a y word (the facts style ``axes``); None else."""
    if words in world.RELATIONS:
        return words
    try:
        return world.relation_of_axis_words(words)
    except ValueError:
        return None


def _example(ex_id: str, split: str, text: str, names: Sequence[str], lay: Mapping[str, list[int]],
             facts: Sequence[Fact], query: dict, **extra) -> dict:
    """One example in the project schema (docs/design.md): the given agents laid out by ``lay`` (grid = its bounding
    box, size not given to the model), ``facts`` as unit-offset relations, one query."""
    return {
        "id": ex_id, "split": split, "width": max(p[0] for p in lay.values()) + 1,
        "height": max(p[1] for p in lay.values()) + 1, "size_known": False, "mode": "exact", "template_set": "stepgame",
        "objects": [{"name": n, "symbol": n, "props": {}} for n in names],
        "text": text,
        "facts": {"entities": [{"name": n, "props": {}} for n in names],
                  "relations": [{"a": f.a, "rel": f.rel, "b": f.b, "offset": list(world.signs_of(f.rel)), "state": 0}
                                for f in facts],
                  "anchors": [], "actions": []},
        "states": [lay], "canonical": [lay],
        "queries": [query], **extra}


def sentence_examples(items: Sequence[Mapping], as_labelled: bool = False) -> list[dict]:
    """One example per recognised sentence of each story: the sentence is the text, its two agents the objects,
    and the target the stated relation with a two-agent map (the reader is the teacher, as for the story maps)."""
    out = []
    for it in items:
        for f in parse_story(it["story"], as_labelled=as_labelled):
            if f.a == f.b:
                continue
            lay = _shift({f.a: world.signs_of(f.rel), f.b: (0, 0)})
            out.append(_example(f"{it['id']}-s{f.sentence}", "stepgame_sentences", it["story"][f.sentence].strip(),
                                (f.a, f.b), lay, [f],
                                {"a": f.a, "b": f.b, "state": 0, "relation": f.rel, "x_determined": True,
                                 "y_determined": True, "status": "stated", "hops": 1}))
    return out


_LEAD_IN = re.compile(r"^The objects? \S+ and \S+ are (over )?there\.$")


def story_sentences(text: str) -> list[str]:
    """A story's StepGame sentences from its text: split at sentence ends, except that a lead-in such as "The objects
    M and Q are over there." stays with the sentence after it (StepGame lists the two as one sentence)."""
    from .sentences import split
    out: list[str] = []
    for s in split(text):
        if out and _LEAD_IN.match(out[-1]):
            out[-1] += " " + s
        else:
            out.append(s)
    return out


def story_from_sentences(item: Mapping, outputs: Sequence[str]) -> str:
    """A story's map from per-sentence model outputs (one per sentence of ``item["story"]``): every
    ``A | relation | B`` line the model wrote (the relation as a label or as axis words, written back as a label),
    then the coordinates of the story's agents laid out from those
    relations (unit steps, first fact wins, as for the reader); agents no line links get their own component.
    Without ``item["agents"]`` the agents are those the lines name, in order; without ``item["asked"]`` the map
    starts from the first agent's component."""
    facts, lines = [], []
    for i, out in enumerate(outputs):
        for ln in out.splitlines():
            m = _REL_LINE.match(ln)
            rel = _relation_of(m.group(2)) if m else None
            if rel:
                facts.append(Fact(m.group(1), rel, m.group(3), i, "model"))
                lines.append(f"{m.group(1)} | {rel} | {m.group(3)}")
    agents = list(item.get("agents") or dict.fromkeys(n for f in facts for n in (f.a, f.b)))
    if not agents:
        return "\n".join(lines)
    item = {**item, "agents": agents, "asked": list(item.get("asked") or agents[:1])}
    lay = layout_from_facts(facts, item)
    return "\n".join(lines + [f"{n} {p[0]} {p[1]}" for n, p in lay.items()])


def to_examples(items: Sequence[Mapping], mode: str = "complete", as_labelled: bool = False) -> list[dict]:
    """Convert loaded StepGame items to the project example schema (docs/design.md).

    ``complete``: objects = every agent of the story, text = the story. ``hybrid``: objects = the agents on the
    chain between the two asked agents (found by the rule parser), text = story + question. The canonical
    layout is the rule parser's (literal reading; ``as_labelled`` flips inverted templates); the query carries the
    benchmark's gold label. The original item is kept under ``"stepgame"``.
    """
    if mode not in ("complete", "hybrid"):
        raise ValueError(f"mode must be 'complete' or 'hybrid', got {mode!r}")
    out = []
    for it in items:
        facts = parse_story(it["story"], as_labelled=as_labelled)
        x, y = it["asked"]
        if mode == "complete":
            names = list(it["agents"])
            text = it["text"]
        else:
            on_path = set(path_agents(facts, x, y))
            names = [a for a in it["agents"] if a in on_path]
            text = it["text"] + " " + it["question"]
        lay = layout_for(it, names, as_labelled=as_labelled)
        out.append(_example(f"{it['id']}-{mode}", f"stepgame_{mode}", text, names, lay,
                            [f for f in facts if f.a in lay and f.b in lay],
                            {"a": x, "b": y, "state": 0, "relation": it["label"], "x_determined": True,
                             "y_determined": True, "status": "entailed", "hops": it["k"]},
                            stepgame={**it, "path_hops": len(path(facts, x, y) or [])}))
    return out


def answer_from_layout(layout: Mapping[str, Sequence[int]] | None, x: str, y: str) -> str | None:
    """Relation of x to y read off a (predicted) layout; None when either agent is missing or unusable."""
    if not layout:
        return None
    try:
        px, py = layout[x], layout[y]
        return world.relation((int(px[0]), int(px[1])), (int(py[0]), int(py[1])))
    except (KeyError, TypeError, ValueError, IndexError):
        return None
