"""Metrics on hand-made cases with known answers."""
from __future__ import annotations

import copy
import math

import numpy as np
import pytest

from helpers.formats import Parsed, normalize_facts
from helpers.metrics import (confusion_table, facts_equal, flip_rate, flip_stat, mean_stat, position_heatmap,
                             query_outcomes, score, stat, triple_prf, wilson)
from helpers.world import RELATIONS
from test_formats import ex_multi, ex_qual


def P(*states, facts=None) -> Parsed:
    return Parsed(True, "", [{n: tuple(p) for n, p in s.items()} for s in states], facts)


BAD = Parsed(False, "garbage")


def test_wilson_known_values():
    lo, hi = wilson(6, 10)
    assert lo == pytest.approx(0.3127, abs=1e-3) and hi == pytest.approx(0.8318, abs=1e-3)
    assert wilson(0, 0) == (0.0, 1.0)
    assert wilson(0, 10)[0] == 0.0 and wilson(10, 10)[1] == 1.0
    s = stat(2, 3)
    assert s["value"] == pytest.approx(2 / 3) and s["n"] == 3 and s["k"] == 2 and s["ci_low"] < 2 / 3 < s["ci_high"]
    assert math.isnan(stat(0, 0)["value"])
    m = mean_stat([1, 2, 3])
    assert m["value"] == 2 and m["n"] == 3 and m["ci_low"] < 2 < m["ci_high"]


def test_one_wrong_of_three():
    ex = ex_qual()  # true: Alice above house, Rabbit right of house, Alice upper-left of Rabbit
    pred = P({"Alice": (1, 3), "the house": (1, 1), "Rabbit": (3, 0)})  # Rabbit now lower-right of the house
    s = score([ex], [pred])
    assert (s["relation_acc"]["k"], s["relation_acc"]["n"]) == (2, 3)
    assert (s["above_acc"]["k"], s["above_acc"]["n"]) == (2, 3)
    assert (s["axis_acc"]["k"], s["axis_acc"]["n"]) == (5, 6)
    assert (s["x_acc"]["k"], s["y_acc"]["k"]) == (3, 2)
    assert s["validity"]["value"] == 1.0
    assert s["exact_match"]["n"] == 0  # qualitative example: no exact-mode scoring
    assert {h: (v["k"], v["n"]) for h, v in s["by_hops"].items()} == {1: (1, 2), 2: (1, 1)}
    assert {h: (v["k"], v["n"]) for h, v in s["by_status"].items()} == {"entailed": (1, 1), "stated": (1, 2)}
    df = confusion_table(s)
    assert df.shape == (9, 10) and list(df.index) == list(RELATIONS) and df.columns[-1] == "invalid"
    assert df.loc["right", "lower-right"] == 1 and df.loc["above", "above"] == 1 and df.values.sum() == 3


def test_only_determined_axes_are_scored():
    ex = ex_qual()
    ex["queries"][1]["y_determined"] = False  # Rabbit vs house: only x (right) is known
    ex["queries"].append({"a": "Rabbit", "b": "Alice", "state": 0, "relation": "lower-right",
                          "x_determined": False, "y_determined": False, "status": "undetermined", "hops": 3})
    pred = P({"Alice": (1, 3), "the house": (1, 1), "Rabbit": (3, 0)})
    s = score([ex], [pred])
    assert (s["relation_acc"]["k"], s["relation_acc"]["n"]) == (3, 3)
    assert (s["above_acc"]["k"], s["above_acc"]["n"]) == (2, 2)
    assert (s["axis_acc"]["k"], s["axis_acc"]["n"]) == (5, 5)
    assert confusion_table(s).values.sum() == 2  # only queries with both axes determined
    assert 3 not in s["by_hops"]


def test_relations_are_relative_not_absolute():
    ex = ex_qual()
    shifted = P({"Alice": (4, 2), "the house": (4, 0), "Rabbit": (4 + 0, 0)})  # Rabbit overlaps: wrong on x
    s = score([ex], [shifted])
    assert s["relation_acc"]["k"] == 1  # only 'Alice above house' survives
    moved = P({"Alice": (0, 3), "the house": (0, 2), "Rabbit": (4, 2)})  # all relations right, other cells
    assert score([ex], [moved])["relation_acc"]["value"] == 1.0


def test_invalid_counts_as_wrong_and_exact_mode():
    e1, e2 = ex_qual(), ex_multi()
    good1 = P(*e1["canonical"])
    s = score([e1, e2], [good1, BAD])
    assert (s["relation_acc"]["k"], s["relation_acc"]["n"]) == (3, 6)
    assert (s["validity"]["k"], s["validity"]["n"]) == (1, 2)
    assert (s["exact_match"]["k"], s["exact_match"]["n"]) == (0, 1)
    assert confusion_table(s)["invalid"].sum() == 3
    assert s["n_coord_missing"] == 9 and s["mean_coord_error"]["n"] == 0
    # wrong number of states also counts as invalid for scoring
    s = score([e2], [P(*e2["canonical"][:2])])
    assert s["relation_acc"]["k"] == 0 and s["exact_match"]["k"] == 0
    # exact
    s = score([e2], [P(*e2["canonical"])])
    assert s["exact_match"]["value"] == 1.0 and s["relation_acc"]["value"] == 1.0
    assert s["mean_coord_error"]["value"] == 0 and s["mean_coord_error"]["n"] == 9
    assert {k: (v["k"], v["n"]) for k, v in s["by_state"].items()} == {0: (1, 1), 1: (1, 1), 2: (1, 1)}


