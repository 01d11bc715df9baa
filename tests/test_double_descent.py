"""lib.double_descent and the double-descent widget (lib.widgets.double_descent).

References: numpy lstsq/pinv, scikit-learn Ridge and KernelRidge, Monte-Carlo simulation against the
Belkin-Hsu-Xu closed form, and the book's hinge fits in lib.piecewise. The widget is driven headlessly.
"""
import numpy as np
import plotly.graph_objects as go
import pytest
from sklearn.kernel_ridge import KernelRidge
from sklearn.linear_model import Ridge

from lib import double_descent as dd
from lib import plotting
from lib.piecewise import fit_piecewise_linear
from lib.widgets import double_descent as ddw


# --------------------------------------------------------------------------- features and grid
def test_random_relu_features_are_nested_and_scaled():
    X = np.random.default_rng(0).standard_normal((30, 4))
    Phi, W, b = dd.random_relu_features(X, 3000, seed=7)
    Phi_small, W_small, b_small = dd.random_relu_features(X, 50, seed=7)
    np.testing.assert_array_equal(Phi_small, Phi[:, :50])
    np.testing.assert_array_equal(W_small, W[:50])
    np.testing.assert_array_equal(b_small, b[:50])
    np.testing.assert_allclose(Phi, np.maximum(0, X @ W.T + b))
    assert Phi.shape == (30, 3000) and W.shape == (3000, 4) and b.shape == (3000,)
    assert W.var() == pytest.approx(1 / 4, rel=0.05) and b.std() == pytest.approx(0.5, rel=0.05)
    assert not np.array_equal(dd.random_relu_features(X, 50, seed=8)[0], Phi_small)


def test_default_grid_resolves_the_threshold():
    grid = dd.default_p_grid(40)
    assert grid[0] == 1 and grid[-1] == 800 and np.all(np.diff(grid) > 0)
    assert set(range(35, 46)) <= set(grid.tolist())
    assert dd.default_p_grid(10, p_max=12).max() == 12


# --------------------------------------------------------------------------- the fitting core
@pytest.mark.parametrize("shape", [(12, 5), (12, 12), (12, 40)])
def test_spectral_fit_is_min_norm_least_squares_and_ridge(shape):
    rng = np.random.default_rng(1)
    Phi, y = rng.standard_normal((3, *shape)), rng.standard_normal((3, shape[0]))
    beta = dd._spectral_fit(Phi, y, 0.0)
    for t in range(3):
        np.testing.assert_allclose(beta[t], np.linalg.lstsq(Phi[t], y[t], rcond=None)[0], atol=1e-9)
        ref = Ridge(alpha=2 * 0.3, fit_intercept=False, solver="svd").fit(Phi[t], y[t])
        np.testing.assert_allclose(dd._spectral_fit(Phi[t:t + 1], y[t:t + 1], 0.3)[0], ref.coef_, atol=1e-10)


@pytest.mark.parametrize("ridge", [0.0, 0.05])
def test_overparameterised_fit_equals_kernel_regression_with_the_feature_kernel(ridge):
    rng = np.random.default_rng(2)
    X, Xt = rng.standard_normal((25, 5)), rng.standard_normal((60, 5))
    y = np.maximum(X[:, 0], 0) + 0.1 * rng.standard_normal(25)
    Phi_all = dd.random_relu_features(np.vstack([X, Xt]), 700, seed=3)[0]
    Phi, Phi_t = Phi_all[:25], Phi_all[25:]
    beta = dd._spectral_fit(Phi[None], y[None], ridge)[0]
    if ridge == 0:  # ridgeless: K^{-1} y with K = Phi Phi^T
        pred_kernel = Phi_t @ Phi.T @ np.linalg.solve(Phi @ Phi.T, y)
    else:  # book's lam is sklearn's alpha / 2
        pred_kernel = KernelRidge(alpha=2 * ridge, kernel="precomputed").fit(Phi @ Phi.T, y).predict(Phi_t @ Phi.T)
    np.testing.assert_allclose(Phi_t @ beta, pred_kernel, rtol=1e-7, atol=1e-9)


