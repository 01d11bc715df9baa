"""Widget W3.2: the window of eq. (3.14) sliding over a 6 x 6 image, and the same step as im2col (3.15).

For output position (i, j) the ``(2r+1) x (2r+1)`` patch of the zero-padded input around (i, j) is
flattened into a column ``p`` (one column of ``lib.conv.im2col``), the kernel into a row ``w``, and
``out[i, j] = w . p``. The output is filled in reading order, up to the current position.

* ``compute(i, j, r, seed)``: the pure computation, unit-tested;
* ``figure(r)``: kernel-free, a slider over the 36 positions;
* ``widget()``: live, with sliders for i and j and a choice of r in {1, 2};
* ``show()``: both, through :func:`lib.widgets.dual`.
"""
from __future__ import annotations

import ipywidgets as W
import numpy as np
import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from .. import conv, plotting
from . import Live, dual, readout, slider

N = 6


def toy(r: int = 1, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A 6 x 6 input with small integer values in [0, 4] and a (2r+1)^2 kernel with entries in {-1, 0, 1}."""
    if r not in (1, 2) or isinstance(r, bool):
        raise ValueError(f"r: expected 1 or 2, got {r!r}")
    rng = np.random.default_rng(seed)
    return rng.integers(0, 5, (N, N)).astype(float), rng.integers(-1, 2, (2 * r + 1, 2 * r + 1)).astype(float)


def compute(i: int = 0, j: int = 0, r: int = 1, seed: int = 0) -> dict:
    """The step at output (i, j): ``dict(x, w, xp (padded input), patch (k*k,), products, value,
    out (6, 6) full output, filled (6, 6) output up to (i, j) in reading order, NaN after)``."""
    x, w = toy(r, seed)
    for name, v in (("i", i), ("j", j)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or not 0 <= v < N:
            raise ValueError(f"{name}: expected an integer in [0, {N - 1}], got {v!r}")
    k = 2 * r + 1
    xt, wt = torch.from_numpy(x)[None, None], torch.from_numpy(w)[None, None]
    out = conv.conv2d_forward(xt, wt, padding=r)[0, 0].numpy()
    patch = conv.im2col(xt, k, padding=r)[0, :, i * N + j].numpy()
    products = w.ravel() * patch
    filled = np.full((N, N), np.nan)
    filled.ravel()[: i * N + j + 1] = out.ravel()[: i * N + j + 1]
    return dict(x=x, w=w, xp=np.pad(x, r), patch=patch, products=products, value=float(products.sum()),
                out=out, filled=filled, i=i, j=j, r=r)


# --------------------------------------------------------------------------- drawing
def _nan_to_none(a: np.ndarray) -> list:
    return [[None if np.isnan(v) else float(v) for v in row] for row in a]


def _traces(res: dict) -> list[dict]:
    r, i, j = res["r"], res["i"], res["j"]
    k = 2 * r + 1
    lo_r, hi_r, lo_c, hi_c = i - 0.5, i + k - 0.5, j - 0.5, j + k - 0.5      # padded coordinates
    n = len(res["patch"])
    return [dict(z=res["xp"].tolist(), text=res["xp"].astype(int).tolist()),
            dict(x=[lo_c, hi_c, hi_c, lo_c, lo_c], y=[lo_r, lo_r, hi_r, hi_r, lo_r]),
            dict(z=res["patch"][:, None].tolist(), text=res["patch"].astype(int)[:, None].tolist(),
                 y=list(range(n))),
            dict(z=res["w"].ravel()[:, None].tolist(), text=res["w"].astype(int).ravel()[:, None].tolist(),
                 y=list(range(n))),
            dict(z=_nan_to_none(res["filled"]),
                 text=[["" if np.isnan(v) else f"{v:g}" for v in row] for row in res["filled"]]),
            dict(x=[j - 0.5, j + 0.5, j + 0.5, j - 0.5, j - 0.5], y=[i - 0.5, i - 0.5, i + 0.5, i + 0.5, i - 0.5])]


def _title(res: dict) -> str:
    terms = " + ".join(f"({a:g})({b:g})" for a, b in zip(res["w"].ravel(), res["patch"]) if a != 0 and b != 0)
    return f"out[{res['i']}, {res['j']}] = w · patch = {terms or '0'} = {res['value']:g}"


def _base(r: int) -> go.Figure:
    fig = make_subplots(rows=1, cols=4, column_widths=[0.36, 0.09, 0.09, 0.36], horizontal_spacing=0.06,
                        subplot_titles=(f"input, zero-padded by r = {r}", "patch", "kernel", "output"))
    heat = dict(texttemplate="%{text}", showscale=False, hoverinfo="z")
    fig.add_trace(go.Heatmap(colorscale="Greys", zmin=0, zmax=8, name="input", **heat), row=1, col=1)
    fig.add_trace(go.Scatter(mode="lines", line=dict(color=plotting.PALETTE[3], width=4), name="window"), row=1, col=1)
    fig.add_trace(go.Heatmap(colorscale="Greys", zmin=0, zmax=8, name="patch column", **heat), row=1, col=2)
    fig.add_trace(go.Heatmap(colorscale=plotting.DIVERGING, zmin=-1.5, zmax=1.5, name="kernel row", **heat), row=1, col=3)
    fig.add_trace(go.Heatmap(colorscale=plotting.DIVERGING, zmid=0, name="output", **heat), row=1, col=4)
    fig.add_trace(go.Scatter(mode="lines", line=dict(color=plotting.PALETTE[3], width=4), name="current output"),
                  row=1, col=4)
    fig.update_xaxes(title_text="column (padded)", row=1, col=1)
    fig.update_yaxes(title_text="row (padded)", autorange="reversed", scaleanchor="x", row=1, col=1)
    for col in (2, 3):
        fig.update_xaxes(title_text="", showticklabels=False, row=1, col=col)
        fig.update_yaxes(title_text="entry (Δi, Δj)", autorange="reversed", row=1, col=col)
    fig.update_xaxes(title_text="patch", row=1, col=2)
    fig.update_xaxes(title_text="weight", row=1, col=3)
    fig.update_xaxes(title_text="column j", range=[-0.5, N - 0.5], row=1, col=4)
    fig.update_yaxes(title_text="row i", range=[N - 0.5, -0.5], scaleanchor="x4", row=1, col=4)
    fig.update_layout(height=430, showlegend=False, margin=dict(t=100))
    return fig


def figure(r: int = 1, seed: int = 0) -> go.Figure:
    """Static: a slider over the 36 output positions in reading order."""
    fig = _base(r)
    steps = []
    for i in range(N):
        for j in range(N):
            res = compute(i, j, r, seed)
            steps.append((f"({i},{j})", _traces(res), {"title.text": _title(res)}))
    for trace, upd in zip(fig.data, steps[0][1]):
        trace.update(upd)
    fig.update_layout(sliders=[slider(steps, prefix="output position (i, j): ")], title=steps[0][2]["title.text"],
                      height=480)
    return fig


def widget(r: int = 1, seed: int = 0) -> Live:
    """Live: sliders for i and j, and r in {1, 2} (which changes the kernel and the padding)."""
    toy(r)
    style = dict(description_width="initial")
    c = dict(i=W.IntSlider(value=0, min=0, max=N - 1, description="row i", style=style),
             j=W.IntSlider(value=0, min=0, max=N - 1, description="column j", style=style),
             r=W.ToggleButtons(options=[1, 2], value=r, description="radius r", style=style))
    fig = go.FigureWidget(_base(r))
    info = readout()

    def redraw(_=None):
        res = compute(c["i"].value, c["j"].value, c["r"].value, seed)
        with fig.batch_update():
            for trace, upd in zip(fig.data, _traces(res)):
                trace.update(**upd)
            fig.layout.title.text = _title(res)
            fig.layout.annotations[0].text = f"input, zero-padded by r = {res['r']}"
        info.value = f"patch length (2r+1)² = {len(res['patch'])}; im2col column {res['i'] * N + res['j']} of {N * N}"

    for ctl in c.values():
        ctl.observe(redraw, names="value")
    redraw()
    return Live(controls=c, figures=[fig], children=[W.HBox(list(c.values())), info, fig])


def show(**kwargs) -> None:
    """The live window in a kernel, the static position slider on the website."""
    dual(widget(**kwargs), figure())
