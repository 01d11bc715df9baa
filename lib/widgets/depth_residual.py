"""Widget W4.5: depth against the residual stream, at initialisation.

A :class:`lib.residual.ResidualMLP` (30 one-hot tokens, width 32, random target permutation) with
``depth`` blocks, either plain (h = act(W h + b)) or residual (h = h + W_out act(W_in h + b)); per
block the figure shows the size of the loss gradient that reaches the block's parameters (log scale)
and the RMS of the stream after each block.

* ``compute``: one random model's per-block gradient norms and stream RMS;
* ``figure``: kernel-free, a slider over depth, plain and residual as traces (tanh, gain 1);
* ``widget``: live, with depth, residual toggle, init gain and activation;
* ``show``: both, through :func:`lib.widgets.dual`.
"""
from __future__ import annotations

import ipywidgets as W
import numpy as np
import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from .. import plotting
from ..residual import ACTS, ResidualMLP, block_grad_norms
from . import Live, dual, readout, slider

VOCAB, WIDTH = 30, 32
STATIC_DEPTHS = (2, 5, 10, 20, 30, 45, 60)
KINDS = ("plain", "residual")


def compute(depth: int = 30, residual: bool = True, gain: float = 1.0, act: str = "tanh", seed: int = 0) -> dict:
    """``grad_norms`` (depth,) for blocks 1..depth and ``stream_rms`` (depth+1,) for h_0..h_depth.

    Plain blocks have no output map (the draft's block); residual ones have it (``out_proj=True``).
    """
    if isinstance(depth, bool) or not isinstance(depth, (int, np.integer)) or depth < 1:
        raise ValueError(f"depth: expected an integer >= 1, got {depth!r}")
    if act not in ACTS:
        raise ValueError(f"act: expected one of {list(ACTS)}, got {act!r}")
    torch.manual_seed(seed)
    model = ResidualMLP(VOCAB, WIDTH, int(depth), residual=residual, out_proj=residual, act=act, gain=gain)
    x = torch.arange(VOCAB)
    y = torch.randperm(VOCAB, generator=torch.Generator().manual_seed(seed))
    g = block_grad_norms(model, x, y).numpy()
    with torch.no_grad():
        _, stream = model(x, return_stream=True)
    rms = stream.pow(2).mean(dim=(1, 2)).sqrt().numpy()
    return dict(grad_norms=g, stream_rms=rms, ratio=float(g[0] / g[-1]) if g[-1] > 0 else 0.0,
                depth=int(depth), residual=bool(residual), gain=float(gain), act=act)


def _log(a) -> list:
    return [float(f"{v:.4g}") if np.isfinite(v) and v > 1e-30 else None for v in np.asarray(a, dtype=float)]


def _traces(res: dict) -> list[dict]:
    L = res["depth"]
    return [dict(x=list(range(1, L + 1)), y=_log(res["grad_norms"])),
            dict(x=list(range(L + 1)), y=_log(res["stream_rms"]))]


def _base(names, title: str) -> go.Figure:
    fig = make_subplots(rows=1, cols=2, subplot_titles=("gradient reaching each block", "RMS of the stream"))
    for i, name in enumerate(names):
        colour = plotting.PALETTE[3 if name == "plain" else 0]
        fig.add_trace(go.Scatter(mode="lines+markers", marker=dict(size=4), name=f"{name}: ‖∂loss/∂θ_t‖",
                                 line=dict(color=colour)), row=1, col=1)
        fig.add_trace(go.Scatter(mode="lines+markers", marker=dict(size=4), name=f"{name}: RMS of h_t",
                                 line=dict(color=colour, dash="dot")), row=1, col=2)
    fig.update_yaxes(type="log", exponentformat="power", title_text="gradient norm (log scale)", row=1, col=1)
    fig.update_yaxes(type="log", exponentformat="power", title_text="RMS (log scale)", row=1, col=2)
    fig.update_xaxes(title_text="block t", row=1, col=1)
    fig.update_xaxes(title_text="after block t (0 = embedding)", row=1, col=2)
    fig.update_layout(title=title, height=460, margin=dict(t=100, b=60),
                      legend=dict(orientation="h", yanchor="bottom", y=-0.45, x=0))
    return fig


def _title(results: dict) -> str:
    parts = [f"{k}: block 1 / block {r['depth']} = {r['ratio']:.1e}" for k, r in results.items()]
    return f"Depth {next(iter(results.values()))['depth']} at init; " + "; ".join(parts)


def figure(seed: int = 0) -> go.Figure:
    """Kernel-free: a slider over ``STATIC_DEPTHS``; plain and residual (tanh, gain 1) as traces."""
    runs = [{k: compute(L, k == "residual", 1.0, "tanh", seed) for k in KINDS} for L in STATIC_DEPTHS]
    start = STATIC_DEPTHS.index(30)
    fig = _base(KINDS, _title(runs[start]))
    steps = [(str(L), [t for k in KINDS for t in _traces(r[k])], {"title.text": _title(r)})
             for L, r in zip(STATIC_DEPTHS, runs)]
    for trace, upd in zip(fig.data, steps[start][1]):
        trace.update(upd)
    fig.update_layout(sliders=[slider(steps, prefix="depth L = ", active=start)], height=560,
                      margin=dict(b=200))
    fig.layout.sliders[0].update(y=-0.55, yanchor="top")
    return fig


def widget(depth: int = 30, residual: bool = True, gain: float = 1.0, act: str = "tanh", seed: int = 0) -> Live:
    """Live: each change builds a new random model and runs one forward/backward pass (well under 0.1 s)."""
    style = dict(description_width="initial")
    controls = dict(
        depth=W.IntSlider(value=depth, min=2, max=60, description="depth L", style=style),
        residual=W.Checkbox(value=residual, description="residual"),
        gain=W.FloatSlider(value=gain, min=0.25, max=3.0, step=0.05, description="init gain", style=style),
        act=W.Dropdown(options=list(ACTS), value=act, description="activation", style=style),
    )
    fig = go.FigureWidget(_base(["current"], "Depth and residual at initialisation"))
    info = readout()

    def redraw(_=None):
        c = {k: v.value for k, v in controls.items()}
        res = compute(c["depth"], c["residual"], c["gain"], c["act"], seed)
        with fig.batch_update():
            for trace, upd in zip(fig.data, _traces(res)):
                trace.update(upd)
            kind = "residual" if res["residual"] else "plain"
            fig.layout.title.text = (f"{kind}, depth {res['depth']}, {res['act']}, gain {res['gain']:.2f}: "
                                     f"block 1 / block {res['depth']} = {res['ratio']:.1e}")
        info.value = f"gradient at block 1: {res['grad_norms'][0]:.2e}; at the last block: {res['grad_norms'][-1]:.2e}"

    for ctl in controls.values():
        ctl.observe(redraw, names="value")
    redraw()
    return Live(controls, [fig], children=[W.HBox(list(controls.values())), fig, info])


def show(**kwargs) -> None:
    """Display the live widget (kernel) and the static figure (website) from one cell."""
    dual(widget(**kwargs), figure())
