"""Widget W3.3: the theoretical receptive field of a conv stack against its effective one.

A stack of ``n_layers`` identical layers (kernel ``k``, stride ``s``, dilation ``d``, padding
``d (k - 1) / 2``, ReLU between layers, random init) on a 64 x 64 input. The theoretical field follows
:func:`lib.conv.receptive_field`: ``RF_l = RF_{l-1} + d (k - 1) J_{l-1}``, ``J_l = s J_{l-1}``. The effective
field is ``|d out / d x|`` for the output unit nearest the image centre, averaged over random inputs; its
support lies inside the theoretical square and its mass sits near the middle.

* ``compute(n_layers, kernel, stride, dilation)``: the pure computation, unit-tested;
* ``figure()``: kernel-free, a slider over depth (1-6) for 3x3 kernels at stride 1 and at stride 2;
* ``widget()``: live, with depth, kernel size, stride and dilation;
* ``show()``: both, through :func:`lib.widgets.dual`.
"""
from __future__ import annotations

import ipywidgets as W
import numpy as np
import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots
from torch import nn

from .. import conv, plotting
from . import Live, dual, readout, slider

SIZE = 64
KERNELS = (1, 3, 5, 7)
MAX_LAYERS = 6


def _choice(name: str, value, options) -> int:
    if isinstance(value, bool) or value not in options:
        raise ValueError(f"{name}: expected one of {tuple(options)}, got {value!r}")
    return int(value)


