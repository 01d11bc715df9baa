"""lib.representations against sklearn (LDA covariance, NearestCentroid) and on a trained digits MLP."""
import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.neighbors import NearestCentroid

from lib import nn as libnn
from lib import representations as rep

torch.set_num_threads(1)


@pytest.fixture
def blobs():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 4, size=300)
    H = rng.normal(size=(300, 6)) * [1, 2, 0.5, 1, 1, 3] + 2.0 * rng.normal(size=(4, 6))[y]
    return H, y


def test_within_class_fraction_matches_lda_covariance(blobs):
    H, y = blobs
    lda = LinearDiscriminantAnalysis(solver="eigen", store_covariance=True).fit(H, y)
    want = np.trace(lda.covariance_) / np.trace(np.cov(H.T, bias=True))
    np.testing.assert_allclose(rep.within_class_fraction(H, y), want, rtol=1e-12)
    assert rep.within_class_fraction(torch.tensor(H), torch.tensor(y)) == pytest.approx(want, rel=1e-12)


def test_within_class_fraction_extremes():
    y = np.repeat([0, 1, 2], 5)
    means = np.array([[0.0, 1.0], [3.0, -1.0], [5.0, 2.0]])
    assert rep.within_class_fraction(means[y], y) == 0.0  # collapse onto class means
    H = np.random.default_rng(1).normal(size=(15, 2))
    H -= np.stack([H[y == c].mean(0) for c in range(3)])[y]  # equal class means
    np.testing.assert_allclose(rep.within_class_fraction(H, y), 1.0, rtol=1e-12)


def test_nearest_class_mean_matches_sklearn(blobs):
    H, y = blobs
    Htr, ytr, Hte, yte = H[:200], y[:200], H[200:], y[200:]
    want = NearestCentroid().fit(Htr, ytr).score(Hte, yte)
    assert rep.nearest_class_mean_accuracy(Htr, ytr, Hte, yte) == pytest.approx(want, abs=1e-12)
    labels = np.array(["a", "b", "c", "d"])  # works for non-integer labels too
    assert rep.nearest_class_mean_accuracy(Htr, labels[ytr], Hte, labels[yte]) == pytest.approx(want, abs=1e-12)


def test_layerwise_report_on_trained_digits():
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    m = libnn.make_mlp([64, 64, 64, 10], seed=0)
    libnn.train(m, X[:1200], y[:1200], loss="ce", lr=3e-3, epochs=15, batch_size=64)
    df = rep.layerwise_report(m, X[:1200], y[:1200], X[1200:], y[1200:])
    assert list(df["layer"]) == [0, 1, 2, 3] and list(df["width"]) == [64, 64, 64, 10]
    frac = df["within_class_fraction"].to_numpy()
    assert frac[-1] < frac[0] - 0.2 and np.all(np.diff(frac) < 0.02)
    ncm = df["ncm_accuracy"].to_numpy()
    assert ncm[1:].max() > ncm[0] + 0.01  # a hidden layer makes the classes more linearly usable
    np.testing.assert_allclose(frac[0], rep.within_class_fraction(X[:1200], y[:1200]), rtol=1e-6)


@pytest.mark.parametrize("call, exc, msg", [
    (lambda: rep.within_class_fraction(np.zeros(5), np.zeros(5)), ValueError, "H: expected a"),
    (lambda: rep.within_class_fraction(np.ones((4, 2)), [0, 0, 1, 1]), ValueError, "total variance"),
    (lambda: rep.within_class_fraction(np.eye(4), [0, 0, 0, 0]), ValueError, "two classes"),
    (lambda: rep.within_class_fraction(np.eye(4), [0, 1]), ValueError, "y: expected 4"),
    (lambda: rep.within_class_fraction(np.array([["a", "b"]] * 2), [0, 1]), TypeError, "H"),
    (lambda: rep.nearest_class_mean_accuracy(np.eye(4), [0, 1, 0, 1], np.eye(3), [0, 1, 0]), ValueError, "Hte"),
    (lambda: rep.within_class_fraction(np.full((2, 2), np.inf), [0, 1]), ValueError, "finite"),
])
def test_bad_input(call, exc, msg):
    with pytest.raises(exc, match=msg):
        call()
