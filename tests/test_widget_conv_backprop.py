"""Widget W3.6 (conv_backprop): footprints against autograd, static figure, live widget."""
import json

import numpy as np
import plotly.graph_objects as go
import pytest
import torch
from torch.nn import functional as F

from lib import plotting
from lib.widgets import conv_backprop as cbp


@pytest.mark.parametrize("i, j, stride", [(0, 0, 1), (3, 1, 1), (4, 4, 1), (1, 2, 2), (2, 0, 2)])
def test_compute_matches_autograd_and_is_the_stamped_kernel(i, j, stride):
    res = cbp.compute(i, j, stride)
    x = torch.tensor(res["x"])[None, None].requires_grad_()
    w = torch.tensor(res["w"])[None, None].requires_grad_()
    out = F.conv2d(x, w, stride=stride)
    gx, gw = torch.autograd.grad(out[0, 0, i, j], (x, w))     # J = the output at (i, j): delta = 1 there
    np.testing.assert_array_equal(res["grad_x"], gx[0, 0].numpy())
    np.testing.assert_array_equal(res["grad_w"], gw[0, 0].numpy())
    r, c = stride * i, stride * j
    assert res["corner"] == (r, c)
    stamp = np.zeros_like(res["x"])
    stamp[r:r + 3, c:c + 3] = res["w"]
    np.testing.assert_array_equal(res["grad_x"], stamp)
    np.testing.assert_array_equal(res["grad_w"], res["x"][r:r + 3, c:c + 3])
    assert res["delta_up"].sum() == 1 and res["delta_up"][r, c] == 1


def test_compute_rejects_bad_positions():
    with pytest.raises(ValueError, match="i"):
        cbp.compute(3, 0, stride=2)           # a 7x7 image at stride 2 has 3x3 outputs
    with pytest.raises(ValueError, match="stride"):
        cbp.compute(0, 0, stride=0)
    with pytest.raises(ValueError, match="k"):
        cbp.compute(0, 0, k=9)


def test_static_figure_has_a_step_per_position_and_stride():
    fig = cbp.figure()
    assert isinstance(fig, go.Figure) and not isinstance(fig, go.FigureWidget)
    assert plotting.missing_labels(fig) == []
    assert len(plotting.to_html(fig)) < 1_500_000
    json.loads(fig.to_json())
    steps = fig.layout.sliders[0].steps
    assert len(steps) == 25 + 9
    z = [np.array(s.args[0]["z"][1], dtype=float) for s in steps]   # dJ/dx at each step
    assert not np.array_equal(z[0], z[1]) and not np.array_equal(z[24], z[25])
    assert all(list(s.args[2]) == [1, 2, 3] for s in steps)


def test_live_widget_updates_in_place():
    live = cbp.widget(i=1, j=1, stride=1)
    fig = live.figures[0]
    assert isinstance(fig, go.FigureWidget)
    before = np.array(fig.data[2].z, dtype=float)
    live.controls["j"].value = 4
    after = np.array(fig.data[2].z, dtype=float)
    assert not np.array_equal(before, after) and after[1:4, 4:7].sum() == 45
    live.controls["stride"].value = 2
    assert live.controls["j"].value == 2 and live.controls["j"].max == 2
    np.testing.assert_array_equal(np.array(fig.data[2].z, dtype=float), cbp.compute(1, 2, 2)["grad_x"])
    assert "stride 2" in fig.layout.title.text
