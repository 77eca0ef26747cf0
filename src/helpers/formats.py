"""Target formats: how a map is written as text for the model, and how model output is read back.

Three formats (``FORMATS``):

* ``coords`` -- one line per object, ``Name x y``, in ``example["objects"]`` order.
  Style ``"relations"`` first lists every pairwise relation ``A | rel | B`` (pairs i < j in object
  order, computed from the target layout), then the coordinate lines (an intermediate representation).
* ``grid``   -- ``height`` lines of ``width`` characters, top row (largest y) first, ``.`` empty, each
  object's symbol in its cell. Objects sharing a cell: the first (object order) keeps the cell and each
  other one gets an extra line ``R@A`` after the grid (symbol R is in the cell of symbol A).
* ``facts``  -- what the text states (not a map); the solver turns it into a map.
  Style ``"compact"``::

      - Alice                      entity (one line per entity; ``- the ball | colour=red`` with props)
      Alice | above | the house    relation of Alice to the house
      Alice | left | Rabbit | -2 0 relation with offset (dx, dy) = pos(Alice) - pos(Rabbit)
      @ the house 3 4              anchor: absolute cell
      move Alice 0 3               action: move by (dx, dy)
      move Alice to the house      action: move into the cell of the house

  Style ``"json"`` is the verbose JSON ``{"entities": [...], "states": [{"actions", "anchors", "relations"}]}``.

Multi-state examples (``len(example["states"]) > 1``) write each state under a header ``State1:``,
``State2:``, ... (facts: the block of state k holds the actions that lead into state k and the facts
stated about state k; entity lines come before the first header).

Canonical facts dict (``normalize_facts`` accepts a few key aliases and returns this)::

    {"entities":  [{"name": str, "props": {str: str}}],
     "relations": [{"a": str, "rel": str, "b": str, "offset": [dx, dy] | None, "state": int}],
     "anchors":   [{"name": str, "pos": [x, y], "state": int}],
     "actions":   [{"name": str, "move": [dx, dy] | None, "to": str | None, "state": int}]}

``state`` of an action is the index of the state it produces (>= 1); records keep their order,
stably sorted by state. Readers never raise on model output: they return ``Parsed(valid=False, reason)``.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from helpers.world import RELATIONS, Layout, in_bounds, relation

FORMATS: tuple[str, ...] = ("facts", "grid", "coords")
STYLES: dict[str, tuple[str, ...]] = {
    "facts": ("compact", "json"),
    "grid": ("compact",),
    "coords": ("compact", "relations"),
}
EMPTY = "."
_HEADER = re.compile(r"^\s*state\s*(\d{1,4})\s*:?\s*$", re.IGNORECASE)
_INT = r"([+-]?\d{1,7})"
_COORD = re.compile(rf"^(.+?)\s+{_INT}\s+{_INT}$")
_ANCHOR = re.compile(rf"^@\s*(.+?)\s+{_INT}\s+{_INT}$")
_MOVE_BY = re.compile(rf"^move\s+(.+?)\s+{_INT}\s+{_INT}$", re.IGNORECASE)
_MOVE_TO = re.compile(r"^move\s+(.+?)\s+to\s+(.+)$", re.IGNORECASE)
_OFFSET = re.compile(rf"^{_INT}\s+{_INT}$")
_AT = re.compile(r"^(\S)\s*@\s*(\S)$")


@dataclass
class Parsed:
    """A read-back model output. ``states``: one layout per state (empty when there is none)."""
    valid: bool
    reason: str = ""
    states: list[dict[str, tuple[int, int]]] = field(default_factory=list)
    facts: dict | None = None


def make_prompt(text: str, fmt: str, style: str = "compact") -> str:
    """Minimal prompt (no chat template); the style is named only when it is not the default."""
    _check(fmt, style)
    tag = fmt if style == "compact" else f"{fmt}/{style}"
    return f"{text}\nMap ({tag}):\n"


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
    if style == "relations":
        for i, a in enumerate(names):
            for b in names[i + 1:]:
                lines.append(f"{a} | {relation(layout[a], layout[b])} | {b}")
    lines += [f"{n} {layout[n][0]} {layout[n][1]}" for n in names]
    return lines


def _write_grid(example: dict, layout: Layout) -> list[str]:
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
    return ["".join(r) for r in rows] + extra


def write_target(example: dict, fmt: str, target: str = "canonical", style: str = "compact") -> str:
    """The target string of ``example`` in format ``fmt`` (no end marker; the engine appends EOS)."""
    _check(fmt, style)
    if fmt == "facts":
        return _write_facts(example, style)
    states = target_states(example, target)
    if fmt == "coords":
        return _with_headers([_write_coords(example, s, style) for s in states])
    return _with_headers([_write_grid(example, s) for s in states])


# ------------------------------------------------------------------------------------------- facts

def _first(d: dict, *keys: str, default: Any = None) -> Any:
    for k in keys:
        if k in d:
            return d[k]
    return default


def _pair(v: Any, what: str) -> list[int]:
    if not isinstance(v, (list, tuple)) or len(v) != 2:
        raise ValueError(f"{what} must be a pair of integers, got {v!r}")
    out = []
    for t in v:
        if isinstance(t, bool) or not isinstance(t, (int, float)) or int(t) != t or abs(t) > 10**7:
            raise ValueError(f"{what} must be a pair of integers, got {v!r}")
        out.append(int(t))
    return out


def _name(v: Any, what: str = "name") -> str:
    if not isinstance(v, str) or not v.strip():
        raise ValueError(f"{what} must be a non-empty string, got {v!r}")
    return v.strip()


def _state(v: Any, default: int) -> int:
    if v is None:
        return default
    if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v < 10**4:
        raise ValueError(f"bad state index {v!r}")
    return v


def normalize_facts(facts: dict) -> dict:
    """Canonical facts dict (see module docstring); raises ValueError on a malformed structure.

    Accepts aliases: relations as dicts (a/subject, rel/relation, b/object, offset/delta) or lists
    ``[a, rel, b(, [dx, dy])]``; anchors (name/object, pos/at); actions (name/object, move/by/delta, to);
    entities as strings or dicts (extra keys become props); or a per-state ``{"states": [...]}`` layout.
    """
    if not isinstance(facts, dict):
        raise ValueError("facts must be a JSON object")
    ents_in = _first(facts, "entities", "objects", default=[])
    rels_in: list[tuple[Any, int]] = []
    anch_in: list[tuple[Any, int]] = []
    act_in: list[tuple[Any, int | None]] = []
    if "states" in facts:
        if not isinstance(facts["states"], list):
            raise ValueError("'states' must be a list")
        for i, blk in enumerate(facts["states"]):
            if not isinstance(blk, dict):
                raise ValueError("each state must be an object")
            rels_in += [(r, i) for r in _as_list(blk.get("relations", []))]
            anch_in += [(a, i) for a in _as_list(blk.get("anchors", []))]
            act_in += [(a, i) for a in _as_list(blk.get("actions", []))]
    rels_in += [(r, 0) for r in _as_list(facts.get("relations", []))]
    anch_in += [(a, 0) for a in _as_list(facts.get("anchors", []))]
    act_in += [(a, None) for a in _as_list(facts.get("actions", []))]

    entities = []
    for e in _as_list(ents_in):
        if isinstance(e, str):
            entities.append({"name": _name(e), "props": {}})
        elif isinstance(e, dict):
            props = e.get("props")
            if props is None:
                props = {k: v for k, v in e.items() if k not in ("name", "symbol", "props")}
            if not isinstance(props, dict):
                raise ValueError("entity props must be an object")
            entities.append({"name": _name(e.get("name")),
                             "props": {str(k): str(v) for k, v in props.items()}})
        else:
            raise ValueError(f"bad entity {e!r}")

    relations = []
    for r, st in rels_in:
        if isinstance(r, (list, tuple)):
            if len(r) not in (3, 4):
                raise ValueError(f"bad relation {r!r}")
            r = {"a": r[0], "rel": r[1], "b": r[2], "offset": r[3] if len(r) == 4 else None}
        if not isinstance(r, dict):
            raise ValueError(f"bad relation {r!r}")
        rel = _first(r, "rel", "relation")
        if rel not in RELATIONS:
            raise ValueError(f"unknown relation {rel!r}")
        off = _first(r, "offset", "delta")
        relations.append({"a": _name(_first(r, "a", "subject")), "rel": rel,
                          "b": _name(_first(r, "b", "object", "ref")),
                          "offset": None if off is None else _pair(off, "offset"),
                          "state": _state(r.get("state"), st)})

    anchors = []
    for a, st in anch_in:
        if not isinstance(a, dict):
            raise ValueError(f"bad anchor {a!r}")
        anchors.append({"name": _name(_first(a, "name", "object")),
                        "pos": _pair(_first(a, "pos", "at"), "anchor position"),
                        "state": _state(a.get("state"), st)})

    actions = []
    for i, (a, st) in enumerate(act_in):
        if not isinstance(a, dict):
            raise ValueError(f"bad action {a!r}")
        move, to = _first(a, "move", "by", "delta"), a.get("to")
        if (move is None) == (to is None):
            raise ValueError("an action needs exactly one of 'move' and 'to'")
        default = st if st is not None else len([x for x in act_in[:i] if x[1] is None]) + 1
        state = _state(a.get("state"), default)
        if state < 1:
            raise ValueError("an action must lead into a state >= 1")
        actions.append({"name": _name(_first(a, "name", "object", "subject")),
                        "move": None if move is None else _pair(move, "move"),
                        "to": None if to is None else _name(to, "action target"),
                        "state": state})
    key = lambda d: d["state"]  # noqa: E731  (stable sort keeps the written order within a state)
    return {"entities": entities, "relations": sorted(relations, key=key),
            "anchors": sorted(anchors, key=key), "actions": sorted(actions, key=key)}


def _as_list(v: Any) -> list:
    if not isinstance(v, list):
        raise ValueError(f"expected a list, got {type(v).__name__}")
    return v


def _n_fact_states(f: dict) -> int:
    return 1 + max([r["state"] for k in ("relations", "anchors", "actions") for r in f[k]], default=0)


def _write_facts(example: dict, style: str) -> str:
    f = normalize_facts(example["facts"])
    n = max(len(example.get("states") or [None]), _n_fact_states(f))
    if style == "json":
        ents = [{"name": e["name"], **({"props": e["props"]} if e["props"] else {})} for e in f["entities"]]
        states = []
        for s in range(n):
            blk: dict[str, list] = {}
            acts = [{"object": a["name"], **({"move": a["move"]} if a["move"] is not None else {"to": a["to"]})}
                    for a in f["actions"] if a["state"] == s]
            anch = [{"object": a["name"], "at": a["pos"]} for a in f["anchors"] if a["state"] == s]
            rels = [{"subject": r["a"], "relation": r["rel"], "object": r["b"],
                     **({"offset": r["offset"]} if r["offset"] is not None else {})}
                    for r in f["relations"] if r["state"] == s]
            for k, v in (("actions", acts), ("anchors", anch), ("relations", rels)):
                if v:
                    blk[k] = v
            states.append(blk)
        return json.dumps({"entities": ents, "states": states}, separators=(",", ":"))
    head = [f"- {e['name']}" + "".join(f" | {k}={v}" for k, v in e["props"].items()) for e in f["entities"]]
    blocks = []
    for s in range(n):
        b = []
        for a in f["actions"]:
            if a["state"] == s:
                b.append(f"move {a['name']} {a['move'][0]} {a['move'][1]}" if a["move"] is not None
                         else f"move {a['name']} to {a['to']}")
        b += [f"@ {a['name']} {a['pos'][0]} {a['pos'][1]}" for a in f["anchors"] if a["state"] == s]
        for r in f["relations"]:
            if r["state"] == s:
                off = "" if r["offset"] is None else f" | {r['offset'][0]} {r['offset'][1]}"
                b.append(f"{r['a']} | {r['rel']} | {r['b']}{off}")
        blocks.append(b)
    body = _with_headers(blocks)
    return "\n".join(head + ([body] if body else []))


# ----------------------------------------------------------------------------------------- reading

class _Bad(Exception):
    """Internal: invalid model output (turned into Parsed(valid=False))."""


def _split_states(text: str, n_states: int, allow_preamble: bool = False) -> tuple[list[str], list[list[str]]]:
    """(preamble lines, per-state non-empty stripped lines). Headers must run State1..StateN."""
    lines = [ln.strip() for ln in text.replace("\r", "\n").split("\n")]
    lines = [ln for ln in lines if ln]
    blocks: list[list[str]] = []
    pre: list[str] = []
    for ln in lines:
        m = _HEADER.match(ln)
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
    elif pre and not allow_preamble:
        raise _Bad("text before the first state header")
    if len(blocks) != n_states:
        raise _Bad(f"{len(blocks)} states, expected {n_states}")
    return pre, blocks


def _lookup(example: dict) -> dict[str, str]:
    return {n.lower(): n for n in _names(example)}


def _read_coords(block: list[str], example: dict, names: dict[str, str]) -> Layout:
    w, h = example["width"], example["height"]
    lay: dict[str, tuple[int, int]] = {}
    for ln in block:
        if "|" in ln:  # relation line of the 'relations' style (ignored when reading the map)
            continue
        m = _COORD.match(ln)
        if not m:
            raise _Bad(f"unreadable line {ln[:40]!r}")
        name = names.get(m.group(1).strip().lower())
        if name is None:
            raise _Bad(f"unknown object {m.group(1)[:40]!r}")
        if name in lay:
            raise _Bad(f"duplicate object {name!r}")
        p = (int(m.group(2)), int(m.group(3)))
        if not in_bounds(p, w, h):
            raise _Bad(f"{name!r} out of bounds at {p}")
        lay[name] = p
    _complete(lay, example)
    return lay


def _complete(lay: dict, example: dict) -> None:
    missing = [n for n in _names(example) if n not in lay]
    if missing:
        raise _Bad(f"missing objects: {', '.join(missing)}")


def _read_grid(block: list[str], example: dict) -> Layout:
    w, h = example["width"], example["height"]
    by_sym = {o["symbol"]: o["name"] for o in example["objects"]}
    rows = [ln for ln in block if "@" not in ln]
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
            lay[name] = cell_of[ch] = (c, h - 1 - r)
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


def _parse_facts_compact(text: str, example: dict) -> dict:
    pre, blocks = _split_states(text, _n_expected_fact_states(example), allow_preamble=True)
    ents, rels, anch, acts = [], [], [], []
    for s, block in [(-1, pre)] + list(enumerate(blocks)):
        for ln in block:
            if ln.startswith("- "):
                parts = [p.strip() for p in ln[2:].split("|")]
                props = {}
                for p in parts[1:]:
                    if "=" not in p:
                        raise _Bad(f"bad property {p[:40]!r}")
                    k, v = p.split("=", 1)
                    props[k.strip()] = v.strip()
                ents.append({"name": parts[0], "props": props})
                continue
            st = max(s, 0)
            if ln.startswith("@"):
                m = _ANCHOR.match(ln)
                if not m:
                    raise _Bad(f"unreadable anchor {ln[:40]!r}")
                anch.append({"name": m.group(1), "pos": [int(m.group(2)), int(m.group(3))], "state": st})
            elif ln.lower().startswith("move "):
                m = _MOVE_BY.match(ln)
                if m:
                    acts.append({"name": m.group(1), "move": [int(m.group(2)), int(m.group(3))], "state": st})
                    continue
                m = _MOVE_TO.match(ln)
                if not m:
                    raise _Bad(f"unreadable action {ln[:40]!r}")
                acts.append({"name": m.group(1), "to": m.group(2), "state": st})
            elif "|" in ln:
                parts = [p.strip() for p in ln.split("|")]
                if len(parts) not in (3, 4):
                    raise _Bad(f"unreadable relation {ln[:40]!r}")
                off = None
                if len(parts) == 4:
                    m = _OFFSET.match(parts[3])
                    if not m:
                        raise _Bad(f"unreadable offset {parts[3][:40]!r}")
                    off = [int(m.group(1)), int(m.group(2))]
                rels.append({"a": parts[0], "rel": parts[1], "b": parts[2], "offset": off, "state": st})
            else:
                raise _Bad(f"unreadable line {ln[:40]!r}")
    return {"entities": ents, "relations": rels, "anchors": anch, "actions": acts}


def _n_expected_fact_states(example: dict) -> int:
    n = len(example.get("states") or [None])
    try:
        n = max(n, _n_fact_states(normalize_facts(example["facts"])))
    except Exception:  # noqa: BLE001 - gold facts missing/odd: fall back to the state count
        pass
    return n


def _canon_names(f: dict, names: dict[str, str]) -> list[str]:
    """Map names in place to the example's spelling; return the unknown ones."""
    unknown = []

    def fix(n: str) -> str:
        c = names.get(n.lower())
        if c is None:
            unknown.append(n)
            return n
        return c
    for e in f["entities"]:
        e["name"] = fix(e["name"])
    for r in f["relations"]:
        r["a"], r["b"] = fix(r["a"]), fix(r["b"])
    for a in f["anchors"]:
        a["name"] = fix(a["name"])
    for a in f["actions"]:
        a["name"] = fix(a["name"])
        if a["to"] is not None:
            a["to"] = fix(a["to"])
    return unknown


