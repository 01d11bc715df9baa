"""The Chapter 9 synthetic data in lib.data: height/weight mixture, XOR, 1-D signals, label flips."""
import numpy as np
import pytest

from lib import data


def test_height_weight_mixture_moments():
    X, y = data.make_height_weight(n=20000, seed=1)
    assert X.shape == (20000, 2) and y.dtype == np.int64 and set(np.unique(y)) == {0, 1}
    assert (y == 0).sum() == 10000                                   # balanced
    for k, (m, s) in enumerate(zip(((165, 62), (178, 80)), ((7, 9), (7, 11)))):
        Xk = X[y == k]
        np.testing.assert_allclose(Xk.mean(0), m, atol=0.35)
        np.testing.assert_allclose(Xk.std(0), s, rtol=0.03)
        assert abs(np.corrcoef(Xk.T)[0, 1] - 0.5) < 0.03
    X2, y2 = data.make_height_weight(n=20000, seed=1)
    assert np.array_equal(X, X2) and np.array_equal(y, y2)            # seeded
    X3, _ = data.make_height_weight(n=20000, seed=2)
    assert not np.array_equal(X, X3)
    Xc, yc = data.make_height_weight(n=7, seed=0, means=((0, 0), (10, 10)), sds=((1, 1), (1, 1)), corr=0.0)
    assert Xc.shape == (7, 2) and (yc == 1).sum() == 3


def test_xor_labels_and_balance():
    X, y = data.make_xor(4000, seed=3)
    assert X.shape == (4000, 2) and np.all(np.abs(X) <= 1)
    assert np.array_equal(y, (np.sign(X[:, 0]) != np.sign(X[:, 1])).astype(int))
    for j in range(2):                                               # every half-plane is ~half ones
        assert abs(y[X[:, j] > 0].mean() - 0.5) < 0.05


def test_1d_signal_kinds():
    x, y, f = data.make_1d_signal(500, seed=0, kind="sin", noise=0.0)
    assert np.all(np.diff(x) >= 0) and 0 <= x.min() and x.max() <= 1
    np.testing.assert_allclose(y, np.sin(2 * np.pi * x), atol=1e-15)
    x, y, f = data.make_1d_signal(5000, seed=4, kind="two_freq", noise=0.2)
    t = 2 * np.pi * x
    np.testing.assert_allclose(f(x), np.sin(t) + 0.3 * np.sin(10 * t), atol=1e-12)
    assert abs(np.std(y - f(x)) - 0.2) < 0.01


@pytest.mark.parametrize("labels", [(0, 1), (-1, 1)])
def test_flip_labels_binary(labels):
    rng = np.random.default_rng(0)
    y = np.array(labels)[rng.integers(0, 2, 300)]
    y_noisy, mask = data.flip_labels(y, 0.1, seed=5)
    assert mask.sum() == 30 and mask.dtype == bool
    assert np.all(y_noisy[mask] != y[mask]) and np.array_equal(y_noisy[~mask], y[~mask])
    assert set(np.unique(y_noisy)) <= set(labels)
    assert np.array_equal(data.flip_labels(y, 0.1, seed=5)[0], y_noisy)
    assert data.flip_labels(y, 0.0)[1].sum() == 0 and data.flip_labels(y, 1.0)[1].all()


def test_flip_labels_multiclass_changes_class():
    y = np.arange(600) % 3
    y_noisy, mask = data.flip_labels(y, 0.5, seed=1)
    assert mask.sum() == 300 and np.all(y_noisy[mask] != y[mask]) and set(np.unique(y_noisy)) == {0, 1, 2}
    counts = np.bincount(y_noisy[mask & (y == 0)])                   # class 0 goes to 1 or 2, both used
    assert counts[0] == 0 and counts[1] > 20 and counts[2] > 20


def test_bad_inputs():
    with pytest.raises(ValueError, match="seed"):
        data.make_xor(10, seed=-1)
    with pytest.raises(ValueError, match="seed"):
        data.make_height_weight(10, seed=1.5)
    with pytest.raises(ValueError, match="n"):
        data.make_xor(0)
    with pytest.raises(ValueError, match="corr"):
        data.make_height_weight(10, corr=1.0)
    with pytest.raises(ValueError, match="sds"):
        data.make_height_weight(10, sds=((1, 0), (1, 1)))
    with pytest.raises(ValueError, match="kind"):
        data.make_1d_signal(10, kind="cos")
    with pytest.raises(ValueError, match="noise"):
        data.make_1d_signal(10, noise=-1)
    with pytest.raises(ValueError, match="frac"):
        data.flip_labels(np.array([0, 1]), 1.5)
    with pytest.raises(ValueError, match="y"):
        data.flip_labels(np.ones(5), 0.2)
