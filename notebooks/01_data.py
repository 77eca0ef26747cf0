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
# # 01 · Data: procedural spatial worlds
#
# The seed experiment had 1000 hand-made examples of three objects (Alice, the Rabbit, the House) on a 10x10 grid
# and concluded that large text -> map datasets do not exist and cannot be made by hand. Here a procedural
# generator makes unlimited, *exactly labelled* scenes with controllable difficulty: number of objects, grid size,
# phrasing, multi-hop chains, actions over time, and whether the text pins down one layout (*exact*) or many
# (*qualitative*, the seed's setting).
#
# **The coordinate convention** (one module, `helpers.world`, used by every format, metric and figure):
# a cell is `(x, y)`, **x grows to the right, y grows upward**, `(0, 0)` is the bottom-left cell, and a grid is printed
# with its top row (largest y) first. A flipped y axis turns every "above" into "below" — exactly the seed's symptom —
# so this is written once and tested.

# %% tags=["parameters"]
PROFILE = "default"
SEED = 0

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import Markdown, display

from helpers import generate, plots, world
from helpers.settings import plot_style, seed_everything

plot_style()
seed_everything(SEED)
SIZES = {"smoke": 8, "default": 200, "full": 1000}[PROFILE]

# %% [markdown]
# ## The convention, drawn
# Two objects and the relation of each to the other. The label comes only from the signs of `dx` and `dy`.

# %%
layout = {"Alice": (2, 7), "the house": (2, 3), "the Rabbit": (6, 3)}
objs = [{"name": n, "symbol": n.split()[-1][0].upper()} for n in layout]
fig, ax = plt.subplots(figsize=(3.5, 3.5))
plots.draw_map(layout, objs, 10, 10, ax=ax, title="x right, y up")
plots.save(fig, "01_convention")
plt.show()
print("\n".join(world.render_grid(layout, {o["name"]: o["symbol"] for o in objs}, 10, 10)))
print("relation of Alice to the house:", world.relation(layout["Alice"], layout["the house"]))
print("relation of the Rabbit to Alice:", world.relation(layout["the Rabbit"], layout["Alice"]))

# %% [markdown]
# ## A dataset with every split
# `train`, `val` and `test_iid` come from the training distribution; every other test split changes one thing:
# unseen names, more objects, a bigger grid, held-out phrasings, longer chains, or actions over time.

# %%
base = generate.DataConfig(n_objects=3, width=10, height=10, mode="qualitative", structure="chain")
specs = generate.standard_splits(base)
sizes = {s: SIZES for s in specs}
name = generate.make_dataset(f"showcase-{PROFILE}", specs, sizes, seed=SEED).name
data = {s: generate.load_split(name, s) for s in specs}
pd.DataFrame({s: {"examples": len(v), "objects": int(np.mean([len(e["objects"]) for e in v])),
                  "grid": f"{v[0]['width']}x{v[0]['height']}", "states": int(np.mean([len(e["states"]) for e in v])),
                  "mode": v[0]["mode"]} for s, v in data.items()}).T

# %% [markdown]
# ## Phrasings and names
# Three template sets and three name pools (`helpers/templates.py`, `helpers/names.py`): `train`, the disjoint
# `heldout` set of `test_templates` / `test_names`, and `wide`, which only training mixtures use (02_parse
# `wide-sentences`). The `wide` templates add the StepGame reader's sentence patterns and more move wordings; the
# `wide` names add made-up names, and some scenes use single capital letters. Counts, and one `wide` story:

# %%
from helpers import names as N, templates as T
display(pd.DataFrame({ts: {"templates": len(T.all_strings(ts)), "names": len(N.pool(ts))} for ts in T.TEMPLATE_SETS}))
for i in range(2):
    wide_ex = generate.make_example(generate.DataConfig(template_set="wide", name_pool="wide", n_actions=1),
                                    generate.example_rng(SEED, "train", i))
    display(Markdown(f"*wide:* {wide_ex['text']}"))

# %% [markdown]
# ## One example of each split, text beside its map

# %%
for split, exs in data.items():
    ex = exs[0]
    n = len(ex["states"])
    fig, axes = plt.subplots(1, n, figsize=(3 * n, 3), squeeze=False)
    for i, st in enumerate(ex["states"]):
        plots.draw_map(st, ex["objects"], ex["width"], ex["height"], ax=axes[0][i], title=f"{split} state {i + 1}")
    plt.show()
    display(Markdown(f"**{split}** ({ex['mode']}): {ex['text']}"))

# %% [markdown]
# ## Distributions
# Where objects are, which relations are asked about, how many hops a query needs, and how long the texts are.

# %%
train = data["train"]
fig, axes = plt.subplots(1, 4, figsize=(16, 3.5))
heat = np.zeros((base.height, base.width))
for ex in train:
    for x, y in ex["states"][0].values():
        heat[y, x] += 1
plots.heatmap_pair(heat, heat, "all objects", axes=[axes[0], axes[0]])
axes[0].set_title("object positions (train)")
q = pd.DataFrame([qq for s in ("train", "test_hops") for ex in data[s] for qq in ex["queries"]])
q["relation"].value_counts().reindex(world.RELATIONS, fill_value=0).plot.bar(ax=axes[1], title="relation labels")
q.groupby("status")["hops"].value_counts().unstack(0).plot.bar(ax=axes[2], title="hops per query (train + test_hops)")
pd.Series([len(ex["text"].split()) for ex in train]).plot.hist(ax=axes[3], bins=20, title="words per text")
plots.save(fig, "01_distributions")
plt.show()

# %% [markdown]
# ## The data card
# Counts, SHA-256 of every file and the generator config: the same seed gives byte-identical files.

# %%
card = generate.read_card(name)
pd.DataFrame(card["files"]).T