def _solve(facts: dict, width: int, height: int):
    """Solver hook (lazy import; tests may replace it). Raises ImportError when no solver exists."""
    from helpers.solver import layout_from_facts  # noqa: PLC0415 - may not exist yet
    return layout_from_facts(facts, width, height)


def _read_facts(text: str, example: dict, style: str, solve: bool) -> Parsed:
    if style == "json":
        try:
            raw = json.loads(text.strip())
        except (ValueError, RecursionError) as e:
            return Parsed(False, f"invalid JSON: {str(e)[:60]}")
    else:
        raw = _parse_facts_compact(text, example)  # may raise _Bad
    try:
        f = normalize_facts(raw)
    except (ValueError, TypeError, KeyError, AttributeError, OverflowError) as e:
        return Parsed(False, f"bad facts: {str(e)[:80]}")
    names = _lookup(example)
    unknown = _canon_names(f, names)
    if unknown:
        return Parsed(False, f"unknown object {unknown[0][:40]!r}", facts=f)
    if _n_fact_states(f) > _n_expected_fact_states(example):
        return Parsed(False, "facts mention more states than the example has", facts=f)
    if not solve:
        return Parsed(True, "not solved", facts=f)
    try:
        states = _solve(f, example["width"], example["height"])
    except (ImportError, AttributeError):
        return Parsed(True, "solver unavailable", facts=f)
    except Exception as e:  # noqa: BLE001 - a solver failure on odd facts is an invalid prediction
        return Parsed(False, f"solver error: {type(e).__name__}: {str(e)[:60]}", facts=f)
    if states is None:
        return Parsed(False, "facts inconsistent (no layout)", facts=f)
    try:
        states = [{n: (int(p[0]), int(p[1])) for n, p in s.items()} for s in states]
        for s in states:
            _complete(s, example)
    except _Bad as e:
        return Parsed(False, f"solved layout: {e}", facts=f)
    except Exception as e:  # noqa: BLE001
        return Parsed(False, f"solver output unusable: {str(e)[:60]}", facts=f)
    return Parsed(True, "", states=states, facts=f)


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
        _, blocks = _split_states(text, len(example["states"]))
        if fmt == "coords":
            names = _lookup(example)
            states = [_read_coords(b, example, names) for b in blocks]
        else:
            states = [_read_grid(b, example) for b in blocks]
        return Parsed(True, "", states=states)
    except _Bad as e:
        return Parsed(False, str(e))
    except Exception as e:  # noqa: BLE001 - last line of defence: readers never raise
        return Parsed(False, f"reader error: {type(e).__name__}: {str(e)[:60]}")
