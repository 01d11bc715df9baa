"""Widget W9.4 (newton_boost): stages against xgboost, weights and working responses, both faces."""
import json

import numpy as np
import plotly.graph_objects as go
import pytest
import xgboost as xgb
from scipy import special

from lib import plotting
from lib.widgets import newton_boost as nbw


def test_compute_matches_xgboost_and_z_is_at_least_one():
    res = nbw.compute(n_rounds=10, reg_lambda=1.0, gamma=0.5, max_depth=3)
    X, y = nbw.data()
    params = dict(objective="binary:logistic", tree_method="exact", max_depth=3, eta=0.3, reg_lambda=1.0,
                  gamma=0.5, min_child_weight=1.0, base_score=0.5, nthread=1)
    bst = xgb.train(params, xgb.DMatrix(X.astype(np.float32), y), 10)
    ref = bst.predict(xgb.DMatrix(X.astype(np.float32)), output_margin=True)
    assert np.abs(res["F"][-1] - ref).max() < 1e-5
    w, z = nbw.point_stats(y, res["F"][-1])
    assert np.all(np.abs(z) >= 1 - 1e-12) and np.all(w <= 0.25)
    np.testing.assert_allclose(res["P"][0], 0.5)
    assert res["log_loss"][-1] < res["log_loss"][0] == pytest.approx(np.log(2))
    np.testing.assert_allclose(z * w, y - special.expit(res["F"][-1]), atol=1e-12)


def test_static_figure():
    fig = nbw.figure()
    assert isinstance(fig, go.Figure) and not isinstance(fig, go.FigureWidget)
    assert plotting.missing_labels(fig) == []
    assert len(plotting.to_html(fig)) < 1_500_000
    json.loads(fig.to_json())
    steps = fig.layout.sliders[0].steps
    assert len(steps) == len(nbw.ROUNDS)
    assert steps[1].args[0]["z"][0] != steps[-1].args[0]["z"][0]


def test_live_widget_updates():
    w = nbw.widget(n_rounds=10)
    fig = w.figures[0]
    before = np.array(fig.data[0].z)
    w.controls["m"].value = 8
    assert not np.allclose(np.array(fig.data[0].z), before)
    sizes = list(fig.data[1].marker.size)
    w.controls["lam"].value = 15.0
    assert list(fig.data[1].marker.size) != sizes


def test_bad_inputs():
    with pytest.raises(ValueError, match="reg_lambda"):
        nbw.compute(reg_lambda=-1)
    with pytest.raises(ValueError, match="n_estimators"):
        nbw.compute(n_rounds=-2)
