"""Widget W5: cleaning a matrix memory by SVD truncation, and what a rank-r update costs.

The memory is a low-rank signal (``k_true`` strong key -> value pairs, lib.memory) plus Gaussian noise.
Left panel: its singular values with the cut-off after the r kept terms. Middle: the Frobenius error of
the rank-r truncation to the noisy matrix (the Eckart-Young value) and to the clean signal. Right: the
numbers a rank-r LoRA update trains, ``r (d_in + d_out)``, against the full ``d_in d_out``.

* ``compute``: spectrum and both error curves for one noise level;
* ``figure``: kernel-free, a slider over the rank r (noise fixed);
* ``widget``: live, with r and the noise level;
* ``show``: both, through :func:`lib.widgets.dual`.
"""
from __future__ import annotations

import ipywidgets as W
import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .. import memory as mem
from .. import plotting
from . import Live, dual, readout, slider

D_IN, D_OUT, K_TRUE = 40, 30, 4
MAX_RANK = 16


def compute(noise: float = 0.15, seed: int = 0) -> dict:
    """Spectrum and errors for ranks 0..MAX_RANK. Returns ``dict(ranks, s (min(d),), err_noisy, err_clean,
    eckart_young, lora_params, full_params)``."""
    if isinstance(noise, bool) or not np.isscalar(noise) or not 0 <= noise <= 2:
        raise ValueError(f"noise: expected a number in [0, 2], got {noise!r}")
    signal = mem.make_associative_memory(D_IN, D_OUT, K_TRUE, lambdas=[8.0, 6.0, 5.0, 4.0], seed=3)["W"]
    W_noisy = signal + noise * np.random.default_rng(seed).normal(size=(D_OUT, D_IN))
    _, s, _ = mem.svd_memory(W_noisy)
    ranks = np.arange(MAX_RANK + 1)
    trunc = [mem.truncate_svd(W_noisy, rank=int(r)) for r in ranks]
    return dict(ranks=ranks, s=s,
                err_noisy=np.array([np.linalg.norm(W_noisy - T) for T in trunc]),
                err_clean=np.array([np.linalg.norm(signal - T) for T in trunc]),
                eckart_young=np.array([np.sqrt(np.sum(s[r:] ** 2)) for r in ranks]),
                lora_params=ranks * (D_IN + D_OUT), full_params=D_IN * D_OUT)


def _base(res: dict) -> go.Figure:
    fig = make_subplots(rows=1, cols=3, column_widths=[0.36, 0.38, 0.26], horizontal_spacing=0.08,
                        subplot_titles=("singular values", "error of the rank-r memory", "trainable numbers"))
    n = len(res["s"])
    fig.add_trace(go.Bar(x=list(range(1, n + 1)), name="kept", marker_color=plotting.PALETTE[0]), row=1, col=1)
    fig.add_trace(go.Bar(x=list(range(1, n + 1)), name="dropped", marker_color="#bbbbbb"), row=1, col=1)
    fig.add_trace(go.Scatter(mode="lines", name="to the noisy W (Eckart-Young)", line=dict(color=plotting.PALETTE[1])),
                  row=1, col=2)
    fig.add_trace(go.Scatter(mode="lines", name="to the clean signal", line=dict(color=plotting.PALETTE[2])), row=1, col=2)
    fig.add_trace(go.Scatter(mode="markers", name="rank r", showlegend=False,
                             marker=dict(color="#000000", size=10, symbol="x")), row=1, col=2)
    fig.add_trace(go.Bar(x=["LoRA r(d_in+d_out)", "full d_in·d_out"], showlegend=False, name="parameters",
                         marker_color=[plotting.PALETTE[4], "#999999"]), row=1, col=3)
    fig.update_xaxes(title_text="index i", row=1, col=1)
    fig.update_yaxes(title_text="lambda_i", row=1, col=1)
    fig.update_xaxes(title_text="rank r kept", row=1, col=2)
    fig.update_yaxes(title_text="Frobenius error", row=1, col=2)
    fig.update_xaxes(title_text="update", row=1, col=3)
    fig.update_yaxes(title_text="numbers trained", row=1, col=3)
    fig.update_layout(barmode="stack", height=450, margin=dict(t=110),
                      legend=dict(orientation="h", yanchor="bottom", y=1.1, x=0))
    return fig


def _traces(res: dict, r: int) -> list[dict]:
    s = np.round(res["s"], 5)
    keep = np.arange(len(s)) < r
    ranks = res["ranks"].tolist()
    return [dict(y=np.where(keep, s, 0).tolist()), dict(y=np.where(keep, 0, s).tolist()),
            dict(x=ranks, y=np.round(res["err_noisy"], 5).tolist()),
            dict(x=ranks, y=np.round(res["err_clean"], 5).tolist()),
            dict(x=[r, r], y=[round(float(res["err_noisy"][r]), 5), round(float(res["err_clean"][r]), 5)]),
            dict(y=[int(res["lora_params"][r]), int(res["full_params"])])]


def _title(res: dict, r: int, noise: float) -> str:
    return (f"Rank {r} of a {D_OUT}x{D_IN} memory ({K_TRUE} true pairs, noise {noise:g}): "
            f"error to the clean signal {res['err_clean'][r]:.2f}")


def figure(noise: float = 0.15) -> go.Figure:
    """Kernel-free: a slider over the rank r."""
    res = compute(noise)
    fig = _base(res)
    steps = [(str(r), _traces(res, r), {"title.text": _title(res, r, noise)}) for r in res["ranks"]]
    sl = slider(steps, prefix="rank r = ", active=K_TRUE)
    for step in sl["steps"]:
        step["args"].append(list(range(6)))
    for trace, upd in zip(fig.data, steps[K_TRUE][1]):
        trace.update(upd)
    fig.update_layout(title=steps[K_TRUE][2]["title.text"], sliders=[sl], height=560)
    return fig


def widget(rank: int = K_TRUE, noise: float = 0.15) -> Live:
    """Live: rank and noise level."""
    style = dict(description_width="initial")
    controls = dict(
        rank=W.IntSlider(value=rank, min=0, max=MAX_RANK, description="rank r", style=style),
        noise=W.FloatSlider(value=noise, min=0.0, max=1.0, step=0.05, description="noise level", style=style),
    )
    fig = go.FigureWidget(_base(compute(noise)))
    info = readout()

    def redraw(_=None):
        r, nz = controls["rank"].value, controls["noise"].value
        res = compute(nz)
        with fig.batch_update():
            for trace, upd in zip(fig.data, _traces(res, r)):
                trace.update(**upd)
            fig.layout.title.text = _title(res, r, nz)
        best = int(np.argmin(res["err_clean"]))
        info.value = f"best rank for the clean signal: {best}; LoRA numbers at r = {r}: {res['lora_params'][r]}"

    for control in controls.values():
        control.observe(redraw, names="value")
    redraw()
    return Live(controls=controls, figures=[fig], children=[W.HBox(list(controls.values())), info, fig])


def show(**kwargs) -> None:
    """The live widget in a kernel, the static figure on the website."""
    dual(widget(**kwargs), figure(kwargs.get("noise", 0.15)))
