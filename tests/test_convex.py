"""lib.convex against references: numpy/scipy closed forms, scipy's Qhull, torch's optimisers and layers."""
import numpy as np
import pytest
import torch
from scipy.spatial import ConvexHull, Delaunay
from scipy.special import softmax
from sklearn.datasets import make_moons
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss

from lib import convex as C

RNG = np.random.default_rng(20240601)


def softplus(x):
    return np.logaddexp(0.0, x)


def logistic_nll_1d(w, seed=3):
    """Mean NLL of P(y = 1 | z) = sigmoid(w z) on a fixed random sample, for an array of w."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=300)
    y = (rng.random(300) < 1 / (1 + np.exp(-1.5 * z))).astype(float)
    s = np.multiply.outer(np.asarray(w, dtype=float), z)
    return np.mean(np.logaddexp(0.0, s) - y * s, axis=-1)


# --------------------------------------------------------------------------- convex_combination
def test_convex_combination_matches_weighted_average_and_stays_in_hull():
    P = RNG.normal(size=(6, 2))
    tri = Delaunay(P)
    for _ in range(50):
        w = RNG.dirichlet(np.ones(6))
        x = C.convex_combination(P, w)
        np.testing.assert_allclose(x, np.average(P, axis=0, weights=w), rtol=1e-12, atol=1e-12)
        assert tri.find_simplex(x) >= 0


def test_affine_combination_can_leave_the_hull():
    A, B = np.array([0.0, 0.0]), np.array([2.0, 1.0])
    x = C.convex_combination(np.stack([A, B]), [-0.5, 1.5], affine=True)
    np.testing.assert_allclose(x, A + 1.5 * (B - A))
    P = np.stack([A, B, [0.0, 3.0]])
    assert Delaunay(P).find_simplex(C.convex_combination(P, [-0.5, 1.5, 0.0], affine=True)) == -1


@pytest.mark.parametrize("points, weights, match", [
    (np.ones((3, 2)), [0.5, 0.6, -0.1], "weights >= 0"),
    (np.ones((3, 2)), [0.5, 0.6, 0.1], "sum to 1"),
    (np.ones((3, 2)), [0.5, 0.5], "one weight per point"),
    (np.ones(3), [0.2, 0.3, 0.5], "2-D array"),
    (np.ones((2, 2)), [np.nan, 1.0], "finite"),
])
def test_convex_combination_errors(points, weights, match):
    with pytest.raises(ValueError, match=match):
        C.convex_combination(points, weights)


def test_affine_still_needs_sum_one():
    with pytest.raises(ValueError, match="sum to 1"):
        C.convex_combination(np.ones((2, 2)), [-1.0, 1.5], affine=True)


def test_softmax_weights_matches_scipy_and_is_stable():
    z = RNG.normal(size=7) * 3
    np.testing.assert_allclose(C.softmax_weights(z), softmax(z), rtol=1e-13)
    big = C.softmax_weights([1000.0, 999.0, -1000.0])
    assert np.all(np.isfinite(big)) and abs(big.sum() - 1) < 1e-15
    np.testing.assert_allclose(big[:2], softmax([1.0, 0.0]), rtol=1e-13)
    for bad in ([[1.0, 2.0]], [], [1.0, np.inf]):
        with pytest.raises(ValueError, match="logits"):
            C.softmax_weights(bad)


# --------------------------------------------------------------------------- convex_hull_2d
def test_convex_hull_matches_scipy_and_contains_every_point():
    for k in (3, 5, 20, 200):
        P = RNG.normal(size=(k, 2))
        H = C.convex_hull_2d(P)
        ref = ConvexHull(P)
        assert {tuple(v) for v in H} == {tuple(v) for v in P[ref.vertices]}
        edges = np.roll(H, -1, axis=0) - H
        area = 0.5 * np.sum(H[:, 0] * np.roll(H[:, 1], -1) - np.roll(H[:, 0], -1) * H[:, 1])
        assert area > 0 and abs(area - ref.volume) < 1e-12  # counter-clockwise, same area
        rel = P[None, :, :] - H[:, None, :]
        cross = edges[:, None, 0] * rel[:, :, 1] - edges[:, None, 1] * rel[:, :, 0]
        assert cross.min() > -1e-12  # every point is left of (or on) every edge


def test_convex_hull_degenerate_inputs():
    line = np.array([[1.0, 1.0], [3.0, 3.0], [0.0, 0.0], [2.0, 2.0]])
    np.testing.assert_array_equal(np.sort(C.convex_hull_2d(line), axis=0), [[0.0, 0.0], [3.0, 3.0]])
    np.testing.assert_array_equal(C.convex_hull_2d(np.ones((4, 2))), [[1.0, 1.0]])
    assert C.convex_hull_2d([[0.0, 0.0], [1.0, 2.0]]).shape == (2, 2)
    with pytest.raises(ValueError, match=r"shape \(k, 2\)"):
        C.convex_hull_2d(np.ones((4, 3)))


# --------------------------------------------------------------------------- chord test
@pytest.mark.parametrize("f", [np.square, softplus, logistic_nll_1d], ids=["x^2", "softplus", "logistic NLL"])
def test_chord_gap_is_non_negative_for_convex_functions(f):
    a, b = RNG.uniform(-4, 4, size=(2, 10_000))
    r = RNG.uniform(0, 1, size=10_000)
    assert C.chord_gap(f, a, b, r).min() >= -1e-12


def test_chord_gap_of_square_has_the_closed_form():
    a, b, r = RNG.normal(size=(3, 1000))
    np.testing.assert_allclose(C.chord_gap(np.square, a, b, r), r * (1 - r) * (a - b) ** 2, atol=1e-12)
    assert isinstance(C.chord_gap(np.square, 0.0, 2.0, 0.5), float)


def test_non_convex_function_has_a_violation():
    f = lambda x: x ** 4 - 3 * x ** 2
    assert C.chord_gap(f, -1.0, 1.0, 0.5) == pytest.approx(-2.0, abs=1e-14)  # chord -2, f(0) = 0
    a, b = RNG.uniform(-2, 2, size=(2, 10_000))
    assert C.chord_gap(f, a, b, RNG.uniform(0, 1, 10_000)).min() < -0.1
    v = C.convexity_violations(f, -1.0, 1.0)
    assert v.size > 150 and v.min() > 0 and v.max() < 1
    assert C.convexity_violations(np.square, -3.0, 2.0).size == 0
    assert C.convexity_violations(np.abs, -3.0, 2.0).size == 0
    assert C.convexity_violations(np.sin, 0.0, np.pi).size == 199  # concave there: every interior r


def test_chord_errors():
    with pytest.raises(TypeError, match="f: expected a callable"):
        C.chord_gap(3.0, 0, 1, 0.5)
    with pytest.raises(ValueError, match="n: expected an integer >= 2"):
        C.convexity_violations(np.square, 0.0, 1.0, n=1)


# --------------------------------------------------------------------------- segments in parameter space
def test_loss_along_segment_arrays_and_dicts():
    a, b = RNG.normal(size=(2, 5))
    rs = np.linspace(-0.5, 1.5, 9)
    expected = [np.sum(((1 - r) * a + r * b) ** 2) for r in rs]
    np.testing.assert_allclose(C.loss_along_segment(lambda t: np.sum(t ** 2), a, b, rs), expected, rtol=1e-13)
    da, db = {"w": a[:3], "c": a[3:]}, {"w": b[:3], "c": b[3:]}
    got = C.loss_along_segment(lambda p: np.sum(p["w"] ** 2) + np.sum(p["c"] ** 2), da, db, rs)
    np.testing.assert_allclose(got, expected, rtol=1e-13)


def test_loss_along_segment_errors():
    with pytest.raises(ValueError, match="theta_b: expected shape"):
        C.loss_along_segment(np.sum, np.ones(3), np.ones(4), [0.5])
    with pytest.raises(ValueError, match="keys"):
        C.loss_along_segment(np.sum, {"a": 1.0}, {"b": 1.0}, [0.5])
    with pytest.raises(TypeError, match="two arrays or two dicts"):
        C.loss_along_segment(np.sum, {"a": 1.0}, np.ones(1), [0.5])
    with pytest.raises(ValueError, match="r: expected a finite number"):
        C.interpolate(np.ones(2), np.zeros(2), np.nan)
    with pytest.raises(TypeError, match="loss_fn"):
        C.loss_along_segment(None, np.ones(1), np.ones(1), [0.5])


def test_logistic_loss_is_convex_along_segments():
    X, y = make_moons(300, noise=0.3, random_state=5)
    fit = LogisticRegression(C=np.inf, tol=1e-10, max_iter=10_000).fit(X, y)
    mle = np.r_[fit.intercept_, fit.coef_[0]]
    loss = lambda th: C.mean_bce(th[0] + X @ th[1:], y)
    rs = np.linspace(-0.5, 1.5, 201)
    for ta, tb in [(np.zeros(3), mle), (RNG.normal(size=3) * 3, RNG.normal(size=3) * 3)]:
        curve = C.loss_along_segment(loss, ta, tb, rs)
        assert np.diff(curve, 2).min() >= -1e-10
    curve = C.loss_along_segment(loss, np.zeros(3), mle, np.linspace(0, 1, 101))
    assert curve[-1] == pytest.approx(log_loss(y, fit.predict_proba(X)[:, 1]), abs=1e-9)
    assert curve[-1] == curve.min()


# --------------------------------------------------------------------------- averages over time
def test_ema_weights_sum_and_match_torch_adam_first_moment():
    for beta in (0.0, 0.5, 0.9, 0.99):
        for t in (1, 7, 100):
            assert C.ema_weights(beta, t).sum() == pytest.approx(1 - beta ** t, abs=1e-12)
    beta, t = 0.8, 25
    g = RNG.normal(size=t)
    p = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Adam([p], betas=(beta, 0.999))
    for gs in g:
        p.grad = torch.tensor([gs], dtype=torch.float64)
        opt.step()
    exp_avg = opt.state[p]["exp_avg"].item()
    assert C.ema_weights(beta, t) @ g[::-1] == pytest.approx(exp_avg, abs=1e-12)


def test_heavy_ball_weights_match_torch_sgd_momentum_buffer():
    gamma, t = 0.9, 30
    g = RNG.normal(size=t)
    p = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([p], lr=0.1, momentum=gamma)
    for gs in g:
        p.grad = torch.tensor([gs], dtype=torch.float64)
        opt.step()
    buf = opt.state[p]["momentum_buffer"].item()
    assert C.heavy_ball_weights(gamma, t) @ g[::-1] == pytest.approx(buf, abs=1e-12)
    np.testing.assert_allclose(C.heavy_ball_weights(gamma, t) * (1 - gamma), C.ema_weights(gamma, t), rtol=1e-14)
    assert C.ema_weights(gamma, t, normalized=False).sum() == pytest.approx((1 - gamma ** t) / (1 - gamma))


def test_uniform_average_is_a_shrinking_convex_combination():
    x = RNG.normal(size=40)
    avg = 0.0
    for s, xs in enumerate(x, start=1):
        avg = (1 - 1 / s) * avg + xs / s
    assert C.uniform_average_weights(40) @ x == pytest.approx(avg, abs=1e-13)
    assert avg == pytest.approx(np.mean(x), abs=1e-13)


@pytest.mark.parametrize("beta, t, match", [(1.0, 5, "beta"), (-0.1, 5, "beta"), (0.5, 0, "t"),
                                            (0.5, 2.5, "t"), (0.5, True, "t")])
def test_average_weight_errors(beta, t, match):
    with pytest.raises(ValueError, match=match):
        C.ema_weights(beta, t)
    with pytest.raises(ValueError, match="gamma" if match == "beta" else match):
        C.heavy_ball_weights(beta, t)
    if match == "t":
        with pytest.raises(ValueError, match="t: expected an integer"):
            C.uniform_average_weights(t)


# --------------------------------------------------------------------------- the MLP probe
@pytest.fixture(scope="module")
def moons_mlp():
    X, y = make_moons(200, noise=0.2, random_state=1)
    return X, y, C.train_mlp(X, y, seed=0, steps=300)


def test_mlp_logits_match_torch_layers(moons_mlp):
    X, _, params = moons_mlp
    layers = []
    for l in (1, 2, 3):
        lin = torch.nn.Linear(*params[f"W{l}"].shape[::-1]).double()
        lin.weight.data = torch.tensor(params[f"W{l}"])
        lin.bias.data = torch.tensor(params[f"b{l}"])
        layers += [lin, torch.nn.ReLU()]
    net = torch.nn.Sequential(*layers[:-1])
    ref = net(torch.tensor(X)).detach().numpy()[:, 0]
    np.testing.assert_allclose(C.mlp_logits(params, X), ref, rtol=1e-12, atol=1e-12)


def test_mean_bce_matches_sklearn_and_torch():
    s, y = RNG.normal(size=50) * 4, (RNG.random(50) < 0.5).astype(float)
    assert C.mean_bce(s, y) == pytest.approx(log_loss(y, 1 / (1 + np.exp(-s))), rel=1e-10)
    ref = torch.nn.functional.binary_cross_entropy_with_logits(torch.tensor(s), torch.tensor(y)).item()
    assert C.mean_bce(s, y) == pytest.approx(ref, rel=1e-12)
    with pytest.raises(ValueError, match="y: expected the shape"):
        C.mean_bce(s, y[:3])


def test_training_fits_the_moons_and_is_deterministic(moons_mlp):
    X, y, params = moons_mlp
    assert C.mean_bce(C.mlp_logits(params, X), y) < 0.05
    again = C.train_mlp(X, y, seed=0, steps=300)
    for k in params:
        np.testing.assert_array_equal(params[k], again[k])
    with pytest.raises(ValueError, match="labels in"):
        C.train_mlp(X, y + 1)


def test_permuted_network_is_the_same_function_but_not_convex_between(moons_mlp):
    X, y, params = moons_mlp
    rng = np.random.default_rng(7)
    perm = [rng.permutation(64), rng.permutation(64)]
    permuted = C.permute_hidden(params, perm)
    grid = np.random.default_rng(8).uniform(-2, 3, size=(500, 2))
    assert np.max(np.abs(C.mlp_logits(permuted, grid) - C.mlp_logits(params, grid))) < 1e-6
    vec = lambda p: np.concatenate([np.ravel(p[k]) for k in sorted(p)])
    assert np.linalg.norm(vec(permuted) - vec(params)) > 1.0
    loss = lambda p: C.mean_bce(C.mlp_logits(p, X), y)
    ends = C.loss_along_segment(loss, params, permuted, [0.0, 1.0])
    mid = C.loss_along_segment(loss, params, permuted, [0.5])[0]
    assert ends[0] == pytest.approx(ends[1], abs=1e-9)
    assert mid > ends.max() + 0.1  # above the chord: the loss is not convex in the parameters


def test_mlp_logits_errors(moons_mlp):
    params = moons_mlp[2]
    with pytest.raises(ValueError, match="params: expected a dict with keys"):
        C.mlp_logits({"W1": params["W1"]}, np.ones((3, 2)))
    with pytest.raises(ValueError, match="X: expected 2 columns"):
        C.mlp_logits(params, np.ones((3, 5)))


def test_permute_hidden_errors(moons_mlp):
    params = moons_mlp[2]
    with pytest.raises(ValueError, match="expected 2 permutations"):
        C.permute_hidden(params, [np.arange(64)])
    with pytest.raises(ValueError, match=r"perm\[1\]: expected a permutation"):
        C.permute_hidden(params, [np.arange(64), np.zeros(64, dtype=int)])
