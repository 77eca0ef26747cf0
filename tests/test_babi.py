"""bAbI tasks 17 and 19 adapter: loading, rule pipeline, conversion, answers from maps (skips without data)."""
from __future__ import annotations

import pytest

from helpers import babi, world
from helpers.paths import SHARED_BENCHMARKS

BB = SHARED_BENCHMARKS / "babi"
pytestmark = pytest.mark.benchmarks
needs_data = pytest.mark.skipif(not BB.is_dir(), reason=f"benchmarks folder {BB} absent")

T17 = """1 The triangle is above the pink rectangle.
2 The blue square is to the left of the triangle.
3 Is the pink rectangle to the right of the blue square?\tyes\t1 2
4 Is the blue square below the pink rectangle?\tno\t2 1
1 The red sphere is to the left of the yellow square.
2 The red sphere is below the pink rectangle.
3 Is the pink rectangle to the right of the yellow square?\tno\t2 1
"""
T19 = """1 The garden is west of the kitchen.
2 The office is east of the bathroom.
3 The bedroom is south of the office.
4 The hallway is north of the kitchen.
5 The hallway is east of the office.
6 How do you go from the office to the kitchen?\te,s\t5 4
"""


def test_load_small_file(tmp_path):
    f = tmp_path / "qa17_mine.txt"
    f.write_text(T17)
    st = babi.load(f, 17)
    assert len(st) == 2
    assert st[0]["statements"] == ["The triangle is above the pink rectangle.",
                                   "The blue square is to the left of the triangle."]
    assert st[0]["questions"][1] == {"question": "Is the blue square below the pink rectangle?", "answer": "no",
                                     "support": [2, 1], "n_before": 2}
    assert babi.evaluate(st)["rule_acc"] == 1.0
    with pytest.raises(babi.BabiError, match="does not exist"):
        babi.load(tmp_path / "nope", 17)
    (tmp_path / "bad.txt").write_text("hello\n")
    with pytest.raises(babi.BabiError, match="malformed"):
        babi.load(tmp_path / "bad.txt", 17)


def test_holdout_deterministic():
    stories = [{"id": i} for i in range(100)]
    tr, ho = babi.holdout(stories, 0.2, seed=3)
    assert len(ho) == 20 and len(tr) == 80 and not {s["id"] for s in tr} & {s["id"] for s in ho}
    assert babi.holdout(stories, 0.2, seed=3)[1] == ho


def test_task19_nonunit_world_and_map_answers(tmp_path):
    f = tmp_path / "qa19_mine.txt"
    f.write_text(T19)
    st = babi.load(f, 19)
    q = st[0]["questions"][0]
    assert babi.solve_question(st[0], q) == "e,s"
    ex = babi.to_examples(st)[0]
    lay = ex["canonical"][0]
    assert len({tuple(p) for p in lay.values()}) == 6  # unit steps would put bedroom on the garden
    assert babi.answer_19(lay, q["question"]) == "e,s"
    assert len({o["symbol"] for o in ex["objects"]}) == 6
    # a plain unit map: kitchen north of garden, garden west of office
    m = {"kitchen": [0, 1], "garden": [0, 0], "office": [1, 0]}
    assert babi.answer_19(m, "How do you go from the kitchen to the office?") == "s,e"
    assert babi.answer_19(m, "How do you go from the office to the kitchen?") == "w,n"
    assert babi.answer_19({"kitchen": [0, 0]}, "How do you go from the kitchen to the office?") is None
    assert babi.answer_19({"kitchen": [0, 0], "office": [0, 0]}, "How do you go from the kitchen to the office?") is None


def test_answer_17_from_map():
    m = {"triangle": [1, 1], "pink rectangle": [1, 0], "blue square": [0, 1]}
    assert babi.answer_17(m, "Is the pink rectangle to the right of the blue square?") == "yes"
    assert babi.answer_17(m, "Is the blue square below the pink rectangle?") == "no"
    assert babi.answer_17(m, "Is the red cube below the pink rectangle?") is None
    assert babi.answer_17(m, "What?") is None


@needs_data
@pytest.mark.parametrize("task,size", [(17, "1k"), (17, "10k"), (19, "1k"), (19, "10k")])
def test_rule_pipeline_on_training_files(task, size):
    st = babi.load(BB, task, size, limit=200)
    assert len(st) >= 125  # the 1k task 17 file holds 125 stories of 8 questions
    r = babi.evaluate(st)
    assert r["rule_acc"] >= 0.98 and r["map_acc"] >= 0.98, r


@needs_data
@pytest.mark.parametrize("task", [17, 19])
def test_conversion(task):
    st = babi.load(BB, task, "1k", limit=100)
    for s, ex in zip(st, babi.to_examples(st)):
        lay = ex["canonical"][0]
        assert ex["states"] == ex["canonical"] and ex["mode"] == "exact"
        assert [o["name"] for o in ex["objects"]] == list(lay)
        assert len({o["symbol"] for o in ex["objects"]}) == len(ex["objects"])
        assert all(world.in_bounds(tuple(p), ex["width"], ex["height"]) for p in lay.values())
        assert min(p[0] for p in lay.values()) == 0 and min(p[1] for p in lay.values()) == 0
        assert len(ex["queries"]) == len(s["questions"])
        fn = babi.answer_17 if task == 17 else babi.answer_19
        for q, qq in zip(s["questions"], ex["queries"]):
            assert fn(lay, q["question"]) == q["answer"]
            assert world.relation(tuple(lay[qq["a"]]), tuple(lay[qq["b"]])) == qq["relation"]
