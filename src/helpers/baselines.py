"""Baselines: a position prior, chance relation guesses, and the hand-written rule parser (symbolic upper bound).

* ``position_prior(train)`` -> predictor(example) -> list[Layout]: each object at the most common training cell of
  objects with the same mention index (ignores the text).
* ``relation_chance(examples, kind)`` -> per-query relation guesses: ``"uniform"`` over the 9 labels or
  ``"majority"`` (most common training label); ``relation_accuracy`` scores them on determined queries.
* ``rule_parser(text, objects, width, height)`` -> facts: inverts the templates of ``templates.py`` with regexes
  (sentences that match no template are ignored) and ``rule_map`` turns them into a map with the solver. It knows
  only the template sets it is given (default: the training set), so held-out phrasings defeat it.
"""
from __future__ import annotations

import random
import re
from collections import Counter
from functools import lru_cache
from typing import Any, Callable, Mapping, Sequence

from . import names as N
from . import templates as T
from .solver import layout_from_facts
from .world import RELATIONS, Layout, signs_of


# ------------------------------------------------------------------------------------------------ position prior
def position_prior(train_examples: Sequence[Mapping[str, Any]], target: str = "states"
                   ) -> Callable[[Mapping[str, Any]], list[Layout]]:
    """A predictor that puts the k-th mentioned object at the most common training cell of k-th mentioned objects
    (state 0 of ``target``: 'states' or 'canonical'), the same map for every state. Cells are clipped to the grid."""
    by_k: dict[int, Counter] = {}
    overall: Counter = Counter()
    for ex in train_examples:
        lay = ex[target][0]
        for k, o in enumerate(ex["objects"]):
            p = tuple(lay[o["name"]])
            by_k.setdefault(k, Counter())[p] += 1
            overall[p] += 1
    # deterministic tie-break: highest count, then smallest (x, y)
    best = {k: min(c.items(), key=lambda kv: (-kv[1], kv[0]))[0] for k, c in by_k.items()}
    default = min(overall.items(), key=lambda kv: (-kv[1], kv[0]))[0] if overall else (0, 0)

    def predict(ex: Mapping[str, Any]) -> list[Layout]:
        W, H = ex["width"], ex["height"]
        lay = {}
        for k, o in enumerate(ex["objects"]):
            x, y = best.get(k, default)
            lay[o["name"]] = (min(x, W - 1), min(y, H - 1))
        return [dict(lay) for _ in range(max(1, len(ex.get("states", [0]))))]
    return predict


# ---------------------------------------------------------------------------------------------- chance relations
def majority_relation(train_examples: Sequence[Mapping[str, Any]]) -> str:
    """The most common query relation in training (ties: first in RELATIONS order)."""
    c = Counter(q["relation"] for ex in train_examples for q in ex["queries"])
    return max(RELATIONS, key=lambda r: (c[r], -RELATIONS.index(r)))


def relation_chance(examples: Sequence[Mapping[str, Any]], kind: str = "uniform",
                    train_examples: Sequence[Mapping[str, Any]] | None = None, seed: int = 0) -> list[list[str]]:
    """A guessed relation per query (aligned with ``ex['queries']``): 'uniform' over the 9 labels, or 'majority'
    (needs ``train_examples``)."""
    if kind == "uniform":
        rng = random.Random(seed)
        return [[rng.choice(RELATIONS) for _ in ex["queries"]] for ex in examples]
    if kind == "majority":
        if train_examples is None:
            raise ValueError("the majority baseline needs train_examples.")
        m = majority_relation(train_examples)
        return [[m for _ in ex["queries"]] for ex in examples]
    raise ValueError(f"unknown chance baseline {kind!r}; use 'uniform' or 'majority'.")


def relation_accuracy(examples: Sequence[Mapping[str, Any]], predictions: Sequence[Sequence[str]]) -> dict[str, Any]:
    """Accuracy of per-query relation guesses on queries whose two axes the text determines, and of the y sign
    ("is a above b?") on queries whose y axis it determines. Returns {'relation': (k, n), 'above': (k, n)}."""
    rk = rn = ak = an = 0
    for ex, preds in zip(examples, predictions):
        for q, p in zip(ex["queries"], preds):
            if q["x_determined"] and q["y_determined"]:
                rn += 1
                rk += p == q["relation"]
            if q["y_determined"]:
                an += 1
                ak += signs_of(p)[1] == signs_of(q["relation"])[1]
    return {"relation": (rk, rn), "above": (ak, an)}


