"""Widget W10.8 (lagrange_contours): optimum against SLSQP, the static figure, the live widget."""
import json

import numpy as np
import plotly.graph_objects as go
import pytest
from scipy.optimize import minimize

from lib import plotting
from lib.widgets import lagrange_contours as lc


@pytest.mark.parametrize("problem, radius", [("quadratic/circle", 1.0), ("quadratic/circle", 0.6),
                                             ("quadratic/line", 1.0), ("linear/circle", 1.7)])
def test_optimum_matches_slsqp_and_gradients_align(problem, radius):
    opt = lc.optimum(problem, radius)
    if problem.endswith("circle"):
        cons = dict(type="eq", fun=lambda x: x @ x - radius**2)
    else:
        cons = dict(type="eq", fun=lambda x: lc.LINE @ x - 1)
    best = min((minimize(lambda x: lc.f(problem, x), x0, constraints=[cons], method="SLSQP",
                         options=dict(ftol=1e-15, maxiter=300)) for x0 in ([0.5, 0.5], [-0.5, -0.3], [0.2, -0.8])),
               key=lambda r: r.fun)
    assert np.allclose(opt["x"], best.x, atol=1e-5)
    res = lc.compute(opt["t"], problem, radius)
    assert abs(abs(res["cosine"]) - 1) < 1e-8
    assert np.allclose(res["grad_f"], opt["lam"] * res["grad_c"], atol=1e-6)


def test_inequality_mode_complementary_slackness():
    inactive = lc.optimum("quadratic/circle", 2.5, "inequality")        # the minimum (1.6, 0.9) is inside
    assert not inactive["active"] and inactive["lam"] == 0.0 and np.allclose(inactive["x"], lc.M)
    active = lc.optimum("quadratic/circle", 1.0, "inequality")
    assert active["active"] and active["lam"] > 0                        # mu >= 0 when the constraint binds


def test_static_figure():
    fig = lc.figure()
    assert isinstance(fig, go.Figure) and not isinstance(fig, go.FigureWidget)
    assert plotting.missing_labels(fig) == []
    assert len(plotting.to_html(fig)) < 1_500_000
    json.loads(fig.to_json())
    steps = fig.layout.sliders[0].steps
    assert len(steps) == 37 and any(s.label == "opt" for s in steps)
    assert steps[0].args[0]["x"][0] != steps[10].args[0]["x"][0]


def test_live_widget_updates():
    w = lc.widget()
    fig = w.figures[0]
    before = list(fig.data[3].x)
    w.controls["t"].value = 1.0
    assert list(fig.data[3].x) != before
    w.controls["problem"].value = "quadratic/line"
    assert "quadratic/line" in fig.layout.title.text
    w.controls["problem"].value = "quadratic/circle"
    w.controls["mode"].value = "inequality"
    w.controls["radius"].value = 2.5
    assert "λ = 0" in fig.layout.title.text


def test_bad_inputs():
    with pytest.raises(ValueError, match="problem"):
        lc.compute(0.0, problem="cubic/circle")
    with pytest.raises(ValueError, match="radius"):
        lc.optimum("quadratic/circle", -1.0)
    with pytest.raises(ValueError, match="mode"):
        lc.optimum("quadratic/circle", 1.0, "both")
    with pytest.raises(ValueError, match="t"):
        lc.compute(float("inf"))
