"""Widget W9.1 (split_explorer): the split scan against lib.trees and sklearn, the static figure, the live widget."""
import json

import numpy as np
import plotly.graph_objects as go
import pytest
from sklearn.tree import DecisionTreeClassifier

from lib import plotting, trees
from lib.data import make_height_weight
from lib.widgets import split_explorer


def test_compute_matches_impurity_decrease_and_sklearn_stump():
    X, y = make_height_weight(n=300, seed=4)
    for f in (0, 1):
        res = split_explorer.compute(X, y, f)
        for k in (0, 17, res["thresholds"].size - 1):
            mask = X[:, f] <= res["thresholds"][k]
            assert mask.sum() == res["n_left"][k]
            for c in split_explorer.CRITERIA:
                assert res["gain"][c][k] == pytest.approx(trees.impurity_decrease(y, mask, c), abs=1e-12)
        assert np.all(np.diff(res["thresholds"]) > 0)
    # the best Gini split over both features is sklearn's root split
    best = max((split_explorer.compute(X, y, f)["gain"]["gini"].max(), f) for f in (0, 1))
    stump = DecisionTreeClassifier(max_depth=1, random_state=0).fit(X, y)
    assert stump.tree_.feature[0] == best[1]
    res = split_explorer.compute(X, y, best[1])
    assert res["thresholds"][res["best"]["gini"]] == pytest.approx(stump.tree_.threshold[0], abs=1e-4)


def test_static_figure():
    fig = split_explorer.figure()
    assert isinstance(fig, go.Figure) and not isinstance(fig, go.FigureWidget)
    assert plotting.missing_labels(fig) == []
    assert len(plotting.to_html(fig)) < 1_500_000
    json.loads(fig.to_json())
    steps = fig.layout.sliders[0].steps
    assert len(steps) > 20
    assert steps[0].args[0]["x"][2] != steps[-1].args[0]["x"][2]      # the threshold line moves
    assert steps[0].args[1]["xaxis2.title.text"] != steps[-1].args[1]["xaxis2.title.text"]  # both features


def test_live_widget_updates():
    w = split_explorer.widget(n=200)
    fig = w.figures[0]
    before = fig.layout.title.text
    line = list(fig.data[4].x)
    w.controls["threshold"].value = w.controls["threshold"].min + 3
    assert fig.layout.title.text != before and list(fig.data[4].x) != line
    w.controls["feature"].value = 1
    assert fig.layout.title.text.startswith("Split weight")
    w.controls["criterion"].value = "error"
    assert fig.data[7].line.width == 4
    w.controls["threshold"].value = w.controls["threshold"].min
    w.controls["best"].click()
    assert "best" in w.children[2].value
    res = split_explorer.compute(*make_height_weight(n=200, seed=0), 1)
    assert f"{res['thresholds'][res['best']['error']]:.1f}" in fig.layout.title.text


def test_bad_inputs():
    X, y = make_height_weight(n=50)
    with pytest.raises(ValueError, match="feature"):
        split_explorer.compute(X, y, 2)
    with pytest.raises(ValueError, match="y"):
        split_explorer.compute(X, y + 1, 0)
    with pytest.raises(ValueError, match="X, y"):
        split_explorer.compute(X[:, 0], y, 0)