def test_coord_error_and_state_breakdown():
    e = ex_multi()
    st = copy.deepcopy(e["canonical"])
    st[1]["Bob"] = [1, 2]  # state 1: Bob now above the box (true: upper-left), off by (1, 0)
    st[2]["Cat"] = [1, 2]  # state 2: Cat off by (1, 0) -> Cat right of Bob (true: overlap)
    st[0]["the box"] = [2, 2]  # state 0: the box off by (1, 1): Bob lower-left of it (true: left)
    s = score([e], [P(*st)])
    assert s["exact_match"]["value"] == 0.0
    assert s["mean_coord_error"]["value"] == pytest.approx(4 / 9)
    assert s["mean_coord_error_euclid"]["value"] == pytest.approx((2 + math.sqrt(2)) / 9)
    assert s["relation_acc"]["k"] == 0
    assert (s["axis_acc"]["k"], s["axis_acc"]["n"]) == (3, 6)  # each query keeps one right axis


def test_target_random_vs_canonical():
    e = ex_multi()
    e["states"] = [{n: [p[0] + 1, p[1]] for n, p in s.items()} for s in e["states"]]  # shifted random layout
    pr = P(*e["states"])
    a, b = score([e], [pr], target="canonical"), score([e], [pr], target="random")
    assert a["relation_acc"] == b["relation_acc"] and a["relation_acc"]["value"] == 1.0
    assert a["exact_match"]["value"] == 0.0 and b["exact_match"]["value"] == 1.0
    assert a["mean_coord_error"]["value"] == 1.0 and b["mean_coord_error"]["value"] == 0.0


def test_yflip_diagnosis():
    e = ex_qual()
    e["y_flipped"] = True
    mirrored = P({"Alice": (1, 0), "the house": (1, 2), "Rabbit": (3, 2)})  # upside-down map
    s = score([e], [mirrored])
    assert s["above_acc"]["k"] == 1  # only the y-equal query (right) survives
    assert s["above_acc_if_yflipped"]["value"] == 1.0
    assert s["by_yflipped"][True]["n"] == 3
    assert flip_rate(s, "vertical") == 1.0  # both errors are vertical mirrors
    assert flip_rate(s["confusion"], "inverse") == 0.5  # above->below is an inverse; upper-left->lower-left is not


def test_flip_rate_known():
    s = score([], [])
    c = s["confusion"]
    assert len(c) == 9 and all(len(r) == 10 for r in c)
    i = {r: k for k, r in enumerate(list(RELATIONS) + ["invalid"])}
    c[RELATIONS.index("above")][i["below"]] = 2
    c[RELATIONS.index("above")][i["upper-left"]] = 1
    c[RELATIONS.index("left")][i["right"]] = 1
    c[RELATIONS.index("left")][i["left"]] = 5
    c[RELATIONS.index("left")][i["invalid"]] = 7  # invalid is not a relation error
    assert flip_rate(s) == 0.75 and (flip_stat(s)["k"], flip_stat(s)["n"]) == (3, 4)
    assert (flip_stat(c, "vertical")["k"], flip_stat(c, "vertical")["n"]) == (2, 3)
    assert flip_stat(confusion_table(s), "horizontal")["n"] == 1
    assert flip_rate([r[:9] for r in c]) == 0.75  # a 9 x 9 matrix works too
    assert math.isnan(flip_rate(score([], [])))


def test_triple_prf_and_facts_equal():
    gold = ex_qual()["facts"]
    pred = {"relations": [["the HOUSE", "below", "alice"], ["Rabbit", "left", "the house"]]}
    r = triple_prf(pred, gold)
    assert (r["tp"], r["n_pred"], r["n_gold"]) == (1, 2, 2) and r["f1"] == pytest.approx(0.5)
    r = triple_prf(None, gold)
    assert (r["precision"], r["recall"], r["f1"]) == (0.0, 0.0, 0.0)
    assert triple_prf({"relations": "junk"}, gold)["n_pred"] == 0
    assert triple_prf({}, {})["f1"] == 1.0
    same = copy.deepcopy(gold)
    same["relations"] = [["the house", "left", "RABBIT"], ["The House", "below", "Alice"]]
    same["entities"] = list(reversed(same["entities"]))
    assert facts_equal(same, gold)
    assert not facts_equal(pred, gold) and not facts_equal(None, gold)
    g2 = ex_multi()["facts"]
    flipped = copy.deepcopy(g2)
    flipped["relations"][0] = ["the box", "right", "Bob", 1, 0]
    assert facts_equal(flipped, g2)
    flipped["relations"][0] = ["the box", "right", "Bob", 2, 0]
    assert not facts_equal(flipped, g2)
    assert triple_prf(flipped, g2)["f1"] == 1.0  # triples ignore offsets
    swapped = copy.deepcopy(g2)
    swapped["actions"] = list(reversed(swapped["actions"]))
    assert not facts_equal(swapped, g2)  # actions are ordered