def stack(n_layers: int, kernel: int = 3, stride: int = 1, dilation: int = 1, width: int = 4,
          seed: int = 0) -> nn.Sequential:
    """``n_layers`` x [Conv2d(k, s, d, 'same'-style padding) -> ReLU] in float64, seeded (torch default init)."""
    _choice("n_layers", n_layers, range(1, MAX_LAYERS + 1))
    _choice("kernel", kernel, KERNELS)
    _choice("stride", stride, (1, 2))
    _choice("dilation", dilation, (1, 2))
    torch.manual_seed(seed)
    layers = []
    for l in range(n_layers):
        layers += [nn.Conv2d(1 if l == 0 else width, width, kernel, stride=stride,
                             padding=dilation * (kernel - 1) // 2, dilation=dilation), nn.ReLU()]
    return nn.Sequential(*layers).double()


def compute(n_layers: int = 3, kernel: int = 3, stride: int = 1, dilation: int = 1, n_inputs: int = 4,
            seed: int = 0) -> dict:
    """Theoretical and effective receptive field of the output unit nearest the centre of a 64 x 64 input.

    Returns ``dict(rows (per-layer dicts from conv.receptive_field), rf, jump, erf (64, 64) normalised to
    sum 1, support (h, w) of the nonzero gradient, centre (input pixel under the chosen unit),
    square (lo, hi) bounds of the theoretical field in input pixels, clipped (field exceeds the input))``.
    """
    model = stack(n_layers, kernel, stride, dilation, seed=seed)
    rows = conv.receptive_field([kernel] * n_layers, stride, dilation)
    rf, jump = rows[-1]["rf"], rows[-1]["jump"]
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n_inputs, 1, SIZE, SIZE, generator=gen, dtype=torch.float64, requires_grad=True)
    out = model(x)
    o = min(out.shape[-1] - 1, round((SIZE // 2) / jump))       # output unit nearest the centre
    out[:, :, o, o].sum().backward()
    g = x.grad.abs().sum(dim=(0, 1))
    total = g.sum()
    erf = (g / total if total > 0 else g).numpy()
    centre = o * jump
    lo, hi = centre - (rf - 1) // 2, centre + (rf - 1) // 2
    return dict(rows=rows, rf=rf, jump=jump, erf=erf, support=conv.support_size(g, 0.0), centre=centre,
                square=(lo, hi), clipped=lo < 0 or hi > SIZE - 1)


# --------------------------------------------------------------------------- drawing
def _square(res: dict) -> dict:
    lo, hi = res["square"][0] - 0.5, res["square"][1] + 0.5
    return dict(x=[lo, hi, hi, lo, lo], y=[lo, lo, hi, hi, lo])


def _traces(res: dict) -> list[dict]:
    layers = [r["layer"] for r in res["rows"]]
    return [dict(z=np.round(res["erf"] / max(res["erf"].max(), 1e-300), 3).tolist()), _square(res),
            dict(x=layers, y=[r["rf"] for r in res["rows"]]), dict(x=layers, y=[r["jump"] for r in res["rows"]])]


def _title(res: dict, kernel: int, stride: int, dilation: int) -> str:
    n = len(res["rows"])
    extra = " (larger than the 64×64 input)" if res["clipped"] else ""
    return (f"{n} layer{'s' if n > 1 else ''} of {kernel}×{kernel}, stride {stride}, dilation {dilation}: "
            f"theoretical field {res['rf']}×{res['rf']}{extra}, gradient support {res['support'][0]}×{res['support'][1]}")


def _base() -> go.Figure:
    fig = make_subplots(rows=1, cols=2, column_widths=[0.55, 0.45], horizontal_spacing=0.14,
                        subplot_titles=("effective field |∂out/∂x| (max = 1) and theoretical square",
                                        "field and jump per layer"))
    fig.add_trace(go.Heatmap(colorscale="Viridis", zmin=0, zmax=1, colorbar=dict(title="relative", x=0.47),
                             name="effective field"), row=1, col=1)
    fig.add_trace(go.Scatter(mode="lines", line=dict(color="white", width=2), name="theoretical field"), row=1, col=1)
    fig.add_trace(go.Scatter(mode="lines+markers", name="RF_l", line_color=plotting.PALETTE[3]), row=1, col=2)
    fig.add_trace(go.Scatter(mode="lines+markers", name="jump J_l", line=dict(color=plotting.PALETTE[0], dash="dot")),
                  row=1, col=2)
    fig.update_xaxes(title_text="column", range=[-0.5, SIZE - 0.5], row=1, col=1)
    fig.update_yaxes(title_text="row", range=[SIZE - 0.5, -0.5], scaleanchor="x", row=1, col=1)
    fig.update_xaxes(title_text="layer l", dtick=1, row=1, col=2)
    fig.update_yaxes(title_text="pixels", type="log", row=1, col=2)
    fig.update_layout(height=440, legend=dict(orientation="h", yanchor="bottom", y=-0.3, x=0.55), margin=dict(t=100))
    return fig


def figure() -> go.Figure:
    """Static: a slider over 12 settings, depth 1-6 with 3x3 kernels at stride 1, then at stride 2."""
    fig = _base()
    steps = []
    for stride in (1, 2):
        for n in range(1, MAX_LAYERS + 1):
            res = compute(n, 3, stride)
            steps.append((f"s={stride}, L={n}", _traces(res), {"title.text": _title(res, 3, stride, 1)}))
    sl = slider(steps, prefix="stride, layers: ", active=2)
    for trace, upd in zip(fig.data, steps[2][1]):
        trace.update(upd)
    fig.update_layout(sliders=[sl], title=steps[2][2]["title.text"], height=520)
    return fig


def widget(n_layers: int = 3, kernel: int = 3, stride: int = 1, dilation: int = 1) -> Live:
    """Live: depth, kernel size, stride and dilation; a readout lists RF and jump per layer."""
    style = dict(description_width="initial")
    c = dict(
        n_layers=W.IntSlider(value=_choice("n_layers", n_layers, range(1, MAX_LAYERS + 1)), min=1, max=MAX_LAYERS,
                             description="layers", style=style),
        kernel=W.Dropdown(options=list(KERNELS), value=_choice("kernel", kernel, KERNELS), description="kernel",
                          style=style),
        stride=W.ToggleButtons(options=[1, 2], value=_choice("stride", stride, (1, 2)), description="stride",
                               style=style),
        dilation=W.ToggleButtons(options=[1, 2], value=_choice("dilation", dilation, (1, 2)), description="dilation",
                                 style=style),
    )
    fig = go.FigureWidget(_base())
    info = readout()

    def redraw(_=None):
        k, s, d = c["kernel"].value, c["stride"].value, c["dilation"].value
        res = compute(c["n_layers"].value, k, s, d)
        with fig.batch_update():
            for trace, upd in zip(fig.data, _traces(res)):
                trace.update(**upd)
            fig.layout.title.text = _title(res, k, s, d)
        info.value = "; ".join(f"layer {r['layer']}: RF {r['rf']}, jump {r['jump']}" for r in res["rows"])

    for ctl in c.values():
        ctl.observe(redraw, names="value")
    redraw()
    return Live(controls=c, figures=[fig], children=[W.HBox(list(c.values())), info, fig])


def show(**kwargs) -> None:
    """The live explorer in a kernel, the static depth slider on the website."""
    dual(widget(**kwargs), figure())