# --------------------------------------------------------------------------- curves
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_feature_curve_peaks_at_p_equals_n_and_descends_again(seed):
    c = dd.double_descent_curve(n=30, d=5, sigma=0.1, trials=8, seed=seed)
    p, g = c["p"], c["geo_mean_test"]
    assert p[np.argmax(g)] == 30
    best_under = g[p < 30].min()
    assert g[p == 30][0] > 5 * best_under
    assert g[-1] < best_under  # the second descent beats the classical optimum in this setting
    train = c["train_mse"]
    assert np.all(np.diff(train, axis=1) <= 1e-12)  # nested columns: training error never rises
    # zero (interpolation) once there are n live features; a random ReLU feature can be dead (zero)
    # on all n training points, so a few trials only interpolate a little after p = n
    assert np.all(train[:, p >= 40] < 1e-20)
    assert np.all(c["test_mse"] > 0) and c["test_mse"].shape == (8, p.size)


def test_ridge_removes_the_peak():
    ridgeless = dd.double_descent_curve(n=30, trials=8, seed=4)
    p = ridgeless["p"]
    for lam in (1e-2, 1e-1):
        g = dd.double_descent_curve(n=30, trials=8, seed=4, ridge=lam)["geo_mean_test"]
        assert g[p == 30][0] < 1.2 * g[p < 30].min()
        assert g[p == 30][0] < ridgeless["geo_mean_test"][p == 30][0] / 5
    # ridge shrinks the coefficients, most of all at the threshold
    norm = dd.double_descent_curve(n=30, trials=8, seed=4, ridge=1e-2)["beta_norm"]
    assert np.all(norm <= ridgeless["beta_norm"] * (1 + 1e-9))


def test_hinge_curve_peaks_where_columns_reach_n_and_matches_the_book_fits():
    n = 30
    c = dd.double_descent_curve(n=n, sigma=0.1, trials=20, seed=0, features="hinge_1d", p_grid=np.arange(10, 60))
    assert n <= c["columns"][np.argmax(c["geo_mean_test"])] <= n + 2
    np.testing.assert_array_equal(c["columns"], c["p"] + 1)
    # the first trial's coefficients are those of lib.piecewise's fit on the same data
    for p, ridge in [(15, 0.0), (55, 0.0), (55, 0.1)]:
        ex = dd.example_fit(p, n=n, sigma=0.1, features="hinge_1d", seed=0, ridge=ridge)
        fit = fit_piecewise_linear(ex["x"], ex["y"], p, penalty="ridge" if ridge else "none", lam=ridge)
        np.testing.assert_allclose(ex["beta"], fit.beta, rtol=1e-8, atol=1e-10)
        if ridge == 0:
            assert np.linalg.norm(fit.beta) == pytest.approx(c["beta_norm"][0, p - 10], rel=1e-8)


def test_example_fit_is_the_first_trial_of_the_curve():
    c = dd.double_descent_curve(n=20, trials=3, seed=5, p_grid=np.array([7, 20, 90]))
    for k, p in enumerate([7, 20, 90]):
        ex = dd.example_fit(p, n=20, seed=5)
        assert np.linalg.norm(ex["beta"]) == pytest.approx(c["beta_norm"][0, k], rel=1e-9)
    np.testing.assert_allclose(ex["truth"], np.maximum(ex["grid"], 0))


def test_one_dimensional_noisy_interpolation_is_not_benign():
    kw = dict(n=40, sigma=0.3, trials=10, seed=0, features="hinge_1d", p_grid=np.array([5, 8, 12, 2000]))
    jitter = dd.double_descent_curve(x_design="jitter", **kw)["geo_mean_test"]
    uniform = dd.double_descent_curve(x_design="uniform", **kw)["geo_mean_test"]
    assert 1.5 < jitter[-1] / jitter[:3].min() < 10  # tempered: worse than the best small model, but bounded
    assert uniform[-1] / uniform[:3].min() > 20  # close pairs of points: near-catastrophic


