"""Widget W3.6: the footprint of one output error in the backward pass of a convolution.

A single-channel 3x3 convolution (weights 1..9, so the orientation is visible) reads a small integer
image. Put an error ``delta = 1`` at one output position (i, j) and zero everywhere else, and run the
hand-written backward :func:`lib.conv_backward.conv2d_backward`:

* ``dJ/dx`` is a copy of the kernel stamped onto the window that the output read (3.43);
* ``dJ/dW`` is the input patch under that window (3.44);
* with stride 2 the error first sits on the stride-1 grid at (2i, 2j), zeros in between (3.46).

* ``compute``: these maps for one position and stride;
* ``figure``: kernel-free, a slider over every output position at stride 1 and at stride 2;
* ``widget``: live, sliders for i and j and a stride toggle;
* ``show``: both, through :func:`lib.widgets.dual`.
"""
from __future__ import annotations

import ipywidgets as W
import numpy as np
import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from .. import plotting
from ..conv_backward import conv2d_backward, output_size
from . import Live, dual, slider

SIZE, K = 7, 3


def _image(size: int) -> np.ndarray:
    return np.random.default_rng(0).integers(0, 10, size=(size, size)).astype(float)


def compute(i: int, j: int, stride: int = 1, size: int = SIZE, k: int = K) -> dict:
    """Backward pass of a single-channel ``k x k`` convolution (no padding) for ``delta = 1`` at (i, j).

    Returns ``dict(x (size, size), w (k, k), delta (out, out), delta_up (size-k+1, size-k+1), grad_x,
    grad_w, corner=(stride*i, stride*j))``; ``corner`` is the top-left input pixel of the window.
    """
    for name, v, lo in (("stride", stride, 1), ("size", size, 1), ("k", k, 1)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo:
            raise ValueError(f"{name}: expected an integer >= {lo}, got {v!r}")
    if k > size:
        raise ValueError(f"k: expected a kernel no larger than the image ({size}), got {k}")
    n_out = output_size(size, k, stride)
    for name, v in (("i", i), ("j", j)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or not 0 <= v < n_out:
            raise ValueError(f"{name}: expected an output index in [0, {n_out - 1}], got {v!r}")
    x = torch.tensor(_image(size), dtype=torch.float64)[None, None]
    w = torch.arange(1, k * k + 1, dtype=torch.float64).reshape(1, 1, k, k)
    delta = torch.zeros(1, 1, n_out, n_out, dtype=torch.float64)
    delta[0, 0, i, j] = 1.0
    grad_x, grad_w, _ = conv2d_backward(delta, x, w, stride=stride)
    delta_up = torch.zeros(size - k + 1, size - k + 1, dtype=torch.float64)
    delta_up[::stride, ::stride] = delta[0, 0]
    return dict(x=x[0, 0].numpy(), w=w[0, 0].numpy(), delta=delta[0, 0].numpy(), delta_up=delta_up.numpy(),
                grad_x=grad_x[0, 0].numpy(), grad_w=grad_w[0, 0].numpy(), corner=(stride * i, stride * j))


def _heat(z: np.ndarray) -> dict:
    return dict(z=z.tolist(), text=[[f"{v:g}" for v in row] for row in z])


def _updates(res: dict) -> list[dict]:
    """Updates for the moving traces: delta (stride-1 grid), dJ/dx, dJ/dW."""
    return [_heat(res["delta_up"]), _heat(res["grad_x"]), _heat(res["grad_w"])]


def _layout(res: dict, i: int, j: int, stride: int) -> dict:
    r, c = res["corner"]
    k = res["w"].shape[0]
    box = dict(type="rect", xref="x", yref="y", x0=c - 0.5, x1=c + k - 0.5, y0=r - 0.5, y1=r + k - 0.5,
               line=dict(color=plotting.PALETTE[3], width=3))
    box2 = {**box, "xref": "x3", "yref": "y3"}
    title = (f"Backward footprint of δ = 1 at output ({i}, {j}), stride {stride}: "
             f"∂J/∂x is the kernel on the window at rows {r}–{r + k - 1}, columns {c}–{c + k - 1}")
    return {"title.text": title, "shapes": [box, box2]}


def _base(res: dict) -> go.Figure:
    fig = make_subplots(rows=1, cols=4, horizontal_spacing=0.06,
                        subplot_titles=("input x (window outlined)", "δ on the stride-1 grid",
                                        "∂J/∂x = kernel on the window", "∂J/∂W = input patch"))
    common = dict(texttemplate="%{text}", showscale=False, xgap=1, ygap=1)
    fig.add_trace(go.Heatmap(**_heat(res["x"]), colorscale="Greys", zmin=0, zmax=12, name="x", **common), 1, 1)
    fig.add_trace(go.Heatmap(**_heat(res["delta_up"]), colorscale=plotting.SEQUENTIAL, zmin=0, zmax=1,
                             name="δ", **common), 1, 2)
    fig.add_trace(go.Heatmap(**_heat(res["grad_x"]), colorscale=plotting.SEQUENTIAL, zmin=0,
                             zmax=float(res["w"].max()), name="∂J/∂x", **common), 1, 3)
    fig.add_trace(go.Heatmap(**_heat(res["grad_w"]), colorscale=plotting.SEQUENTIAL, zmin=0, zmax=9,
                             name="∂J/∂W", **common), 1, 4)
    for col, (xt, yt) in enumerate([("column", "row"), ("output column (stride 1)", "output row (stride 1)"),
                                    ("column", "row"), ("kernel offset b", "kernel offset a")], start=1):
        fig.update_xaxes(title_text=xt, dtick=1, row=1, col=col)
        fig.update_yaxes(title_text=yt, dtick=1, autorange="reversed", scaleanchor=f"x{'' if col == 1 else col}",
                         row=1, col=col)
    fig.update_layout(height=400, margin=dict(t=110))
    return fig


def figure(size: int = SIZE, k: int = K) -> go.Figure:
    """Kernel-free: one slider over all output positions, first at stride 1, then at stride 2."""
    steps = []
    for stride in (1, 2):
        n_out = output_size(size, k, stride)
        for i in range(n_out):
            for j in range(n_out):
                res = compute(i, j, stride, size, k)
                steps.append((f"s={stride} ({i},{j})", _updates(res), _layout(res, i, j, stride)))
    start = 0
    sl = slider(steps, prefix="stride and output position: ", active=start)
    moving = [1, 2, 3]
    for step in sl["steps"]:
        step["args"].append(moving)
    fig = _base(compute(0, 0, 1, size, k))
    fig.update_layout(sliders=[sl], **{"title": steps[start][2]["title.text"], "shapes": steps[start][2]["shapes"]},
                      height=460)
    return fig


def widget(i: int = 1, j: int = 2, stride: int = 1, size: int = SIZE, k: int = K) -> Live:
    """Live: sliders for the output position and a stride toggle."""
    n_out = output_size(size, k, stride)
    controls = dict(
        i=W.IntSlider(value=i, min=0, max=n_out - 1, description="output row i"),
        j=W.IntSlider(value=j, min=0, max=n_out - 1, description="output column j"),
        stride=W.ToggleButtons(options=[1, 2], value=stride, description="stride"),
    )
    fig = go.FigureWidget(_base(compute(i, j, stride, size, k)))

    def redraw(_=None):
        c = controls
        top = output_size(size, k, c["stride"].value) - 1
        for name in ("i", "j"):
            c[name].max = top            # shrinking max clamps the value first
        res = compute(c["i"].value, c["j"].value, c["stride"].value, size, k)
        with fig.batch_update():
            for trace, upd in zip(fig.data[1:], _updates(res)):
                trace.update(**upd)
            lay = _layout(res, c["i"].value, c["j"].value, c["stride"].value)
            fig.layout.title.text = lay["title.text"]
            fig.layout.shapes = lay["shapes"]

    for control in controls.values():
        control.observe(redraw, names="value")
    redraw()
    return Live(controls=controls, figures=[fig])


def show(**kwargs) -> None:
    """The live widget in a kernel, the static figure on the website."""
    dual(widget(**kwargs), figure(**{k: v for k, v in kwargs.items() if k in {"size", "k"}}))
