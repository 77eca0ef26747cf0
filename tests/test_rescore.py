"""Rescoring a finished run from its stored raw outputs reproduces its scores (no model needed)."""
import json

from helpers import experiments, paths, profiles, runs


def test_rescore_reproduces_scores(tmp_path, monkeypatch):
    monkeypatch.setattr(paths, "RUNS", tmp_path / "runs")
    monkeypatch.setattr(paths, "DATA", tmp_path / "data")
    exp = profiles.plan("coords", "smoke")["baselines"][2]  # the rule parser: fast, deterministic, has raw outputs
    d = experiments.run(exp, verbose=False)
    before = runs.read_json(d / "results.json")
    rows = runs.read_jsonl(d / "predictions.jsonl")
    runs.write_jsonl(d / "predictions.jsonl", [{**r, "raw": ""} if i == 0 else r for i, r in enumerate(rows)])
    after = experiments.rescore(d)
    assert after["timings"] == before["timings"] and "rescored" in after
    first = rows[0]["split"]
    assert after["splits"][first]["validity"]["k"] == before["splits"][first]["validity"]["k"] - 1  # the blanked row
    runs.write_jsonl(d / "predictions.jsonl", rows)
    same = lambda a, b: json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)  # NaN-safe equality
    assert same(experiments.rescore(d)["splits"], before["splits"])
