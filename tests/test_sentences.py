"""Reading one sentence at a time: splitting, per-sentence training examples, joining the outputs."""
import pytest

from helpers import formats, generate, metrics, profiles, sentences
from helpers.generate import DataConfig


def test_split_sentences():
    assert sentences.split(" Alice is above Bob.  The box is at (3, 4). Bob walks 2 steps left.\n") == [
        "Alice is above Bob.", "The box is at (3, 4).", "Bob walks 2 steps left."]
    assert sentences.split("") == []


@pytest.mark.parametrize("cfg_kw", [
    {}, {"structure": "chain", "n_objects": 6}, {"n_actions": 3}, {"mode": "exact", "props": 0.5, "n_actions": 2,
                                                                   "n_objects": 4},
    # the widened phrasings and names (made-up names, letter-only scenes such as "A is at K's 9 o'clock.")
    {"template_set": "wide", "name_pool": "wide", "n_actions": 2, "structure": "chain", "n_objects": 5}])
def test_gold_sentence_targets_joined_give_the_story_facts(cfg_kw):
    """Per-sentence gold targets, joined, read back as exactly the story's facts and its canonical map."""
    exs = list(generate.iter_split(DataConfig(**{**profiles.SEED_DATA, **cfg_kw}), "test_iid", 40, 3))
    n_sent = 0
    raws = []
    for ex in exs:
        subs = sentences.sentence_examples(ex)
        n_sent += len(subs)
        assert all(len(s["states"]) == 1 + len(formats.normalize_facts(s["facts"])["actions"]) for s in subs)
        raws.append(sentences.join([formats.write_target(s, "facts", style="sentences") for s in subs]))
    assert n_sent == sum(len(sentences.split(ex["text"])) for ex in exs)  # every sentence is a training example
    parsed = [formats.read_target(r, "facts", ex, "sentences") for r, ex in zip(raws, exs)]
    assert all(p.valid and metrics.facts_equal(p.facts, ex["facts"]) for p, ex in zip(parsed, exs))
    assert metrics.score(exs, parsed)["relation_acc"]["value"] == 1.0


def test_join_merges_entities_and_keeps_order():
    got = sentences.join(["- a | colour=red\na | left | b", "- A | size=big | colour=blue\n- b\n", "- c | oops",
                          "move a 1 0"])
    assert got.splitlines() == ["- a | colour=red | size=big", "- b", "- c | oops", "a | left | b", "move a 1 0"]
