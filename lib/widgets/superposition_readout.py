"""Widget W5.4: reading one feature out of K superposed random features in R^d.

``h = u_1 + ... + u_K`` with independent random unit directions ``u_j``; the projection read-out of
feature i is ``u_i^T h = 1 + sum_{j != i} u_i^T u_j``. The interference has mean 0 and root mean square
``sqrt((K - 1) / d)`` (:func:`lib.superposition.superposition_readout`). Left panel: the K read-outs of one
trial (ideal value 1). Right panel: the distribution of the read-out error over many trials, with the
normal density of standard deviation ``sqrt((K - 1) / d)``.

* ``compute``: read-outs of one trial, a histogram of all errors, measured and predicted RMS;
* ``figure``: kernel-free, a slider over K at fixed d;
* ``widget``: live, with d and K;
* ``show``: both, through :func:`lib.widgets.dual`.
"""
from __future__ import annotations

import ipywidgets as W
import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .. import plotting
from ..superposition import superposition_readout
from . import Live, dual, readout, slider

KS = (2, 4, 8, 16, 32, 64, 128, 256, 512)
EDGES = np.linspace(-3.0, 3.0, 121)            # histogram bins for the read-out error


def compute(d: int = 256, k: int = 32, n_samples: int = 4000, seed: int = 0) -> dict:
    """Read-outs of K superposed features in R^d.

    Returns ``dict(readouts (k,) of the first trial, centres (120,), density (120,) of all errors,
    rms, theory = sqrt((k-1)/d), normal (120,) = N(0, theory^2) density at the centres)``; about
    ``n_samples`` errors (``ceil(n_samples / k)`` trials) make the histogram.
    """
    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) or n_samples < 1:
        raise ValueError(f"n_samples: expected an integer >= 1, got {n_samples!r}")
    res = superposition_readout(d, k, n_trials=max(1, -(-int(n_samples) // max(int(k), 1))), seed=seed)
    err = res["errors"]
    density, _ = np.histogram(np.clip(err, EDGES[0], EDGES[-1]), bins=EDGES, density=True)
    centres = (EDGES[:-1] + EDGES[1:]) / 2
    sd = res["theory"]
    normal = np.exp(-centres ** 2 / (2 * sd ** 2)) / (sd * np.sqrt(2 * np.pi)) if sd > 0 else np.zeros_like(centres)
    return dict(readouts=1.0 + err[:k], centres=centres, density=density, rms=res["rms"], theory=sd,
                normal=normal)


def _base() -> go.Figure:
    fig = make_subplots(rows=1, cols=2, column_widths=[0.5, 0.5], horizontal_spacing=0.1,
                        subplot_titles=("read-out of each feature, one trial", "read-out error over many trials"))
    fig.add_trace(go.Bar(marker_color=plotting.PALETTE[0], name="read-out u_iᵀh"), row=1, col=1)
    fig.add_trace(go.Scatter(mode="lines", line=dict(color="black", dash="dash"), name="ideal value 1"), row=1, col=1)
    fig.add_trace(go.Bar(marker_color=plotting.PALETTE[1], opacity=0.7, name="measured error"), row=1, col=2)
    fig.add_trace(go.Scatter(mode="lines", line=dict(color=plotting.PALETTE[3]), name="N(0, (K−1)/d)"), row=1, col=2)
    fig.update_xaxes(title_text="feature i", row=1, col=1)
    fig.update_yaxes(title_text="u_iᵀ h", range=[-1, 3], row=1, col=1)
    fig.update_xaxes(title_text="read-out error u_iᵀh − 1", range=[-3, 3], row=1, col=2)
    fig.update_yaxes(title_text="density", row=1, col=2)
    fig.update_layout(height=470, bargap=0, margin=dict(t=110), legend=dict(orientation="h", yanchor="bottom", y=1.08, x=0))
    return fig


def _traces(res: dict) -> list[dict]:
    k = len(res["readouts"])
    c = np.round(res["centres"], 4).tolist()
    return [dict(x=list(range(1, k + 1)), y=np.round(res["readouts"], 4).tolist()),
            dict(x=[0.5, k + 0.5], y=[1, 1]),
            dict(x=c, y=np.round(res["density"], 4).tolist()),
            dict(x=c, y=np.round(res["normal"], 4).tolist())]


def _title(d: int, k: int, res: dict) -> str:
    return (f"Superposition read-out: K = {k} features in d = {d}; RMS error {res['rms']:.3f}, "
            f"√((K−1)/d) = {res['theory']:.3f}")


def figure(d: int = 256, ks=KS, seed: int = 0) -> go.Figure:
    """Kernel-free: a slider over the number of features K at fixed d."""
    fig = _base()
    steps = []
    for k in ks:
        res = compute(d, k, seed=seed)
        steps.append((str(k), _traces(res), {"title.text": _title(d, k, res)}))
    start = list(ks).index(32) if 32 in ks else 0
    sl = slider(steps, prefix="number of features K = ", active=start)
    for trace, upd in zip(fig.data, steps[start][1]):
        trace.update(upd)
    fig.update_layout(sliders=[sl], title=steps[start][2]["title.text"], height=560)
    return fig


def widget(d: int = 256, k: int = 32, seed: int = 0) -> Live:
    """Live: the dimension d and the number of features K."""
    style = dict(description_width="initial")
    controls = dict(d=W.IntSlider(value=d, min=8, max=1024, step=8, description="dimension d", style=style),
                    k=W.IntSlider(value=k, min=1, max=512, description="features K", style=style))
    fig = go.FigureWidget(_base())
    info = readout()

    def redraw(_=None):
        dd, kk = controls["d"].value, controls["k"].value
        res = compute(dd, kk, seed=seed)
        with fig.batch_update():
            for trace, upd in zip(fig.data, _traces(res)):
                trace.update(**upd)
            fig.layout.title.text = _title(dd, kk, res)
        info.value = f"K/d = {kk / dd:.3f}; measured RMS {res['rms']:.4f}; theory {res['theory']:.4f}"

    for control in controls.values():
        control.observe(redraw, names="value")
    redraw()
    return Live(controls=controls, figures=[fig], children=[W.HBox(list(controls.values())), info, fig])


def show(**kwargs) -> None:
    """The live widget in a kernel, the static figure on the website."""
    dual(widget(**kwargs), figure(**{k: v for k, v in kwargs.items() if k in {"d", "seed"}}))
