"""lib.memory: linear memories against numpy's pinv/lstsq, crosstalk against Monte Carlo, tied gradients
against autograd, and the MLP memory beyond n = d."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from lib import memory as mem



def test_orthonormal_set_recalls_exactly_with_outer_product():
    A = mem.make_keys(5, 12, "orthonormal", seed=3)      # a set, not a basis: n < d
    np.testing.assert_allclose(A.T @ A, np.eye(5), atol=1e-14)
    B = np.random.default_rng(1).normal(size=(7, 5))
    W = mem.outer_product_memory(A, B)
    np.testing.assert_allclose(W, sum(np.outer(B[:, i], A[:, i]) for i in range(5)), atol=1e-14)
    np.testing.assert_allclose(mem.recall(W, A), B, atol=1e-13)
    assert mem.recall_error(W, A, B) < 1e-14


def test_pinv_memory_matches_numpy_exact_below_d_and_lstsq_above():
    rng = np.random.default_rng(4)
    A, B = rng.normal(size=(10, 8)), rng.normal(size=(6, 8))   # independent, non-orthogonal keys, n < d
    W = mem.pinv_memory(A, B)
    np.testing.assert_allclose(W, B @ np.linalg.pinv(A), atol=1e-14)
    assert mem.recall_error(W, A, B) < 1e-12
    assert mem.recall_error(mem.outer_product_memory(A, B), A, B) > 0.5
    A, B = rng.normal(size=(10, 25)), rng.normal(size=(6, 25))  # n > d: least squares
    W = mem.pinv_memory(A, B)
    X, *_ = np.linalg.lstsq(A.T, B.T, rcond=None)               # W^T solves A^T W^T = B^T
    np.testing.assert_allclose(W, X.T, atol=1e-10)
    resid = np.linalg.norm(A.T @ X - B.T)
    np.testing.assert_allclose(mem.recall_error(W, A, B) * np.linalg.norm(B), resid, rtol=1e-8)


@pytest.mark.parametrize("n, d", [(8, 16), (40, 16), (20, 50)])
def test_crosstalk_theory_matches_monte_carlo(n, d):
    sq = []
    for s in range(300):
        A = mem.make_keys(n, d, "random", seed=s)
        B = mem.make_keys(n, d, "random", seed=10_000 + s)
        R = mem.recall(mem.outer_product_memory(A, B), A) - B
        sq.append(np.mean(np.sum(R**2, axis=0)))
    sq = np.array(sq)
    se = sq.std() / np.sqrt(len(sq))
    assert abs(sq.mean() - (n - 1) / d) < 4 * se + 1e-3
    np.testing.assert_allclose(mem.crosstalk_theory(n, d) ** 2, (n - 1) / d)


def test_correlated_keys_have_larger_cosines_and_more_crosstalk():
    d, n = 32, 16
    rnd, cor = mem.make_keys(n, d, "random", seed=2), mem.make_keys(n, d, "correlated", rho=0.7, seed=2)
    off = ~np.eye(n, dtype=bool)
    assert np.mean((cor.T @ cor)[off]) > 0.3 > abs(np.mean((rnd.T @ rnd)[off]))
    B = mem.make_keys(n, d, "random", seed=9)
    e_rnd = mem.recall_error(mem.outer_product_memory(rnd, B), rnd, B)
    e_cor = mem.recall_error(mem.outer_product_memory(cor, B), cor, B)
    assert e_cor > 1.5 * e_rnd
    assert mem.recall_error(mem.pinv_memory(cor, B), cor, B) < 1e-10   # pinv does not care


def test_nearest_value_accuracy():
    B = np.eye(4)
    assert mem.nearest_value_accuracy(B + 0.1, B) == 1.0
    assert mem.nearest_value_accuracy(B[:, [1, 0, 2, 3]], B) == 0.5


def test_mlp_memory_stores_more_pairs_than_dimensions():
    A, B = mem.make_keys(48, 12, "random", seed=0), mem.make_keys(48, 12, "random", seed=1)
    assert mem.recall_error(mem.pinv_memory(A, B), A, B) > 0.5                 # linear: impossible
    model = mem.mlp_memory(A, B, hidden=128, steps=300, lr=3e-3, seed=0)
    B_hat = mem.recall(model, A)
    assert B_hat.shape == B.shape
    assert mem.recall_error(model, A, B) < 0.1
    assert mem.nearest_value_accuracy(B_hat, B) == 1.0


def _autograd_tied(We, Wa, x, y):
    We_t, Wa_t = torch.tensor(We, requires_grad=True), torch.tensor(Wa, requires_grad=True)
    h1 = F.one_hot(torch.as_tensor(x), We.shape[1]).double() @ We_t.T     # one-hot product, not a lookup
    s = (h1 @ Wa_t.T) @ We_t
    J = -F.cross_entropy(s, torch.as_tensor(y))
    J.backward()
    return J.item(), We_t.grad.numpy(), Wa_t.grad.numpy()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_tied_gradients_match_autograd(seed):
    rng = np.random.default_rng(seed)
    V, d, B = 9, 4, 13
    model = mem.TiedAssocModel(V, d, scale=0.8, seed=seed)
    x, y = rng.integers(0, V, B), rng.integers(0, V, B)
    g = model.backward(x, y)
    J, gWe, gWa = _autograd_tied(model.We, model.Wa, x, y)
    assert g["We"].shape == (d, V) and g["Wa"].shape == (d, d)
    np.testing.assert_allclose(g["We"], gWe, atol=1e-12)
    np.testing.assert_allclose(g["Wa"], gWa, atol=1e-12)
    np.testing.assert_allclose(model.loglik(x, y), J, rtol=1e-12)


def test_books_transposed_second_term_is_wrong():
    model = mem.TiedAssocModel(6, 6, scale=0.8, seed=4)       # square so the wrong term even has the right shape
    x, y = np.array([2]), np.array([5])
    h1, h2, _, p = model.forward(x)
    e = np.eye(6)[5] - p[0]
    wrong = np.outer(model.Wa.T @ model.We @ e, np.eye(6)[2]) + np.outer(e, h2[0])
    _, gWe, _ = _autograd_tied(model.We, model.Wa, x, y)
    assert np.abs(wrong - gWe).max() > 1e-2
    np.testing.assert_allclose(model.backward(x, y)["We"], gWe, atol=1e-12)


def test_bad_inputs():
    with pytest.raises(ValueError, match="n"):
        mem.make_keys(5, 3, "orthonormal")
    with pytest.raises(ValueError, match="kind"):
        mem.make_keys(2, 3, "gaussian")
    with pytest.raises(ValueError, match="B"):
        mem.outer_product_memory(np.ones((3, 2)), np.ones((3, 3)))
    with pytest.raises(ValueError, match="A"):
        mem.recall(np.ones((2, 3)), np.ones((4, 2)))
    with pytest.raises(TypeError, match="A"):
        mem.pinv_memory(np.array([["a"]]), np.ones((1, 1)))
    with pytest.raises(ValueError, match="n, d"):
        mem.crosstalk_theory(0, 4)
    with pytest.raises(ValueError, match="hidden"):
        mem.mlp_memory(np.eye(2), np.eye(2), hidden=0)
    with pytest.raises(ValueError, match="idx"):
        mem.TiedAssocModel(4, 2).backward([4], [0])
