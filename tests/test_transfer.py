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
