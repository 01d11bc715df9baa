"""lib.sample_metrics: energy distance and W1 against scipy, MMD against a direct sum, mode statistics on
hand-built samples, the calibration on the ring, bad input."""
import numpy as np
import pytest
import scipy.stats as ss
import torch

from lib import sample_metrics as M
from lib.gmm import ring_gmm


def test_energy_distance_matches_scipy_in_1d():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=300), rng.normal(0.4, 1.3, size=451)
    # scipy returns sqrt(2 E|X-Y| - E|X-X'| - E|Y-Y'|)
    assert M.energy_distance(x, y) == pytest.approx(ss.energy_distance(x, y) ** 2, rel=1e-10)


def test_energy_distance_matches_a_direct_sum_in_2d_and_is_symmetric():
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(40, 2)), rng.normal(size=(30, 2)) + [1.0, 0.0]

    def mean_dist(a, b):
        return np.mean([np.linalg.norm(u - v) for u in a for v in b])

    want = 2 * mean_dist(x, y) - mean_dist(x, x) - mean_dist(y, y)
    assert M.energy_distance(x, y) == pytest.approx(want, rel=1e-10)
    assert M.energy_distance(torch.from_numpy(y), x) == pytest.approx(want, rel=1e-10)
    assert M.energy_distance(x, x) == pytest.approx(0.0, abs=1e-12)


def test_mmd_matches_a_direct_sum():
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(25, 2)), rng.normal(size=(35, 2)) * 1.5
    h = 0.8

    def k(a, b):
        return np.mean([np.exp(-np.sum((u - v) ** 2) / (2 * h * h)) for u in a for v in b])

    assert M.mmd_rbf(x, y, bandwidth=h) == pytest.approx(k(x, x) + k(y, y) - 2 * k(x, y), rel=1e-10)
    z = np.concatenate([x, y])
    d = np.linalg.norm(z[:, None] - z[None], axis=-1)[np.triu_indices(len(z), 1)]
    assert M.mmd_rbf(x, y) == pytest.approx(M.mmd_rbf(x, y, bandwidth=float(np.median(d))), rel=1e-12)


def test_w1_matches_scipy_for_unequal_sizes():
    rng = np.random.default_rng(3)
    for n, m in [(100, 100), (73, 211), (5, 9)]:
        x, y = rng.exponential(size=n), rng.normal(1, 2, size=m)
        assert M.w1_1d(x, y) == pytest.approx(ss.wasserstein_distance(x, y), rel=1e-10)


def test_mode_statistics_on_hand_built_points():
    means = np.array([[0.0, 0.0], [10.0, 0.0]])
    x = np.array([[0.3, 0.4], [-0.3, -0.4], [10.0, 0.5], [9.5, 0.0], [10.0, -0.5], [10.5, 0.0]])
    np.testing.assert_allclose(M.mode_weights(x, means), [1 / 3, 2 / 3])
    # distances 0.5 everywhere: RMS 0.5, per coordinate 0.5 / sqrt(2)
    assert M.within_mode_std(x, means) == pytest.approx(0.5 / np.sqrt(2))
    assert M.mode_coverage(x, means, [0.5, 0.5]) == 2
    assert M.mode_coverage(x[2:], means, [0.5, 0.5]) == 1
    # a mode with a quarter of its share or less is not covered
    assert M.mode_coverage(x, means, [0.9, 0.1], frac=0.25) == 2
    assert M.mode_coverage(x[:3], means, [0.1, 0.9], frac=0.5) == 1


def test_calibration_on_the_ring():
    mix = ring_gmm()
    gen = torch.Generator().manual_seed(4)
    eds = [M.energy_distance(mix.sample(1000, gen)[0], mix.sample(1000, gen)[0]) for _ in range(10)]
    assert max(eds) < 0.02 and 0.001 < np.mean(eds) < 0.008
    x, _ = mix.sample(2000, gen)
    assert M.energy_distance(x, np.sqrt(5) * torch.randn(2000, 2, generator=gen, dtype=torch.float64)) > 0.12
    assert M.within_mode_std(x, mix.means) == pytest.approx(0.1, rel=0.05)
    assert np.abs(M.mode_weights(x, mix.means) - 0.125).max() < 0.03


def test_a_collapsed_sampler_passes_energy_distance_but_not_the_spread():
    mix = ring_gmm()
    gen = torch.Generator().manual_seed(5)
    x, lab = mix.sample(2000, gen)
    collapsed = mix.means[lab] + 0.3 * (x - mix.means[lab])
    y, _ = mix.sample(2000, gen)
    assert M.energy_distance(collapsed, y) < 0.02
    assert M.within_mode_std(collapsed, mix.means) < 0.85 * 0.1


def test_bad_input_raises():
    with pytest.raises(TypeError, match="x"):
        M.energy_distance("abc", np.zeros((3, 2)))
    with pytest.raises(ValueError, match="dimension"):
        M.energy_distance(np.zeros((3, 2)), np.zeros((3, 3)))
    with pytest.raises(ValueError, match="finite"):
        M.energy_distance(np.full((3, 2), np.nan), np.zeros((3, 2)))
    with pytest.raises(ValueError, match="bandwidth"):
        M.mmd_rbf(np.zeros((3, 2)), np.ones((3, 2)), bandwidth=-1.0)
    with pytest.raises(ValueError, match="1-D"):
        M.w1_1d(np.zeros((3, 2)), np.zeros((3, 2)))
    with pytest.raises(ValueError, match="weights"):
        M.mode_coverage(np.zeros((3, 2)), np.zeros((2, 2)), [1.0])
    with pytest.raises(ValueError, match="frac"):
        M.mode_coverage(np.zeros((3, 2)), np.zeros((2, 2)), [0.5, 0.5], frac=0)
