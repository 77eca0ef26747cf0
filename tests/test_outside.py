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
        assert s["relation_acc_as_labelled"]["value"] >= s["relation_acc"]["value"]  # inverted templates fixed
    assert outside.stepgame_table(d).shape == (5, 10)


@pytest.mark.skipif(not outside.available(), reason="../shared/benchmarks is not here")
@pytest.mark.parametrize("task", [17, 19])
def test_rule_babi_artifact(tmp_path, monkeypatch, task):
    monkeypatch.setattr(paths, "RUNS", tmp_path)
    d = outside.rule_babi(task, holdout_frac=0.05)
    s = runs.read_json(d / "results.json")["splits"]["heldout"]["relation_acc"]
    assert s["n"] > 0 and s["value"] == 1.0


@pytest.mark.skipif(not outside.available(), reason="../shared/benchmarks is not here")
@pytest.mark.parametrize("mode", ["complete", "hybrid"])
def test_stepgame_dataset_gold_maps_score_like_the_reader(tmp_path, monkeypatch, mode):
    """The model-based path end to end without a model: writing the gold map in the target format, reading it back
    and scoring it must give the reader's accuracy on the same stories (as_labelled), and the splits must not overlap."""
    from helpers import formats, generate, metrics, stepgame
    monkeypatch.setattr(paths, "DATA", tmp_path)
    data = {"mode": mode, "train_k": [1, 2], "as_labelled": True}
    name = outside.stepgame_dataset(data, n_train=40, n_val=8, eval_sizes={"valid_k2": 30, "valid_k5": 30}, seed=1,
                                    )
    assert outside.stepgame_dataset(data, 40, 8, {"valid_k2": 30, "valid_k5": 30}, 1) == name  # reused
    train = generate.load_split(name, "train_0", root=tmp_path)
    val = generate.load_split(name, "val_0", root=tmp_path)
    assert len(train) == 40 and len(val) == 8
    assert not {e["id"] for e in train} & {e["id"] for e in val}
    for split, k in (("valid_k2", 2), ("valid_k5", 5)):
        exs = generate.load_split(name, split, root=tmp_path)
        parsed = [formats.read_target(formats.write_target(e, "coords"), "coords", e) for e in exs]
        got = metrics.score(exs, parsed)["relation_acc"]["value"]
        items = stepgame.load(paths.SHARED_BENCHMARKS / "stepgame" / "valid", k=k, limit=30)
        want = sum(stepgame.predict(it, as_labelled=True) == it["label"] for it in items) / len(items)
        assert got == pytest.approx(want)
    with pytest.raises(ValueError, match="valid_k1 .. valid_k10"):
        outside.stepgame_dataset(data, 4, 2, {"test_iid": 3}, 0)


@pytest.mark.skipif(not outside.available(), reason="../shared/benchmarks is not here")
def test_stepgame_sentences_mode_gold_outputs_score_like_the_reader(tmp_path, monkeypatch):
    """Sentence mode: training examples are single sentences; per-sentence gold targets joined by
    ``story_from_sentences`` give the reader's accuracy on whole validation stories."""
    from helpers import formats, generate, metrics, stepgame
    monkeypatch.setattr(paths, "DATA", tmp_path)
    data = {"mode": "sentences", "train_k": [1, 2], "as_labelled": True}
    name = outside.stepgame_dataset(data, n_train=20, n_val=4, eval_sizes={"valid_k4": 30}, seed=1)
    train = generate.load_split(name, "train_0", root=tmp_path)
    assert len(train) > 20 and all(len(e["objects"]) == 2 for e in train)
    assert all(formats.write_target(e, "coords", style="stated").count("|") == 2 for e in train)
    exs = generate.load_split(name, "valid_k4", root=tmp_path)
    assert len(exs) == 30 and all(len(e["objects"]) > 2 for e in exs)
    gold = {e["text"]: formats.write_target(e, "coords", style="stated")
            for e in stepgame.sentence_examples([e["stepgame"] for e in exs], as_labelled=True)}
    raws = [stepgame.story_from_sentences(e["stepgame"], [gold.get(s.strip(), "") for s in e["stepgame"]["story"]])
            for e in exs]
    parsed = [formats.read_target(r, "coords", e, style="stated") for r, e in zip(raws, exs)]
    assert all(p.valid for p in parsed)
    got = metrics.score(exs, parsed)["relation_acc"]["value"]
    want = sum(stepgame.predict(e["stepgame"], as_labelled=True) == e["stepgame"]["label"] for e in exs) / len(exs)
    assert got == pytest.approx(want)
    # a story whose sentences the model could not read still gets a map (every agent in its own component)
    blank = formats.read_target(stepgame.story_from_sentences(exs[0]["stepgame"], ["??"]), "coords", exs[0], "stated")
    assert blank.valid and len(blank.states[0]) == len(exs[0]["objects"])


