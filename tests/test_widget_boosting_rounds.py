"""Widget W9.3 (boosting_rounds): stages against sklearn, the static figure, the live widget."""
import json

import numpy as np
import plotly.graph_objects as go
import pytest
from sklearn.ensemble import GradientBoostingRegressor

from lib import plotting
from lib.data import make_1d_signal
from lib.widgets import boosting_rounds as br


def test_compute_matches_sklearn_staged_predict():
    res = br.compute(learning_rate=0.3, max_depth=2, n_rounds=30)
    x, y, _ = make_1d_signal(200, 0)
    sk = GradientBoostingRegressor(n_estimators=30, learning_rate=0.3, max_depth=2, random_state=0)
    sk.fit(x[:, None].astype(np.float32), y)
    ref = np.array([np.full(200, y.mean())] + list(sk.staged_predict(x[:, None])))
    np.testing.assert_allclose(res["F_train"], ref, atol=1e-8)
    assert np.all(np.diff(res["train_mse"]) <= 1e-12)  # least-squares boosting never raises the training error
    np.testing.assert_allclose(res["F"][1:] - res["F"][:-1], res["next_tree"][:-1])


def test_static_figure():
    fig = br.figure()
    assert isinstance(fig, go.Figure) and not isinstance(fig, go.FigureWidget)
    assert plotting.missing_labels(fig) == []
    assert len(plotting.to_html(fig)) < 1_500_000
    json.loads(fig.to_json())
    steps = fig.layout.sliders[0].steps
    assert len(steps) == len(br.ROUNDS)
    assert steps[0].args[0]["y"][0] != steps[-1].args[0]["y"][0]


def test_live_widget_updates():
    w = br.widget(n_rounds=40)
    fig = w.figures[0]
    before = list(fig.data[1].y)
    w.controls["m"].value = 20
    assert list(fig.data[1].y) != before and "round 20" in fig.layout.title.text
    mse = list(fig.data[5].y)
    w.controls["eta"].value = 1.0
    assert list(fig.data[5].y) != mse and "η = 1" in fig.layout.title.text


def test_bad_inputs():
    with pytest.raises(ValueError, match="learning_rate"):
        br.compute(learning_rate=0)
    with pytest.raises(ValueError, match="max_depth"):
        br.compute(max_depth=-1)