# --------------------------------------------------------------------------- theory
def test_bhx_formula_matches_monte_carlo_away_from_the_threshold():
    rng = np.random.default_rng(3)
    beta = rng.standard_normal(90)
    beta /= np.linalg.norm(beta)
    for p in (8, 20, 70, 90):
        theory = dd.bhx_risk(30, p, beta, 0.5)
        mc = dd.gaussian_design_mc(30, p, beta, 0.5, trials=1500, seed=p)
        assert mc == pytest.approx(theory, rel=0.04), p
    assert all(dd.bhx_risk(30, p, beta, 0.5) == np.inf for p in (29, 30, 31))


def test_bhx_special_cases():
    beta = np.r_[np.ones(4), np.zeros(6)] / 2.0  # all signal in the first four coordinates
    # correctly specified ordinary least squares: sigma^2 (1 + p / (n - p - 1))
    assert dd.bhx_risk(20, 4, beta, 0.3) == pytest.approx(0.09 * (1 + 4 / 15))
    # noiseless and all features used, p >> n: the signal is only partly recovered
    assert dd.bhx_risk(5, 10, beta, 0.0) == pytest.approx(1 - 5 / 10)


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("call, exc, match", [
    (lambda: dd.random_relu_features(np.ones(5), 3, seed=0), ValueError, "X:"),
    (lambda: dd.random_relu_features(np.ones((5, 2)), 0, seed=0), ValueError, "p:"),
    (lambda: dd.random_relu_features(np.ones((5, 2)), 3, seed=-1), ValueError, "seed:"),
    (lambda: dd.random_relu_features(np.ones((5, 2)), 3, seed=0, b_scale=-1), ValueError, "b_scale:"),
    (lambda: dd.default_p_grid(1), ValueError, "n:"),
    (lambda: dd.double_descent_curve(features="rff"), ValueError, "features:"),
    (lambda: dd.double_descent_curve(features="hinge_1d", x_design="sobol"), ValueError, "x_design:"),
    (lambda: dd.double_descent_curve(p_grid=[1.5, 3.0]), ValueError, "p_grid:"),
    (lambda: dd.double_descent_curve(p_grid=[0, 3]), ValueError, "p_grid:"),
    (lambda: dd.double_descent_curve(sigma=-0.1), ValueError, "sigma:"),
    (lambda: dd.double_descent_curve(trials=0), ValueError, "trials:"),
    (lambda: dd.double_descent_curve(ridge="none"), TypeError, "ridge:"),
    (lambda: dd.double_descent_curve(n=2.5), TypeError, "n:"),
    (lambda: dd.bhx_risk(10, 5, np.ones(3), 0.1), ValueError, "beta:"),
    (lambda: dd.bhx_risk(10, 5, np.ones(8), -0.1), ValueError, "sigma:"),
    (lambda: dd.gaussian_design_mc(10, 5, np.ones((8, 1)), 0.1), ValueError, "beta:"),
    (lambda: dd.example_fit(0), ValueError, "p:"),
])
def test_bad_input_is_rejected_with_a_message_naming_the_argument(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


# --------------------------------------------------------------------------- the widget
SMALL = dict(n=20, d=5, trials=4, seed=1)


def test_compute_summarises_the_curve():
    c = ddw.compute(**SMALL, sigma=0.1, p_view=60, theory=True)
    cols, g = c["columns"], c["geo_mean_test"]
    assert c["peak_p"] == c["threshold_p"] == 20
    assert c["best_under_mse"] == g[cols < 20].min() and c["best_over_mse"] == g[cols > 20].min()
    assert c["p"][np.argmin(np.where(cols < 20, g, np.inf))] == c["best_under_p"]
    np.testing.assert_allclose(c["norm_geo"], np.exp(np.log(c["beta_norm"]).mean(axis=0)))
    assert c["example"]["fit"].shape == c["example"]["grid"].shape
    th = c["theory"]
    assert np.isnan(th[np.isin(cols, [19, 20, 21])]).all() and np.isfinite(th[~np.isin(cols, [19, 20, 21])]).all()
    D = int(cols.max())
    beta = np.full(D, np.sqrt((0.5 - 1 / (2 * np.pi)) / D))
    assert th[0] == pytest.approx(dd.bhx_risk(20, 1, beta, 0.1) - 0.01)
    hinge = ddw.compute(**SMALL, features="hinge_1d")
    assert hinge["threshold_p"] == 19 and hinge["p"].max() == 3000


def test_static_figure_sliders_compose_and_stay_small():
    fig = ddw.figure(**SMALL)
    assert isinstance(fig, go.Figure) and plotting.missing_labels(fig) == []
    assert len(plotting.to_html(fig)) < 1_500_000
    s_slider, r_slider = fig.layout.sliders
    assert [st.label for st in s_slider.steps] == ["0", "0.1", "0.3"]
    assert [st.label for st in r_slider.steps] == ["ridgeless", "0.001", "0.01", "0.1"]
    n_traces = len(fig.data)
    for st in [*s_slider.steps, *r_slider.steps]:
        assert all(len(v) == n_traces for v in st.args[0].values())
    # the sigma slider rewrites every group's data; the lambda slider only switches visibility
    assert set(s_slider.steps[0].args[0]) == {"x", "y", "text"} and set(r_slider.steps[0].args[0]) == {"visible", "showlegend"}
    test_y = [st.args[0]["y"][1] for st in s_slider.steps]  # trace 1: test MSE of the ridgeless group
    expected = [ddw.compute(**SMALL, sigma=s)["geo_mean_test"] for s in ddw.SIGMAS]
    for got, want in zip(test_y, expected):
        np.testing.assert_allclose(got, want, rtol=1e-3)
    assert not np.allclose(test_y[0], test_y[2])
    visible = [np.flatnonzero(st.args[0]["visible"]) for st in r_slider.steps]
    assert all(len(v) == len(visible[0]) for v in visible) and len({tuple(v) for v in visible}) == 4
    assert "highest near the threshold" in fig.data[4].text[0]


def test_live_widget_updates_its_figure_when_controls_move():
    live = ddw.widget(**SMALL)
    fig = live.figures[0]
    before = np.array(fig.data[1].y)
    live.controls["sigma"].value = 0.5
    assert not np.allclose(before, fig.data[1].y)
    np.testing.assert_allclose(fig.data[1].y, ddw.compute(**SMALL, sigma=0.5)["geo_mean_test"])

    peak_ridgeless = max(fig.data[1].y)
    live.controls["ridgeless"].value = False
    assert not live.controls["ridge"].disabled
    live.controls["ridge"].value = 0.1
    assert max(fig.data[1].y) < peak_ridgeless / 3

    fit_before = np.array(fig.data[10].y)
    live.controls["p_view"].value = live.controls["p_view"].options[-1]
    assert not np.allclose(fit_before, fig.data[10].y)
    assert fig.data[10].name == f"fit at p = {live.controls['p_view'].options[-1]}"

    live.controls["theory"].value = True
    assert fig.data[3].visible and np.isfinite(np.array(fig.data[3].y, dtype=float)).any()

    live.controls["features"].value = "hinge_1d"
    assert fig.layout.xaxis3.title.text == "x" and fig.data[12].visible  # knots shown
    assert max(live.controls["p_view"].options) == 3000
    live.controls["n"].value = 30
    assert list(fig.data[5].x) == [29, 29]  # threshold line at p + 1 = n
    assert "highest near the threshold" in live.children[2].value


def test_show_displays_without_error():
    ddw.show(**SMALL)
