"""lib.svm_geometry against the hard-margin SVM of libsvm (SVC(kernel="linear", C=1e8))."""
import numpy as np
import pytest
from scipy.spatial import ConvexHull
from sklearn.datasets import make_blobs
from sklearn.svm import SVC

from lib import svm_dual as sd
from lib import svm_geometry as sg


def _separable(seed, p=2, n=50):
    centers = np.zeros((2, p))
    centers[0, :2], centers[1, :2] = [-2.0, -1.0], [2.0, 1.5]
    X, y = make_blobs(n, centers=centers, cluster_std=0.8, random_state=seed)
    y = 2.0 * y - 1
    svc = SVC(kernel="linear", C=1e8, tol=1e-10).fit(X, y)
    w, b = svc.coef_.ravel(), float(svc.intercept_[0])
    assert np.min(y * (X @ w + b)) > 1 - 1e-6, "test data must be separable"
    return X, y, svc, w, b


@pytest.mark.parametrize("seed, p", [(0, 2), (1, 2), (4, 2), (7, 5)])
def test_hull_distance_identities(seed, p):
    X, y, svc, w, b = _separable(seed, p)
    xp, xn, D, g, h = sg.hull_closest_points(X[y > 0], X[y < 0])
    # convex weights
    assert np.all(g >= 0) and np.all(h >= 0) and abs(g.sum() - 1) < 1e-12 and abs(h.sum() - 1) < 1e-12
    assert np.allclose(xp, X[y > 0].T @ g) and np.allclose(xn, X[y < 0].T @ h)
    nw = np.linalg.norm(w)
    assert abs(D - 2 / nw) < 1e-6 * D                       # the hull distance is the full slab width
    a = sd.alpha_from_sklearn(svc, len(y))
    assert abs(a[y > 0].sum() - 2 / D**2) < 1e-5 * (2 / D**2)
    assert abs(a[y < 0].sum() - 2 / D**2) < 1e-5 * (2 / D**2)
    # the SVM boundary is the perpendicular bisector of the closest-point segment
    d = xp - xn
    assert d @ w / (np.linalg.norm(d) * nw) > 1 - 1e-8
    assert abs(w @ (xp + xn) / 2 + b) < 1e-5
    w2, b2 = sg.hull_to_svm(xp, xn)
    assert np.allclose(w2, w, atol=1e-5 * nw) and abs(b2 - b) < 1e-5 * max(1, abs(b))


@pytest.mark.parametrize("seed", [0, 2, 3])
def test_best_direction_is_the_svm_direction(seed):
    X, y, _, w, b = _separable(seed)
    u, gap, angles, gaps = sg.best_direction_2d(X, y)
    assert angles.shape == gaps.shape == (3600,)
    assert gap >= gaps.max() - 1e-15
    assert np.linalg.norm(u - w / np.linalg.norm(w)) < 1e-5
    assert abs(gap - 2 / np.linalg.norm(w)) < 1e-6
    a_plus, a_minus, g2 = sg.projection_gap(X, y, 3.0 * u)       # u is normalised inside
    assert abs(g2 - gap) < 1e-12
    w2, b2 = sg.direction_to_hyperplane(u, a_plus, a_minus)
    assert abs(np.min(y * (X @ w2 + b2)) - 1) < 1e-12            # the extreme points sit on the margin
    assert abs(np.linalg.norm(w2) - 2 / gap) < 1e-12
    assert np.allclose(w2, w, atol=1e-4 * np.linalg.norm(w)) and abs(b2 - b) < 1e-4 * max(1, abs(b))


def test_projection_gap_overlap_is_negative():
    X = np.array([[0.0, 0.0], [2.0, 0.0], [1.0, 0.0], [3.0, 0.0]])
    y = np.array([1.0, 1.0, -1.0, -1.0])
    a_plus, a_minus, gap = sg.projection_gap(X, y, [1.0, 0.0])
    assert (a_plus, a_minus, gap) == (0.0, 3.0, -3.0)


def test_hull_vertices_match_qhull_and_degenerate_cases():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 2))
    assert set(sg.hull_vertices(X)) == set(ConvexHull(X).vertices)
    line = np.array([[0.0, 0.0], [1.0, 1.0], [3.0, 3.0], [2.0, 2.0]])
    assert set(sg.hull_vertices(line)) == {0, 2}
    assert list(sg.hull_vertices(np.array([[1.0, 2.0]]))) == [0]


def test_touching_hulls_have_zero_distance():
    Xp = np.array([[0.0, 0.0], [2.0, 0.0], [1.0, 2.0]])
    Xn = np.array([[1.0, 0.5], [3.0, 3.0], [4.0, 0.0]])     # (1, 0.5) lies inside the first triangle
    assert sg.hull_closest_points(Xp, Xn)[2] < 1e-7


def test_bad_inputs():
    X = np.zeros((4, 2))
    with pytest.raises(ValueError, match="y"):
        sg.projection_gap(X, [1, 1, 1, 1], [1, 0])
    with pytest.raises(ValueError, match="u"):
        sg.projection_gap(X, [1, -1, 1, -1], [0, 0])
    with pytest.raises(ValueError, match="X"):
        sg.best_direction_2d(np.zeros((4, 3)), [1, -1, 1, -1])
    with pytest.raises(ValueError, match="a_plus"):
        sg.direction_to_hyperplane([1.0, 0.0], 0.0, 1.0)
    with pytest.raises(ValueError, match="Xn"):
        sg.hull_closest_points(np.zeros((3, 2)), np.zeros((3, 3)))
    with pytest.raises(ValueError, match="separable"):
        sg.hull_to_svm([1.0, 1.0], [1.0, 1.0])
