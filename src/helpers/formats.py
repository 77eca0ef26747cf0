"""Target formats: how a map is written as text for the model, and how model output is read back.

Three formats (``FORMATS``):

* ``coords`` -- one line per object, ``Name x y``, in ``example["objects"]`` order.
  Style ``"relations"`` first lists every pairwise relation ``A | rel | B`` (pairs i < j in object
  order, computed from the target layout), then the coordinate lines (an intermediate representation).
  Style ``"stated"`` first lists the relations the text states (``facts`` lines, in text order), then the
  coordinate lines; with several states the relation lines open the ``State1:`` block. Style ``"stated-pairs"``
  writes the stated lines, then every pairwise line (as ``relations``), then the coordinates: each pair's line is
  then a copy or an inversion of a stated line above it. Readers skip ``|`` lines. Style ``"track"``: the model
  reads one sentence at a time and rewrites the whole map after each (:mod:`helpers.tracking`); its last map is
  an ordinary ``compact`` map. Style ``"track-moves"``: each step first writes which placed objects move
  (``moves: the Prince +1 0`` or ``moves: none``), then the map. Styles ``"track-changes"`` (each step writes only the
  lines that change) and ``"track-delta"`` (the same, with maps in the frame of the first object placed): see
  :mod:`helpers.tracking`.
* ``grid``   -- ``height`` lines of ``width`` characters, top row (largest y) first, ``.`` empty, each
  object's symbol in its cell. Objects sharing a cell: the first (object order) keeps the cell and each
  other one gets an extra line ``R@A`` after the grid (symbol R is in the cell of symbol A).
  Style ``"legend"`` first names each symbol (``C = the chapel``, one line per object, in the first state only)
  and separates the cells by spaces (``. . C . .``), so that every cell is one token and the symbols are bound
  to the names in the output itself; the reader uses the output's legend when it has one. Style ``"legend-up"``:
  the same, with the rows printed bottom row (y = 0) first, so that a map at the bottom-left is written on the
  first lines (a diagnosis of 03_grid: no empty lines to plan before the first object).
* ``facts``  -- what the text states (not a map); the solver turns it into a map, one per state.
  Style ``"compact"`` (lines of each kind keep their order; kinds may come in any order)::

      - Alice                      entity (one line each; ``- the ball | colour=red`` with props)
      @ the house 3 4              anchor: absolute cell
      Alice | above | the house    relation of Alice to the house (state 0)
      Alice | left | Rabbit | -2 0 relation with offset (dx, dy) = pos(Alice) - pos(Rabbit) (exact mode)
      move Alice 0 3               action: move by (dx, dy); action t takes state t to state t+1
      move Alice to the house      action: move into the cell of the house

  Style ``"sentences"``: the compact lines, but the model reads one sentence at a time and writes that sentence's
  facts; code joins them per story (:mod:`helpers.sentences`).

  Style ``"axes"``: as ``"sentences"``, but each relation is written as its x word and y word
  (:func:`helpers.world.axis_words`: ``Alice | left down | the house`` for lower-left), so the model decides each
  axis separately instead of choosing one of nine labels.

  Style ``"json"``: the verbose JSON ``{"entities": [{"name", "props"}], "relations": [{"subject", "relation",
  "object"(, "dx", "dy")}], "anchors": [{"object", "x", "y"}], "actions": [{"object", "dx", "dy"} | {"object", "to"}]}``.

Multi-state examples (``len(example["states"]) > 1``) write each map state under a header ``State1:``,
``State2:``, ...; facts need no headers (the actions define the states).

Canonical facts dict (``generate``'s ``example["facts"]``; ``normalize_facts`` also accepts a few aliases)::

    {"entities":  [{"name": str, "props": {str: str}}],
     "relations": [[a, rel, b] | [a, rel, b, dx, dy]],
     "anchors":   [[name, x, y]],
     "actions":   [[name, dx, dy] | [name, "to", other]]}

Readers never raise on model output: they return ``Parsed(valid=False, reason)``.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from helpers.world import RELATIONS, Layout, axis_words, in_bounds, relation, relation_of_axis_words

FORMATS: tuple[str, ...] = ("facts", "grid", "coords")
STYLES: dict[str, tuple[str, ...]] = {
    "facts": ("compact", "json", "sentences", "axes"),
    "grid": ("compact", "legend", "legend-up"),
    "coords": ("compact", "relations", "stated", "stated-pairs", "track", "track-moves", "track-changes",
               "track-delta"),
}
SENTENCE_STYLES: tuple[str, ...] = ("sentences", "axes")
"""Facts styles whose model reads one sentence at a time (outputs joined per story by :mod:`helpers.sentences`)."""
TRACK_STYLES: tuple[str, ...] = ("track", "track-moves", "track-changes", "track-delta")
"""Coordinates styles whose model keeps the map while reading (:mod:`helpers.tracking`)."""
EMPTY = "."
STATE_HEADER = re.compile(r"^\s*state\s*(\d{1,4})\s*:?\s*$", re.IGNORECASE)
"""A ``StateK:`` header line (group 1: K)."""
_INT = r"([+-]?\d{1,7})"
COORD_LINE = re.compile(rf"^(.+?)\s+{_INT}\s+{_INT}$")
"""A ``Name x y`` coordinate line (groups: name, x, y)."""
_ANCHOR = re.compile(rf"^@\s*(.+?)\s+{_INT}\s+{_INT}$")
_MOVE_BY = re.compile(rf"^move\s+(.+?)\s+{_INT}\s+{_INT}$", re.IGNORECASE)
_MOVE_TO = re.compile(r"^move\s+(.+?)\s+to\s+(.+)$", re.IGNORECASE)
_OFFSET = re.compile(rf"^{_INT}\s+{_INT}$")
_AT = re.compile(r"^(\S)\s*@\s*(\S)$")
_LEGEND = re.compile(r"^(\S)\s+=\s+(.+)$")


@dataclass
class Parsed:
    """A read-back model output. ``states``: one layout per state (empty when there is none)."""
    valid: bool
    reason: str = ""
    states: list[dict[str, tuple[int, int]]] = field(default_factory=list)
    facts: dict | None = None


def make_prompt(text: str, fmt: str, style: str = "compact", size: tuple[int, int] | None = None,
                prefix: str = "") -> str:
    """Minimal prompt (no chat template); the style is named only when it is not the default, the grid size
    (``W x H``) only when it is known (anchors such as "the top-right corner" need it). ``prefix`` (e.g. ``"Text: "``)
    goes before the text: without one, the story's first word is the sequence's first token, which the model copies
    badly (an unseen name starting a sentence; see 02_parse), and it is tokenized without its leading space, unlike
    the same name anywhere else."""
    _check(fmt, style)
    tag = fmt if style == "compact" else f"{fmt}/{style}"
    if size:
        tag += f", {size[0]}x{size[1]}"
    return f"{prefix}{text}\nMap ({tag}):\n"


def example_prompt(example: dict, fmt: str, style: str = "compact", prefix: str = "") -> str:
    """The prompt for a dataset example: its text, plus its grid size unless the example says the size is not
    given to the model (``"size_known": false``, e.g. outside benchmarks whose map is only a bounding box)."""
    size = (example["width"], example["height"]) if example.get("size_known", True) else None
    return make_prompt(example["text"], fmt, style, size, prefix)


def _check(fmt: str, style: str) -> None:
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; expected one of {FORMATS}")
    if style not in STYLES[fmt]:
        raise ValueError(f"unknown style {style!r} for {fmt!r}; expected one of {STYLES[fmt]}")


# ----------------------------------------------------------------------------------------- layouts

def target_states(example: dict, target: str = "canonical") -> list[dict[str, tuple[int, int]]]:
    """The layouts a target writes: ``canonical`` (solver's deterministic map) or ``random`` (``states``)."""
    key = {"canonical": "canonical", "random": "states"}.get(target)
    if key is None:
        raise ValueError(f"unknown target {target!r}; expected 'canonical' or 'random'")
    return [{n: (int(p[0]), int(p[1])) for n, p in s.items()} for s in example[key]]


def _names(example: dict) -> list[str]:
    return [o["name"] for o in example["objects"]]


def _with_headers(blocks: list[list[str]]) -> str:
    if len(blocks) == 1:
        return "\n".join(blocks[0])
    out: list[str] = []
    for i, b in enumerate(blocks):
        out.append(f"State{i + 1}:")
        out.extend(b)
    return "\n".join(out)


def _write_coords(example: dict, layout: Layout, style: str) -> list[str]:
    names = _names(example)
    lines = []
    if style in ("relations", "stated-pairs"):
        for i, a in enumerate(names):
            for b in names[i + 1:]:
                lines.append(f"{a} | {relation(layout[a], layout[b])} | {b}")
    lines += [f"{n} {layout[n][0]} {layout[n][1]}" for n in names]
    return lines


GRID_UP_STYLES: tuple[str, ...] = ("legend-up",)
"""Grid styles printed bottom row (y = 0) first; the others print the top row (largest y) first."""


def _write_grid(example: dict, layout: Layout, sep: str = "", up: bool = False) -> list[str]:
    w, h = example["width"], example["height"]
    rows = [[EMPTY] * w for _ in range(h)]
    owner: dict[tuple[int, int], str] = {}
    extra = []
    for o in example["objects"]:
        x, y = layout[o["name"]]
        if (x, y) in owner:
            extra.append(f"{o['symbol']}@{owner[(x, y)]}")
        else:
            owner[(x, y)] = o["symbol"]
            rows[h - 1 - y][x] = o["symbol"]
    return [sep.join(r) for r in (rows[::-1] if up else rows)] + extra


def write_target(example: dict, fmt: str, target: str = "canonical", style: str = "compact") -> str:
    """The target string of ``example`` in format ``fmt`` (no end marker; the engine appends EOS)."""
    _check(fmt, style)
    if fmt == "facts":
        return _write_facts(example, style)
    states = target_states(example, target)
    if fmt == "coords":
        blocks = [_write_coords(example, s, style) for s in states]
        if style in ("stated", "stated-pairs"):
            rels = normalize_facts(example["facts"])["relations"]
            blocks[0] = [f"{r[0]} | {r[1]} | {r[2]}" for r in rels] + blocks[0]
        return _with_headers(blocks)
    sep = "" if style == "compact" else " "
    blocks = [_write_grid(example, s, sep, up=style in GRID_UP_STYLES) for s in states]
    if style != "compact":
        blocks[0] = [f"{o['symbol']} = {o['name']}" for o in example["objects"]] + blocks[0]
    return _with_headers(blocks)


# ------------------------------------------------------------------------------------------- facts

def _first(d: dict, *keys: str, default: Any = None) -> Any:
    for k in keys:
        if k in d:
            return d[k]
    return default


def _int(v: Any, what: str) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or v != v or abs(v) > 10**7 or int(v) != v:
        raise ValueError(f"{what} must be an integer, got {v!r}")
    return int(v)


def _pair(v: Any, what: str) -> list[int]:
    if not isinstance(v, (list, tuple)) or len(v) != 2:
        raise ValueError(f"{what} must be a pair of integers, got {v!r}")
    return [_int(v[0], what), _int(v[1], what)]


def _name(v: Any, what: str = "name") -> str:
    if not isinstance(v, str) or not v.strip():
        raise ValueError(f"{what} must be a non-empty string, got {v!r}")
    return v.strip()


def _as_list(v: Any) -> list:
    if not isinstance(v, (list, tuple)):
        raise ValueError(f"expected a list, got {type(v).__name__}")
    return list(v)


def normalize_facts(facts: dict) -> dict:
    """The canonical facts dict (``generate``'s form, see module docstring); ValueError when malformed.

    Also accepts: entities as strings or dicts whose extra keys are props; relations as dicts
    (a/subject, rel/relation, b/object, offset or dx/dy) or ``[a, rel, b, [dx, dy]]``; anchors as dicts
    (name/object, pos/at or x/y); actions as dicts (name/object, move/by or dx/dy, or to).
    """
    if not isinstance(facts, dict):
        raise ValueError("facts must be a JSON object")
    entities = []
    for e in _as_list(_first(facts, "entities", "objects", default=[])):
        if isinstance(e, str):
            entities.append({"name": _name(e), "props": {}})
        elif isinstance(e, dict):
            props = e.get("props")
            if props is None:
                props = {k: v for k, v in e.items() if k not in ("name", "symbol")}
            if not isinstance(props, dict):
                raise ValueError("entity props must be an object")
            entities.append({"name": _name(e.get("name")), "props": {str(k): str(v) for k, v in props.items()}})
        else:
            raise ValueError(f"bad entity {e!r}")

    relations = []
    for r in _as_list(facts.get("relations", [])):
        if isinstance(r, dict):
            off = _first(r, "offset", "delta")
            if off is None and ("dx" in r or "dy" in r):
                off = [r.get("dx"), r.get("dy")]
            a, rel, b = _first(r, "a", "subject"), _first(r, "rel", "relation"), _first(r, "b", "object", "ref")
        elif isinstance(r, (list, tuple)) and len(r) in (3, 4, 5):
            a, rel, b = r[0], r[1], r[2]
            off = None if len(r) == 3 else (r[3] if len(r) == 4 else [r[3], r[4]])
        else:
            raise ValueError(f"bad relation {r!r}")
        if rel not in RELATIONS:
            raise ValueError(f"unknown relation {rel!r}")
        rec = [_name(a), rel, _name(b)]
        if off is not None:
            rec += _pair(off, "offset")
        relations.append(rec)

    anchors = []
    for a in _as_list(facts.get("anchors", [])):
        if isinstance(a, dict):
            pos = _first(a, "pos", "at")
            if pos is None:
                pos = [a.get("x"), a.get("y")]
            anchors.append([_name(_first(a, "name", "object")), *_pair(pos, "anchor position")])
        elif isinstance(a, (list, tuple)) and len(a) == 3:
            anchors.append([_name(a[0]), *_pair(a[1:], "anchor position")])
        else:
            raise ValueError(f"bad anchor {a!r}")

    actions = []
    for a in _as_list(facts.get("actions", [])):
        if isinstance(a, dict):
            name, to, move = _first(a, "name", "object", "subject"), a.get("to"), _first(a, "move", "by", "delta")
            if move is None and ("dx" in a or "dy" in a):
                move = [a.get("dx"), a.get("dy")]
            if (move is None) == (to is None):
                raise ValueError("an action needs exactly one of a move and 'to'")
        elif isinstance(a, (list, tuple)) and len(a) == 3:
            name, to, move = a[0], (a[2] if a[1] == "to" else None), (None if a[1] == "to" else a[1:])
        else:
            raise ValueError(f"bad action {a!r}")
        actions.append([_name(name), "to", _name(to, "action target")] if to is not None
                       else [_name(name), *_pair(move, "move")])
    return {"entities": entities, "relations": relations, "anchors": anchors, "actions": actions}


def _write_facts(example: dict, style: str) -> str:
    f = normalize_facts(example["facts"])
    if style == "json":
        out = {
            "entities": [{"name": e["name"], **({"props": e["props"]} if e["props"] else {})} for e in f["entities"]],
            "relations": [{"subject": r[0], "relation": r[1], "object": r[2],
                           **({"dx": r[3], "dy": r[4]} if len(r) == 5 else {})} for r in f["relations"]],
            "anchors": [{"object": a[0], "x": a[1], "y": a[2]} for a in f["anchors"]],
            "actions": [{"object": a[0], "to": a[2]} if a[1] == "to" else {"object": a[0], "dx": a[1], "dy": a[2]}
                        for a in f["actions"]],
        }
        return json.dumps(out, separators=(",", ":"))
    lines = [f"- {e['name']}" + "".join(f" | {k}={v}" for k, v in e["props"].items()) for e in f["entities"]]
    lines += [f"@ {a[0]} {a[1]} {a[2]}" for a in f["anchors"]]
    rel = axis_words if style == "axes" else str
    lines += [f"{r[0]} | {rel(r[1])} | {r[2]}" + (f" | {r[3]} {r[4]}" if len(r) == 5 else "") for r in f["relations"]]
    lines += [f"move {a[0]} to {a[2]}" if a[1] == "to" else f"move {a[0]} {a[1]} {a[2]}" for a in f["actions"]]
    return "\n".join(lines)


# ----------------------------------------------------------------------------------------- reading

class _Bad(Exception):
    """Internal: invalid model output (turned into Parsed(valid=False))."""


def _split_states(text: str, n_states: int) -> list[list[str]]:
    """Per-state non-empty stripped lines. Headers, when present, must run State1..StateN."""
    lines = [ln.strip() for ln in text.replace("\r", "\n").split("\n")]
    lines = [ln for ln in lines if ln]
    blocks: list[list[str]] = []
    pre: list[str] = []
    for ln in lines:
        m = STATE_HEADER.match(ln)
        if m:
            if int(m.group(1)) != len(blocks) + 1:
                raise _Bad(f"state header {ln!r} out of order")
            blocks.append([])
        elif blocks:
            blocks[-1].append(ln)
        else:
            pre.append(ln)
    if not blocks:
        blocks, pre = [pre], []
    elif pre:
        raise _Bad("text before the first state header")
    if len(blocks) != n_states:
        raise _Bad(f"{len(blocks)} states, expected {n_states}")
    return blocks


_ARTICLE = re.compile(r"^(the|a|an)\s+", re.IGNORECASE)


def _lookup(example: dict) -> dict[str, str]:
    """Spelling in the output (lower case) -> object name. Besides each name itself, the name with its article
    dropped or another one put in front ("the bedroom", "a bedroom" for "bedroom"; "Jack" for "the Jack"), when that
    names exactly one object of the example: an article does not change which object is meant."""
    exact = {n.lower(): n for n in _names(example)}
    variants: dict[str, set[str]] = {}
    for low, n in exact.items():
        base = _ARTICLE.sub("", low)
        for v in (base, f"the {base}", f"a {base}", f"an {base}"):
            variants.setdefault(v, set()).add(n)
    return {**{v: next(iter(ns)) for v, ns in variants.items() if len(ns) == 1}, **exact}


def _read_coords(block: list[str], example: dict, names: dict[str, str]) -> Layout:
    w, h = example["width"], example["height"]
    lay: dict[str, tuple[int, int]] = {}
    for ln in block:
        if "|" in ln:  # relation line of the 'relations' style (ignored when reading the map)
            continue
        m = COORD_LINE.match(ln)
        if not m:
            raise _Bad(f"unreadable line {ln[:40]!r}")
        name = names.get(m.group(1).strip().lower())
        if name is None:
            raise _Bad(f"unknown object {m.group(1)[:40]!r}")
        if name in lay:
            raise _Bad(f"duplicate object {name!r}")
        p = (int(m.group(2)), int(m.group(3)))
        # the grid size is a constraint only when the prompt states it; otherwise (outside benchmarks, whose size is
        # just the gold map's bounding box) any coordinates are a map, relations are read from their differences
        if example.get("size_known", True) and not in_bounds(p, w, h):
            raise _Bad(f"{name!r} out of bounds at {p}")
        lay[name] = p
    _complete(lay, example)
    return lay


def _complete(lay: dict, example: dict) -> None:
    missing = [n for n in _names(example) if n not in lay]
    if missing:
        raise _Bad(f"missing objects: {', '.join(missing)}")


def _read_legend(blocks: list[list[str]], example: dict) -> dict[str, str]:
    """Symbol -> object name from the output's ``X = name`` lines (removed from ``blocks``); the example's own
    symbols when the output has no legend."""
    names = _lookup(example)
    legend: dict[str, str] = {}
    for b in blocks:
        for ln in [ln for ln in b if _LEGEND.match(ln)]:
            sym, name = _LEGEND.match(ln).groups()
            obj = names.get(name.strip().lower())
            if obj is None:
                raise _Bad(f"legend names an unknown object {name[:40]!r}")
            if sym in legend or obj in legend.values():
                raise _Bad(f"legend line {ln[:40]!r} repeats a symbol or an object")
            legend[sym] = obj
            b.remove(ln)
    return legend or {o["symbol"]: o["name"] for o in example["objects"]}


def _read_grid(block: list[str], example: dict, by_sym: dict[str, str], spaced: bool = False,
               up: bool = False) -> Layout:
    w, h = example["width"], example["height"]
    rows = [ln.split() if spaced else list(ln) for ln in block if "@" not in ln]
    ats = [ln for ln in block if "@" in ln]
    if len(rows) != h:
        raise _Bad(f"{len(rows)} grid rows, expected {h}")
    lay: dict[str, tuple[int, int]] = {}
    cell_of: dict[str, tuple[int, int]] = {}
    for r, row in enumerate(rows):
        if len(row) != w:
            raise _Bad(f"row {r} has {len(row)} cells, expected {w}")
        for c, ch in enumerate(row):
            if ch == EMPTY:
                continue
            name = by_sym.get(ch)
            if name is None:
                raise _Bad(f"unknown symbol {ch!r}")
            if name in lay:
                raise _Bad(f"symbol {ch!r} appears more than once")
            lay[name] = cell_of[ch] = (c, r if up else h - 1 - r)
    for ln in ats:
        m = _AT.match(ln)
        if not m:
            raise _Bad(f"unreadable line {ln[:40]!r}")
        s, t = m.groups()
        name = by_sym.get(s)
        if name is None:
            raise _Bad(f"unknown symbol {s!r}")
        if name in lay:
            raise _Bad(f"symbol {s!r} appears more than once")
        if t not in cell_of:
            raise _Bad(f"{s}@{t}: {t!r} is not in the grid")
        lay[name] = cell_of[t]
    _complete(lay, example)
    return lay


def _parse_facts_compact(text: str, axes: bool = False) -> dict:
    ents, rels, anch, acts = [], [], [], []
    for ln in text.replace("\r", "\n").split("\n"):
        ln = ln.strip()
        if not ln:
            continue
        if ln.startswith("- "):
            parts = [p.strip() for p in ln[2:].split("|")]
            props = {}
            for p in parts[1:]:
                if "=" not in p:
                    raise _Bad(f"bad property {p[:40]!r}")
                k, v = p.split("=", 1)
                props[k.strip()] = v.strip()
            ents.append({"name": parts[0], "props": props})
        elif ln.startswith("@"):
            m = _ANCHOR.match(ln)
            if not m:
                raise _Bad(f"unreadable anchor {ln[:40]!r}")
            anch.append([m.group(1), int(m.group(2)), int(m.group(3))])
        elif ln.lower().startswith("move "):
            m = _MOVE_BY.match(ln)
            if m:
                acts.append([m.group(1), int(m.group(2)), int(m.group(3))])
                continue
            m = _MOVE_TO.match(ln)
            if not m:
                raise _Bad(f"unreadable action {ln[:40]!r}")
            acts.append([m.group(1), "to", m.group(2)])
        elif "|" in ln:
            parts = [p.strip() for p in ln.split("|")]
            if len(parts) not in (3, 4):
                raise _Bad(f"unreadable relation {ln[:40]!r}")
            rec: list = parts[:3]
            if axes:
                try:
                    rec[1] = relation_of_axis_words(rec[1])
                except ValueError as e:
                    raise _Bad(str(e)) from None
            if len(parts) == 4:
                m = _OFFSET.match(parts[3])
                if not m:
                    raise _Bad(f"unreadable offset {parts[3][:40]!r}")
                rec += [int(m.group(1)), int(m.group(2))]
            rels.append(rec)
        else:
            raise _Bad(f"unreadable line {ln[:40]!r}")
    return {"entities": ents, "relations": rels, "anchors": anch, "actions": acts}


def _canon_names(f: dict, names: dict[str, str]) -> list[str]:
    """Map names in place to the example's spelling; return the unknown ones."""
    unknown: list[str] = []

    def fix(n: str) -> str:
        c = names.get(n.lower())
        if c is None:
            unknown.append(n)
            return n
        return c
    for e in f["entities"]:
        e["name"] = fix(e["name"])
    for r in f["relations"]:
        r[0], r[2] = fix(r[0]), fix(r[2])
    for a in f["anchors"]:
        a[0] = fix(a[0])
    for a in f["actions"]:
        a[0] = fix(a[0])
        if a[1] == "to":
            a[2] = fix(a[2])
    return unknown


def _solve(facts: dict, width: int, height: int, objects: list[str]):
    """Solver hook (lazy import; tests may replace it): a layout per state, or None. ImportError without a solver."""
    from helpers.solver import layout_from_facts  # noqa: PLC0415
    return layout_from_facts(facts, width, height, objects=objects)


def _read_facts(text: str, example: dict, style: str, solve: bool) -> Parsed:
    if style == "json":
        try:
            raw = json.loads(text.strip())
        except (ValueError, RecursionError) as e:
            return Parsed(False, f"invalid JSON: {str(e)[:60]}")
    else:
        raw = _parse_facts_compact(text, axes=style == "axes")  # may raise _Bad
    try:
        f = normalize_facts(raw)
    except (ValueError, TypeError, KeyError, AttributeError, OverflowError) as e:
        return Parsed(False, f"bad facts: {str(e)[:80]}")
    unknown = _canon_names(f, _lookup(example))
    if unknown:
        return Parsed(False, f"unknown object {unknown[0][:40]!r}", facts=f)
    n_states = len(example["states"])
    if len(f["actions"]) + 1 != n_states:
        return Parsed(False, f"{len(f['actions']) + 1} states, expected {n_states}", facts=f)
    if not solve:
        return Parsed(True, "not solved", facts=f)
    try:
        states = _solve(f, example["width"], example["height"], _names(example))
    except (ImportError, AttributeError):
        return Parsed(True, "solver unavailable", facts=f)
    except Exception as e:  # noqa: BLE001 - a solver failure on odd facts is an invalid prediction
        return Parsed(False, f"solver error: {type(e).__name__}: {str(e)[:60]}", facts=f)
    if states is None:
        return Parsed(False, "facts inconsistent or do not fit the grid", facts=f)
    try:
        states = [{n: (int(p[0]), int(p[1])) for n, p in s.items()} for s in states]
        if len(states) != n_states:
            raise _Bad(f"{len(states)} states, expected {n_states}")
        for s in states:
            _complete(s, example)
    except _Bad as e:
        return Parsed(False, f"solved layout: {e}", facts=f)
    except Exception as e:  # noqa: BLE001
        return Parsed(False, f"solver output unusable: {str(e)[:60]}", facts=f)
    return Parsed(True, "", states=states, facts=f)


def relation_lines(text: str, example: dict) -> list[tuple[str, str, str]]:
    """The ``A | rel | B`` lines a coords output writes before its map (styles ``relations`` and ``stated``), as
    (object, relation, object) with the names resolved as the map reader resolves them; unreadable lines (a name
    that is no object, a relation that is no label) are kept with None in their place. Never raises."""
    names, out = _lookup(example), []
    for ln in str(text).splitlines():
        parts = [p.strip() for p in ln.split("|")]
        if len(parts) == 3:
            a, rel, b = names.get(parts[0].lower()), parts[1], names.get(parts[2].lower())
            out.append((a, rel if rel in RELATIONS else None, b))
    return out


def read_target(text: str, fmt: str, example: dict, style: str = "compact", solve: bool = True) -> Parsed:
    """Read a model output back into layouts (and facts). Never raises on any ``text``.

    ``solve=False`` skips the solver for ``facts`` (then ``states`` is empty).
    """
    _check(fmt, style)
    if not isinstance(text, str):
        return Parsed(False, f"not a string: {type(text).__name__}")
    try:
        if fmt == "facts":
            return _read_facts(text, example, style, solve)
        blocks = _split_states(text, len(example["states"]))
        if fmt == "coords":
            names = _lookup(example)
            states = [_read_coords(b, example, names) for b in blocks]
        else:
            by_sym = _read_legend(blocks, example)
            states = [_read_grid(b, example, by_sym, spaced=style != "compact", up=style in GRID_UP_STYLES)
                      for b in blocks]
        return Parsed(True, "", states=states)
    except _Bad as e:
        return Parsed(False, str(e))
    except Exception as e:  # noqa: BLE001 - last line of defence: readers never raise
        return Parsed(False, f"reader error: {type(e).__name__}: {str(e)[:60]}")
