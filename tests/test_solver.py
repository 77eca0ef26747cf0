"""Reference solver: sound and complete entailment, canonical layouts consistent with the text."""
from __future__ import annotations

import itertools
from dataclasses import replace

import pytest

from helpers import generate as G
from helpers.solver import canonical_layout, holds, layout_from_facts, solve
from helpers.world import relation, signs_of

CONFIGS = [
    G.DataConfig(),
    G.DataConfig(structure="chain", n_objects=5),
    G.DataConfig(structure="tree", n_objects=6, max_hops=2, width=6, height=6),
    G.DataConfig(mode="exact", n_objects=4, structure="chain"),
    G.DataConfig(mode="exact", n_objects=5, structure="tree", n_actions=3, width=7, height=5),
    G.DataConfig(n_objects=4, structure="chain", n_actions=3, width=4, height=4),
    G.DataConfig(n_objects=3, n_actions=2, p_to=0.8, width=3, height=3),
    G.DataConfig(n_objects=5, structure="tree", n_actions=2, template_set="heldout", width=20, height=20),
]


def _tup(layouts):
    return [{k: tuple(v) for k, v in s.items()} for s in layouts]


def test_generated_relations_hold_and_are_found_on_5000_scenes():
    n = 0
    for ci, cfg in enumerate(CONFIGS):
        for i in range(5000 // len(CONFIGS) + 1):
            ex = G.make_example(cfg, G.example_rng(ci, "solver", i))
            facts, states = ex["facts"], ex["states"]
            assert holds(facts, states)                       # the true map satisfies every stated fact
            sol = solve(facts, ex["width"], ex["height"])
            assert sol.consistent
            for r in facts["relations"]:                      # every stated relation is found
                assert sol.entailed_relation(r[0], r[2], 0) == r[1]
                assert sol.stated(r[0], r[2], 0)
            for q in ex["queries"]:                           # entailed signs hold in the true map
                sx, sy = sol.entailed_signs(q["a"], q["b"], q["state"])
                tx, ty = signs_of(q["relation"])
                assert q["x_determined"] == (sx is not None) and q["y_determined"] == (sy is not None)
                assert sx in (None, tx) and sy in (None, ty)
                assert q["relation"] == relation(tuple(states[q["state"]][q["a"]]), tuple(states[q["state"]][q["b"]]))
                if q["status"] == "stated":
                    assert q["hops"] == 1
                if q["status"] == "undetermined" and not (q["x_determined"] or q["y_determined"]):
                    assert q["hops"] == 0
                if q["status"] != "undetermined":
                    assert q["hops"] >= 1
            can = _tup(ex["canonical"])
            assert holds(facts, can)                          # canonical map satisfies the text ...
            for lay in can:
                assert all(0 <= x < ex["width"] and 0 <= y < ex["height"] for x, y in lay.values())
            for q in ex["queries"]:                           # ... and agrees on every entailed axis
                cx, cy = signs_of(relation(can[q["state"]][q["a"]], can[q["state"]][q["b"]]))
                tx, ty = signs_of(q["relation"])
                assert (not q["x_determined"] or cx == tx) and (not q["y_determined"] or cy == ty)
            if cfg.mode == "exact":
                assert ex["canonical"] == ex["states"]
            n += 1
    assert n >= 5000


def _brute_signs(facts, names, axis):
    """All sign patterns of each pair over every weak order of the objects on one axis (qualitative, no actions)."""
    k = len(names)
    seen = {(a, b): set() for a in names for b in names if a != b}
    for vals in itertools.product(range(k), repeat=k):
        v = dict(zip(names, vals))
        if all((v[a] > v[b]) - (v[a] < v[b]) == signs_of(rel)[axis] for a, rel, b in facts["relations"]):
            for a, b in seen:
                seen[(a, b)].add((v[a] > v[b]) - (v[a] < v[b]))
    return seen


def test_entailment_is_complete_against_brute_force():
    for ci, cfg in enumerate([G.DataConfig(structure="chain", n_objects=5), G.DataConfig(structure="tree", n_objects=5)]):
        for i in range(60):
            ex = G.make_example(cfg, G.example_rng(ci, "brute", i))
            names = [o["name"] for o in ex["objects"]]
            sol = solve(ex["facts"], 10, 10)
            for axis in (0, 1):
                for (a, b), signs in _brute_signs(ex["facts"], names, axis).items():
                    got = sol.axis_sign(a, b, 0, axis)
                    assert got == (next(iter(signs)) if len(signs) == 1 else None)


def test_canonical_is_deterministic_compact_and_orders_open_pairs_by_mention():
    facts = {"entities": [{"name": "Alice", "props": {}}, {"name": "the house", "props": {}},
                          {"name": "a well", "props": {}}],
             "relations": [["Alice", "above", "the house"], ["a well", "left", "the house"]],
             "anchors": [], "actions": []}
    objs = ["Alice", "the house", "a well"]
    c1 = canonical_layout(facts, objs, 10, 10)
    assert c1 == canonical_layout(facts, objs, 10, 10)
    assert c1 == [{"Alice": (1, 1), "the house": (1, 0), "a well": (0, 0)}]
    sol = solve(facts, 10, 10)
    assert sol.entailed_relation("Alice", "a well") == "upper-right"        # 2 hops, both axes entailed
    assert sol.hops("Alice", "a well") == 2
    # an open pair: a left of b, c left of b -> a vs c on x is undetermined; tie-break puts a (earlier) left of c
    f2 = {"entities": [], "relations": [["a", "lower-left", "b"], ["c", "upper-left", "b"]], "anchors": [], "actions": []}
    s2 = solve(f2, 10, 10, objects=["a", "b", "c"])
    assert s2.entailed_signs("a", "c") == (None, -1)
    lay = canonical_layout(f2, ["a", "b", "c"], 10, 10)[0]
    assert lay["a"][0] < lay["c"][0] and lay["a"][1] < lay["b"][1] < lay["c"][1]


def test_exact_actions_and_runs_to():
    facts = {"entities": [{"name": "A", "props": {}}, {"name": "B", "props": {}}],
             "relations": [["A", "upper-left", "B", -2, 3]], "anchors": [["B", 5, 1]],
             "actions": [["A", 0, -3], ["B", "to", "A"]]}
    lays = layout_from_facts(facts, 10, 10)
    assert lays == [{"A": (3, 4), "B": (5, 1)}, {"A": (3, 1), "B": (5, 1)}, {"A": (3, 1), "B": (3, 1)}]
    sol = solve(facts, 10, 10)
    assert sol.entailed_relation("A", "B", 1) == "left"
    assert sol.entailed_relation("A", "B", 2) == "overlap" and sol.stated("A", "B", 2)


@pytest.mark.parametrize("facts", [
    {"entities": [{"name": "A"}, {"name": "B"}], "relations": [["A", "above", "B"], ["B", "above", "A"]]},
    {"entities": [{"name": "A"}, {"name": "B"}], "relations": [["A", "left", "B", -20, 0]]},      # off the grid
    {"entities": [{"name": "A"}, {"name": "B"}], "relations": [["A", "left", "B", 2, 0]]},        # sign clash
    {"entities": [{"name": "A"}], "relations": [["A", "above", "Z"]]},                            # unknown name
    {"entities": [{"name": "A"}, {"name": "B"}], "relations": [["A", "sideways", "B"]]},
    {"entities": [{"name": "A"}, {"name": "B"}], "relations": [["A"]]},
    {"entities": "nonsense"}, [], None, "text",
])
def test_layout_from_facts_returns_none_and_never_raises(facts):
    assert layout_from_facts(facts, 10, 10) is None


def test_layout_from_facts_of_generated_facts_equals_canonical():
    cfg = G.DataConfig(n_objects=4, structure="chain", n_actions=1)
    for i in range(100):
        ex = G.make_example(cfg, G.example_rng(9, "lf", i))
        assert _tup(ex["canonical"]) == layout_from_facts(ex["facts"], 10, 10)
        assert holds(ex["facts"], _tup(ex["states"])) and not holds(
            {**ex["facts"], "relations": [[r[2], r[1], r[0]] for r in ex["facts"]["relations"]]}, _tup(ex["states"]))