def test_score_with_facts():
    e1, e2 = ex_qual(), ex_multi()
    p1 = P(*e1["canonical"], facts=normalize_facts(e1["facts"]))
    p2 = Parsed(False, "bad", [], None)
    s = score([e1, e2], [p1, p2])
    t = s["triple_f1"]
    assert t["tp"] == 2 and t["n_gold"] == 4 and t["n"] == 2
    assert t["recall"] == 0.5 and t["precision"] == 1.0 and t["value"] == pytest.approx(2 / 3)
    assert 0 <= t["ci_low"] <= t["value"] <= t["ci_high"] <= 1
    assert (s["triple_recall"]["k"], s["triple_recall"]["n"]) == (2, 4)
    assert (s["facts_exact_match"]["k"], s["facts_exact_match"]["n"]) == (1, 2)
    assert "triple_f1" not in score([e1], [P(*e1["canonical"])])


def test_position_heatmap():
    e1, e2 = ex_qual(), ex_multi()
    t, p = position_heatmap([e1, e2], [P(*e1["canonical"]), BAD], 0)
    assert t.shape == (4, 5) and p.shape == (4, 5)
    assert t[3, 1] == 1  # Alice at (1, 3): indexed [y, x]
    assert t[1, 0] == 1 and t[2, 0] == 2  # Bob (0,1) once, (0,2) twice
    assert t.sum() == 4 and p.sum() == 1 and p[3, 1] == 1
    assert np.array_equal(position_heatmap([e1], [P(*e1["states"])], 0, target="random")[0],
                          position_heatmap([e1], [P(*e1["states"])], 0, target="random")[1])


def test_score_length_mismatch():
    with pytest.raises(ValueError):
        score([ex_qual()], [])


def test_query_outcomes():
    ex = ex_qual()
    ex["queries"][1]["y_determined"] = False
    out = query_outcomes([ex, ex_multi()], [P({"Alice": (1, 3), "the house": (1, 1), "Rabbit": (3, 0)}), BAD])
    assert [o["correct"] for o in out[0]] == [True, True, True]
    assert out[0][1]["pred"] == "lower-right" and out[0][1]["y_ok"] is None and out[0][1]["x_ok"] is True
    assert [o["pred"] for o in out[1]] == [None, None, None] and not any(o["correct"] for o in out[1])
    import json
    json.dumps(out)


def test_score_on_generated_data_is_perfect_for_gold_maps():
    """Gold maps (canonical target) score 1.0 on every relation metric; a y-mirrored map does not."""
    import random
    from helpers.formats import read_target, write_target
    from helpers.generate import DataConfig, make_example
    rng = random.Random(1)
    exs = [make_example(DataConfig(n_objects=4, n_actions=1, structure="chain"), rng, f"t{i}", "t") for i in range(30)]
    exs += [make_example(DataConfig(mode="exact"), rng, f"e{i}", "t") for i in range(10)]
    for target in ("canonical", "random"):
        parsed = [read_target(write_target(e, "coords", target), "coords", e) for e in exs]
        s = score(exs, parsed, target=target)
        for m in ("relation_acc", "above_acc", "axis_acc", "validity", "exact_match"):
            assert s[m]["value"] == 1.0, (target, m)
        assert s["relation_acc"]["n"] > 0 and s["mean_coord_error"]["value"] == 0
    facts = [read_target(write_target(e, "facts"), "facts", e) for e in exs]
    s = score(exs, facts)
    assert s["relation_acc"]["value"] == 1.0 and s["triple_f1"]["value"] == 1.0
    assert s["facts_exact_match"]["value"] == 1.0


def test_difference_interval_matches_newcombe():
    """Newcombe (1998), Stat. Med. 17:873, Table II, method 10 (hybrid score): 56/70 - 48/80 and 9/10 - 3/10."""
    from helpers.metrics import diff_interval
    assert diff_interval(56, 70, 48, 80) == pytest.approx((0.0524, 0.3339), abs=1e-4)
    assert diff_interval(9, 10, 3, 10) == pytest.approx((0.1705, 0.8090), abs=1e-4)
    lo, hi = diff_interval(184, 200, 196, 200)  # 92% vs 98%: the Wilson intervals touch, the difference is clear
    assert hi < 0 < 0.98 - 0.95
    with pytest.raises(ValueError):
        diff_interval(1, 0, 1, 2)
