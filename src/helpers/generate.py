"""Procedural text -> map data: random scenes, their descriptions, exact labels, and every split.

One example is one JSON object (schema in ``docs/design.md`` and ``data/<name>/schema.json``). The scene's true
layout is random (uniform distinct cells); the text states relations between some pairs (``structure``), in
*qualitative* mode as 9-label relations only (many layouts fit), in *exact* mode as cell offsets plus one anchor (one
layout fits). ``facts`` lists exactly what the text states; ``canonical`` is ``solver.canonical_layout`` of the facts
(a function of the text only); ``queries`` cover every ordered pair per state with what the text entails.

``make_dataset`` writes every split atomically plus ``card.json`` and ``schema.json``; the same seed gives
byte-identical files, and example ``i`` of a split does not depend on the split's size.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import random
import zlib
from dataclasses import dataclass, asdict, replace
from pathlib import Path
from typing import Any, Iterator, Mapping

from . import names as N
from . import templates as T
from .paths import DATA
from .solver import canonical_layout, solve
from .world import RELATIONS, relation, signs_of

SPLITS = ("train", "val", "test_iid", "test_names", "test_objects", "test_grid", "test_templates", "test_hops",
          "test_actions")
GENERATOR_VERSION = 1
MODES = ("qualitative", "exact")
STRUCTURES = ("all_pairs", "chain", "tree")
AXIS_CONVENTIONS = ("up", "mixed")
NUMBER_STYLES = ("mixed", "words", "digits")


@dataclass(frozen=True)
class DataConfig:
    """How one split's examples are made. Invalid settings raise ValueError at construction.

    n_objects: objects per scene (2..26); width/height: grid size; mode: 'qualitative' | 'exact';
    structure: which pairs the text states — 'all_pairs', 'chain' (a path through all objects; queries up to
    n_objects-1 hops) or 'tree' (each object attached to an earlier one, depth <= max_hops when given);
    n_actions: actions after the description (n_actions + 1 states); distractors: sentences without spatial
    information; narrative: an opening frame and connectives ("then, "); template_set / name_pool: 'train' | 'heldout';
    axis_convention: 'up', or 'mixed' = for a random half of the examples the *target* maps (states, canonical) are
    y-flipped (the seed's inconsistent convention; marked ``y_flipped``); props: probability that the text describes
    an object's colour/size; numbers: 'mixed' | 'words' | 'digits'; shuffle: shuffle the order of relation sentences;
    anchor: state one object's cell (default: in exact mode only); p_to: probability an action is "runs to <object>".
    """
    n_objects: int = 3
    width: int = 10
    height: int = 10
    mode: str = "qualitative"
    structure: str = "all_pairs"
    max_hops: int | None = None
    n_actions: int = 0
    distractors: int = 0
    narrative: bool = False
    template_set: str = "train"
    name_pool: str = "train"
    axis_convention: str = "up"
    props: float = 0.0
    numbers: str = "mixed"
    shuffle: bool = True
    anchor: bool | None = None
    p_to: float = 0.25

    def __post_init__(self) -> None:
        def bad(msg: str) -> None:
            raise ValueError(msg)
        if self.mode not in MODES:
            bad(f"mode {self.mode!r} is unknown; use one of {', '.join(MODES)}.")
        if self.structure not in STRUCTURES:
            bad(f"structure {self.structure!r} is unknown; use one of {', '.join(STRUCTURES)}.")
        if self.template_set not in T.TEMPLATE_SETS:
            bad(f"template_set {self.template_set!r} is unknown; use one of {', '.join(T.TEMPLATE_SETS)}.")
        if self.name_pool not in N.POOLS:
            bad(f"name_pool {self.name_pool!r} is unknown; use one of {', '.join(N.POOLS)}.")
        if self.axis_convention not in AXIS_CONVENTIONS:
            bad(f"axis_convention {self.axis_convention!r} is unknown; use one of {', '.join(AXIS_CONVENTIONS)}.")
        if self.numbers not in NUMBER_STYLES:
            bad(f"numbers {self.numbers!r} is unknown; use one of {', '.join(NUMBER_STYLES)}.")
        if not (1 <= self.width <= 100 and 1 <= self.height <= 100):
            bad(f"grid {self.width}x{self.height} is out of range; use a width and height between 1 and 100.")
        if not 2 <= self.n_objects <= 26:
            bad(f"n_objects={self.n_objects} is out of range; use 2 to 26 objects (one letter each).")
        if self.n_objects > self.width * self.height:
            bad(f"{self.n_objects} objects do not fit in {self.width * self.height} cells; use fewer objects or a "
                f"bigger grid.")
        if self.n_objects > len(N.pool(self.name_pool)):
            bad(f"the {self.name_pool!r} name pool has only {len(N.pool(self.name_pool))} names; use at most that "
                f"many objects.")
        if self.max_hops is not None and self.max_hops < 1:
            bad(f"max_hops={self.max_hops} must be at least 1 (or None for no limit).")
        if self.n_actions < 0 or self.distractors < 0:
            bad("n_actions and distractors must be >= 0.")
        if not (0.0 <= self.props <= 1.0 and 0.0 <= self.p_to <= 1.0):
            bad("props and p_to are probabilities; use values between 0 and 1.")

    @property
    def has_anchor(self) -> bool:
        return self.mode == "exact" if self.anchor is None else bool(self.anchor)


# ------------------------------------------------------------------------------------------------ one example
def _pick(rng: random.Random, seq):
    return seq[int(rng.random() * len(seq))]


def _pairs(cfg: DataConfig, rng: random.Random, objs: list[str]) -> list[tuple[str, str]]:
    """The (a, b) pairs whose relation the text states; a and b in random order."""
    n = len(objs)
    if cfg.structure == "all_pairs":
        pairs = [(objs[i], objs[j]) for i in range(n) for j in range(i + 1, n)]
    else:
        perm = objs[:]
        rng.shuffle(perm)
        if cfg.structure == "chain":
            pairs = [(perm[i], perm[i + 1]) for i in range(n - 1)]
        else:
            depth = {perm[0]: 0}
            pairs = []
            for k in range(1, n):
                cands = [p for p in perm[:k] if cfg.max_hops is None or depth[p] < cfg.max_hops]
                parent = _pick(rng, cands)
                depth[perm[k]] = depth[parent] + 1
                pairs.append((parent, perm[k]))
    return [(a, b) if rng.random() < 0.5 else (b, a) for a, b in pairs]


def _num(rng: random.Random, n: int, cfg: DataConfig) -> dict[str, str]:
    return {"n": T.number_text(n, rng, cfg.numbers), "s": "" if n == 1 else "s"}


def _offset_fields(rng: random.Random, dx: int, dy: int, cfg: DataConfig) -> dict[str, str]:
    f = {}
    if dx:
        nf = _num(rng, abs(dx), cfg)
        f["nx"], f["sx"] = nf["n"], nf["s"]
    if dy:
        nf = _num(rng, abs(dy), cfg)
        f["ny"], f["sy"] = nf["n"], nf["s"]
    return f


def make_example(cfg: DataConfig, rng: random.Random, ex_id: str = "", split: str = "") -> dict[str, Any]:
    """One random scene and its description, facts, true and canonical maps, and queries."""
    W, H = cfg.width, cfg.height
    tp = T.get(cfg.template_set)
    objs = N.sample_names(rng, cfg.n_objects, cfg.name_pool)
    cells = rng.sample(range(W * H), cfg.n_objects)
    pos = {o: (c % W, c // W) for o, c in zip(objs, cells)}

    static: list[tuple[str, str, list | None]] = []  # (kind, sentence, fact)
    for a, b in _pairs(cfg, rng, objs):
        rel = relation(pos[a], pos[b])
        if cfg.mode == "exact":
            dx, dy = pos[a][0] - pos[b][0], pos[a][1] - pos[b][1]
            s = _pick(rng, tp["exact"][rel]).format(A=a, B=b, **_offset_fields(rng, dx, dy, cfg))
            static.append(("relation", s, [a, rel, b, dx, dy]))
        else:
            s = _pick(rng, tp["relation"][rel]).format(A=a, B=b)
            static.append(("relation", s, [a, rel, b]))
    if cfg.shuffle:
        rng.shuffle(static)
    props: dict[str, dict[str, str]] = {o: {} for o in objs}
    if cfg.props > 0:
        for o in objs:
            if rng.random() < cfg.props:
                which = _pick(rng, ("colour", "size", "both"))
                pr = {}
                if which in ("colour", "both"):
                    pr["colour"] = _pick(rng, N.COLOURS)
                if which in ("size", "both"):
                    pr["size"] = _pick(rng, N.SIZES)
                props[o] = pr
                static.insert(int(rng.random() * (len(static) + 1)),
                              ("props", _pick(rng, tp["props"][which]).format(A=o, **pr), None))
    if cfg.has_anchor:
        o = _pick(rng, objs)
        x, y = pos[o]
        where = "coord"
        corners = {(0, H - 1): "top-left", (W - 1, H - 1): "top-right", (0, 0): "bottom-left", (W - 1, 0): "bottom-right"}
        if (x, y) in corners and rng.random() < 0.5:
            where = corners[(x, y)]
        elif W % 2 == 1 and H % 2 == 1 and (x, y) == (W // 2, H // 2) and rng.random() < 0.5:
            where = "centre"
        s = _pick(rng, tp["anchor"][where]).format(A=o, x=x, y=y)
        static.insert(int(rng.random() * (len(static) + 1)), ("anchor", s, [o, x, y]))

    states = [dict(pos)]
    dynamic: list[tuple[str, str, list | None]] = []
    cur = dict(pos)
    for _ in range(cfg.n_actions):
        o = _pick(rng, objs)
        ox, oy = cur[o]
        others = [p for p in objs if p != o and cur[p] != cur[o]]
        if others and rng.random() < cfg.p_to:
            tgt = _pick(rng, others)
            cur[o] = cur[tgt]
            dynamic.append(("action", _pick(rng, tp["to"]).format(A=o, B=tgt), [o, "to", tgt]))
        else:
            while True:
                dx, dy = rng.randrange(-ox, W - ox), rng.randrange(-oy, H - oy)
                if dx or dy:
                    break
            cur[o] = (ox + dx, oy + dy)
            rel = relation((dx, dy), (0, 0))
            s = _pick(rng, tp["move"][rel]).format(A=o, **_offset_fields(rng, dx, dy, cfg))
            dynamic.append(("action", s, [o, dx, dy]))
        states.append(dict(cur))

    sentences = static + dynamic
    for _ in range(cfg.distractors):
        s = _pick(rng, tp["distractor"])
        if "{A}" in s:
            s = s.format(A=_pick(rng, objs))
        sentences.insert(int(rng.random() * (len(sentences) + 1)), ("distractor", s, None))
    if cfg.narrative:
        sentences = [(k, (_pick(rng, tp["connective"]) + s) if i and rng.random() < 0.3 else s, f)
                     for i, (k, s, f) in enumerate(sentences)]
        s = _pick(rng, tp["opening"])
        if "{A}" in s:
            s = s.format(A=_pick(rng, objs))
        sentences.insert(0, ("opening", s, None))
    text = " ".join(T.cap_first(s) for _, s, _ in sentences)

    # objects in order of first mention
    order = N.mention_order(text, objs)
    symbols = N.assign_symbols(order)
    facts = {
        "entities": [{"name": o, "props": props[o]} for o in order],
        "relations": [f for k, _, f in sentences if k == "relation"],
        "anchors": [f for k, _, f in sentences if k == "anchor"],
        "actions": [f for k, _, f in sentences if k == "action"],
    }
    sol = solve(facts, W, H)
    canonical = canonical_layout(facts, order, W, H)
    queries = []
    for s, st in enumerate(states):
        for a in order:
            for b in order:
                if a == b:
                    continue
                sx, sy = sol.entailed_signs(a, b, s)
                xd, yd = sx is not None, sy is not None
                if sol.stated(a, b, s):
                    status = "stated"
                elif xd and yd:
                    status = "entailed"
                else:
                    status = "undetermined"
                hops = (sol.hops(a, b, s) or 0) if (xd or yd) else 0
                queries.append({"a": a, "b": b, "state": s, "relation": relation(st[a], st[b]),
                                "x_determined": xd, "y_determined": yd, "status": status, "hops": hops})
    flipped = cfg.axis_convention == "mixed" and rng.random() < 0.5

    def out_layout(lay):
        return {o: [lay[o][0], H - 1 - lay[o][1] if flipped else lay[o][1]] for o in order}

    return {
        "id": ex_id, "split": split, "width": W, "height": H, "mode": cfg.mode, "template_set": cfg.template_set,
        "objects": [{"name": o, "symbol": sym, "props": props[o]} for o, sym in zip(order, symbols)],
        "text": text, "facts": facts,
        "states": [out_layout(st) for st in states],
        "canonical": [out_layout(c) for c in canonical],
        "queries": queries, "y_flipped": flipped,
    }


def example_rng(seed: int, split: str, i: int) -> random.Random:
    """The RNG of example ``i`` of ``split``: independent of the split's size and of the other splits."""
    return random.Random((((seed & 0xFFFFFFFF) << 32) | zlib.crc32(split.encode())) * 1_000_003 + i)


def iter_split(cfg: DataConfig, split: str, n: int, seed: int) -> Iterator[dict[str, Any]]:
    for i in range(n):
        yield make_example(cfg, example_rng(seed, split, i), f"{split}-{i:06d}", split)


# ------------------------------------------------------------------------------------------------------ splits
def _check_split(split: str) -> None:
    if split in SPLITS or any(split.startswith(s + "_") for s in SPLITS):
        return
    raise ValueError(f"unknown split {split!r}; use one of {', '.join(SPLITS)} (or one of them plus '_suffix').")


def standard_splits(base: DataConfig, sizes: Mapping[str, int] | None = None) -> dict[str, DataConfig]:
    """Config per standard split: train/val/test_iid = base; each other test split changes one thing
    (held-out names, +2 objects, 20x20 grid, held-out templates, a chain with +3 objects, +2 actions).
    Test splits always use the 'up' axis convention. Only the splits in ``sizes`` when given."""
    up = {"axis_convention": "up"}
    big = max(20, 2 * max(base.width, base.height))
    specs = {
        "train": base, "val": base, "test_iid": replace(base, **up),
        "test_names": replace(base, name_pool="heldout", **up),
        "test_objects": replace(base, n_objects=base.n_objects + 2, **up),
        "test_grid": replace(base, width=big, height=big, **up),
        "test_templates": replace(base, template_set="heldout", **up),
        "test_hops": replace(base, structure="chain", n_objects=base.n_objects + 3, **up),
        "test_actions": replace(base, n_actions=base.n_actions + 2, **up),
    }
    if sizes is None:
        return specs
    for s in sizes:
        _check_split(s)
        if s not in specs:
            raise ValueError(f"split {s!r} has no standard config; pass its DataConfig to make_dataset directly.")
    return {s: specs[s] for s in sizes}


def _resolve(cfg: DataConfig | Mapping[str, DataConfig], splits: Mapping[str, int],
             overrides: Mapping[str, Mapping[str, Any]] | None) -> dict[str, DataConfig]:
    out = {}
    for s, n in splits.items():
        _check_split(s)
        if not isinstance(n, int) or n < 0:
            raise ValueError(f"split {s!r} size {n!r} must be a non-negative integer.")
        if isinstance(cfg, DataConfig):
            c = cfg
        elif s in cfg:
            c = cfg[s]
        else:
            raise ValueError(f"no config for split {s!r}; add it to the config mapping.")
        if not isinstance(c, DataConfig):
            raise ValueError(f"config for split {s!r} must be a DataConfig, got {type(c).__name__}.")
        out[s] = c
    for s, ch in (overrides or {}).items():
        if s not in out:
            raise ValueError(f"override for split {s!r} which is not in splits; add it to splits or drop it.")
        fields = {f.name for f in dataclasses.fields(DataConfig)}
        unknown = set(ch) - fields
        if unknown:
            raise ValueError(f"unknown DataConfig field(s) {sorted(unknown)} in overrides for {s!r}.")
        out[s] = replace(out[s], **ch)  # validates
    return out


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def make_dataset(name: str, cfg: DataConfig | Mapping[str, DataConfig], splits: Mapping[str, int], seed: int,
                 out_dir: Path | str = DATA, overrides: Mapping[str, Mapping[str, Any]] | None = None) -> Path:
    """Write ``<out_dir>/<name>/<split>.jsonl`` for every split (``cfg`` is one config for all splits or one per
    split, e.g. ``standard_splits(base)``; ``overrides`` change fields per split), then ``schema.json`` and
    ``card.json`` (counts, sha256 per file, configs, seed). Everything is validated before anything is written;
    each file is written to a temporary name and renamed, and the card is removed first and written last, so an
    interrupted run never leaves a complete-looking dataset. Returns the dataset folder."""
    if not name or "/" in name or name.startswith("."):
        raise ValueError(f"dataset name {name!r} must be a plain folder name.")
    configs = _resolve(cfg, splits, overrides)
    root = Path(out_dir) / name
    root.mkdir(parents=True, exist_ok=True)
    card_path = root / "card.json"
    if card_path.exists():
        card_path.unlink()
    files = {}
    train_texts: set[str] | None = None
    overlap = {}
    for split in sorted(configs, key=lambda s: (s != "train", s)):
        c, n = configs[split], splits[split]
        path = root / f"{split}.jsonl"
        tmp = path.with_name(path.name + ".tmp")
        h = hashlib.sha256()
        texts = set() if split == "train" else None
        dup = 0
        with open(tmp, "wb") as f:
            for ex in iter_split(c, split, n, seed):
                line = (json.dumps(ex, separators=(",", ":")) + "\n").encode()
                h.update(line)
                f.write(line)
                if texts is not None:
                    texts.add(ex["text"])
                elif train_texts is not None and ex["text"] in train_texts:
                    dup += 1
        os.replace(tmp, path)
        if texts is not None:
            train_texts = texts
        else:
            overlap[split] = dup
        files[split] = {"file": path.name, "count": n, "sha256": h.hexdigest(), "bytes": path.stat().st_size}
    order = [s for s in splits]
    card = {
        "name": name, "seed": seed, "generator_version": GENERATOR_VERSION,
        "files": {s: files[s] for s in order},
        "counts": {s: files[s]["count"] for s in order},
        "texts_also_in_train": {s: overlap[s] for s in order if s in overlap} if train_texts is not None else None,
        "configs": {s: asdict(configs[s]) for s in order},
        "coordinate_convention": "x right, y up, origin (0, 0) bottom-left; grids printed top row first",
    }
    _write_atomic(root / "schema.json", (json.dumps(SCHEMA, indent=1) + "\n").encode())
    _write_atomic(card_path, (json.dumps(card, indent=1) + "\n").encode())
    return root


def load_split(name: str, split: str, root: Path | str = DATA) -> list[dict]:
    """The examples of one split; FileNotFoundError naming the missing file and the splits that exist."""
    d = Path(root) / name
    path = d / f"{split}.jsonl"
    if not path.exists():
        have = sorted(p.stem for p in d.glob("*.jsonl")) if d.exists() else []
        raise FileNotFoundError(f"{path} does not exist (dataset {name!r} has splits: {have or 'none'}); "
                                f"run generate.make_dataset first.")
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def read_card(name: str, root: Path | str = DATA) -> dict:
    """The dataset's card.json; FileNotFoundError when the dataset is missing or was interrupted."""
    path = Path(root) / name / "card.json"
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist; the dataset was not made or its generation was interrupted.")
    return json.loads(path.read_text())


# ------------------------------------------------------------------------------------------------------ schema
_LAYOUT = {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "integer"},
                                                       "minItems": 2, "maxItems": 2}}
SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "text -> map example",
    "description": "x grows right, y grows up, (0, 0) is the bottom-left cell; relation of a to b from the signs of "
                   "pos(a) - pos(b).",
    "type": "object",
    "required": ["id", "split", "width", "height", "mode", "template_set", "objects", "text", "facts", "states",
                 "canonical", "queries", "y_flipped"],
    "properties": {
        "id": {"type": "string"}, "split": {"type": "string"},
        "width": {"type": "integer", "minimum": 1}, "height": {"type": "integer", "minimum": 1},
        "mode": {"enum": list(MODES)}, "template_set": {"enum": list(T.TEMPLATE_SETS)},
        "objects": {"type": "array", "description": "in order of first mention", "items": {
            "type": "object", "required": ["name", "symbol", "props"],
            "properties": {"name": {"type": "string"}, "symbol": {"type": "string", "pattern": "^[A-Z]$"},
                           "props": {"type": "object"}}}},
        "text": {"type": "string"},
        "facts": {"type": "object", "required": ["entities", "relations", "anchors", "actions"], "properties": {
            "entities": {"type": "array", "items": {"type": "object", "required": ["name", "props"]}},
            "relations": {"type": "array", "description": "[a, relation, b] or, in exact mode, [a, relation, b, dx, dy]",
                          "items": {"type": "array", "minItems": 3, "maxItems": 5}},
            "anchors": {"type": "array", "description": "[name, x, y]", "items": {"type": "array"}},
            "actions": {"type": "array", "description": "[name, dx, dy] or [name, 'to', other]; action t takes state "
                                                        "t to state t+1", "items": {"type": "array"}}}},
        "states": {"type": "array", "description": "true layout per state", "items": _LAYOUT},
        "canonical": {"type": "array", "description": "solver.canonical_layout of the facts, per state",
                      "items": _LAYOUT},
        "queries": {"type": "array", "items": {
            "type": "object",
            "required": ["a", "b", "state", "relation", "x_determined", "y_determined", "status", "hops"],
            "properties": {"a": {"type": "string"}, "b": {"type": "string"}, "state": {"type": "integer"},
                           "relation": {"enum": list(RELATIONS)}, "x_determined": {"type": "boolean"},
                           "y_determined": {"type": "boolean"},
                           "status": {"enum": ["stated", "entailed", "undetermined"]},
                           "hops": {"type": "integer", "minimum": 0,
                                    "description": "shortest path in the stated-fact graph; 0 when no axis is "
                                                   "determined"}}}},
        "y_flipped": {"type": "boolean", "description": "target maps y-flipped (axis_convention 'mixed')"},
    },
}
