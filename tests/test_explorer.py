"""Map explorer: HTML panels, live and static widgets built from synthetic run folders."""
from __future__ import annotations

import json
import sys
import types
from pathlib import Path

import pytest

from helpers import explorer

OBJECTS = [{"name": "Alice", "symbol": "A", "props": {}}, {"name": "the house", "symbol": "H", "props": {}},
           {"name": "Bob", "symbol": "B", "props": {}}]


def _record(i: int, split: str = "test_iid", valid: bool = True) -> dict:
    true = {"Alice": [1, 3], "the house": [1, 1], "Bob": [3, 1]}
    pred = {"Alice": [1, 3], "the house": [1, 1], "Bob": [0, 1]} if i % 2 else dict(true)
    return {
        "split": split, "id": f"{split}-{i:06d}", "text": f"Alice is above the house. Bob is right of the house. #{i}",
        "objects": OBJECTS, "width": 5, "height": 5,
        "raw": f"..A..\n.....\n.H.B.\n<{i}>", "valid": valid, "reason": "" if valid else "no grid found",
        "pred": [pred] if valid else [], "true": [true],
        "queries": [
            {"a": "Alice", "b": "the house", "state": 0, "relation": "above", "pred_relation": "above",
             "correct": True},
            {"a": "Bob", "b": "the house", "state": 0, "relation": "right",
             "pred_relation": ("left" if i % 2 else "right") if valid else None,
             "correct": (not i % 2) if valid else False},
        ],
    }


def make_run(root: Path, exp: str, h: str, n: int = 25, splits=("test_iid", "test_names")) -> Path:
    d = root / exp / h
    d.mkdir(parents=True)
    (d / "config.json").write_text(json.dumps({"experiment": exp, "formulation": "grid", "model": "tiny-random",
                                               "format": "grid", "target": "canonical", "dataset": "toy"}))
    rows = [_record(i, s, valid=(i % 7 != 3)) for s in splits for i in range(n)]
    (d / "predictions.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return d


@pytest.fixture
def two_runs(tmp_path):
    return [make_run(tmp_path, "exp_grid", "abc123def456"), make_run(tmp_path, "exp_coords", "0123456789ab")]


def test_render_marks_right_and_wrong():
    h = explorer.render_example_html(_record(1))
    assert 'class="swm-right"' in h and 'class="swm-wrong"' in h
    assert "✓" in h and "✗" in h and "queries right: <b>1/2</b>" in h
    assert h.count('table class="swm-grid"') == 2           # true and predicted map side by side
    assert "Alice is above the house" in h and "&lt;1&gt;" in h   # text and escaped raw output
    h0 = explorer.render_example_html(_record(0))
    assert 'class="swm-wrong"' not in h0 and "queries right: <b>2/2</b>" in h0


def test_render_grid_orientation_and_colours():
    h = explorer.render_example_html(_record(0))
    grid = h.split('table class="swm-grid">')[1].split("</table>")[0]
    rows = grid.split("<tr>")[1:]
    # y grows upward: Alice (y=3) is on printed row 1 (top row is y=4), the house (y=1) on printed row 3
    assert ">A</td>" in rows[1] and ">H</td>" in rows[3] and rows[1].startswith("<th>3</th>")
    assert explorer.PALETTE[0] in rows[1]


def test_render_invalid_out_of_bounds_and_states():
    h = explorer.render_example_html(_record(3, valid=False))
    assert "invalid output: no grid found" in h and h.count('table class="swm-grid"') == 1
    r = _record(0)
    r["pred"] = [{"Alice": [9, 9], "the house": [1, 1], "Zed": [0, 0]}]
    h = explorer.render_example_html(r)
    assert "outside the 5x5 grid" in h and "unknown object Zed" in h and "missing: Bob" in h
    r = _record(0)
    r["true"], r["pred"] = r["true"] * 2, r["pred"] * 2
    assert "(state 1)" in explorer.render_example_html(r)
    # a free-text prediction has no truth and no queries
    h = explorer.render_example_html({"text": "x", "objects": OBJECTS, "width": 5, "height": 5,
                                      "raw": "r", "valid": True, "pred": [{"Alice": [0, 0]}]})
    assert h.count('table class="swm-grid"') == 1


def test_pick_examples_round_robin():
    rows = [_record(i, s) for s in ("a", "b") for i in range(5)]
    got = explorer.pick_examples(rows, 4)
    assert [r["split"] for r in got] == ["a", "b", "a", "b"]
    assert len(explorer.pick_examples(rows, 50)) == 10


def test_static_explorer(two_runs):
    import ipywidgets as w
    tabs = explorer.static_explorer(two_runs, n=20)
    assert isinstance(tabs, w.Tab) and len(tabs.children) == 2
    for panel in tabs.children:
        head, slider, stack = panel.children
        assert isinstance(stack, w.Stack) and len(stack.children) == 20 and slider.max == 19
        assert {r.get("split") for r in explorer.pick_examples(explorer.load_predictions(two_runs[0]), 20)} == \
            {"test_iid", "test_names"}
    link = tabs.children[0].swm_link
    assert link.source == (tabs.children[0].children[1], "value")
    assert link.target == (tabs.children[0].children[2], "selected_index")
    single = explorer.static_explorer(two_runs[:1], n=5)
    assert isinstance(single, w.VBox) and len(single.children[2].children) == 5


def test_explore_widget(two_runs, monkeypatch):
    import ipywidgets as w
    ui = explorer.explore(two_runs)
    exp_dd, run_dd, split_row, idx, view = ui.children[:5]
    text_in, go, free_out = ui.children[-3:]
    assert set(exp_dd.options) == {"exp_grid", "exp_coords"}
    assert split_row.children[0].options == ("test_iid", "test_names")
    assert idx.max == 24 and "example #0 (of 25)" in view.value
    idx.value = 3
    assert "example #3 (of 25)" in view.value
    split_row.children[1].value = True            # only examples with a wrong query
    assert idx.max < 24 and 'swm-wrong' in view.value
    exp_dd.value = "exp_coords"
    assert run_dd.value == two_runs[1]

    # free text: a predict module that fails -> the message is shown, no exception
    bad = types.ModuleType("helpers.predict")
    bad.predict_texts = lambda run_dir, texts: (_ for _ in ()).throw(RuntimeError("no checkpoint here"))
    monkeypatch.setitem(sys.modules, "helpers.predict", bad)
    text_in.value = "Alice is above Bob."
    go.click()
    assert "no checkpoint here" in free_out.value and "RuntimeError" in free_out.value

    good = types.ModuleType("helpers.predict")
    good.predict_texts = lambda run_dir, texts: [{"raw": "A\nB", "valid": True, "width": 3, "height": 3,
                                                  "objects": [{"name": "Alice", "symbol": "A"},
                                                              {"name": "Bob", "symbol": "B"}],
                                                  "pred": [{"Alice": [0, 2], "Bob": [0, 1]}]} for _ in texts]
    monkeypatch.setitem(sys.modules, "helpers.predict", good)
    go.click()
    assert 'table class="swm-grid"' in free_out.value and "Alice is above Bob." in free_out.value
    assert isinstance(explorer.explore([]), w.HTML)


def test_find_runs(tmp_path):
    d = make_run(tmp_path, "e", "h1", n=2)
    assert explorer.find_runs(tmp_path) == [d]
    assert explorer.experiment_of(d) == "e" and "tiny-random" in explorer.run_label(d)