# -------------------------------------------------------------------------------------------------- rule parser
@lru_cache(maxsize=None)
def _matchers(template_sets: tuple[str, ...]) -> tuple[list[tuple[str, str, re.Pattern]], list[str]]:
    ms: list[tuple[str, str, re.Pattern]] = []
    conns: list[str] = []
    for ts in template_sets:
        tp = T.get(ts)
        for kind in ("relation", "exact", "anchor", "move", "props"):
            for key, tpls in tp[kind].items():
                for t in tpls:
                    ms.append((kind, key, T.compile_template(t)))
        for t in tp["to"]:
            ms.append(("to", "to", T.compile_template(t)))
        conns += tp["connective"]
    return ms, sorted(set(conns), key=len, reverse=True)


def _norm(s: str) -> str:
    return s[:1].lower() + s[1:]


def split_sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+", text.strip()) if s]


def rule_parser(text: str, objects: Sequence[Any], width: int = 10, height: int = 10,
                template_sets: Sequence[str] = ("train",)) -> dict[str, Any]:
    """Facts (same structure as ``example['facts']``) read from ``text`` by inverting the templates of
    ``template_sets``; ``objects`` are names or object dicts. Unmatched sentences and unknown names are ignored."""
    names = [o if isinstance(o, str) else o["name"] for o in objects]
    lookup = {_norm(n): n for n in names}
    matchers, conns = _matchers(tuple(template_sets))
    props: dict[str, dict[str, str]] = {n: {} for n in names}
    rels, anchors, actions = [], [], []
    for sent in split_sentences(text):
        low = sent.lower()
        for c in conns:
            if low.startswith(c):
                sent = sent[len(c):]
                break
        for kind, key, rx in matchers:
            m = rx.fullmatch(sent)
            if not m:
                continue
            g = m.groupdict()
            a = lookup.get(_norm(g["A"])) if "A" in g else None
            b = lookup.get(_norm(g["B"])) if "B" in g else None
            if a is None or ("B" in g and b is None):
                continue
            if kind == "relation":
                rels.append([a, key, b])
            elif kind == "exact":
                sx, sy = signs_of(key)
                dx = sx * T.parse_number(g["nx"]) if sx else 0
                dy = sy * T.parse_number(g["ny"]) if sy else 0
                rels.append([a, key, b, dx, dy])
            elif kind == "anchor":
                xy = {"top-left": (0, height - 1), "top-right": (width - 1, height - 1), "bottom-left": (0, 0),
                      "bottom-right": (width - 1, 0), "centre": (width // 2, height // 2)}.get(key)
                if xy is None:
                    xy = (int(g["x"]), int(g["y"]))
                anchors.append([a, xy[0], xy[1]])
            elif kind == "move":
                sx, sy = signs_of(key)
                dx = sx * T.parse_number(g["nx"]) if sx else 0
                dy = sy * T.parse_number(g["ny"]) if sy else 0
                actions.append([a, dx, dy])
            elif kind == "to":
                actions.append([a, "to", b])
            elif kind == "props":
                for p in ("colour", "size"):
                    if g.get(p):
                        props[a][p] = g[p]
            break
    order = N.mention_order(text, names)
    return {"entities": [{"name": n, "props": props[n]} for n in order], "relations": rels, "anchors": anchors,
            "actions": actions}


def rule_map(text: str, objects: Sequence[Any], width: int = 10, height: int = 10,
             template_sets: Sequence[str] = ("train",)) -> list[Layout] | None:
    """Rule parser -> solver -> canonical map per state (None when the parsed facts are inconsistent)."""
    facts = rule_parser(text, objects, width, height, template_sets)
    return layout_from_facts(facts, width, height)


def random_layouts(example: Mapping[str, Any], rng: random.Random) -> list[Layout]:
    """Chance baseline: every object on a uniformly random cell (distinct cells), independently per state."""
    w, h = example["width"], example["height"]
    names = [o["name"] for o in example["objects"]]
    out = []
    for _ in example["states"]:
        cells = rng.sample(range(w * h), len(names)) if len(names) <= w * h else [rng.randrange(w * h) for _ in names]
        out.append({n: (c % w, c // w) for n, c in zip(names, cells)})
    return out
