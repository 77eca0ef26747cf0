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


def diff_interval(k1: int, n1: int, k2: int, n2: int, z: float = 1.96) -> tuple[float, float]:
    """95% interval of the difference of two rates k1/n1 - k2/n2 (Newcombe's hybrid score method, from the two
    Wilson intervals); it excludes 0 when the two rates differ at the 5% level. Both n must be positive."""
    if n1 <= 0 or n2 <= 0:
        raise ValueError("both samples need at least one trial")
    p1, p2 = k1 / n1, k2 / n2
    (l1, u1), (l2, u2) = wilson(k1, n1, z), wilson(k2, n2, z)
    d = p1 - p2
    return d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2), d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)


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


def _outcome(q: dict, pred: list[dict] | None) -> dict:
    """How one query fares: predicted label (None = no usable prediction), per-axis and overall correctness
    on the determined axes (``correct`` is None when the text determines neither axis)."""
    xd, yd = bool(q.get("x_determined", True)), bool(q.get("y_determined", True))
    tx, ty = signs_of(q["relation"])
    ps = _pred_signs(pred, q)
    x_ok = (ps is not None and ps[0] == tx) if xd else None
    y_ok = (ps is not None and ps[1] == ty) if yd else None
    correct = None if not (xd or yd) else (x_ok is not False and y_ok is not False)
    return {"a": q["a"], "b": q["b"], "state": q.get("state", 0), "relation": q["relation"],
            "pred": None if ps is None else relation_from_signs(*ps), "x_determined": xd, "y_determined": yd,
            "x_ok": x_ok, "y_ok": y_ok, "correct": correct, "hops": q.get("hops", 0), "status": q.get("status", ""),
            "pred_signs": ps}


def query_outcomes(examples: list[dict], parsed: list[Parsed | None]) -> list[list[dict]]:
    """Per example, one record per query (see ``_outcome``; JSON-serialisable) for predictions.jsonl."""
    out = []
    for ex, p in zip(examples, parsed):
        pred = _pred_states(ex, p)
        rows = []
        for q in ex.get("queries", []):
            o = _outcome(q, pred)
            o.pop("pred_signs")
            rows.append(o)
        out.append(rows)
    return out


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
    by_state, by_status, by_yflipped, confusion (9 x 10 counts: rows RELATIONS = true, cols RELATIONS +
    'invalid' = predicted), and, when facts are scored, triple_f1 (micro F1, bootstrap CI over examples;
    also carries precision/recall/tp/n_pred/n_gold), triple_precision, triple_recall, facts_exact_match.
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
            o = _outcome(q, pred)
            if o["correct"] is None:
                continue
            xd, yd, ok, ps = o["x_determined"], o["y_determined"], o["correct"], o["pred_signs"]
            okx, oky = bool(o["x_ok"]), bool(o["y_ok"])
            ty = signs_of(q["relation"])[1]
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
        "confusion": conf.tolist(),
    }
    if facts is None:
        facts = any(p is not None and p.facts is not None for p in parsed)
    if facts:
        counts = []
        fexact = _Counter()
        for ex, p in zip(examples, parsed):
            pf = p.facts if p is not None else None
            r = triple_prf(pf, ex["facts"])
            counts.append((r["tp"], r["n_pred"], r["n_gold"]))
            fexact.add(facts_equal(pf, ex["facts"]))
        tp, npred, ngold = (int(v) for v in np.sum(counts, axis=0)) if counts else (0, 0, 0)
        prf = _prf(tp, npred, ngold)
        lo, hi = _bootstrap_f1(np.asarray(counts, dtype=float).reshape(-1, 3))
        out["triple_f1"] = {"value": prf["f1"], "n": len(counts), "k": None, "ci_low": lo, "ci_high": hi, **prf}
        out["triple_precision"] = stat(tp, npred)
        out["triple_recall"] = stat(tp, ngold)
        out["facts_exact_match"] = fexact.stat()
    return out


