"""Widget W10.4 (svm_playground): compute vs the SVM's own numbers, the static figure, the live widget."""
import json

import numpy as np
import plotly.graph_objects as go
import pytest
from sklearn.svm import SVC

from lib import plotting, svm_dual
from lib.widgets import svm_playground as sp


def test_compute_point_types_and_margins():
    res = sp.compute("moons", "rbf", log2C=1.0, log2gamma=0.0, n=120, grid=20)
    X, y, t = res["X"], res["y"], res["sv_type"]
    ref = SVC(C=2.0, gamma=1.0, tol=1e-4).fit(X, y)
    m = y * ref.decision_function(X)
    assert res["n_sv"] == len(ref.support_) == res["n_free"] + res["n_bound"]
    assert np.all(np.abs(m[t == 1] - 1) < 1e-2)  # free SVs sit on the margin
    assert np.all(m[t == 2] <= 1 + 1e-2)        # bounded SVs: on, inside or beyond it
    assert np.all(m[t == 0] >= 1 - 1e-2)        # the rest: on or outside it
    assert res["Z"].shape == (20, 20) and 0.8 < res["test_acc"] <= 1
    lib = sp.compute("moons", "rbf", log2C=1.0, log2gamma=0.0, n=120, grid=20, solver="lib")
    assert abs(lib["dual_objective"] - res["dual_objective"]) < 1e-3 * abs(res["dual_objective"])


def test_larger_C_fewer_bounded_svs_and_all_datasets():
    small, large = (sp.compute("moons", "rbf", c, 0.0, n=120, grid=10) for c in (-3, 9))
    assert large["n_sv"] < small["n_sv"] and large["train_acc"] >= small["train_acc"]
    for name in sp.DATASETS:
        r = sp.compute(name, "linear", 0.0, 0.0, n=60, grid=8)
        assert r["X"].shape == (60, 2) and set(np.unique(r["y"])) == {-1, 1}


def test_static_figure():
    fig = sp.figure(n=80, grid=20)
    assert isinstance(fig, go.Figure) and not isinstance(fig, go.FigureWidget)
    assert plotting.missing_labels(fig) == []
    assert len(plotting.to_html(fig)) < 1_500_000
    json.loads(fig.to_json())
    s1, s2 = fig.layout.sliders
    assert len(s1.steps) == len(sp.LOG2C) and len(s2.steps) == len(sp.LOG2GAMMA)
    z0, z1 = s1.steps[0].args[0]["z"][0], s1.steps[-1].args[0]["z"][0]
    assert z0 != z1 and s1.steps[0].args[0]["x"][0] is not None  # the contour keeps its grid
    assert s2.steps[0].args[1]["title.text"] != s2.steps[-1].args[1]["title.text"]


def test_live_widget_updates():
    w = sp.widget(n=80)
    fig = w.figures[0]
    z = np.array(fig.data[0].z)
    w.controls["log2C"].value = 8.0
    assert not np.allclose(np.array(fig.data[0].z), z)
    w.controls["kernel"].value = "linear"
    assert fig.layout.title.text.startswith("linear")
    x0 = list(fig.data[1].x)
    w.controls["dataset"].value = "circles"
    assert list(fig.data[1].x) != x0


def test_bad_inputs():
    with pytest.raises(ValueError, match="kernel"):
        sp.compute(kernel="laplace")
    with pytest.raises(ValueError, match="name"):
        sp.compute(dataset="spirals")
    with pytest.raises(ValueError, match="solver"):
        sp.compute(solver="cvxopt")
