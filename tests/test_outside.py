"""Outside-benchmark run artifacts (skipped when ../shared/benchmarks is absent)."""
import pytest

from helpers import outside, paths, runs


@pytest.mark.skipif(not outside.available(), reason="../shared/benchmarks is not here")
def test_rule_stepgame_artifact(tmp_path, monkeypatch):
    monkeypatch.setattr(paths, "RUNS", tmp_path)
    d = outside.rule_stepgame(n_per_k=30)
    res = runs.read_json(d / "results.json")
    assert sorted(res["splits"]) == sorted(f"k{k}" for k in range(1, 11))
    for k in range(1, 11):
        s = res["splits"][f"k{k}"]
        assert s["relation_acc"]["n"] == 30
        assert s["relation_acc_clean"]["value"] == 1.0  # the reader is exact where the labels are not noisy
    assert outside.stepgame_table(d).shape == (4, 10)


@pytest.mark.skipif(not outside.available(), reason="../shared/benchmarks is not here")
@pytest.mark.parametrize("task", [17, 19])
def test_rule_babi_artifact(tmp_path, monkeypatch, task):
    monkeypatch.setattr(paths, "RUNS", tmp_path)
    d = outside.rule_babi(task, holdout_frac=0.05)
    s = runs.read_json(d / "results.json")["splits"]["heldout"]["relation_acc"]
    assert s["n"] > 0 and s["value"] == 1.0
