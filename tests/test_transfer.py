"""The transfer method: a model trained on one experiment, applied unchanged to another one's stories."""
import shutil
from dataclasses import replace

import pytest

from helpers import experiments, paths, runs
from helpers.experiments import Experiment


def _source() -> Experiment:
    return Experiment(experiment="parse", formulation="src", model="tiny-random", fmt="facts", n_train=16, n_val=4,
                      data={"n_objects": 3, "width": 6, "height": 6}, eval_sizes={"test_iid": 4},
                      train={"method": "lora", "epochs": 1, "batch_size": 8, "lr": 1e-3, "lora_top_k_layers": 1,
                             "save_every": 0}, max_new_tokens=24)


def test_transfer_reuses_the_source_model_and_reproduces_its_outputs(tmp_path, monkeypatch):
    monkeypatch.setattr(paths, "RUNS", tmp_path / "runs")
    monkeypatch.setattr(paths, "DATA", tmp_path / "data")
    src = _source()
    sd = experiments.run(src, verbose=False)
    # same stories, nothing trained: greedy decoding with the reloaded adapter gives the source's raw outputs
    same = replace(src, formulation="transfer", method="transfer", train={"source": src.to_dict()})
    td = experiments.run(same, verbose=False)
    raw = lambda d: {r["id"]: r["raw"] for r in runs.read_jsonl(d / "predictions.jsonl")}
    assert raw(td) == raw(sd) and len(raw(td)) == 4
    assert experiments.source_of(same) == src
    # other stories (held-out names, a bigger grid): the transfer run scores them; the source is not retrained
    other = replace(same, formulation="transfer-other", eval_sizes={"test_names": 3, "test_grid": 3})
    od = experiments.run(other, verbose=False)
    assert set(runs.read_json(od / "results.json")["splits"]) == {"test_names", "test_grid"}
    assert len(list((tmp_path / "runs" / "parse").iterdir())) == 3


def test_sample_and_verify_rescoring_keeps_greedy_where_valid_and_logs_each_try(tmp_path, monkeypatch):
    """``verify``: greedy outputs the format reader accepts are kept as they are; every story's try is logged; the
    run's hash is unchanged for runs without it."""
    monkeypatch.setattr(paths, "RUNS", tmp_path / "runs")
    monkeypatch.setattr(paths, "DATA", tmp_path / "data")
    src = _source()
    assert "verify" not in src.to_dict() and Experiment.from_dict(src.to_dict()) == src
    sd = experiments.run(src, verbose=False)
    ver = replace(src, formulation="verify", method="transfer", train={"source": src.to_dict()}, verify=2)
    vd = experiments.run(ver, verbose=False)
    tries = runs.read_json(vd / "verify.json")
    src_rows = {r["id"]: r for r in runs.read_jsonl(sd / "predictions.jsonl")}
    assert len(tries) == 4 and set(tries.values()) <= {-1, 0, 1, 2}
    for r in runs.read_jsonl(vd / "predictions.jsonl"):
        if src_rows[r["id"]]["valid"]:
            assert tries[r["id"]] == 0 and r["raw"] == src_rows[r["id"]]["raw"]
        else:
            assert tries[r["id"]] != 0 and r["valid"] == (tries[r["id"]] > 0)


def test_transfer_errors_are_readable(tmp_path, monkeypatch):
    monkeypatch.setattr(paths, "RUNS", tmp_path / "runs")
    monkeypatch.setattr(paths, "DATA", tmp_path / "data")
    src = _source()
    with pytest.raises(ValueError, match="needs train="):
        experiments.run(replace(src, formulation="t", method="transfer", train={}), verbose=False)
    sd = experiments.run(src, verbose=False)
    shutil.rmtree(sd / "model")  # a committed run without its (uncommitted) model
    with pytest.raises(FileNotFoundError, match="models are not committed"):
        experiments.run(replace(src, formulation="t", method="transfer", train={"source": src.to_dict()}),
                        verbose=False)


def test_sentence_prompts_follow_the_source_experiment():
    """A transfer run prompts each sentence as its source was trained (format, style, prefix), whatever its own
    format says about reading the joined output."""
    from helpers.formats import example_prompt
    src = replace(_source(), style="sentences", prefix="Text: ")
    exp = replace(src, formulation="t", method="transfer", fmt="coords", style="stated", prefix="",
                  data={**src.data, "mode": "sentences"}, train={"source": src.to_dict()})
    seen = []

    def fake(prompts, examples):
        seen.extend(prompts)
        return ["A | left | B"] * len(prompts)
    story = {"text": "A is left of B. B is above C.", "width": 6, "height": 6,
             "stepgame": {"story": ["A is left of B.", "B is above C."], "agents": ["A", "B", "C"], "asked": ["A", "C"]}}
    out = experiments._by_sentence(fake, exp, prompt=src)(["ignored"], [story])
    assert seen == [example_prompt({**story, "text": s}, "facts", "sentences", "Text: ")
                    for s in story["stepgame"]["story"]]
    assert out[0].startswith("A | left | B")  # relation lines, then the agents' coordinates laid out from them


def test_repeated_sentences_are_generated_once_and_read_back_in_place():
    """Reading by sentence generates each distinct prompt once (greedy outputs depend on the prompt alone), and every
    story still gets its own outputs in its own sentence order; with ``unique=False`` every sentence is generated."""
    calls = []

    def fake(prompts, examples):
        calls.append(list(prompts))
        return [p.split("Text: ")[-1].split(" is ")[0] + " | left | X" for p in prompts]
    stories = [{"text": "A is left of X. B is left of X.", "width": 6, "height": 6},
               {"text": "B is left of X. A is left of X. A is left of X.", "width": 6, "height": 6}]
    out = experiments.read_by_sentence(fake, stories, "facts", "facts", "sentences", "Text: ")
    assert len(calls) == 1 and len(calls[0]) == 2  # two distinct sentences among five
    assert [o.count("| left |") for o in out] == [2, 3]
    first = [ln.split(" |")[0] for ln in out[1].splitlines() if "| left |" in ln]
    assert first == ["B", "A", "A"]
    calls.clear()
    assert experiments.read_by_sentence(fake, stories, "facts", "facts", "sentences", "Text: ", unique=False) == out
    assert len(calls[0]) == 5
