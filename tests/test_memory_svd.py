"""lib.memory, SVD view (Chapter 5): building, recalling, truncating and editing a matrix memory."""
import numpy as np
import pytest

from lib import memory as mem


def test_make_memory_recalls_and_interpolates():
    m = mem.make_associative_memory(12, 9, 5, lambdas=[5.0, 3.0, 2.0, 0.5, 0.1], seed=4)
    W, A, B, lam = m["W"], m["A"], m["B"], m["lambdas"]
    np.testing.assert_allclose(A.T @ A, np.eye(5), atol=1e-12)
    np.testing.assert_allclose(B.T @ B, np.eye(5), atol=1e-12)
    np.testing.assert_allclose(W @ A, B * lam, atol=1e-12)           # W a_k = lambda_k b_k
    c = np.array([0.7, 0.3, 0, 0, 0])
    np.testing.assert_allclose(W @ (A / lam) @ c, B @ c, atol=1e-12)  # normalised keys interpolate
    assert np.linalg.norm(W @ A @ c - B @ c) > 1                       # raw keys do not


def test_svd_memory_matches_numpy():
    rng = np.random.default_rng(0)
    W = rng.normal(size=(6, 10))
    B, lam, A = mem.svd_memory(W)
    np.testing.assert_allclose((B * lam) @ A.T, W, atol=1e-12)
    np.testing.assert_allclose(lam, np.linalg.svd(W, compute_uv=False), atol=1e-12)


@pytest.mark.parametrize("rank", [0, 1, 3, 6])
def test_truncation_error_is_eckart_young(rank):
    rng = np.random.default_rng(1)
    W = rng.normal(size=(8, 6))
    s = np.linalg.svd(W, compute_uv=False)
    Wr = mem.truncate_svd(W, rank=rank)
    assert np.linalg.norm(W - Wr) == pytest.approx(np.sqrt(np.sum(s[rank:] ** 2)), abs=1e-10)
    assert np.linalg.norm(W - Wr, 2) == pytest.approx(s[rank] if rank < 6 else 0.0, abs=1e-10)
    assert np.linalg.matrix_rank(Wr) == rank
    # no other rank-r matrix does better: compare with a random rank-r one built from W's own columns
    if 0 < rank < 6:
        P = rng.normal(size=(6, rank))
        Q = W @ P @ np.linalg.pinv(P)
        assert np.linalg.norm(W - Q) >= np.linalg.norm(W - Wr) - 1e-12


def test_truncation_by_eps():
    m = mem.make_associative_memory(10, 10, 4, lambdas=[4.0, 3.0, 0.2, 0.1])
    Wc = mem.truncate_svd(m["W"], eps=0.5)
    np.testing.assert_allclose(Wc, (m["B"][:, :2] * [4.0, 3.0]) @ m["A"][:, :2].T, atol=1e-12)


def test_rank_one_edit_changes_one_answer():
    m = mem.make_associative_memory(16, 12, 6, seed=2)
    W, A, B, lam = m["W"], m["A"], m["B"], m["lambdas"]
    k = 2
    new_b = mem.make_keys(1, 12, "random", seed=9)[:, 0]
    W2 = mem.rank_one_edit(W, A[:, k], lam[k], new_b - B[:, k])
    np.testing.assert_allclose(W2 @ A[:, k] / lam[k], new_b, atol=1e-12)   # the edited fact
    others = [i for i in range(6) if i != k]
    np.testing.assert_allclose(W2 @ A[:, others], W @ A[:, others], atol=1e-12)  # every other fact
    assert np.linalg.matrix_rank(W2 - W) == 1


def test_bad_inputs():
    with pytest.raises(ValueError, match="n_pairs"):
        mem.make_associative_memory(4, 3, 5)
    with pytest.raises(ValueError, match="lambdas"):
        mem.make_associative_memory(4, 4, 2, lambdas=[1.0, -1.0])
    with pytest.raises(ValueError, match="rank, eps"):
        mem.truncate_svd(np.eye(3))
    with pytest.raises(ValueError, match="rank"):
        mem.truncate_svd(np.eye(3), rank=-1)
    with pytest.raises(ValueError, match="a_k"):
        mem.rank_one_edit(np.eye(3), np.ones(4), 1.0, np.ones(3))
    with pytest.raises(ValueError, match="lambda_k"):
        mem.rank_one_edit(np.eye(3), np.ones(3), 0.0, np.ones(3))
