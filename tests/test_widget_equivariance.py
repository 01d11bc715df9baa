"""Widget W3.4 (equivariance): compute against direct torch/numpy evaluation, static figure, live widget."""
import json

import numpy as np
import plotly.graph_objects as go
import pytest
import torch
import torch.nn.functional as F

from lib import plotting
from lib.widgets import equivariance as E

MAX_HTML = 1_500_000


def direct(x, kernel, padding, stride):
    """ReLU(conv3x3) with numpy's wrap/zero padding and torch's unpadded conv2d as the reference."""
    xp = np.pad(x, 1, mode="wrap" if padding == "circular" else "constant")
    w = torch.tensor(E.KERNELS[kernel], dtype=torch.float64)[None, None]
    return F.relu(F.conv2d(torch.tensor(xp)[None, None], w, stride=stride))[0, 0].numpy()


@pytest.mark.parametrize("dy, dx, padding, stride", [(1, 2, "circular", 1), (-2, 3, "zeros", 1),
                                                     (2, -4, "circular", 2), (1, 0, "circular", 2)])
def test_compute_matches_direct_evaluation(dy, dx, padding, stride):
    res = E.compute(dy, dx, padding, stride, "photo", "laplacian")
    x = E.image("photo").numpy()
    if padding == "circular":
        xs = np.roll(x, (dy, dx), axis=(0, 1))
    else:
        xs = np.zeros_like(x)
        xs[max(dy, 0):20 + min(dy, 0), max(dx, 0):20 + min(dx, 0)] = x[max(-dy, 0):20 - max(dy, 0),
                                                                     max(-dx, 0):20 - max(dx, 0)]
    np.testing.assert_array_equal(res["x_shifted"], xs)
    np.testing.assert_allclose(res["f_shift"], direct(xs, "laplacian", padding, stride), atol=1e-12)
    np.testing.assert_allclose(res["diff"], res["f_shift"] - res["shift_f"], atol=0)
    assert res["f_shift"].shape == (20 // stride, 20 // stride)


def test_the_three_lessons():
    for dy, dx in [(1, 2), (-3, 4), (4, 4)]:
        assert E.compute(dy, dx, "circular", 1)["err"] < 1e-12                   # exact equivariance
        assert E.compute(dy, dx, "circular", 1)["inv_err"] < 1e-12               # exact invariance of the max
        zeros = E.compute(dy, dx, "zeros", 1)
        assert zeros["err"] > 0.5 and zeros["err_interior"] < 1e-12             # only the border band differs
    assert E.compute(2, 2, "circular", 2)["err"] < 1e-12                          # even shifts survive stride 2
    odd = E.compute(1, 0, "circular", 2)
    assert odd["err"] > 0.2 * np.linalg.norm(odd["f_shift"])                     # odd shifts do not
    assert E.compute(2, 3, "zeros", 1, "digit")["err"] < 1e-12                  # a blank margin hides the border


def test_static_figure():
    fig = E.figure()
    assert isinstance(fig, go.Figure) and not isinstance(fig, go.FigureWidget)
    assert plotting.missing_labels(fig) == []
    assert len(plotting.to_html(fig)) < MAX_HTML
    json.loads(fig.to_json())
    steps = fig.layout.sliders[0].steps
    assert len(steps) == len(E.STATIC_SHIFTS) and len(fig.data) == 12
    z = [np.array(s.args[0]["z"][3], dtype=float) for s in steps]  # row 1, difference panel
    assert all(np.all(zz == 0) for zz in z)                          # circular, stride 1: always 0
    z_zero = [np.array(s.args[0]["z"][7], dtype=float) for s in steps]
    assert np.all(z_zero[0] == 0) and np.abs(z_zero[1]).max() > 0.1   # zeros: 0 only without a shift
    titles = [s.args[1]["annotations[11].text"] for s in steps]       # stride 2: odd shifts report an error
    assert titles[0].startswith("difference: ‖difference‖ = 0 ") and "= 0 " not in titles[1]
    assert steps[1].label == "(0, 1)"


def test_live_widget_updates():
    live = E.widget(dy=0, dx=1)
    fig = live.figures[0]
    assert isinstance(fig, go.FigureWidget)
    before = np.array(fig.data[1].z, dtype=float)
    live.controls["dx"].value = 3
    assert not np.allclose(before, np.array(fig.data[1].z, dtype=float))
    assert np.abs(np.array(fig.data[3].z, dtype=float)).max() < 1e-9
    live.controls["padding"].value = "zeros"
    assert np.abs(np.array(fig.data[3].z, dtype=float)).max() > 0
    live.controls["stride"].value = 2
    assert np.array(fig.data[1].z).shape == (10, 10)
    assert len(fig.data[4].x) == 0
    live.controls["pool"].value = True
    assert len(fig.data[4].x) == 1 and "global max" in live.children[3].value
    z = np.array(fig.data[0].z, dtype=float)
    live.controls["image"].value = "digit"
    assert not np.allclose(z, np.array(fig.data[0].z, dtype=float))
    live.controls["dy"].value = -2
    assert "(-2, 3)" in fig.layout.title.text
    live.controls["kernel"].value = "random"
    assert isinstance(live, E.Live)


def test_bad_inputs():
    with pytest.raises(ValueError, match="padding"):
        E.compute(padding="reflect")
    with pytest.raises(ValueError, match="stride"):
        E.compute(stride=3)
    with pytest.raises(ValueError, match="dx"):
        E.compute(dx=1.5)
    with pytest.raises(ValueError, match="image"):
        E.compute(image_name="cat")
    with pytest.raises(ValueError, match="kernel"):
        E.compute(kernel="gabor")
