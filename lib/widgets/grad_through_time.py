"""Widget W4.1: how much gradient reaches each time step, for the tanh RNN, the memory stream and the LSTM.

A batch of delayed-recall sequences (V = 4 one-hot tokens, ``lib.sequences.delayed_recall_batch``) runs
through a freshly initialised cell (``lib.rnn.init_params``: recurrent matrix = ``rec_scale`` times a
random orthogonal matrix, input weights of size ``input_gain``); the loss is the cross-entropy at the last
step. The figure shows log10 ||dL/dh_t|| against t (for the LSTM the state is (h_t, c_t)), with the
tanh RNN as the baseline.

* ``compute``: one forward/backward pass (``lib.rnn.state_grad_norms``) for the cell and the baseline;
* ``figure``: kernel-free, a slider over ``rec_scale``; the cells are separate traces (click the legend);
* ``widget``: live, with T, cell, recurrent scale, input gain, forget bias (LSTM only) and seed;
* ``show``: both, through :func:`lib.widgets.dual`.
"""
from __future__ import annotations

import math

import ipywidgets as W
import numpy as np
import plotly.graph_objects as go
import torch

from .. import plotting
from ..rnn import CELLS, init_params, state_grad_norms
from ..sequences import delayed_recall_batch
from . import Live, dual, readout, slider

CELL_NAMES = {"vanilla": "tanh RNN", "stream": "memory stream", "lstm": "LSTM"}
STATIC_SCALES = (0.3, 0.5, 0.7, 0.9, 1.0, 1.1, 1.3, 1.5)
STATIC_CELLS = (("vanilla", 0.0), ("stream", 0.0), ("lstm", 0.0), ("lstm", 3.0))  # (cell, forget bias)
V = 4


def _check_number(name: str, value, lo: float, hi: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)) \
            or not math.isfinite(value) or not lo <= value <= hi:
        raise ValueError(f"{name}: expected a number in [{lo}, {hi}], got {value!r}")
    return float(value)


def compute(T: int = 50, cell: str = "stream", rec_scale: float = 1.0, input_gain: float = 1.0,
            forget_bias: float = 0.0, H: int = 32, batch: int = 16, seed: int = 0, baseline: bool = True) -> dict:
    """log10 ||dL/dh_t|| for t = 1 .. T for ``cell`` and (if ``baseline``) for the tanh RNN with the same settings.

    Returns ``t`` (T,), ``log10`` and ``baseline`` (T,) arrays (``baseline`` None if not asked for), and ``ratio`` = ||dL/dh_1|| / ||dL/dh_T||
    for the cell (below 1: the signal shrinks on its way back; above 1: it grows).
    """
    if cell not in CELLS:
        raise ValueError(f"cell: expected one of {list(CELLS)}, got {cell!r}")
    if isinstance(T, bool) or not isinstance(T, (int, np.integer)) or not 2 <= T <= 500:
        raise ValueError(f"T: expected an integer in [2, 500], got {T!r}")
    rec_scale = _check_number("rec_scale", rec_scale, 0.0, 5.0)
    input_gain = _check_number("input_gain", input_gain, 0.0, 10.0)
    forget_bias = _check_number("forget_bias", forget_bias, -10.0, 10.0)
    x, y = delayed_recall_batch(batch, int(T), V, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)

    def log_norms(c: str) -> np.ndarray:
        p = init_params(c, V, H, V, rec_scale=rec_scale, input_gain=input_gain, forget_bias=forget_bias,
                        seed=seed, dtype=torch.float64)
        n = state_grad_norms(p, x, y, c).numpy()
        return np.log10(np.maximum(n, 1e-300))

    main = log_norms(cell)
    base = None if not baseline else main if cell == "vanilla" else log_norms("vanilla")
    return {"t": list(range(1, int(T) + 1)), "log10": main, "baseline": base, "ratio": float(10 ** (main[0] - main[-1])),
            "cell": cell, "T": int(T), "rec_scale": rec_scale, "input_gain": input_gain, "forget_bias": forget_bias}


def _round(a) -> list:
    return [round(float(v), 3) for v in a]


def _layout(fig: go.Figure, title: str) -> go.Figure:
    fig.update_layout(title=title, xaxis_title="time step t (the loss is at t = T)",
                      yaxis_title="log10 ‖∂L/∂h_t‖", height=480,
                      legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0), margin=dict(t=110))
    return fig


def _static_title(scale: float, ratios: dict) -> str:
    return (f"Recurrent weights = {scale:g} × orthogonal: gradient at t = 1 relative to t = T: "
            f"RNN {ratios['vanilla']:.1e}, stream {ratios['stream']:.1e}, LSTM {ratios['lstm0']:.1e} (b_f = 0), "
            f"{ratios['lstm3']:.1e} (b_f = 3)")


