"""Widget W9.2 (tree_depth): depth-limited and pruned trees against sklearn, the static figure, the live widget."""
import json

import numpy as np
import plotly.graph_objects as go
import pytest
from sklearn.tree import DecisionTreeRegressor

from lib import plotting
from lib.widgets import tree_depth


@pytest.fixture(scope="module")
def res():
    return tree_depth.compute(n=60, seed=2, log_lambdas=(-1.0, 0.0, 0.5, 1.0))


def test_compute_matches_sklearn(res):
    X, y, grid = res["x"][:, None], res["y"], res["grid"][:, None]
    for d in (0, 2, 5):
        ref = DecisionTreeRegressor(max_depth=d if d else None, random_state=0)
        if d == 0:
            np.testing.assert_allclose(res["depth"][0]["pred"], y.mean())
            continue
        ref.fit(X, y)
        np.testing.assert_allclose(res["depth"][d]["pred"], ref.predict(grid), atol=1e-12)
        assert res["depth"][d]["leaves"] == ref.get_n_leaves()
    n = len(y)
    for l, s in res["prune"].items():
        ref = DecisionTreeRegressor(ccp_alpha=10 ** l / n, random_state=0).fit(X, y)
        np.testing.assert_allclose(s["pred"], ref.predict(grid), atol=1e-12)
        assert s["leaves"] == ref.get_n_leaves()
    # along the pruning path the training error rises and the leaves fall
    assert np.all(np.diff(res["path"]["train"]) >= -1e-12) and np.all(np.diff(res["path"]["leaves"]) < 0)
    assert res["path"]["leaves"][-1] == 1
    ref = DecisionTreeRegressor(random_state=0).cost_complexity_pruning_path(X, y)
    np.testing.assert_allclose(res["path"]["lam"], n * ref.ccp_alphas, atol=1e-10)


def test_static_figure():
    fig = tree_depth.figure(n=60)
    assert isinstance(fig, go.Figure) and not isinstance(fig, go.FigureWidget)
    assert plotting.missing_labels(fig) == []
    assert len(plotting.to_html(fig)) < 1_500_000
    json.loads(fig.to_json())
    s1, s2 = fig.layout.sliders
    assert len(s1.steps) == len(tree_depth.DEPTHS) and len(s2.steps) == len(tree_depth.LOG_LAMBDAS)
    assert s1.steps[1].args[0]["y"][0] != s1.steps[-1].args[0]["y"][0]        # the depth fit changes
    assert s2.steps[0].args[0]["y"][0] != s2.steps[-1].args[0]["y"][0]        # the pruned fit changes
    assert list(s1.steps[0].args[2]) == [tree_depth.DEPTH_TRACES, tree_depth.DEPTH_MARK]


def test_live_widget_updates():
    w = tree_depth.widget(n=60)
    fig = w.figures[0]
    before_d, before_p = list(fig.data[3].y), list(fig.data[4].y)
    w.controls["depth"].value = 6
    assert list(fig.data[3].y) != before_d and "depth ≤ 6" in fig.layout.title.text
    w.controls["log_lambda"].value = 1.5
    assert list(fig.data[4].y) != before_p and "ccp_alpha" in w.children[1].value


def test_bad_inputs():
    with pytest.raises(ValueError, match="depths"):
        tree_depth.compute(n=20, depths=(-1,))
    with pytest.raises(ValueError, match="kind"):
        tree_depth.compute(n=20, kind="cos")
