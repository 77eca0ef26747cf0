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
# # 03 · Text -> a 2D letter grid
#
# The seed's second experiment asked for the map itself: 10 lines of 10 characters, `.` for empty, `A`, `R`, `H` for
# the objects. Its loss fell from 0.78 to 0.13, and yet the seed found that the model "learned to produce all the
# points but found a simple shortcut solution". Here we replicate it, measure *what* the shortcut is, and fix it.
# Grid convention: the top printed line is the largest y (see 01_data).

# %% tags=["parameters"]
PROFILE = "default"
SEED = 0
MODEL = None

# %%
from IPython.display import Markdown, display

from helpers import analysis, experiments, profiles, views
from helpers.settings import plot_style

plot_style()
plan = profiles.plan("grid", PROFILE, model=MODEL, seed=SEED)
run = {group: experiments.run_all(exps) for group, exps in plan.items()}
display(Markdown("Runs of this notebook: " + ", ".join(f"`{g}`: {len(v)}" for g, v in run.items())))

# %% [markdown]
# ## 1. Replication: random layouts as targets
# Grid validity (right shape, every object exactly once) is shown with the relation accuracy: a valid-looking grid
# is not a correct map.

# %%
views.replication(run["replication"][0], run["baselines"], "03_replication")

# %%
views.position_heatmaps(run["replication"][0], "03_replication_heatmaps")

# %% [markdown]
# ## 2. What the shortcut is
# If the model wrote a fixed pattern, its predicted positions would have low entropy, sit on one favourite cell,
# and agree with the position prior (the most common training cell of each object) more than the truth does.
# Accuracy per true relation shows which relations the pattern happens to get right.

# %%
views.shortcuts(run["replication"][0], run["baselines"][1], "03_diag_e_shortcut")

# %% [markdown]
# ## 3. Fixed: canonical grids
# The same format with a canonical target (a deterministic function of the text) and the fixed schedule
# (the seed's 1000 examples and 3 epochs, learning rate 3e-3 instead of 1e-3).

# %%
dirs = run["replication"] + run["fixed"] + run.get("scaled", []) + run["baselines"]
views.compare(dirs, [views.label_of(d) for d in dirs], "03_fixed_vs_seed", title="grid: relation accuracy")

# %%
views.results_table(dirs, metric="validity")

# %%
views.confusions(run["replication"] + run["fixed"], ["seed replication", "fixed"], "03_confusion_seed_vs_fixed")

# %%
views.targets(run["fixed"][0], metric="validity")

# %%
views.examples(run["fixed"][0], n=2, wrong_only=True)

# %% [markdown]
# ## 4. Scaled, with a legend and one token per cell
# Two things the compact grid leaves to the model: which letter stands for which object (the symbols are never in
# the prompt) and where a column is (the tokenizer merges runs of dots into tokens of varying length, so a column
# is not a token position). The `legend` style writes `C = the chapel` lines first and separates the cells by
# spaces (`. . C . .`, one token per cell). Trained at the scaled budget (`default`: 3000 stories, LoRA on the top 8
# layers, 2 epochs); both changes are made at once, so this run does not say which of them matters.
# Validity measures only the format (right shape, each object once); relation accuracy measures the map. The
# confusion table and the examples show where the objects are put when the grid is valid but the map is wrong.

# %%
if run.get("scaled"):
    display(views.targets(run["scaled"][0], metric="validity"))
    display(views.targets(run["scaled"][0]))
    views.confusions(run["fixed"] + run["scaled"], ["fixed", "scaled, legend"], "03_confusion_fixed_vs_legend")
    views.examples(run["scaled"][0], n=2, wrong_only=True)

# %% [markdown]
# ### Where the scaled grid puts the objects
# The grids above are valid and the wrong ones look plausible. Where does the model put the objects? Per object
# (in the order the text mentions them), the true cell against the predicted cell, and how many columns and rows
# each true and each predicted map spans (valid grids only; a canonical map starts at the bottom-left cell), with
# each axis's accuracy on the queries whose axis the text determines; then the same two accuracies on every query,
# beside chance and the position prior:

