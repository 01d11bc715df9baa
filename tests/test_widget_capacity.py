"""Widget W10.7 (capacity): noise fitting and Rademacher curves, the static figure, the live widget."""
import json

import numpy as np
import pytest
import plotly.graph_objects as go

from lib import learning_theory as lt
from lib import plotting
from lib.widgets import capacity as cw


def test_compute_facts():
    res = cw.compute(n=30, C=10.0, n_trials=4)
    assert res["acc_mean"][-1] == 1.0  # a very narrow RBF memorises random labels
    assert res["acc_mean"][0] < 0.9 and res["acc_mean"][-1] > res["acc_mean"][0]
    assert (res["rad_mc"] <= res["rad_bound"] + 1e-12).all()
    X = np.random.default_rng(0).normal(size=(30, 2))
    ex = lt.exact_rademacher_linear(X[:16], 1.0)  # sanity of the estimator on a subsample
    est, _, se = lt.empirical_rademacher_linear(X[:16], 1.0, n_mc=2000, return_se=True)
    assert abs(est - ex) < 4 * se
    assert res["rad_mc"][0] == 0.0 and np.allclose(np.diff(res["rad_mc"]), np.diff(res["rad_mc"])[0])  # linear in B


def test_static_figure():
    fig = cw.figure(ns=(20, 80))
    assert isinstance(fig, go.Figure) and not isinstance(fig, go.FigureWidget)
    assert plotting.missing_labels(fig) == []
    assert len(plotting.to_html(fig)) < 1_500_000
    json.loads(fig.to_json())
    steps = fig.layout.sliders[0].steps
    assert len(steps) == 2 and steps[0].args[0]["y"][3] != steps[1].args[0]["y"][3]


def test_live_widget_updates():
    w = cw.widget(n=20)
    fig = w.figures[0]
    before = list(fig.data[3].y)
    w.controls["n"].value = 60
    assert list(fig.data[3].y) != before and "n = 60" in fig.layout.title.text
    acc = list(fig.data[0].y)
    w.controls["resample"].click()
    assert list(fig.data[0].y) != acc or list(fig.data[2].y) != before


def test_bad_inputs():
    with pytest.raises(ValueError, match="n"):
        cw.compute(n=2)
    with pytest.raises(ValueError, match="C"):
        cw.compute(C=0)
    with pytest.raises(ValueError, match="gammas"):
        cw.compute(gammas=[-1.0])
