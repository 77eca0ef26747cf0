"""Baselines: rule parser recovers facts exactly on training templates; prior and chance predictors."""
from __future__ import annotations


from helpers import baselines as B
from helpers import generate as G
from helpers.solver import holds

CONFIGS = [
    G.DataConfig(),
    G.DataConfig(structure="chain", n_objects=5, distractors=2, narrative=True, props=0.5),
    G.DataConfig(mode="exact", n_objects=4, structure="tree", n_actions=2, distractors=2, narrative=True),
    G.DataConfig(mode="exact", width=5, height=5, n_objects=6, n_actions=3, props=1.0, p_to=0.5),
    G.DataConfig(mode="exact", width=3, height=3, n_objects=2, n_actions=1),   # corner/centre anchors
    G.DataConfig(width=20, height=20, n_objects=5, n_actions=2, numbers="words"),
]


def test_rule_parser_recovers_facts_exactly_on_train_templates():
    n = 0
    for ci, cfg in enumerate(CONFIGS):
        for i in range(250):
            ex = G.make_example(cfg, G.example_rng(ci, "rp", i))
            facts = B.rule_parser(ex["text"], ex["objects"], ex["width"], ex["height"])
            assert facts == ex["facts"], ex["text"]
            lays = B.rule_map(ex["text"], ex["objects"], ex["width"], ex["height"])
            assert lays is not None and holds(ex["facts"], lays)
            assert [{k: list(v) for k, v in s.items()} for s in lays] == ex["canonical"]
            n += 1
    assert n == 1500


def test_rule_parser_with_heldout_templates():
    recovered_train_only = recovered_both = 0
    for i in range(200):
        ex = G.make_example(G.DataConfig(template_set="heldout", n_actions=1, mode="exact"),
                            G.example_rng(0, "ho", i))
        recovered_train_only += B.rule_parser(ex["text"], ex["objects"]) == ex["facts"]
        recovered_both += B.rule_parser(ex["text"], ex["objects"], template_sets=("train", "heldout")) == ex["facts"]
    assert recovered_train_only == 0 and recovered_both == 200


def test_position_prior_and_chance():
    train = [G.make_example(G.DataConfig(), G.example_rng(0, "train", i)) for i in range(300)]
    test = [G.make_example(G.DataConfig(n_actions=1), G.example_rng(0, "test", i)) for i in range(50)]
    pred = B.position_prior(train, target="canonical")
    out = pred(test[0])
    assert len(out) == 2 and set(out[0]) == {o["name"] for o in test[0]["objects"]}
    assert pred(test[0]) == out                                               # deterministic
    assert all(0 <= x < 10 and 0 <= y < 10 for x, y in out[0].values())
    big = G.make_example(G.DataConfig(n_objects=6), G.example_rng(0, "big", 0))
    assert len(pred(big)[0]) == 6                                             # unseen mention index -> fallback
    maj = B.majority_relation(train)
    guesses = B.relation_chance(test, "majority", train)
    assert all(g == maj for gs in guesses for g in gs)
    uni = B.relation_chance(test, "uniform", seed=1)
    assert uni == B.relation_chance(test, "uniform", seed=1)
    assert [len(g) for g in uni] == [len(e["queries"]) for e in test]
    (k, n) = B.relation_accuracy(test, uni)["relation"]
    assert n > 0 and k / n < 0.3
    oracle = [[q["relation"] for q in e["queries"]] for e in test]
    acc = B.relation_accuracy(test, oracle)
    assert acc["relation"][0] == acc["relation"][1] and acc["above"][0] == acc["above"][1]