@pytest.mark.skipif(not outside.available(), reason="../shared/benchmarks is not here")
@pytest.mark.parametrize("task", [17, 19])
def test_babi_dataset_and_answers_from_gold_maps(tmp_path, monkeypatch, task):
    """Held-out stories are the rule run's; predictions that are the gold maps answer every question."""
    from helpers import babi, generate
    monkeypatch.setattr(paths, "DATA", tmp_path / "data")
    name = outside.babi_dataset(task, {"size": "10k", "holdout_frac": 0.1}, 30, 5, {"heldout": 12, "heldout_more": 7},
                                seed=0)
    more = generate.load_split(name, "heldout_more", root=tmp_path / "data")
    train = generate.load_split(name, "train_0", root=tmp_path / "data")
    held = generate.load_split(name, "heldout", root=tmp_path / "data")
    _, want = babi.holdout(babi.load(paths.SHARED_BENCHMARKS / "babi", task=task, size="1k"), 0.1, 0)
    assert [e["id"] for e in held] == [s["id"] for s in want[:12]]
    assert len(train) == 30 and len(more) == 7 and not {e["text"] for e in train} & {e["text"] for e in held}
    assert not {e["id"] for e in train} & {e["id"] for e in more}
    with pytest.raises(ValueError, match="stories outside the held-out set"):
        outside.babi_dataset(task, {"size": "1k", "holdout_frac": 0.1}, 5000, 5, {"heldout": 12}, seed=0)
    rows = [{"split": "heldout", "id": e["id"], "valid": True, "pred": e["canonical"]} for e in held]
    rows.append({"split": "heldout", "id": held[0]["id"], "valid": False, "pred": []})  # an invalid map: all wrong
    got = outside.babi_answer_stat(held, rows)
    nq = sum(len(e["babi"]["questions"]) for e in held)
    assert got["n"] == nq + len(held[0]["babi"]["questions"]) and got["k"] == nq


@pytest.mark.skipif(not outside.available(), reason="../shared/benchmarks is not here")
def test_outside_model_run_stores_no_benchmark_text(tmp_path, monkeypatch):
    """A (tiny) model run on StepGame scores every k and keeps the benchmark's stories out of runs/."""
    from helpers import experiments, generate, profiles
    monkeypatch.setattr(paths, "RUNS", tmp_path / "runs")
    monkeypatch.setattr(paths, "DATA", tmp_path / "data")
    exp = profiles.outside_plan("smoke")["stepgame"][1]
    d = experiments.run(exp, verbose=False)
    res = runs.read_json(d / "results.json")
    assert sorted(res["splits"]) == sorted(f"valid_k{k}" for k in range(1, 11))
    stories = {e["id"]: e["text"] for e in generate.load_split(res["dataset"], "valid_k3", root=tmp_path / "data")}
    body = (d / "predictions.jsonl").read_text()
    assert stories and not any(t[:60] in body for t in stories.values())


def test_stepgame_same_stories_compares_on_the_common_prefix(tmp_path):
    """Runs scored on different numbers of stories per k are compared on the first n both scored."""
    def fake(name, oks):
        d = tmp_path / name
        d.mkdir()
        runs.write_jsonl(d / "predictions.jsonl", [{"split": s, "queries": [{"correct": ok}]}
                                                   for s, col in oks.items() for ok in col])
        return d
    a = fake("a", {"valid_k1": [True, False, True, True], "valid_k2": [True] * 2})
    b = fake("b", {"valid_k1": [True, True], "valid_k2": [False, True, True]})
    t = outside.stepgame_same_stories({"a": a, "b": b})
    assert list(t.index) == [1, 2] and list(t.n) == [2, 2]
    assert t.loc[1, "a"].startswith("50 [") and t.loc[1, "b"].startswith("100 [") and t.loc[2, "b"].startswith("50 [")
    # a run scored on far fewer stories is left out instead of shrinking the comparison
    c = fake("c", {"valid_k1": [False]})
    t = outside.stepgame_same_stories({"a": a, "c": c})
    assert t.loc[1, "n"] == 4 and t.loc[1, "c"] == "" and t.loc[1, "a"].startswith("75 [")


