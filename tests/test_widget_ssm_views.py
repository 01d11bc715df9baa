"""Widget W4.6 (ssm_views): compute against scipy, the static figure, the live widget."""
import json

import numpy as np
import plotly.graph_objects as go
import pytest
from scipy import signal

from lib import plotting
from lib.widgets import ssm_views


@pytest.mark.parametrize("N, kind", [(1, "impulse"), (4, "noise"), (7, "sine")])
def test_compute_matches_dlsim_and_eigenvalues(N, kind):
    res = ssm_views.compute(N=N, radius=0.95, angle=0.3, kind=kind, L=50)
    A, B, C = ssm_views.system(N, 0.95, 0.3)
    _, y, _ = signal.dlsim((A, B[:, None], (C @ A)[None], np.array([[C @ B]]), 1), res["x"])
    np.testing.assert_allclose(res["y_rec"], y[:, 0], atol=1e-12)
    assert res["max_diff"] < 1e-12
    np.testing.assert_allclose(np.abs(res["eig"]), 0.95, atol=1e-12)
    if kind == "impulse":  # the response to an impulse is the kernel itself
        np.testing.assert_allclose(res["y_rec"], res["K"], atol=1e-12)


def test_kernel_decays_like_radius_power():
    res = ssm_views.compute(N=1, radius=0.8, kind="impulse", L=30)
    np.testing.assert_allclose(res["K"] / res["K"][0], 0.8 ** np.arange(30), rtol=1e-12)


def test_static_figure():
    fig = ssm_views.figure()
    assert isinstance(fig, go.Figure) and not isinstance(fig, go.FigureWidget)
    assert plotting.missing_labels(fig) == []
    assert len(plotting.to_html(fig)) < 1_500_000
    json.loads(fig.to_json())
    steps = fig.layout.sliders[0].steps
    assert len(steps) == len(ssm_views.RADII)
    assert steps[0].args[0]["y"][1] != steps[-1].args[0]["y"][1]  # the kernel changes with r
    buttons = fig.layout.updatemenus[0].buttons
    assert [b.label for b in buttons] == list(ssm_views.INPUTS)
    assert sum(buttons[2].args[0]["visible"]) == 5


def test_live_widget_updates():
    w = ssm_views.widget()
    fig = w.figures[0]
    before_k, before_y = list(fig.data[1].y), list(fig.data[3].y)
    w.controls["radius"].value = 0.6
    assert list(fig.data[1].y) != before_k
    w.controls["kind"].value = "step"
    assert list(fig.data[3].y) != before_y
    w.controls["N"].value = 3
    assert "N = 3" in fig.layout.title.text
    assert "e-1" in fig.data[4].name  # the printed max difference is at rounding level


def test_bad_inputs():
    with pytest.raises(ValueError, match="kind"):
        ssm_views.compute(kind="square")
    with pytest.raises(ValueError, match="radius"):
        ssm_views.compute(radius=1.2)
    with pytest.raises(ValueError, match="N"):
        ssm_views.compute(N=0)
