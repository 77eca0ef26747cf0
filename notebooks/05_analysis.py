# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 05 · Analysis: every experiment side by side
#
# Everything here is read from the run folders the previous notebooks wrote (nothing is retrained; a missing run
# is made). The comparison table is also written as tidy records to `reports/summary.json` and `.csv`.

# %% tags=["parameters"]
PROFILE = "default"
SEED = 0
MODEL = None

# %%
from IPython.display import Markdown, display

from helpers import analysis, experiments, profiles, summary, views
from helpers.settings import plot_style

plot_style()
plans = {nb: profiles.plan(nb, PROFILE, model=MODEL, seed=SEED) for nb in ("parse", "grid", "coords")}
run = {nb: {g: experiments.run_all(exps) for g, exps in groups.items()} for nb, groups in plans.items()}
all_dirs = [d for groups in run.values() for dirs in groups.values() for d in dirs]
table = summary.table(all_dirs)
summary.write(table, extra=analysis.extra_records(PROFILE))
print(f"{len(table)} records from {len(set(table.run))} runs -> reports/summary.json")

# %% [markdown]
# ## The comparison table
# Relation accuracy (%) with the 95% Wilson interval and the number of scored queries, per run and test split.

# %%
summary.pivot(table, "relation_acc")

# %%
summary.pivot(table, "above_acc")

# %% [markdown]
# ## Why the original experiment concluded failure
# Each statement below is computed from the runs; the figure it rests on is named beside it.

# %%
display(Markdown(analysis.findings(run)))

# %% [markdown]
# ## Loss curves of every fine-tuned run

# %%
analysis.all_loss_curves(all_dirs, "05_loss_curves")

# %% [markdown]
# ## Seed replication vs fixed formulation, per experiment

# %%
analysis.seed_vs_fixed(run, "05_seed_vs_fixed")

# %% [markdown]
# ## Explore the predicted maps
# Step through test examples of each experiment: the story, the true map, the predicted map, the queried relations
# (right / wrong) and the raw model output. This view is pre-rendered, so it also works in the exported HTML
# without a kernel; in a live notebook `helpers.explorer.explore()` adds a free-text box that runs a model.

# %%
from helpers import explorer
explorer.static_explorer([run["coords"]["fixed"][0], run["coords"]["replication"][0], run["grid"]["fixed"][0],
                          run["parse"]["fixed"][0]], n=20)
