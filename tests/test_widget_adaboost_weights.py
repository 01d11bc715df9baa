"""Widget W9.6 (adaboost_weights): compute against the model's identities, the static figure, the live widget."""
import json

import numpy as np
import plotly.graph_objects as go
import pytest

from lib import plotting
from lib.widgets import adaboost_weights


@pytest.fixture(scope="module")
def res():
    return adaboost_weights.compute(n=80, flip=0.1, n_rounds=12, grid=20)


def test_compute_is_consistent(res):
    M = len(res["errors"])
    assert res["weights"].shape == (M, 80) and res["sign_f"].shape == (M, 20, 20)
    np.testing.assert_allclose(res["weights"].sum(axis=1), 1.0, atol=1e-12)
    assert res["flipped"].sum() == 8
    np.testing.assert_allclose(res["flipped_share"], res["weights"][:, res["flipped"]].sum(axis=1))
    assert np.all(res["train_error"] <= res["exp_loss"] + 1e-15)
    np.testing.assert_allclose(res["exp_loss"], res["bound"], rtol=1e-10)
    # the background is the sign of the model's own decision function on the grid
    model = res["model"]
    G = np.array([[res["gx"][3], res["gy"][5]]])
    assert res["sign_f"][-1][5, 3] == (1 if model.decision_function(G)[0] > 0 else -1)
    assert res["flipped_share"][-1] > res["flipped_share"][0]   # weight drifts onto the flipped points


def test_static_figure(res):
    fig = adaboost_weights.figure(result=res)
    assert isinstance(fig, go.Figure) and not isinstance(fig, go.FigureWidget)
    assert plotting.missing_labels(fig) == []
    assert len(plotting.to_html(fig)) < 1_500_000
    json.loads(fig.to_json())
    steps = fig.layout.sliders[0].steps
    assert len(steps) == len(res["errors"])
    assert steps[0].args[0]["marker.size"][1] != steps[-1].args[0]["marker.size"][1]   # sizes follow weights
    assert steps[0].args[1]["title.text"] != steps[-1].args[1]["title.text"]


def test_live_widget_updates(res):
    w = adaboost_weights.widget(n=80, n_rounds=12, result=res)
    fig = w.figures[0]
    before = list(fig.data[1].marker.size)
    w.controls["round"].value = 6
    assert list(fig.data[1].marker.size) != before
    assert "round 6" in fig.layout.title.text
    w.controls["flip"].value = 0.0
    assert "flipped" not in fig.layout.title.text


def test_bad_inputs():
    with pytest.raises(ValueError, match="flip"):
        adaboost_weights.compute(flip=0.7)
    with pytest.raises(ValueError, match="n_rounds"):
        adaboost_weights.compute(n_rounds=0)
    with pytest.raises(ValueError, match="n"):
        adaboost_weights.compute(n=3)
