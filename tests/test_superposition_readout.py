"""lib.superposition.superposition_readout: interference of k superposed random features in R^d."""
import numpy as np
import pytest

from lib import superposition as sp


@pytest.mark.parametrize("d, k", [(64, 8), (256, 64), (100, 300)])
def test_rms_error_matches_sqrt_k_minus_1_over_d(d, k):
    res = sp.superposition_readout(d, k, n_trials=40, seed=3)
    assert res["errors"].shape == (40 * k,)
    assert res["theory"] == pytest.approx(np.sqrt((k - 1) / d))
    assert res["rms"] == pytest.approx(res["theory"], rel=0.06)
    assert abs(res["errors"].mean()) < 4 * res["theory"] / np.sqrt(40 * k) + 1e-3  # unbiased read-out


def test_one_feature_is_read_exactly_and_readout_is_the_projection():
    assert np.abs(sp.superposition_readout(32, 1, n_trials=5)["errors"]).max() < 1e-12
    # the same numbers by hand for one trial, with the generator the function uses
    res = sp.superposition_readout(16, 5, n_trials=1, seed=7)
    U = np.random.default_rng(7).standard_normal((5, 16))
    U /= np.linalg.norm(U, axis=1, keepdims=True)
    G = U @ U.T
    np.testing.assert_allclose(res["errors"], G.sum(axis=1) - 1.0, atol=1e-12)


def test_error_shrinks_with_dimension():
    small, large = (sp.superposition_readout(d, 20, n_trials=30)["rms"] for d in (50, 800))
    assert large < small / 3  # sqrt(16) = 4 in theory


def test_bad_inputs():
    with pytest.raises(ValueError, match="d"):
        sp.superposition_readout(0, 3)
    with pytest.raises(ValueError, match="k"):
        sp.superposition_readout(8, 2.5)
    with pytest.raises(ValueError, match="n_trials"):
        sp.superposition_readout(8, 2, n_trials=0)
