"""Widgets W1.1 (gd_quadratic) and W1.2 (logistic2d): compute against references, static figures, live widgets."""
import json

import numpy as np
import plotly.graph_objects as go
import pytest
from sklearn.linear_model import LogisticRegression

from lib import plotting
from lib.optim import Quadratic, heavy_ball
from lib.widgets import Dual, gd_quadratic, logistic2d

MAX_HTML = 1_500_000


def check_static(fig: go.Figure, n_steps: int) -> list[dict]:
    """Common checks of a kernel-free figure; returns its slider steps."""
    assert isinstance(fig, go.Figure) and not isinstance(fig, go.FigureWidget)
    assert plotting.missing_labels(fig) == []
    assert len(plotting.to_html(fig)) < MAX_HTML
    json.loads(fig.to_json())  # serialisable: no NaN/inf leaking into the page as invalid JSON
    steps = fig.layout.sliders[0].steps
    assert len(steps) == n_steps
    for step in steps:
        data = step.args[0]
        indices = step.args[2]  # both figures restyle only their moving traces
        assert all(len(v) == len(indices) for v in data.values())
        assert max(indices) < len(fig.data)
    return steps


# --------------------------------------------------------------------------- W1.1 gd_quadratic
def test_gd_quadratic_compute_matches_direct_run_and_theory():
    res = gd_quadratic.compute(kappa=50, angle=20, eta=1.5, gamma=0.6, steps=80, x0=(1.0, -0.5))
    q = Quadratic.ill_conditioned(50, np.deg2rad(20))
    np.testing.assert_array_equal(res["path"], heavy_ball(q.grad, np.array([1.0, -0.5]), 1.5, 0.6, 80))
    np.testing.assert_allclose(res["gap"], [0.5 * x @ q.H @ x for x in res["path"]], rtol=1e-12, atol=1e-300)
    # rho from the 2x2 iteration matrices, computed independently with numpy
    mats = [np.array([[1.6 - 1.5 * lam, -0.6], [1.0, 0.0]]) for lam in (1.0, 1 / 50)]
    np.testing.assert_allclose(res["rho"], max(np.abs(np.linalg.eigvals(m)).max() for m in mats), rtol=1e-9)
    observed = (res["gap"][80] / res["gap"][40]) ** (1 / 80)  # f - f* decays like rho^(2t)
    np.testing.assert_allclose(observed, res["rho"], rtol=0.05)
    np.testing.assert_allclose(res["rate_hb"], (np.sqrt(50) - 1) / (np.sqrt(50) + 1), rtol=1e-14)
    np.testing.assert_allclose(res["rate_gd"], 49 / 51, rtol=1e-14)


@pytest.mark.parametrize("eta, gamma, diverges", [(1.9, 0.0, False), (2.1, 0.0, True),
                                                   (3.0, 0.6, False), (3.3, 0.6, True)])
def test_gd_quadratic_divergence_flag_is_eta_L_above_two_plus_two_gamma(eta, gamma, diverges):
    res = gd_quadratic.compute(kappa=10, eta=eta, gamma=gamma, steps=300)
    assert res["diverges"] is diverges
    assert bool(res["gap"][-1] > res["gap"][0]) == diverges


def test_gd_quadratic_static_figure():
    fig = gd_quadratic.figure()
    steps = check_static(fig, 11)
    labels = [s.label for s in steps]
    assert "1.90" in labels and "2.67" in labels  # the optimal GD and heavy-ball steps, kappa = 20
    names = [s.args[0]["name"][0] for s in steps]  # the GD path's legend entry at each step
    assert "diverges" not in names[0] and "diverges" in names[-1]
    assert fig.data[0].type == "contour"


def test_gd_quadratic_live_widget_updates_in_place():
    live = gd_quadratic.widget(kappa=20, eta=1.0, gamma=0.5, method="heavy ball", steps=40)
    fig = live.figures[0]
    assert isinstance(fig, go.FigureWidget)
    path_before = np.array(fig.data[1].x, dtype=float)
    live.controls["gamma"].value = 0.8
    path_after = np.array(fig.data[1].x, dtype=float)
    assert path_before.shape == path_after.shape == (41,) and not np.allclose(path_before, path_after)
    live.controls["method"].value = "GD"
    assert live.controls["gamma"].disabled and "GD" in fig.layout.title.text
    live.controls["eta"].value = 2.5
    assert "diverges" in fig.data[1].name
    live.controls["optimal"].click()
    assert abs(live.controls["eta"].value - 2 / (1 + 1 / 20)) < 1e-12 and "diverges" not in fig.data[1].name
    z_before = np.array(fig.data[0].z)
    live.controls["kappa"].value = 200
    assert not np.allclose(z_before, np.array(fig.data[0].z))
    live.controls["steps"].value = 100
    assert len(fig.data[2].y) == 101


