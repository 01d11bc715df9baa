"""Widget W4.7 (discretization): eigenvalue maps, the exact step response against solve_ivp, figures."""
import json

import numpy as np
import plotly.graph_objects as go
import pytest
from scipy.integrate import solve_ivp

from lib import plotting
from lib.widgets import discretization


def test_discrete_eigenvalues_follow_the_closed_forms():
    lam, d = complex(-1.0, 4.0), 0.3
    res = discretization.compute(-1.0, 4.0, d, n=10)
    expected = {"Euler": 1 + lam * d, "ZOH": np.exp(lam * d), "bilinear": (1 + lam * d / 2) / (1 - lam * d / 2)}
    for name, value in expected.items():  # the pair is conjugate: compare the one with the same sign of Im
        got = res["eig"][name]
        got = got if np.sign(got.imag) == np.sign(value.imag) else got.conjugate()
        assert got == pytest.approx(value, abs=1e-12)
    assert abs(res["eig"]["Euler"]) > 1 > abs(res["eig"]["ZOH"])  # |1 + lam d| = sqrt(0.49 + 1.44) > 1


def test_exact_step_response_matches_solve_ivp_and_zoh_samples_it():
    res = discretization.compute(-0.8, 3.0, 0.25, n=5, horizon=4.0)
    A = np.array([[-0.8, -3.0], [3.0, -0.8]])
    sol = solve_ivp(lambda _, h: A @ h + np.array([1.0, 0.0]), (0, 4.0), [0.0, 0.0], t_eval=res["t_exact"],
                    rtol=1e-11, atol=1e-12, method="DOP853")
    np.testing.assert_allclose(res["y_exact"], sol.y[0], atol=1e-8)
    zoh_t, zoh_y = np.array(res["t"]["ZOH"]), np.array(res["y"]["ZOH"])
    np.testing.assert_allclose(zoh_y, np.interp(zoh_t, res["t_exact"], res["y_exact"]), atol=2e-3)  # exact at samples
    assert res["err"][-1] < res["err"][0] / 100 and res["err_n"] == pytest.approx(res["err"][discretization.NS.index(5)])


def test_static_figure():
    fig = discretization.figure()
    assert isinstance(fig, go.Figure) and not isinstance(fig, go.FigureWidget)
    assert plotting.missing_labels(fig) == []
    assert len(plotting.to_html(fig)) < 1_500_000
    json.loads(fig.to_json())
    steps = fig.layout.sliders[0].steps
    assert len(steps) == len(discretization.DELTAS)
    assert steps[0].args[0]["x"][1] != steps[-1].args[0]["x"][1]  # the Euler eigenvalue moves with the step
    assert "unstable" in steps[-1].args[1]["title.text"] and "all stable" in steps[0].args[1]["title.text"]


def test_live_widget_updates():
    w = discretization.widget()
    fig = w.figures[0]
    before = list(fig.data[3].y)
    w.controls["delta"].value = 0.05
    assert list(fig.data[3].y) != before
    w.controls["method"].value = "ZOH"
    assert fig.data[2].visible is False and fig.data[4].visible is True


def test_bad_inputs():
    with pytest.raises(ValueError, match="delta"):
        discretization.compute(delta=0.0)
    with pytest.raises(ValueError, match="n"):
        discretization.compute(n=0)