def _bootstrap_f1(counts: np.ndarray, reps: int = 1000, seed: int = 0) -> tuple[float, float]:
    """95% percentile-bootstrap interval of micro F1, resampling examples (rows: tp, n_pred, n_gold)."""
    if len(counts) == 0:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    s = counts[rng.integers(0, len(counts), size=(reps, len(counts)))].sum(axis=1)
    den = s[:, 1] + s[:, 2]
    f1 = np.where(den > 0, 2 * s[:, 0] / np.maximum(den, 1), 1.0)
    return float(np.percentile(f1, 2.5)), float(np.percentile(f1, 97.5))


# ------------------------------------------------------------------------------------------- facts

def _safe_norm(f: dict | None) -> dict | None:
    if f is None:
        return None
    try:
        return normalize_facts(f)
    except Exception:  # noqa: BLE001 - malformed predicted facts score as empty
        return None


def _triple(r: list, offsets: bool) -> tuple:
    a, rel, b = r[0].strip().lower(), r[1], r[2].strip().lower()
    off = tuple(r[3:5]) if offsets and len(r) == 5 else None
    if (a, b) > (b, a):  # one orientation per unordered pair: A r B == B inverse(r) A
        a, b, rel = b, a, inverse(rel)
        off = None if off is None else (-off[0], -off[1])
    return (a, rel, b) if off is None else (a, rel, b, off)


def relation_triples(f: dict | None, offsets: bool = False) -> set[tuple]:
    """Normalised relation triples ``(a, rel, b)`` (lower-case names, a <= b; ``offsets`` adds (dx, dy))."""
    n = _safe_norm(f)
    if n is None:
        return set()
    return {_triple(r, offsets) for r in n["relations"]}


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
    low = lambda v: v.strip().lower() if isinstance(v, str) else v  # noqa: E731
    return (frozenset((low(e["name"]), tuple(sorted(e["props"].items()))) for e in n["entities"]),
            frozenset(_triple(r, True) for r in n["relations"]),
            frozenset((low(a[0]), a[1], a[2]) for a in n["anchors"]),
            tuple(tuple(low(v) for v in a) for a in n["actions"]))


def facts_equal(pred_facts: dict | None, gold_facts: dict) -> bool:
    """Exact facts match up to name case, record order (actions keep their order) and relation direction."""
    k = _facts_key(pred_facts)
    return k is not None and k == _facts_key(gold_facts)


# -------------------------------------------------------------------------------------- diagnosis

def confusion_table(score_dict: dict):
    """The confusion matrix as a DataFrame (rows: true relation, cols: predicted + 'invalid')."""
    import pandas as pd  # noqa: PLC0415
    c = score_dict["confusion"] if isinstance(score_dict, dict) else score_dict
    c = np.asarray(c, dtype=int)
    cols = list(RELATIONS) + [INVALID] if c.shape[1] == len(RELATIONS) + 1 else list(RELATIONS)
    df = pd.DataFrame(c, index=list(RELATIONS), columns=cols)
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


def flip_rate(conf, kind: str = "inverse") -> float:
    """Share of relation errors whose prediction is the flipped true relation (nan without errors);
    ``flip_stat`` gives the same with its count and Wilson interval.

    ``kind``: 'inverse' (both axes: above->below, upper-left->lower-right), 'vertical' (y only:
    upper-left->lower-left) or 'horizontal' (x only). Accepts a score dict, its 'confusion' or a DataFrame.
    Errors exclude invalid predictions and relations whose flip is themselves (e.g. 'overlap').
    """
    return flip_stat(conf, kind)["value"]


def flip_stat(conf, kind: str = "inverse") -> Stat:
    """``flip_rate`` as a Stat (k flipped errors out of n errors)."""
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

    Arrays are ``(H, W)`` indexed ``[y, x]`` (row 0 = y 0, as ``plots.heatmap_pair`` expects; use
    ``imshow(origin="lower")``); H, W are the largest grid sizes among the examples.
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
                true_c[s[name][1], s[name][0]] += 1
        for s in _pred_states(ex, p) or []:
            if name in s and 0 <= s[name][0] < W and 0 <= s[name][1] < H:
                pred_c[s[name][1], s[name][0]] += 1
    return true_c, pred_c
