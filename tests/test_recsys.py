"""lib.recsys: ALS half-steps against per-user ridge solves, the full-matrix optimum against Eckart-Young,
Adam against ALS, rotation invariance."""
import numpy as np
import pytest
import torch

from lib import recsys as rs

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def problem():
    return rs.synthetic_ratings(n_users=40, n_items=30, rank=2, frac_observed=0.4, noise=0.05, seed=11)


def test_synthetic_ratings_shapes_and_coverage():
    R, mask, A, B = rs.synthetic_ratings(seed=2)
    assert R.shape == mask.shape == (100, 80) and A.shape == (100, 3) and B.shape == (80, 3)
    assert mask.dtype == bool and 0.17 < mask.mean() < 0.23
    assert mask.sum(axis=1).min() >= 3 and mask.sum(axis=0).min() >= 3
    np.testing.assert_allclose(np.std(R - A @ B.T), 0.1, rtol=0.05)


def test_als_half_step_is_per_user_ridge(problem):
    R, mask, _, _ = problem
    rng = np.random.default_rng(0)
    B = rng.normal(size=(R.shape[1], 2))
    lam = 0.3
    A = rs._ridge_rows(R, mask, B, lam)
    for i in range(R.shape[0]):
        Bi, ri = B[mask[i]], R[i, mask[i]]
        np.testing.assert_allclose(A[i], np.linalg.solve(Bi.T @ Bi + lam * np.eye(2), Bi.T @ ri), rtol=1e-10)


def test_als_objective_never_increases_and_fits(problem):
    R, mask, A_true, B_true = problem
    A, B, hist = rs.als(R, mask, 2, lam=0.05, iters=40, seed=1)
    obj = hist["objective"]
    assert obj.shape == (41,) and np.all(np.diff(obj) <= 1e-9 * obj[0])
    np.testing.assert_allclose(obj[-1], rs.objective(R, mask, A, B, 0.05), rtol=1e-12)
    rmse_unseen = np.sqrt(np.mean(((A @ B.T) - A_true @ B_true.T)[~mask] ** 2))
    assert rmse_unseen < 0.15


def test_als_on_full_matrix_reaches_eckart_young():
    R, _, _, _ = rs.synthetic_ratings(n_users=30, n_items=20, rank=3, noise=0.3, seed=5)
    full = np.ones_like(R, dtype=bool)
    A, B, _ = rs.als(R, full, 3, lam=0.0, iters=200, seed=0)
    U, s, Vt = np.linalg.svd(R)
    truncated = (U[:, :3] * s[:3]) @ Vt[:3]
    np.testing.assert_allclose(np.linalg.norm(R - A @ B.T), rs.eckart_young_error(R, 3), rtol=1e-6)
    np.testing.assert_allclose(rs.eckart_young_error(R, 3), np.linalg.norm(R - truncated), rtol=1e-12)
    np.testing.assert_allclose(A @ B.T, truncated, atol=1e-5)


def test_adam_reaches_the_als_objective(problem):
    R, mask, _, _ = problem
    _, _, h_als = rs.als(R, mask, 2, lam=0.1, iters=100)
    A, B, h_adam = rs.mf_adam(R, mask, 2, lam=0.1, steps=800, lr=0.03, dtype=torch.float64)
    assert h_adam["objective"][-1] < h_adam["objective"][0] / 10
    np.testing.assert_allclose(rs.objective(R, mask, A, B, 0.1), h_als["objective"][-1], rtol=1e-3)


def test_rotation_leaves_predictions_unchanged():
    rng = np.random.default_rng(3)
    A, B, Rm = rng.normal(size=(7, 3)), rng.normal(size=(5, 3)), rng.normal(size=(3, 3))
    A2, B2 = rs.rotate_factors(A, B, Rm)
    np.testing.assert_allclose(A2 @ B2.T, A @ B.T, atol=1e-12)
    assert np.abs(A2 - A).max() > 0.1


def test_bad_inputs(problem):
    R, mask, _, _ = problem
    with pytest.raises(TypeError, match="mask"):
        rs.als(R, mask.astype(int), 2)
    with pytest.raises(ValueError, match="mask"):
        rs.als(R, mask[:, :5], 2)
    with pytest.raises(ValueError, match="k"):
        rs.als(R, mask, 0)
    with pytest.raises(ValueError, match="lam"):
        rs.mf_adam(R, mask, 2, lam=-1.0)
    with pytest.raises(ValueError, match="frac_observed"):
        rs.synthetic_ratings(frac_observed=0.0)
    with pytest.raises(ValueError, match="R"):
        rs.rotate_factors(np.ones((3, 2)), np.ones((4, 2)), np.ones((2, 2)))
    with pytest.raises(ValueError, match="R"):
        rs.rotate_factors(np.ones((3, 2)), np.ones((4, 2)), np.eye(3))