# %%
if run.get("scaled"):
    views.position_heatmaps(run["scaled"][0], "03_scaled_heatmaps")
    display(analysis.map_extent(run["scaled"][0]))
    display(analysis.axis_accuracy(run["scaled"] + run["baselines"][:2]))

# %% [markdown]
# The columns and the rows fail differently. The predicted maps span about as many columns as the true ones, yet
# the columns are right about as often as chance has them: the model has learned how wide a map of three objects
# tends to be, not where each object goes. The rows collapse: most true maps span three rows, the model almost
# never writes one that does, and its rows are right less often than chance. A grid is printed from the top line
# down and a canonical map sits on the bottom lines, so the model must commit to the map's height (how many empty
# lines come before the first object) before it writes any object, while a column is decided as its line is
# written. That would explain a collapse on the rows only; the next run tests it.
# The same three-object maps written as coordinates by 04's `scaled` run, which writes y as a number, span as many
# rows as the true ones (04, *What still fails*). What fixed the coordinates, keeping the map while reading one
# sentence at a time (04's `scaled-track`), was not tried for the grid: each step would rewrite a hundred cells
# instead of a few lines, several times the tokens per step of 04's tracked map, which did not fit this profile's
# budget.

# %% [markdown]
# ### Printed bottom row first (`scaled-legend-up`)
# A test of that reading: the same stories, budget and model, with only the grid's row order changed. The bottom
# row (y = 0) is printed first and the prompt names the style (`grid/legend-up`). A canonical map is then written on
# the first lines, as a line's columns are written from the left: no empty lines to plan before the first object.
# If the rows collapse because the map's height must be decided before any object is written, this run's maps
# should span as many rows as the true ones, and its rows should be right about as often as its columns.

# %%
if run.get("rows_up"):
    views.position_heatmaps(run["rows_up"][0], "03_rows_up_heatmaps")
    display(analysis.map_extent(run["rows_up"][0]))
    display(analysis.axis_accuracy(run["scaled"] + run["rows_up"] + run["baselines"][:2]))
    display(views.targets(run["rows_up"][0], metric="validity"))
    views.examples(run["rows_up"][0], n=2, wrong_only=True)

# %% [markdown]
# The row order explains the collapse, and only the collapse. Printed bottom row first, the maps span the rows as
# they span the columns, and the rows are right as often as the columns. Both are still right about as often as
# chance, and relation accuracy stays far below its target. The maps now span three rows and three columns nearly
# always, more often than the true ones do: the model writes the usual shape of a three-object map and scatters
# the objects over it. It has learned the format and the shape, not the relations, whichever way the rows run.
# This is the grid's shortcut at the scaled budget, of the same kind as the seed's grid model's (section 2): a
# pattern that looks like a map, with positions that do not follow the text.

# %% [markdown]
# ## 5. Sample-and-verify (reported apart from greedy decoding)
# The invalid grids of the scaled run above repeat a symbol in the legend or leave an object out. Sample-and-verify
# keeps the greedy grid when the format reader accepts it; otherwise it draws up to 8 samples (temperature 0.8) from
# the same trained model and keeps the first valid one. Nothing is retrained, and the check is the format only
# (right shape, each object once), never the relations the text states. Validity here therefore says whether a valid
# grid is among the model's likely outputs. It does not say whether greedy decoding gives one, and the relation
# accuracy shows whether the map is right.
#
# The few invalid greedy grids become valid with a sample, but the relation accuracy barely moves: the grid
# formulation's problem is where it puts the objects, not the format. With 200 stories a validity of 100% has a
# lower interval bound below 99.5%, so the target is met on the point estimate only.

# %%
if run.get("verify"):
    display(analysis.sample_and_verify(run["scaled"][0], run["verify"][0]))
    display(views.targets(run["verify"][0], metric="validity"))
