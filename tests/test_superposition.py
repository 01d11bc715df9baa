"""lib.superposition: cosine statistics of random unit vectors, and the toy model across sparsities."""
import numpy as np
import pytest
import torch
from scipy import stats

from lib import superposition as sp

torch.set_num_threads(1)


def test_random_unit_vectors_and_cosines():
    V = sp.random_unit_vectors(400, 64, seed=1)
    np.testing.assert_allclose(np.linalg.norm(V, axis=1), 1.0, atol=1e-14)
    C = sp.cosine_matrix(V)
    np.testing.assert_allclose(C, C.T, atol=1e-15)
    np.testing.assert_allclose(np.diag(C), 1.0, atol=1e-14)
    off = C[np.triu_indices(400, 1)]
    assert abs(off.mean()) < 0.005
    np.testing.assert_allclose(off.var(), 1 / 64, rtol=0.05)
    # the exact law: (c + 1)/2 ~ Beta((d-1)/2, (d-1)/2); compare quantiles
    qs = [0.05, 0.25, 0.5, 0.75, 0.95]
    ref = 2 * stats.beta.ppf(qs, 31.5, 31.5) - 1
    np.testing.assert_allclose(np.quantile(off, qs), ref, atol=0.01)


def test_cosine_matrix_against_sklearn():
    from sklearn.metrics.pairwise import cosine_similarity
    V = np.random.default_rng(0).normal(size=(6, 4)) * 3
    np.testing.assert_allclose(sp.cosine_matrix(V), cosine_similarity(V), atol=1e-14)


def test_toy_model_dense_stores_m_features_sparse_stores_more():
    W, b = sp.train_toy_superposition(n_features=12, m=4, sparsity=[0.0, 0.97], steps=700, lr=2e-2, seed=3)
    assert W.shape == (2, 4, 12) and b.shape == (2, 12)
    dense, sparse = (sp.represented_features(w) for w in W)
    assert dense == 4                       # the 4 most important features, one dimension each
    norms = np.linalg.norm(W[0], axis=0)
    assert np.all(norms[:4] > 0.9) and np.all(norms[4:] < 0.2)
    G = W[0][:, :4].T @ W[0][:, :4]         # ... stored orthogonally
    assert np.abs(G - np.diag(np.diag(G))).max() < 0.1
    assert sparse >= 8                      # superposition: twice as many features as dimensions


def test_single_sparsity_returns_unstacked_arrays():
    W1, b1 = sp.train_toy_superposition(n_features=6, m=2, sparsity=0.5, steps=20, seed=0)
    assert W1.shape == (2, 6) and b1.shape == (6,)


def test_bad_inputs():
    with pytest.raises(ValueError, match="sparsity"):
        sp.train_toy_superposition(sparsity=1.0, steps=1)
    with pytest.raises(ValueError, match="m"):
        sp.train_toy_superposition(m=0, steps=1)
    with pytest.raises(ValueError, match="importance_decay"):
        sp.train_toy_superposition(importance_decay=0.0, steps=1)
    with pytest.raises(ValueError, match="V"):
        sp.cosine_matrix(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="W"):
        sp.represented_features(np.ones(3))
    with pytest.raises(ValueError, match="d"):
        sp.random_unit_vectors(3, 0)