def test_stepgame_same_stories_leaves_out_a_rescoring_of_a_listed_model(tmp_path, monkeypatch):
    """A transfer run whose source run is listed only re-scores that model on more stories: not compared again."""
    monkeypatch.setattr(paths, "RUNS", tmp_path)
    from helpers.experiments import Experiment
    src = Experiment(experiment="stepgame", formulation="trained").to_dict()
    a = runs.run_dir("stepgame", src)
    more = tmp_path / "more"
    for d, col in ((a, [True, False]), (more, [True, False, False, False, False, False])):
        d.mkdir(parents=True)
        runs.write_jsonl(d / "predictions.jsonl", [{"split": "valid_k1", "queries": [{"correct": ok}]} for ok in col])
    runs.write_json(more / "config.json", {"method": "transfer", "train": {"source": src}})
    t = outside.stepgame_same_stories({"a": a, "more": more})
    assert list(t.columns) == ["n", "a"] and t.loc[1, "n"] == 2  # without the rule, n would be 6 and "a" blank


@pytest.mark.skipif(not outside.available(), reason="../shared/benchmarks is not here")
def test_stepgame_vs_ceiling_scores_the_reader_on_the_same_stories(tmp_path, monkeypatch):
    from helpers import stepgame
    monkeypatch.setattr(paths, "DATA", tmp_path / "data")
    items = stepgame.load(paths.SHARED_BENCHMARKS / "stepgame", k=8, split="valid", limit=120)
    ds = paths.DATA / "stepgame-x"
    ds.mkdir(parents=True)
    runs.write_jsonl(ds / "valid_k8.jsonl", [{"id": it["id"], "stepgame": it} for it in items])
    reader_ok = [stepgame.predict(it, as_labelled=True) == it["label"] for it in items]
    md = tmp_path / "run"
    md.mkdir()
    runs.write_json(md / "results.json", {"dataset": "stepgame-x"})
    # the model scored the first 100 stories and got exactly the reader's ones right, but one
    first = [{"split": "valid_k8", "id": it["id"], "queries": [{"correct": ok}]} for it, ok in zip(items, reader_ok)][:100]
    first[reader_ok.index(True)]["queries"][0]["correct"] = False
    runs.write_jsonl(md / "predictions.jsonl", first)
    t = outside.stepgame_vs_ceiling(md)
    ceiling = 100 * sum(reader_ok[:100]) / 100
    assert list(t.index) == [8] and t.loc[8, "n"] == 100
    assert t.loc[8, "reader as labelled % (ceiling)"] == round(ceiling, 1)
    assert t.loc[8, "model %"] == round(ceiling - 1, 1)


@pytest.mark.skipif(not outside.available(), reason="../shared/benchmarks is not here")
def test_scored_stories_converts_the_dataset_again_on_a_fresh_checkout(tmp_path, monkeypatch):
    """The StepGame dataset files are not committed: a run's scored stories are rebuilt from its config."""
    md = paths.RUNS / "stepgame" / "2d8bc6725f"  # a committed zero-shot run, 30 stories per k
    monkeypatch.setattr(paths, "DATA", tmp_path / "data")
    scored = outside._scored_stories(md)
    preds = runs.read_jsonl(md / "predictions.jsonl")
    assert sorted(scored) == list(outside.STEPGAME_KS)
    assert sum(len(v) for v in scored.values()) == len(preds)
    assert [ok for _, ok in scored[1]] == [bool(r["queries"][0].get("correct")) for r in preds
                                          if r["split"] == "valid_k1"]


def test_same_answers_counts_shared_stories_and_equal_answers(tmp_path):
    """Only stories both runs scored count; a story is the same when every query's predicted relation is."""
    def write(d, preds):
        d.mkdir()
        runs.write_jsonl(d / "predictions.jsonl", [{"id": i, "split": "valid_k1", "queries": [{"pred": p}]}
                                                   for i, p in preds.items()])
    write(tmp_path / "a", {"s1": "left", "s2": "above", "s3": None})
    write(tmp_path / "b", {"s1": "left", "s2": "below", "s4": "right"})
    t = outside.same_answers(tmp_path / "a", tmp_path / "b")
    assert t.to_dict("records") == [{"split": "valid_k1", "stories in both": 2, "same answers": 1}]