def figure(T: int = 50, input_gain: float = 1.0, H: int = 32, batch: int = 16, seed: int = 0) -> go.Figure:
    """Kernel-free: one trace per cell, a slider over the recurrent scale (``STATIC_SCALES``)."""
    fig = go.Figure()
    names = [f"{CELL_NAMES[c]}" + (f", forget bias {fb:g}" if c == "lstm" else "") for c, fb in STATIC_CELLS]
    for name, colour in zip(names, (plotting.PALETTE[0], plotting.PALETTE[2], plotting.PALETTE[3], plotting.PALETTE[7])):
        fig.add_trace(go.Scatter(x=list(range(1, T + 1)), mode="lines+markers", marker=dict(size=4),
                                 line=dict(color=colour), name=name))
    steps = []
    for scale in STATIC_SCALES:
        runs = [compute(T, c, scale, input_gain, fb, H, batch, seed, baseline=False) for c, fb in STATIC_CELLS]
        ratios = dict(zip(("vanilla", "stream", "lstm0", "lstm3"), (r["ratio"] for r in runs)))
        steps.append((f"{scale:g}", [dict(y=_round(r["log10"])) for r in runs],
                      {"title.text": _static_title(scale, ratios)}))
    start = STATIC_SCALES.index(1.0)
    for trace, upd in zip(fig.data, steps[start][1]):
        trace.update(upd)
    _layout(fig, steps[start][2]["title.text"])
    fig.update_layout(sliders=[slider(steps, prefix="recurrent scale = ", active=start)], height=600,
                      margin=dict(t=110, b=140), title_font_size=13)
    fig.add_annotation(text=f"T = {T}, hidden size {H}, input gain {input_gain:g}, batch {batch}, at initialisation",
                       xref="paper", yref="paper", x=1, y=1.0, xanchor="right", yanchor="bottom", showarrow=False)
    return fig


def _readout(res: dict) -> str:
    trend = "shrinks" if res["ratio"] < 1 else "grows"
    return (f"{CELL_NAMES[res['cell']]}: ‖∂L/∂h_1‖ / ‖∂L/∂h_T‖ = {res['ratio']:.2e} (the signal {trend} "
            f"over {res['T'] - 1} steps back); tanh RNN: {10 ** (res['baseline'][0] - res['baseline'][-1]):.2e}")


def widget(T: int = 50, cell: str = "stream", rec_scale: float = 1.0, input_gain: float = 1.0,
           forget_bias: float = 0.0, seed: int = 0) -> Live:
    """Live: each change is one forward/backward pass per cell on a batch of 16 (well under a second)."""
    style = dict(description_width="initial")
    controls = dict(
        T=W.IntSlider(value=T, min=5, max=100, description="T", style=style),
        cell=W.Dropdown(options=[(CELL_NAMES[c], c) for c in CELLS], value=cell, description="cell", style=style),
        rec_scale=W.FloatSlider(value=rec_scale, min=0.3, max=1.5, step=0.05, description="recurrent scale",
                                style=style),
        input_gain=W.FloatSlider(value=input_gain, min=0.1, max=3.0, step=0.1, description="input gain", style=style),
        forget_bias=W.FloatSlider(value=forget_bias, min=-2.0, max=5.0, step=0.25, description="forget bias",
                                  style=style),
        seed=W.BoundedIntText(value=seed, min=0, max=10_000, description="seed", style=style,
                              layout=W.Layout(width="140px")),
    )
    fig = go.FigureWidget(_layout(go.Figure(), "Gradient through time"))
    fig.add_trace(go.Scatter(mode="lines+markers", marker=dict(size=4), line=dict(color=plotting.PALETTE[2]),
                             name="chosen cell"))
    fig.add_trace(go.Scatter(mode="lines", line=dict(color=plotting.PALETTE[0], dash="dot"), name="tanh RNN baseline"))
    info = readout()

    def redraw(_=None):
        c = {k: v.value for k, v in controls.items()}
        controls["forget_bias"].layout.display = None if c["cell"] == "lstm" else "none"
        res = compute(c["T"], c["cell"], c["rec_scale"], c["input_gain"], c["forget_bias"], seed=c["seed"])
        with fig.batch_update():
            fig.data[0].update(x=res["t"], y=_round(res["log10"]), name=CELL_NAMES[c["cell"]])
            fig.data[1].update(x=res["t"], y=_round(res["baseline"]))
            fig.layout.title.text = (f"{CELL_NAMES[c['cell']]}, T = {c['T']}, recurrent scale {c['rec_scale']:.2f}, "
                                     f"input gain {c['input_gain']:.1f}"
                                     + (f", forget bias {c['forget_bias']:g}" if c["cell"] == "lstm" else ""))
        info.value = _readout(res)

    for control in controls.values():
        control.observe(redraw, names="value")
    redraw()
    return Live(controls=controls, figures=[fig],
                children=[W.HBox([controls["cell"], controls["T"], controls["seed"]]),
                          W.HBox([controls["rec_scale"], controls["input_gain"], controls["forget_bias"]]),
                          info, fig])


def show(**kwargs) -> None:
    """The live widget in a kernel, the static figure on the website."""
    dual(widget(**kwargs), figure())
