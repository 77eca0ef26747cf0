"""Tests for the helpers.predict CLI on a tiny random model saved into a temporary run folder."""
from __future__ import annotations

import json

import pytest

from helpers import infer, models, predict


def make_run(path, fmt="coords", adapter=False):
    tok, model = models.load("tiny-random", device="cpu")
    if adapter:
        from peft import LoraConfig, get_peft_model
        model = get_peft_model(model, LoraConfig(r=2, target_modules=["q_proj", "v_proj"]))
        model.save_pretrained(path / "model")
        tok.save_pretrained(path / "model")
    else:
        models.save(tok, model, path / "model")
    (path / "config.json").write_text(json.dumps({"fmt": fmt, "model": "tiny-random", "style": "compact",
                                                  "max_new_tokens": 6, "data": {"width": 5, "height": 4}}))
    return path


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return make_run(tmp_path_factory.mktemp("run"))


def test_bad_lines_are_reported_and_skipped(run, tmp_path, capsys):
    inp = tmp_path / "stories.jsonl"
    inp.write_text("\n".join([json.dumps({"id": "a", "text": "Alice is above Bob."}),
                              "{not json",
                              json.dumps({"id": "b", "text": "  "}),
                              json.dumps({"id": "c", "text": "Carol is left of Dave.", "objects": ["Carol", "Dave"]})]))
    out = tmp_path / "maps.jsonl"
    assert predict.main(["--run", str(run), "--input", str(inp), "--output", str(out)]) == 0
    err = capsys.readouterr().err
    assert "line 2: not valid JSON" in err and "line 3" in err and "empty" in err
    rows = [json.loads(ln) for ln in out.read_text().splitlines()]
    assert [r["id"] for r in rows] == ["a", "c"]
    assert all({"objects", "states", "raw", "valid", "reason"} <= r.keys() for r in rows)


def test_valid_output_is_read_into_objects_and_grid(run, monkeypatch, capsys):
    monkeypatch.setattr(infer, "generate", lambda tok, model, prompts, *a, **k: ["Alice 1 3\nthe house 1 0"] * len(prompts))
    assert predict.main(["--run", str(run), "--text", "Alice is above the house."]) == 0
    out = capsys.readouterr().out
    assert ".A...\n.....\n.....\n.H...\nA=Alice, H=the house" in out  # top row first, y up
    rec = json.loads(out.strip().splitlines()[-1])
    assert rec["valid"] and rec["objects"] == [{"name": "Alice", "x": 1, "y": 3}, {"name": "the house", "x": 1, "y": 0}]
    assert rec["states"] == [rec["objects"]]


def test_multi_state_output(run, monkeypatch, capsys):
    raw = "State1:\nAlice 0 0\nBob 1 1\nState2:\nAlice 2 2\nBob 1 1"
    monkeypatch.setattr(infer, "generate", lambda tok, model, prompts, *a, **k: [raw] * len(prompts))
    assert predict.main(["--run", str(run), "--text", "Alice is below Bob. Alice moves.", "--objects", "Alice,Bob"]) == 0
    rec = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert rec["valid"] and len(rec["states"]) == 2 and rec["objects"][0] == {"name": "Alice", "x": 2, "y": 2}


def test_unknown_run_and_nothing_to_do_fail_clearly(tmp_path, run, capsys):
    assert predict.main(["--run", str(tmp_path / "nope"), "--text", "Alice is above Bob."]) == 2
    assert "not a run folder" in capsys.readouterr().err
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{oops\n")
    assert predict.main(["--run", str(run), "--input", str(bad)]) == 1
    assert "nothing to process" in capsys.readouterr().err


def test_lora_adapter_run_loads_base_plus_adapter(tmp_path):
    p = predict.load_run(make_run(tmp_path, fmt="grid", adapter=True))
    assert type(p.model).__name__.startswith("Peft") and p.fmt == "grid"
    out = predict.predict_records(p, [{"id": "x", "text": "A is above B.", "objects": ["A", "B"]}])
    assert out[0]["id"] == "x" and isinstance(out[0]["raw"], str)


def test_predict_reproduces_a_sentence_runs_evaluation(tmp_path, monkeypatch):
    """The predict command builds the prompt as the run's evaluation did (prefix, grid size, one sentence at a time,
    outputs joined): on the run's own test stories it gives the same raw outputs."""
    from helpers import experiments, paths, runs
    from helpers.experiments import Experiment
    monkeypatch.setattr(paths, "RUNS", tmp_path / "runs")
    monkeypatch.setattr(paths, "DATA", tmp_path / "data")
    exp = Experiment(experiment="parse", formulation="s", model="tiny-random", fmt="facts", style="sentences",
                     n_train=8, n_val=2, data={"n_objects": 3, "width": 6, "height": 5}, eval_sizes={"test_iid": 3},
                     train={"method": "lora", "epochs": 1, "batch_size": 8, "lr": 1e-3, "lora_top_k_layers": 1,
                            "save_every": 0}, max_new_tokens=12, prefix="Text: ")
    d = experiments.run(exp, verbose=False)
    rows = runs.read_jsonl(d / "predictions.jsonl")
    p = predict.load_run(d)
    assert (p.prefix, p.size_known, p.by_sentence, p.width, p.height) == ("Text: ", True, "facts", 6, 5)
    outs = predict.predict_records(p, [{"id": r["id"], "text": r["text"], "objects": [o["name"] for o in r["objects"]]}
                                       for r in rows])
    assert [o["raw"] for o in outs] == [r["raw"] for r in rows]
