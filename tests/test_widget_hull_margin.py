"""Widget W10.2 (hull_margin): compute against SVC, the static figure, the live widget."""
import json

import numpy as np
import plotly.graph_objects as go
import pytest
from sklearn.svm import SVC

from lib import plotting
from lib import svm_dual as sd
from lib.widgets import hull_margin


@pytest.mark.parametrize("seed, sep", [(1, 2.1), (3, 3.0), (7, 1.8)])
def test_compute_matches_hard_margin_svc(seed, sep):
    X, y = hull_margin.data(seed, sep)
    res = hull_margin.compute(X, y)
    assert res["separable"]
    svc = SVC(kernel="linear", C=1e8, tol=1e-10).fit(X, y)
    w, b = svc.coef_.ravel(), svc.intercept_[0]
    assert abs(res["D"] - 2 / np.linalg.norm(w)) < 1e-6
    assert np.allclose(res["w"], w, atol=1e-5 * np.linalg.norm(w)) and abs(res["b"] - b) < 1e-5
    lam = 2 / res["D"] ** 2
    assert abs(res["sum_plus"] - lam) < 1e-9 and abs(res["sum_minus"] - lam) < 1e-9
    assert np.allclose(res["alpha"], sd.alpha_from_sklearn(svc, len(y)), atol=1e-4 * lam)
    assert set(res["support"]) == set(svc.support_)


def test_overlapping_clouds_are_not_separable():
    res = hull_margin.compute(*hull_margin.data(1, 0.6))
    assert not res["separable"] and res["w"] is None and res["D"] < 1e-6


def test_static_figure():
    fig = hull_margin.figure()
    assert isinstance(fig, go.Figure) and not isinstance(fig, go.FigureWidget)
    assert plotting.missing_labels(fig) == []
    assert len(plotting.to_html(fig)) < 1_500_000
    json.loads(fig.to_json())
    steps = fig.layout.sliders[0].steps
    assert len(steps) == len(hull_margin.SEPARATIONS)
    assert steps[0].args[0]["x"][0] != steps[-1].args[0]["x"][0]   # the data move with the separation
    assert "overlap" in steps[0].args[1]["title.text"] and "2/‖w‖" in steps[-1].args[1]["title.text"]


def test_live_widget_updates():
    w = hull_margin.widget()
    fig = w.figures[0]
    before = list(fig.data[0].x)
    w.controls["separation"].value = 3.0
    assert list(fig.data[0].x) != before
    seg = list(fig.data[4].x)
    w.controls["point"].value = 2
    w.controls["px"].value = -1.0
    assert list(fig.data[4].x) != seg or list(fig.data[0].x)[2] == -1.0
    assert list(fig.data[0].x)[2] == -1.0
    w.controls["separation"].value = 0.0
    assert "overlap" in fig.layout.title.text or "D = 0" in fig.layout.title.text


def test_bad_inputs():
    with pytest.raises(ValueError, match="X"):
        hull_margin.compute(np.zeros((4, 3)), [1, 1, -1, -1])
    with pytest.raises(ValueError, match="y"):
        hull_margin.compute(np.zeros((4, 2)), [1, 1, 1, 1])
    with pytest.raises(ValueError, match="separation"):
        hull_margin.data(1, -1.0)
