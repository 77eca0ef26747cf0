"""Metrics: relation accuracy from predicted maps, validity, exact match, coordinate error, facts P/R/F1.

Every rate is a ``Stat`` dict ``{"value", "n", "k", "ci_low", "ci_high"}`` (Wilson 95% interval).
Invalid predictions count as wrong, never dropped. Relation metrics compare the *relative* position
of the two queried objects in the predicted layout with the query's label, on the axes the text determines.
"""
from __future__ import annotations

import math
from collections import defaultdict
from typing import Any, Iterable

import numpy as np

from helpers.formats import Parsed, normalize_facts, target_states
from helpers.world import RELATIONS, inverse, relation_from_signs, sign, signs_of

Stat = dict[str, Any]
"""{"value": float, "n": int, "k": int | None, "ci_low": float, "ci_high": float}."""

INVALID = "invalid"


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval for k successes out of n; (0.0, 1.0) when n == 0."""
    if n <= 0:
        return 0.0, 1.0
    p = k / n
    den = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return max(0.0, centre - half), min(1.0, centre + half)


def stat(k: int, n: int) -> Stat:
    """A rate with its Wilson interval (value is nan when n == 0)."""
    lo, hi = wilson(k, n)
    return {"value": k / n if n else float("nan"), "n": n, "k": k, "ci_low": lo, "ci_high": hi}


def mean_stat(values: Iterable[float]) -> Stat:
    """A mean with a normal-approximation 95% interval (k is None)."""
    v = np.asarray(list(values), dtype=float)
    n = len(v)
    if n == 0:
        return {"value": float("nan"), "n": 0, "k": None, "ci_low": float("nan"), "ci_high": float("nan")}
    m = float(v.mean())
    half = 1.96 * float(v.std(ddof=1)) / math.sqrt(n) if n > 1 else float("nan")
    return {"value": m, "n": n, "k": None, "ci_low": m - half, "ci_high": m + half}


def _pred_states(ex: dict, p: Parsed | None) -> list[dict] | None:
    if p is None or not p.valid or len(p.states) != len(ex["states"]):
        return None
    return p.states


def _pred_signs(pred: list[dict] | None, q: dict) -> tuple[int, int] | None:
    """Signs of pos(a) - pos(b) in the predicted layout of the query's state; None if unavailable."""
    if pred is None:
        return None
    s = q.get("state", 0)
    if not 0 <= s < len(pred):
        return None
    lay = pred[s]
    if q["a"] not in lay or q["b"] not in lay:
        return None
    (ax, ay), (bx, by) = lay[q["a"]], lay[q["b"]]
    return sign(ax - bx), sign(ay - by)


class _Counter:
    def __init__(self) -> None:
        self.k = 0
        self.n = 0

    def add(self, ok: bool) -> None:
        self.k += bool(ok)
        self.n += 1

    def stat(self) -> Stat:
        return stat(self.k, self.n)


