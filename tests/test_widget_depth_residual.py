"""Widget W4.5 (depth_residual): compute against lib.residual, the static figure, and the live widget headlessly."""
import json

import numpy as np
import plotly.graph_objects as go
import pytest
import torch

from lib import plotting
from lib.residual import ResidualMLP, block_grad_norms
from lib.widgets import WIDGET_MIME, Dual
from lib.widgets import depth_residual as DR


def test_compute_matches_lib_residual():
    res = DR.compute(depth=12, residual=False, gain=1.0, act="tanh", seed=2)
    torch.manual_seed(2)
    m = ResidualMLP(30, 32, 12, residual=False, out_proj=False)
    y = torch.randperm(30, generator=torch.Generator().manual_seed(2))
    np.testing.assert_allclose(res["grad_norms"], block_grad_norms(m, torch.arange(30), y).numpy(), rtol=1e-6)
    assert res["stream_rms"].shape == (13,) and res["ratio"] == pytest.approx(res["grad_norms"][0] / res["grad_norms"][-1])
    deep_plain, deep_res = DR.compute(40, False), DR.compute(40, True)
    assert deep_plain["ratio"] < 1e-6 < 1e-1 < deep_res["ratio"]
    # a larger gain grows the residual stream
    assert DR.compute(20, True, gain=3.0)["stream_rms"][-1] > DR.compute(20, True, gain=0.5)["stream_rms"][-1]
    with pytest.raises(ValueError, match="depth: expected an integer"):
        DR.compute(0)
    with pytest.raises(ValueError, match="act: expected one of"):
        DR.compute(5, act="gelu")


def test_static_figure_slider_changes_data():
    fig = DR.figure()
    assert isinstance(fig, go.Figure) and not isinstance(fig, go.FigureWidget)
    assert plotting.missing_labels(fig) == []
    assert len(plotting.to_html(fig)) < 1_500_000
    json.loads(fig.to_json())
    steps = fig.layout.sliders[0].steps
    assert [s.label for s in steps] == [str(L) for L in DR.STATIC_DEPTHS]
    assert len(fig.data) == 4 and all(len(s.args[0]["y"]) == 4 for s in steps)
    plain_grad = {s.label: s.args[0]["y"][0] for s in steps}
    assert len(plain_grad["60"]) == 60 and len(plain_grad["2"]) == 2
    assert plain_grad["60"][0] < 1e-6 * plain_grad["5"][0]
    assert list(fig.data[0].y) == plain_grad["30"] and steps[3].args[1]["title.text"] != steps[4].args[1]["title.text"]


def test_live_widget_updates_in_place():
    live = DR.widget(depth=10)
    fig = live.figures[0]
    before = list(fig.data[0].y)
    live.controls["residual"].value = False
    assert list(fig.data[0].y) != before and "plain" in fig.layout.title.text
    live.controls["depth"].value = 25
    assert len(fig.data[0].x) == 25 and len(fig.data[1].y) == 26
    live.controls["act"].value = "relu"
    live.controls["gain"].value = 2.0
    assert "relu, gain 2.00" in fig.layout.title.text
    assert "gradient at block 1" in live.children[2].value


def test_show_bundles_live_and_static(monkeypatch):
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj, **kw: shown.append(obj))
    DR.show(depth=5)
    (dual,) = shown
    assert isinstance(dual, Dual) and WIDGET_MIME in dual._repr_mimebundle_()
