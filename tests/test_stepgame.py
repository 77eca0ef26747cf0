"""StepGame adapter: loading, template parser, solver, noise flags, conversion (skips without the benchmarks)."""
from __future__ import annotations

import json
from collections import Counter

import pytest

from helpers import stepgame as sg
from helpers import world
from helpers.paths import SHARED_BENCHMARKS

SG = SHARED_BENCHMARKS / "stepgame"
pytestmark = pytest.mark.benchmarks
needs_data = pytest.mark.skipif(not SG.is_dir(), reason=f"benchmarks folder {SG} absent")

STORY = {"s1": {"story": ["A is to the left of B.", "C is placed at the upper right of B.",
                          "D and E are parallel, and D is under E."],
                "question": "What is the relation of the agent A to the agent C?", "label": "lower-left"}}


@pytest.fixture(scope="module")
def valid200():
    if not SG.is_dir():
        pytest.skip(f"benchmarks folder {SG} absent")
    return {k: sg.load(SG, k=k, split="valid", limit=200) for k in range(1, 11)}


def test_load_any_path_and_errors(tmp_path):
    f = tmp_path / "qa4_test.json"
    f.write_text(json.dumps(STORY))
    items = sg.load(f, split="test")
    assert len(items) == 1
    it = items[0]
    assert it["k"] == 4 and it["asked"] == ["A", "C"] and it["label"] == "lower-left"
    assert it["agents"] == ["A", "B", "C", "D", "E"] and it["text"].startswith("A is to the left of B. C is")
    assert sg.load(tmp_path, split="test")[0]["id"] == it["id"]
    with pytest.raises(sg.StepGameError, match="does not exist"):
        sg.load(tmp_path / "nope")
    bad = tmp_path / "bad" / "qa1_valid.json"
    bad.parent.mkdir()
    bad.write_text("[1, 2]")
    with pytest.raises(sg.StepGameError, match="malformed"):
        sg.load(bad)
    bad.write_text("{not json")
    with pytest.raises(sg.StepGameError, match="not a readable"):
        sg.load(bad)


def test_parser_templates():
    f = sg.parse_sentence("X is at the 3 o'clock position relative to Y.")
    assert (f.a, f.rel, f.b) == ("X", "right", "Y")
    f = sg.parse_sentence("P and Q are in a horizontal line with Q on the left.")
    assert (f.a, f.rel, f.b) == ("Q", "left", "P")
    f = sg.parse_sentence("W is over there and R is directly below it.")
    assert (f.a, f.rel, f.b) == ("R", "below", "W")
    f = sg.parse_sentence("If H is the center of a clock face, B is located between 10 and 11.")
    assert (f.a, f.rel, f.b) == ("B", "upper-left", "H")
    assert sg.parse_sentence("Nothing to see here.") is None
    with pytest.raises(sg.StepGameError):
        sg.parse_story(["Nothing to see here."], strict=True)
    assert all(t in dict((t, r) for t, _, r in sg.TEMPLATES) for t in sg.NOISY_TEMPLATES)
    flipped = sg.parse_story(["A is placed at the bottom of B."], as_labelled=True)[0]
    assert flipped.rel == "above"