def test_gd_quadratic_bad_inputs():
    with pytest.raises(ValueError, match="kappa"):
        gd_quadratic.compute(kappa=0.5)
    with pytest.raises(ValueError, match="gamma"):
        gd_quadratic.compute(gamma=1.2)
    with pytest.raises(ValueError, match="eta"):
        gd_quadratic.compute(eta=-1.0)


# --------------------------------------------------------------------------- W1.2 logistic2d
def test_logistic2d_compute_reaches_sklearn_on_overlapping_blobs():
    res = logistic2d.compute(sep=1.0, n=120, separable=False, eta=2.0, steps=3000, seed=4)
    m = LogisticRegression(C=np.inf, tol=1e-12, max_iter=10_000).fit(res["X"], res["y"])
    np.testing.assert_allclose(res["path"][-1], np.r_[m.intercept_, m.coef_[0]], atol=1e-5)
    assert res["path"].shape == (3001, 3) and np.all(res["path"][0] == 0)
    np.testing.assert_allclose(res["loglik"][0], -np.log(2), rtol=1e-14)
    assert np.all(np.diff(res["loglik"]) >= -1e-12)  # ascent never decreases J
    np.testing.assert_allclose(res["accuracy"][-1], m.score(res["X"], res["y"]))


def test_logistic2d_separable_norm_grows_and_direction_settles():
    res = logistic2d.compute(sep=1.0, n=60, separable=True, eta=1.0, steps=4000, seed=2)
    norm = res["norm"]
    assert np.all(np.diff(norm[1:]) > 0) and norm[-1] > norm[400] + 1
    assert res["accuracy"][-1] == 1.0 and res["loglik"][-1] > -0.01
    unit = res["path"] / np.maximum(norm, 1e-300)[:, None]
    assert 1 - unit[-1] @ unit[2000] < 1 - unit[2000] @ unit[200]  # the direction moves less and less


def test_logistic2d_static_figure():
    fig = logistic2d.figure()
    steps = check_static(fig, len(logistic2d.SCHEDULE))
    z = [np.array(s.args[0]["z"][0], dtype=float) for s in steps]
    np.testing.assert_allclose(z[0], 0.5)          # beta = 0: every probability is one half
    assert np.ptp(z[-1]) > 0.9                     # after training the map spans (almost) 0 to 1
    sep_norm = [s.args[0]["y"][5][0] for s in steps]  # the separable panel's ||beta|| marker
    assert np.all(np.diff(sep_norm) > 0)
    assert "separable" in steps[-1].args[1]["annotations[1].text"]


def test_logistic2d_live_widget_updates_in_place():
    live = logistic2d.widget(sep=2.0, n=60)
    fig = live.figures[0]
    z200 = np.array(fig.data[0].z, dtype=float)
    live.controls["t"].value = 0
    np.testing.assert_allclose(np.array(fig.data[0].z, dtype=float), 0.5)
    assert not np.allclose(z200, 0.5)
    live.controls["t"].value = 10000
    norm_overlap = fig.data[5].y[0]
    live.controls["separable"].value = True
    assert fig.data[5].y[0] > 3 * norm_overlap
    assert "separable" in fig.layout.annotations[0].text
    assert len(fig.data[2].x) + len(fig.data[3].x) == 60
    live.controls["n"].value = 100
    assert len(fig.data[2].x) + len(fig.data[3].x) == 100


def test_show_builds_dual_outputs(monkeypatch):
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj, **kw: shown.append(obj))
    gd_quadratic.show(kappa=30)
    logistic2d.show(sep=2.0)
    assert len(shown) == 2 and all(isinstance(s, Dual) for s in shown)
    assert "Plotly.newPlot" in shown[0]._repr_mimebundle_()["text/html"]
