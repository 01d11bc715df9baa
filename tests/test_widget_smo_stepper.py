"""Widget W10.5 (smo_stepper): the recorded run, the static figure, the live widget."""
import json

import numpy as np
import plotly.graph_objects as go
import pytest
from sklearn.svm import SVC

from lib import plotting, svm_dual
from lib.widgets import smo_stepper as ss


def test_compute_run_is_monotone_feasible_and_matches_svc():
    res = ss.compute(n=40, C=1.0, gamma=1.0)
    assert res["converged"] and res["kkt"]["max_violation"] < 1e-3
    assert np.all(np.diff(res["objective"]) >= -1e-12)
    A, y = res["alphas"], res["y"]
    assert A.shape == (res["n_iter"] + 1, 40)
    assert np.all(A >= 0) and np.all(A <= 1.0) and np.abs(A @ y).max() < 1e-12
    for k, st in enumerate(res["steps"]):
        assert st["L"] - 1e-12 <= st["new"][1] <= st["H"] + 1e-12
        assert np.count_nonzero(A[k + 1] != A[k]) <= 2
    ref = SVC(C=1.0, gamma=1.0, tol=1e-6, shrinking=False).fit(res["X"], y)
    d_ref = svm_dual.dual_objective(svm_dual.alpha_from_sklearn(ref, 40), y, res["K"])
    assert abs(res["d_star"] - d_ref) < 1e-8


def test_static_figure():
    fig = ss.figure(max_steps=25)
    assert isinstance(fig, go.Figure) and not isinstance(fig, go.FigureWidget)
    assert plotting.missing_labels(fig) == []
    assert len(plotting.to_html(fig)) < 1_500_000
    json.loads(fig.to_json())
    steps = fig.layout.sliders[0].steps
    assert 1 < len(steps) <= 25
    a, b = steps[0].args[0], steps[-1].args[0]
    assert a["x"][2] != b["x"][2] or a["x"][7] != b["x"][7]  # the pair or the marker moves
    assert a["marker.size"][0] != b["marker.size"][0]  # alpha (marker sizes) changes
    assert all(v is not None for v in a["x"])  # every moving trace keeps its data


def test_live_widget_buttons():
    w = ss.widget()
    fig = w.figures[0]
    t0 = fig.layout.title.text
    w.controls["step"].click()
    assert fig.layout.title.text != t0 and "step 2" in fig.layout.title.text
    w.controls["run"].click()
    assert f"step {w.controls['run'] and fig.layout.title.text.split('of ')[1].split(':')[0]}" in fig.layout.title.text
    w.controls["reset"].click()
    assert "step 1 " in fig.layout.title.text
    x = list(fig.data[0].marker.size)
    w.controls["log2C"].value = 3.0
    w.controls["run"].click()
    assert list(fig.data[0].marker.size) != x


def test_bad_inputs():
    with pytest.raises(ValueError, match="n"):
        ss.compute(n=2)
    with pytest.raises(ValueError, match="rule"):
        ss.compute(rule="random")
