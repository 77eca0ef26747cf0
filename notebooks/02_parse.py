# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 02 · Text -> structured facts -> map
#
# The seed's first experiment asked the model to write the facts of the story (entities, properties, relations,
# actions, and the states they lead to) and judged it "a failure, too complex to parse". Here the model writes the
# facts, and the *reference solver* (01_data) turns them into a map, per state for stories with actions.
# We report triple precision/recall/F1 and exact match of the facts, and the relation accuracy of the solver's map.

# %% tags=["parameters"]
PROFILE = "default"
SEED = 0
MODEL = None

# %%
from IPython.display import Markdown, display

from helpers import experiments, profiles, views
from helpers.settings import plot_style

plot_style()
plan = profiles.plan("parse", PROFILE, model=MODEL, seed=SEED)
run = {group: experiments.run_all(exps) for group, exps in plan.items()}
display(Markdown("Runs of this notebook: " + ", ".join(f"`{g}`: {len(v)}" for g, v in run.items())))

# %% [markdown]
# ## 1. Replication: verbose JSON facts
# The seed's format: one JSON object with entities, properties, relations and actions per state.

# %%
views.replication(run["replication"][0], run["baselines"], "02_replication")

# %% [markdown]
# ## 2. Facts quality: triples and exact match
# Relations are compared as triples `(A, relation, B)` where `A r B` equals `B inverse(r) A`.

# %%
dirs = run["replication"] + run["fixed"] + run["scaled"] + run["baselines"][2:]
views.results_table(dirs, metric="triple_f1")

# %%
views.results_table(dirs, metric="facts_exact_match")

# %% [markdown]
# ## 3. Fixed: compact facts
# One short line per fact (`Alice | above | the house`) instead of nested JSON: fewer tokens to get wrong; trained
# with the fixed schedule (the seed's 1000 examples and 3 epochs, learning rate 3e-3 instead of 1e-3).

# %%
views.compare(dirs, [views.label_of(d) for d in dirs], "02_fixed_vs_seed", metric="triple_f1",
              title="facts: triple F1")

# %% [markdown]
# ## 4. Scaled: more data and more adapted layers
# The compact format again, with the profile's scaled budget (`helpers/profiles.py`: in `default`, 3000 training
# stories instead of 1000, LoRA on the top 8 of 30 layers instead of 4, 2 epochs). Against the target
# (triple F1 >= 99%):

# %%
views.results_table(dirs)

# %%
views.targets(run["scaled"][0], metric="triple_f1")

# %%
views.losses(run["fixed"] + run["scaled"], ["fixed (1000 stories, top-4)", "scaled", "scaled-mix"], "02_scaled_loss")

# %%
views.examples(run["scaled"][0], n=2, wrong_only=True)

# %% [markdown]
# ## 5. Scaled on the training mixture, scored on every split
# `scaled-mix`: the same settings on more stories (`default`: 5000) drawn from the training mixture of the fixed
# formulation (half the seed's setting, half multi-hop chains and trees of 4 objects and stories with one action).
# Facts are written sentence by sentence, so stories with more objects, longer chains or more actions only need more
# lines of the same kind; the solver does the multi-hop reasoning. Test splits: held-out names, +2 objects, a 20x20
# grid, held-out templates, 6-object chains, 3 actions (relation accuracy of the final state included).

# %%
views.all_splits(run["scaled"][1:], ["scaled-mix"], "02_scaled_mix_splits", show_targets=True)

# %%
views.targets(run["scaled"][1], metric="triple_f1")

# %%
views.targets(run["scaled"][1])

# %%
views.examples(run["scaled"][1], split="test_actions", n=2, wrong_only=True)

# %% [markdown]
# ## 6. One sentence at a time
# The whole-story model writes at most as many entities, relations and actions as its training stories had (see the
# examples above). `scaled-sentences` reads one sentence at a time: the model sees a single sentence and writes the
# facts it states; code splits the story at sentence ends and concatenates the outputs, and the solver builds the
# map (`helpers/sentences.py`; with gold per-sentence outputs this pipeline reproduces every story's facts exactly,
# `tests/test_sentences.py`). Trained on the sentences of fewer stories of the same mixture (`default`: 1500), same
# LoRA settings.

# %%
if len(run["scaled"]) > 2:
    sent = run["scaled"][2]
    display(views.all_splits(run["scaled"][1:], ["scaled-mix (whole story)", "scaled-sentences"],
                             "02_sentences_vs_story", show_targets=True))
    display(views.targets(sent, metric="triple_f1"))
    display(views.targets(sent))
    views.examples(sent, n=2, wrong_only=True)

