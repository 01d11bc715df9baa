"""Widget W3.5 (sample efficiency): statistics against numpy, static figure, live widget, bad input."""
import json

import numpy as np
import plotly.graph_objects as go
import pytest

from lib import plotting
from lib.widgets import sample_efficiency as S

RUNS = {"CNN": {100: [0.7, 0.8, 0.75], 1200: [0.95, 0.93, 0.9]}, "MLP": {100: [0.3, 0.25, 0.2], 1200: [0.8, 0.78, 0.7]}}
PARAMS = {"CNN": 1418, "MLP": 19850}


def test_compute_matches_numpy():
    res = S.compute(RUNS, PARAMS, 1200)
    assert res["models"] == ["CNN", "MLP"] and res["params"] == [1418, 19850]
    np.testing.assert_allclose(res["mean"], [np.mean([0.95, 0.93, 0.9]), np.mean([0.8, 0.78, 0.7])], rtol=1e-14)
    assert res["low"] == [0.9, 0.7] and res["high"] == [0.95, 0.8]


def test_static_figure():
    fig = S.figure(RUNS, PARAMS)
    assert isinstance(fig, go.Figure) and plotting.missing_labels(fig) == []
    json.loads(fig.to_json())
    steps = fig.layout.sliders[0].steps
    assert [s.label for s in steps] == ["100", "1200"]
    ys = [np.array(s.args[0]["y"][0], dtype=float) for s in steps]
    np.testing.assert_allclose(ys[0], [0.75, 0.25], rtol=1e-12)
    assert not np.allclose(ys[0], ys[1]) and "1200" in steps[1].args[1]["title.text"]
    np.testing.assert_allclose(fig.data[0].y, ys[0])


def test_live_widget_updates():
    live = S.widget(RUNS, PARAMS)
    fig = live.figures[0]
    before = np.array(fig.data[0].y, dtype=float)
    live.controls["n_train"].value = 1200
    after = np.array(fig.data[0].y, dtype=float)
    np.testing.assert_allclose(after, S.compute(RUNS, PARAMS, 1200)["mean"])
    assert not np.allclose(before, after) and "1200" in fig.layout.title.text


def test_bad_inputs():
    with pytest.raises(ValueError, match="n_train"):
        S.compute(RUNS, PARAMS, 300)
    with pytest.raises(ValueError, match="n_params"):
        S.compute(RUNS, {"CNN": 1}, 100)
    with pytest.raises(ValueError, match="accuracies"):
        S.compute({"CNN": {100: [1.5]}}, {"CNN": 1}, 100)
    with pytest.raises(ValueError, match="same training sizes"):
        S.figure({"A": {1: [0.5]}, "B": {2: [0.5]}}, {"A": 1, "B": 1})
    with pytest.raises(TypeError, match="runs"):
        S.figure([], {})