def score(examples: list[dict], parsed: list[Parsed | None], target: str = "canonical",
          facts: bool | None = None) -> dict:
    """All metrics for one set of predictions (``parsed[i]`` belongs to ``examples[i]``).

    Relation metrics do not depend on ``target`` (labels come from the text); exact match and
    coordinate error compare with the chosen target layouts (exact-mode examples only).
    ``facts``: also score predicted facts (default: when any prediction carries facts).
    Keys: relation_acc, above_acc, axis_acc, x_acc, y_acc, above_acc_if_yflipped, validity,
    exact_match, mean_coord_error (L1), mean_coord_error_euclid, n_coord_missing, by_hops,
    by_state, by_status, by_yflipped, confusion, and facts_triple / facts_exact_match when scored.
    """
    if len(examples) != len(parsed):
        raise ValueError(f"{len(examples)} examples but {len(parsed)} predictions")
    rel, above, above_flip, axis, xs, ys, valid, exact = (_Counter() for _ in range(8))
    by_hops: dict[int, _Counter] = defaultdict(_Counter)
    by_state: dict[int, _Counter] = defaultdict(_Counter)
    by_status: dict[str, _Counter] = defaultdict(_Counter)
    by_flip: dict[bool, _Counter] = defaultdict(_Counter)
    cols = list(RELATIONS) + [INVALID]
    conf = np.zeros((len(RELATIONS), len(cols)), dtype=int)
    l1: list[float] = []
    l2: list[float] = []
    missing = 0
    for ex, p in zip(examples, parsed):
        valid.add(p is not None and p.valid)
        pred = _pred_states(ex, p)
        for q in ex.get("queries", []):
            xd, yd = bool(q.get("x_determined", True)), bool(q.get("y_determined", True))
            if not (xd or yd):
                continue
            tx, ty = signs_of(q["relation"])
            ps = _pred_signs(pred, q)
            okx = ps is not None and ps[0] == tx
            oky = ps is not None and ps[1] == ty
            ok = (okx or not xd) and (oky or not yd)
            for c in (rel, by_hops[q.get("hops", 0)], by_state[q.get("state", 0)],
                      by_status[q.get("status", "")], by_flip[bool(ex.get("y_flipped", False))]):
                c.add(ok)
            if xd:
                axis.add(okx)
                xs.add(okx)
            if yd:
                axis.add(oky)
                ys.add(oky)
                above.add(oky)
                above_flip.add(ps is not None and -ps[1] == ty)
            if xd and yd:
                col = cols.index(INVALID) if ps is None else RELATIONS.index(relation_from_signs(*ps))
                conf[RELATIONS.index(q["relation"]), col] += 1
        if ex.get("mode") == "exact":
            gold = target_states(ex, target)
            exact.add(pred is not None and all(
                {n: tuple(v) for n, v in s.items()} == g for s, g in zip(pred, gold)))
            for i, g in enumerate(gold):
                for name, (gx, gy) in g.items():
                    if pred is None or name not in pred[i]:
                        missing += 1
                        continue
                    px, py = pred[i][name]
                    l1.append(abs(px - gx) + abs(py - gy))
                    l2.append(math.hypot(px - gx, py - gy))
    out: dict[str, Any] = {
        "relation_acc": rel.stat(), "above_acc": above.stat(), "axis_acc": axis.stat(),
        "x_acc": xs.stat(), "y_acc": ys.stat(), "above_acc_if_yflipped": above_flip.stat(),
        "validity": valid.stat(), "exact_match": exact.stat(),
        "mean_coord_error": mean_stat(l1), "mean_coord_error_euclid": mean_stat(l2),
        "n_coord_missing": missing,
        "by_hops": {h: c.stat() for h, c in sorted(by_hops.items())},
        "by_state": {s: c.stat() for s, c in sorted(by_state.items())},
        "by_status": {s: c.stat() for s, c in sorted(by_status.items())},
        "by_yflipped": {f: c.stat() for f, c in sorted(by_flip.items())},
        "confusion": {"rows": list(RELATIONS), "cols": cols, "counts": conf.tolist()},
    }
    if facts is None:
        facts = any(p is not None and p.facts is not None for p in parsed)
    if facts:
        tp = npred = ngold = 0
        fexact = _Counter()
        for ex, p in zip(examples, parsed):
            pf = p.facts if p is not None else None
            r = triple_prf(pf, ex["facts"])
            tp, npred, ngold = tp + r["tp"], npred + r["n_pred"], ngold + r["n_gold"]
            fexact.add(facts_equal(pf, ex["facts"]))
        out["facts_triple"] = _prf(tp, npred, ngold)
        out["facts_exact_match"] = fexact.stat()
    return out


# ------------------------------------------------------------------------------------------- facts

def _safe_norm(f: dict | None) -> dict | None:
    if f is None:
        return None
    try:
        return normalize_facts(f)
    except Exception:  # noqa: BLE001 - malformed predicted facts score as empty
        return None


def _triple(a: str, rel: str, b: str, state: int, off: list[int] | None = None) -> tuple:
    a, b = a.strip().lower(), b.strip().lower()
    if (a, b) > (b, a):  # one orientation per unordered pair: A r B == B inverse(r) A
        a, b, rel = b, a, inverse(rel)
        off = None if off is None else [-off[0], -off[1]]
    return (a, rel, b, state) if off is None else (a, rel, b, state, tuple(off))


def relation_triples(f: dict | None, offsets: bool = False) -> set[tuple]:
    """Normalised relation triples ``(a, rel, b, state)`` (lower-case names, a <= b)."""
    n = _safe_norm(f)
    if n is None:
        return set()
    return {_triple(r["a"], r["rel"], r["b"], r["state"], r["offset"] if offsets else None)
            for r in n["relations"]}


