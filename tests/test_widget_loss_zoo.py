"""Widget W10.6 (loss zoo): minimisers, the static figure, the live widget."""
import json

import numpy as np
import pytest
import plotly.graph_objects as go

from lib import margin_losses as ml
from lib import plotting
from lib.widgets import loss_zoo as lz


@pytest.mark.parametrize("eta", [0.15, 0.4, 0.75])
def test_minimisers_are_grid_minima(eta):
    f = np.linspace(-4, 4, 8001)
    res = lz.compute(eta, f)
    for name in ("logistic", "exponential", "squared"):
        assert f[np.argmin(res[name]["risk"])] == pytest.approx(res[name]["fstar"], abs=2e-3)
        i = np.argmin(np.abs(f - res[name]["fstar"]))
        assert abs(res[name]["drisk"][i]) < 1e-2  # the derivative vanishes there
    assert res["hinge"]["rstar"] == pytest.approx(res["hinge"]["risk"].min(), abs=1e-12)
    assert res["hinge"]["rstar"] == pytest.approx(2 * min(eta, 1 - eta))  # hinge risk at the optimum
    assert res["zero_one"]["rstar"] == pytest.approx(min(eta, 1 - eta))  # the Bayes risk
    for name in ("hinge", "logistic", "exponential", "squared"):
        assert np.sign(res[name]["fstar"]) == np.sign(2 * eta - 1)
    assert res["logistic"]["fstar"] == pytest.approx(ml.population_minimizer_numeric(ml.logistic_margin, eta), abs=1e-6)


def test_static_figure():
    fig = lz.figure()
    assert isinstance(fig, go.Figure) and not isinstance(fig, go.FigureWidget)
    assert plotting.missing_labels(fig) == []
    assert len(plotting.to_html(fig)) < 1_500_000
    json.loads(fig.to_json())
    steps = fig.layout.sliders[0].steps
    assert len(steps) == len(lz.ETAS)
    assert steps[0].args[0]["y"][2] != steps[-1].args[0]["y"][2]  # the logistic curve moves with eta


def test_live_widget_updates():
    w = lz.widget()
    fig = w.figures[0]
    before = list(fig.data[2].y)
    w.controls["eta"].value = 0.3
    assert list(fig.data[2].y) != before and "0.30" in fig.layout.title.text
    w.controls["hinge"].value = False
    assert len(fig.data[1].y) == 0 and len(fig.data[6].x) == 0
    w.controls["derivative"].value = True
    assert "d/df" in fig.layout.yaxis.title.text and list(fig.data[5 + 2].y) == [0.0]


def test_bad_inputs():
    with pytest.raises(ValueError, match="eta"):
        lz.compute(1.0)
    with pytest.raises(ValueError, match="f"):
        lz.compute(0.5, f=np.zeros((2, 2)))
