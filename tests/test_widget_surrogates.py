"""Widget W9.5 (surrogates): majorization facts, the static figure, the live widget."""
import json

import numpy as np
import plotly.graph_objects as go
import pytest

from lib import plotting
from lib.widgets import surrogates as sw


def test_taylor_fails_bohning_holds_for_logistic():
    res = sw.compute("logistic", f=3.0, y=1, eta=4.0)
    assert res["below"]["taylor2"].any()  # the XGBoost surrogate is not an upper bound at f = 3
    assert not res["below"]["bohning"].any() and not res["below"]["prox"].any()  # curvature 1/4 = 1/eta
    i0 = np.argmin(np.abs(res["h"]))
    for k in ("taylor1", "taylor2", "prox", "bohning"):  # tangency at h = 0
        assert res[k][i0] == pytest.approx(res["true"][i0], abs=1e-12)
    assert sw.compute("logistic", f=0.0, eta=5.0)["below"]["prox"].any()  # eta > 1/L = 4 fails where l'' = 1/4


def test_squared_taylor_is_exact_and_prox_rule():
    res = sw.compute("squared", f=0.5, y=1, eta=1.0)
    np.testing.assert_allclose(res["taylor2"], res["true"], atol=1e-12)
    assert res["bohning"] is None and not res["below"]["prox"].any()
    assert sw.compute("squared", f=0.5, y=1, eta=1.2)["below"]["prox"].any()
    exp = sw.compute("exponential", f=1.0, y=1, eta=0.5)
    assert exp["below"]["taylor2"].any()  # e^{-z} has growing curvature toward negative z


def test_static_figure():
    fig = sw.figure()
    assert isinstance(fig, go.Figure) and not isinstance(fig, go.FigureWidget)
    assert plotting.missing_labels(fig) == []
    assert len(plotting.to_html(fig)) < 1_500_000
    json.loads(fig.to_json())
    steps = fig.layout.sliders[0].steps
    assert len(steps) == len(sw.F_VALUES)
    assert steps[0].args[0]["y"][0] != steps[-1].args[0]["y"][0]


def test_live_widget_updates():
    w = sw.widget()
    fig = w.figures[0]
    before = list(fig.data[0].y)
    w.controls["f"].value = -1.0
    assert list(fig.data[0].y) != before and "f = -1" in fig.layout.title.text
    w.controls["loss"].value = "squared"
    assert "squared" in fig.layout.title.text and len(fig.data[4].y) == 0


def test_bad_inputs():
    with pytest.raises(ValueError, match="loss"):
        sw.compute("hinge")
    with pytest.raises(ValueError, match="y"):
        sw.compute(y=0)
    with pytest.raises(ValueError, match="eta"):
        sw.compute(eta=0)