def _prf(tp: int, npred: int, ngold: int) -> dict:
    p = tp / npred if npred else (1.0 if ngold == 0 else 0.0)
    r = tp / ngold if ngold else 1.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": p, "recall": r, "f1": f1, "tp": tp, "n_pred": npred, "n_gold": ngold}


def triple_prf(pred_facts: dict | None, gold_facts: dict) -> dict:
    """Precision / recall / F1 of normalised relation triples (sets; ``None`` predicts nothing)."""
    pt, gt = relation_triples(pred_facts), relation_triples(gold_facts)
    return _prf(len(pt & gt), len(pt), len(gt))


def _facts_key(f: dict | None) -> tuple | None:
    n = _safe_norm(f)
    if n is None:
        return None
    low = lambda s: None if s is None else s.strip().lower()  # noqa: E731
    return (frozenset((low(e["name"]), tuple(sorted(e["props"].items()))) for e in n["entities"]),
            frozenset(_triple(r["a"], r["rel"], r["b"], r["state"], r["offset"]) for r in n["relations"]),
            frozenset((low(a["name"]), tuple(a["pos"]), a["state"]) for a in n["anchors"]),
            tuple((low(a["name"]), None if a["move"] is None else tuple(a["move"]), low(a["to"]), a["state"])
                  for a in n["actions"]))


def facts_equal(pred_facts: dict | None, gold_facts: dict) -> bool:
    """Exact facts match up to name case, record order (actions keep their order) and relation direction."""
    k = _facts_key(pred_facts)
    return k is not None and k == _facts_key(gold_facts)


# -------------------------------------------------------------------------------------- diagnosis

def confusion_table(score_dict: dict):
    """The confusion matrix as a DataFrame (rows: true relation, cols: predicted + 'invalid')."""
    import pandas as pd  # noqa: PLC0415
    c = score_dict.get("confusion", score_dict)
    df = pd.DataFrame(c["counts"], index=c["rows"], columns=c["cols"])
    df.index.name, df.columns.name = "true", "predicted"
    return df


def _mirror(rel: str, kind: str) -> str:
    sx, sy = signs_of(rel)
    if kind == "inverse":
        return inverse(rel)
    if kind == "vertical":
        return relation_from_signs(sx, -sy)
    if kind == "horizontal":
        return relation_from_signs(-sx, sy)
    raise ValueError(f"unknown flip kind {kind!r}")


def flip_rate(conf, kind: str = "inverse") -> Stat:
    """Share of (valid) relation errors whose prediction is the flipped true relation.

    ``kind``: 'inverse' (both axes: above->below, upper-left->lower-right), 'vertical' (y only:
    upper-left->lower-left) or 'horizontal' (x only). Accepts a score dict, its 'confusion' or a DataFrame.
    Errors exclude invalid predictions and relations whose flip is themselves (e.g. 'overlap').
    """
    df = conf if hasattr(conf, "loc") else confusion_table(conf)
    k = n = 0
    for t in RELATIONS:
        f = _mirror(t, kind)
        if f == t:
            continue
        for p in RELATIONS:
            if p != t:
                c = int(df.loc[t, p])
                n += c
                k += c if p == f else 0
    return stat(k, n)


def position_heatmap(examples: list[dict], parsed: list[Parsed | None], obj_index: int,
                     target: str = "canonical") -> tuple[np.ndarray, np.ndarray]:
    """Counts of where object ``objects[obj_index]`` is (target layouts) and is predicted, over all states.

    Arrays are ``(H, W)`` with row 0 = top row (largest y), like the printed grid (``plt.imshow`` default);
    H, W are the largest grid sizes among the examples (smaller grids sit at the bottom-left).
    Invalid predictions add nothing to the predicted counts.
    """
    if not examples:
        return np.zeros((0, 0), int), np.zeros((0, 0), int)
    H = max(e["height"] for e in examples)
    W = max(e["width"] for e in examples)
    true_c, pred_c = np.zeros((H, W), int), np.zeros((H, W), int)
    for ex, p in zip(examples, parsed):
        if obj_index >= len(ex["objects"]):
            continue
        name = ex["objects"][obj_index]["name"]
        for s in target_states(ex, target):
            if name in s:
                true_c[H - 1 - s[name][1], s[name][0]] += 1
        for s in _pred_states(ex, p) or []:
            if name in s and 0 <= s[name][0] < W and 0 <= s[name][1] < H:
                pred_c[H - 1 - s[name][1], s[name][0]] += 1
    return true_c, pred_c
