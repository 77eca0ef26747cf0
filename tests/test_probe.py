"""Probes: ridge and R^2 against known answers, pairwise sign accuracy, features from a tiny model."""
import random

import numpy as np

from helpers import generate, models, probe


def test_ridge_recovers_a_linear_map():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 8))
    W = rng.normal(size=(8, 2))
    Y = X @ W + 3.0
    Wh, b = probe.ridge(X, Y, lam=1e-6)
    assert np.allclose(Wh, W, atol=1e-4) and np.allclose(b, 3.0, atol=1e-4)
    assert probe.r2(Y, X @ Wh + b) > 0.999999
    assert abs(probe.r2(Y, np.tile(Y.mean(0), (len(Y), 1)))) < 1e-9  # predicting the mean scores 0


def test_pair_sign_accuracy_counts_only_nonzero_true_signs():
    Y = np.array([[0, 0], [1, 0], [2, 5]], dtype=float)
    P = np.array([[0, 0], [2, 1], [1, 9]], dtype=float)
    k, n = probe.pair_sign_acc(P, Y, np.array([0, 0, 0]))
    # x pairs: (0,1) ok, (0,2) ok, (1,2) wrong; y pairs with nonzero truth: (0,2) ok, (1,2) ok
    assert (k, n) == (4, 5)


def test_features_and_layers_on_tiny_model():
    tok, model = models.load("tiny-random")
    cfg = generate.DataConfig(n_objects=3)
    exs = [generate.make_example(cfg, random.Random(i)) for i in range(6)]
    F, XY, scene, names = probe.features(tok, model, exs)
    assert F.shape[0] == XY.shape[0] == 18 and F.shape[1] == model.config.num_hidden_layers + 1
    res = probe.probe_layers(F, XY, scene, mlp=False)
    assert len(res) == F.shape[1] and all(r.sign_n > 0 for r in res)
