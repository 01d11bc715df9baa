"""Widget W9.7 (forest_variance): the variance decomposition, the static figure, the live widget."""
import json

import numpy as np
import plotly.graph_objects as go
import pytest

from lib import plotting
from lib.forest import ensemble_variance
from lib.widgets import forest_variance


@pytest.fixture(scope="module")
def res():
    return forest_variance.compute(n_train=60, n_test=20, M=6, R=4, M_var=4, max_features=3, min_samples_leaf=5)


def test_variance_decomposition_on_equicorrelated_draws():
    rng = np.random.default_rng(0)
    R, M, T, rho, sigma2 = 4000, 6, 3, 0.4, 2.0
    shared = rng.normal(size=(R, 1, T))
    own = rng.normal(size=(R, M, T))
    P = 5.0 + np.sqrt(sigma2) * (np.sqrt(rho) * shared + np.sqrt(1 - rho) * own)
    dec = forest_variance.variance_decomposition(P)
    assert dec["sigma2"] == pytest.approx(sigma2, rel=0.03)
    assert dec["rho"] == pytest.approx(rho, abs=0.03)
    np.testing.assert_allclose(dec["var_emp"], ensemble_variance(sigma2, rho, np.arange(1, M + 1)), rtol=0.05)
    # with all M trees the empirical variance is the formula, by algebra
    assert dec["var_emp"][-1] == pytest.approx(dec["var_formula"][-1], rel=1e-10)


def test_compute_shapes(res):
    assert res["P"].shape == (4, 4, 20) and res["averages"].shape == (4, 4, forest_variance.N_SHOWN)
    assert res["oob"].shape == res["test_mse"].shape == (6,)
    assert res["forest"].n_estimators == 6 and res["forest"].max_features_ == 3
    np.testing.assert_allclose(res["averages"][-1], res["P"][:, :, :forest_variance.N_SHOWN].mean(axis=1))


def test_static_figure(res):
    fig = forest_variance.figure(result=res)
    assert isinstance(fig, go.Figure) and not isinstance(fig, go.FigureWidget)
    assert plotting.missing_labels(fig) == []
    assert len(plotting.to_html(fig)) < 1_500_000
    json.loads(fig.to_json())
    steps = fig.layout.sliders[0].steps
    assert [s.label for s in steps] == ["1", "2", "3", "4", "6"]
    assert steps[0].args[0]["y"][2] != steps[3].args[0]["y"][2]     # the averages move with M


def test_live_widget_updates(res):
    kw = dict(n_train=60, n_test=20, M=6, R=4, M_var=4, min_samples_leaf=5)
    w = forest_variance.widget(result=res, **kw)
    fig = w.figures[0]
    before = list(fig.data[8].y)
    w.controls["M"].value = 3
    assert list(fig.data[8].y) != before and "M = 3" in fig.layout.title.text
    old_oob = list(fig.data[0].y)
    w.controls["k"].value = 10                                       # refits both experiments
    assert list(fig.data[0].y) != old_oob and "k = 10" in fig.layout.title.text


def test_bad_inputs():
    with pytest.raises(ValueError, match="max_features"):
        forest_variance.compute(max_features=11)
    with pytest.raises(ValueError, match="R"):
        forest_variance.compute(R=1)
    with pytest.raises(ValueError, match="P"):
        forest_variance.variance_decomposition(np.zeros((3, 4)))