def test_solver_and_layout_answer():
    item = {"id": "t", "k": 2, "story": STORY["s1"]["story"], "text": " ".join(STORY["s1"]["story"]),
            "question": STORY["s1"]["question"], "label": "lower-left", "agents": ["A", "B", "C", "D", "E"],
            "asked": ["A", "C"]}
    assert sg.predict(item) == "lower-left"
    assert not sg.noisy(item)
    facts = sg.parse_story(item["story"])
    assert sg.path_agents(facts, "A", "C") == ["A", "B", "C"]
    for mode, names in (("complete", ["A", "B", "C", "D", "E"]), ("hybrid", ["A", "B", "C"])):
        ex = sg.to_examples([item], mode)[0]
        assert [o["name"] for o in ex["objects"]] == names
        assert all(len(o["symbol"]) == 1 for o in ex["objects"])
        lay = ex["canonical"][0]
        assert ex["states"] == ex["canonical"] and ex["mode"] == "exact"
        assert min(p[0] for p in lay.values()) == 0 and min(p[1] for p in lay.values()) == 0
        assert all(world.in_bounds(tuple(p), ex["width"], ex["height"]) for p in lay.values())
        assert sg.answer_from_layout(lay, "A", "C") == ex["queries"][0]["relation"] == "lower-left"
        assert ex["queries"][0]["hops"] == 2
    assert "What is the relation" in sg.to_examples([item], "hybrid")[0]["text"]
    assert sg.answer_from_layout({"A": [0, 0]}, "A", "C") is None
    assert sg.answer_from_layout({"A": [0, 0], "C": [0, 0]}, "A", "C") == "overlap"
    assert sg.answer_from_layout({"A": ["x", 0], "C": [0, 0]}, "A", "C") is None


@needs_data
def test_every_sentence_matches_exactly_one_template(valid200):
    multi = Counter()
    for items in valid200.values():
        for it in items[:60]:
            for s in it["story"]:
                n = sum(bool(rx.match(s)) for _, rx, _ in sg.TEMPLATES)
                multi[n] += 1
    assert set(multi) == {1}, multi


@needs_data
def test_rule_pipeline_valid(valid200):
    for k, items in valid200.items():
        assert len(items) == 200 and all(it["k"] == k for it in items)
        r = sg.evaluate(items)
        assert r["clean"]["acc"] >= 0.98, (k, r)
        assert r["noisy"]["n"] < 60, (k, r)
        assert r["all"]["acc"] >= 0.80, (k, r)


@needs_data
def test_rule_pipeline_train_sample():
    for k in (1, 2, 3):
        items = sg.load(SG, k=k, split="train", limit=200)
        assert sg.evaluate(items)["clean"]["acc"] >= 0.98


@needs_data
def test_conversion_consistent_with_solver(valid200):
    items = valid200[4][:100]
    for mode in ("complete", "hybrid"):
        for ex in sg.to_examples(items, mode):
            it = ex["stepgame"]
            q = ex["queries"][0]
            lay = ex["canonical"][0]
            assert set(lay) == {o["name"] for o in ex["objects"]}
            assert len({o["symbol"] for o in ex["objects"]}) == len(ex["objects"])
            assert q["relation"] == it["label"] and q["hops"] == 4
            pred = sg.predict(it)
            if pred is not None:
                assert sg.answer_from_layout(lay, *it["asked"]) == pred
            if not sg.noisy(ex):
                assert sg.answer_from_layout(lay, *it["asked"]) == it["label"]


def test_story_sentences_keeps_lead_ins_with_their_sentence():
    text = "G is to the left of R. The objects M and Q are over there. The object M is lower and slightly to the left of the object Q. C is on top of U."
    assert sg.story_sentences(text) == [
        "G is to the left of R.", "The objects M and Q are over there. The object M is lower and slightly to the "
        "left of the object Q.", "C is on top of U."]


def test_story_from_sentences_names_the_agents_when_the_item_does_not():
    outs = ["A | left | B\nA 0 0\nB 1 0", "C | above | B\nC 0 1\nB 0 0"]
    given = sg.story_from_sentences({"story": ["s1", "s2"], "agents": ["A", "B", "C"], "asked": ["A", "C"]}, outs)
    assert sg.story_from_sentences({"story": ["s1", "s2"]}, outs) == given
    assert given.splitlines()[:2] == ["A | left | B", "C | above | B"] and "C 1 1" in given
    assert sg.story_from_sentences({"story": ["s1"]}, ["nothing useful"]) == ""
    axes = [o.replace("| left |", "| left same |").replace("| above |", "| same up |") for o in outs]
    assert sg.story_from_sentences({"story": ["s1", "s2"]}, axes) == given  # relations as axis words
    assert sg.asked_agents("What is the relation of the agent X to the agent Y?") == ["X", "Y"]
    assert sg.asked_agents("Where is X?") == []
