"""Widget W10.1 (projection_gap): compute against SVC, the static figure, the live widget."""
import json

import numpy as np
import plotly.graph_objects as go
import pytest
from sklearn.svm import SVC

from lib import plotting
from lib.widgets import projection_gap


@pytest.mark.parametrize("seed", [0, 5])
def test_best_angle_is_the_svm_direction(seed):
    res = projection_gap.compute(theta=10.0, seed=seed)
    X, y = res["X"], res["y"]
    svc = SVC(kernel="linear", C=1e8, tol=1e-10).fit(X, y)
    w = svc.coef_.ravel()
    theta_svc = np.degrees(np.arctan2(w[1], w[0])) % 360
    assert abs(res["theta_best"] - theta_svc) < 1e-3 and abs(res["theta_svm"] - theta_svc) < 1e-3
    assert abs(res["gap_best"] - 2 / np.linalg.norm(w)) < 1e-6
    assert res["gaps"].max() <= res["gap_best"] + 1e-12


def test_gap_at_theta_matches_projections():
    res = projection_gap.compute(theta=200.0, seed=1)
    s = res["X"] @ np.array([np.cos(np.radians(200)), np.sin(np.radians(200))])
    assert res["a_plus"] == s[res["y"] > 0].min() and res["a_minus"] == s[res["y"] < 0].max()
    assert res["gap"] < 0  # pointing away from the positive class: overlap


def test_static_figure():
    fig = projection_gap.figure()
    assert isinstance(fig, go.Figure) and not isinstance(fig, go.FigureWidget)
    assert plotting.missing_labels(fig) == []
    assert len(plotting.to_html(fig)) < 1_500_000
    json.loads(fig.to_json())
    steps = fig.layout.sliders[0].steps
    assert len(steps) == 73  # 72 five-degree steps and the optimum
    assert steps[0].args[0]["x"][3] != steps[30].args[0]["x"][3]  # the projections move with theta
    assert any(s.label.endswith("*") for s in steps)


def test_live_widget_updates():
    w = projection_gap.widget()
    fig = w.figures[0]
    before = list(fig.data[3].x)
    w.controls["theta"].value = 100.0
    assert list(fig.data[3].x) != before
    data_before = list(fig.data[0].x)
    w.controls["seed"].value = 4
    assert list(fig.data[0].x) != data_before
    w.controls["best"].click()
    assert "separated" in fig.layout.title.text


def test_bad_inputs():
    with pytest.raises(ValueError, match="theta"):
        projection_gap.compute(theta=float("nan"))
    with pytest.raises(ValueError, match="seed"):
        projection_gap.data(seed=-1)
    with pytest.raises(ValueError, match="n"):
        projection_gap.data(n=1)
