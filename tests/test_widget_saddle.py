"""Widget W10.3 (saddle): dual function and inner maximum against brute force, static and live."""
import json
import math

import numpy as np
import plotly.graph_objects as go
import pytest
from scipy.optimize import minimize_scalar

from lib import plotting
from lib.widgets import saddle


@pytest.mark.parametrize("alpha", [0.0, 0.7, 2.0, 3.3])
def test_dual_function_is_the_minimum_over_x(alpha):
    res = saddle.compute(alpha, 0.5)
    ref = minimize_scalar(lambda x: x**2 - alpha * (x - 1))
    assert abs(res["g"] - ref.fun) < 1e-10 and abs(res["x_star"] - ref.x) < 1e-6
    assert res["g"] <= res["p_star"] + 1e-15


def test_inner_maximum_and_gda():
    assert math.isinf(saddle.compute(1.0, 0.9)["inner_max"])
    assert saddle.compute(1.0, 1.5)["inner_max"] == 2.25
    alphas = np.linspace(0, 50, 501)
    assert np.max(1.5**2 - alphas * 0.5) == 2.25          # at a feasible x the best alpha is 0
    assert np.allclose(saddle.compute(lr=0.15, steps=200)["path"][-1], [1, 2], atol=1e-6)


def test_static_figure():
    fig = saddle.figure()
    assert isinstance(fig, go.Figure) and not isinstance(fig, go.FigureWidget)
    assert plotting.missing_labels(fig) == []
    assert len(plotting.to_html(fig)) < 1_500_000
    json.loads(fig.to_json())
    steps = fig.layout.sliders[0].steps
    assert len(steps) == 17
    assert steps[0].args[0]["y"][2] != steps[8].args[0]["y"][2]    # g(alpha) moves: g(0) = 0, g(2) = 1


def test_live_widget_updates():
    w = saddle.widget()
    fig = w.figures[0]
    before = list(fig.data[4].x)
    w.controls["alpha"].value = 3.0
    assert list(fig.data[4].x) != before
    path = list(fig.data[2].x)
    w.controls["lr"].value = 0.4
    assert list(fig.data[2].x) != path
    w.controls["x"].value = 0.3
    assert "+∞" in fig.layout.title.text


def test_bad_inputs():
    with pytest.raises(ValueError, match="alpha"):
        saddle.compute(alpha=-1.0)
    with pytest.raises(ValueError, match="x"):
        saddle.compute(x=float("nan"))