# %% [markdown]
# ## 7. Why unseen names fail: the first token
# `scaled-sentences` misses the generalisation targets on unseen names and held-out phrasings. Its wrong stories
# on `test_names` (above) write names that are not in the story ("Uususuf" for "Yusuf", a pool name for "a heron"),
# and these names start their sentence. In the prompt a sentence-initial name is the very first token of the
# sequence, and it is tokenized without its leading space, so its pieces differ from the ones the model must write
# on its output line (table below, the model's own tokenizer). Elsewhere in a sentence, and after a short prefix,
# the pieces are the same. Two runs test this:
#
# - `scaled-sentences-prefix`: the same data and training as `scaled-sentences`; only the prompt starts with
#   `Text: ` (`profiles.PREFIX`, `Experiment.prefix`);
# - `wide-sentences`: the prefix, plus widened training data (`profiles.WIDE_MIX`): three quarters of the stories in
#   the "wide" phrasings (the StepGame reader's sentence patterns, more move verbs, both axis orders) with the
#   "wide" name pool (400 made-up names, and letter-only scenes as in StepGame), a quarter with two actions. The
#   test splits are the same stories as for the other facts runs; the held-out names and phrasings stay unseen
#   (`tests/test_generate.py` checks that the sets are disjoint).

# %%
if run.get("wide"):
    from helpers import analysis, models
    tok = models.load(plan["wide"][0].model)[0]
    if hasattr(tok, "tokenize"):  # a subword tokenizer (the smoke profile's word-level one has no pieces to show)
        display(analysis.first_token_tokens(tok, ["Yusuf", "A beech", "F"], profiles.PREFIX))
    labels = ["scaled-sentences", "scaled-sentences-prefix", "wide-sentences"]
    dirs = [run["scaled"][2]] + run["wide"][:2]
    display(analysis.invented_names(dirs, labels, ("test_iid", "test_names", "test_templates", "test_actions")))
    display(views.all_splits(dirs, labels, "02_prefix_wide", show_targets=True))
    display(Markdown(analysis.split_findings(dirs, labels)))
    for d in run["wide"][:2]:
        display(Markdown(f"**{views.label_of(d)}**: targets"))
        display(views.targets(d))
        display(views.targets(d, metric="triple_f1"))
    views.examples(run["wide"][1], split="test_names", n=2, wrong_only=True)
    views.examples(run["wide"][1], split="test_templates", n=2, wrong_only=True)
    views.examples(run["wide"][1], split="test_actions", n=2, wrong_only=True)

# %% [markdown]
# Forty stories per generalisation split leave wide intervals, and a story's queries are not independent. The same
# trained `wide-sentences` model was therefore scored again on five times as many stories of the three splits it
# was weakest on (`wide-sentences-more`, method `transfer`: no training; the first stories are those above).

# %%
if len(run.get("wide", [])) > 2:
    display(views.targets(run["wide"][2]))
    display(Markdown(analysis.split_findings([run["wide"][1], run["wide"][2]],
                                             ["wide-sentences", "wide-sentences-more"])))

# %% [markdown]
# Reading the tables: the prefix alone changes how often a story's facts name an object that is not in it (a name
# copied wrongly), and with it the accuracy on unseen names; it leaves held-out phrasings and actions where they
# were. The widened data then moves those two. The remaining `test_names` errors cut multi-word names short ("an
# apple" for "an apple tree"). The remaining `test_templates` errors either invent a relation from a held-out word
# ("lies higher than X and further right" -> `higher-right`), or keep one axis of a held-out diagonal phrasing ("up
# and to the right" -> `right`). The examples above show both.

# %% [markdown]
# ## 8. Held-out phrasings: one word per axis
# Per held-out phrasing (its names replaced by X), for the `wide-sentences` model on the five-times-larger sample:
# the share of sentences whose stated relation is among the model's facts, and their count. The failures keep one
# axis of a diagonal ("down and to the left" -> `left`), flip one ("sits in the same column as X, higher up" ->
# `below`) or add one ("level with X, on its right side" -> `lower-right`): each is one choice among nine labels
# made in one go. `wide-sentences-axes` has the same data, training and prompt prefix, but writes each relation as
# an x word and a y word (`left down` for lower-left; `formats` style `axes`), so the model must say something
# about each axis. `wide-sentences-axes-more` scores it on the same larger sample.

# %%
if run.get("axes"):
    from helpers import analysis
    display(analysis.phrasing_accuracy([run["wide"][2], run["axes"][1]], ["wide-sentences", "wide-sentences-axes"]))
    labels = ["wide-sentences", "wide-sentences-axes"]
    display(views.all_splits([run["wide"][1], run["axes"][0]], labels, "02_axes", show_targets=True))
    display(Markdown(analysis.split_findings([run["wide"][1], run["axes"][0]], labels)))
    display(Markdown(analysis.split_findings([run["wide"][2], run["axes"][1]],
                                             ["wide-sentences-more", "wide-sentences-axes-more"])))
    display(views.targets(run["axes"][0], metric="triple_f1"))
    views.examples(run["axes"][1], split="test_templates", n=2, wrong_only=True)
