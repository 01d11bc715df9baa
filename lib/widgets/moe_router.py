"""Widget W6: inside a trained mixture of experts on a 1-D regression (inference only, no training).

A :class:`lib.moe.MoE` with a scalar input (``d = 1``, ``d_out = 1``) is evaluated on a grid of x. The
number of active experts k and the router temperature are changed at inference time.
Left panel: the gate of every expert along x (zero outside its top-k region), with the top-1 expert as a
coloured band at the bottom. Middle: the MoE prediction and the training data. Right: the share of
tokens each expert gets as top-1, against the uniform share 1/E.

* ``compute``: gates, top-1 expert, prediction and load for one (k, temperature);
* ``figure``: kernel-free, a slider over precomputed (k, temperature) pairs;
* ``widget``: live, with k, temperature, and gates or plain router probabilities;
* ``show``: both, through :func:`lib.widgets.dual`.
"""
from __future__ import annotations

import ipywidgets as W
import numpy as np
import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from .. import plotting
from ..moe import MoE
from . import Live, dual, readout, slider

TEMPERATURES = (0.25, 1.0, 4.0)


def _check_model(model) -> MoE:
    if not isinstance(model, MoE):
        raise TypeError(f"model: expected a lib.moe.MoE, got {type(model).__name__}")
    if model.router.d != 1 or model.d_out != 1:
        raise ValueError(f"model: expected a scalar-input, scalar-output MoE (d = d_out = 1), got "
                         f"d = {model.router.d}, d_out = {model.d_out}")
    return model


@torch.no_grad()
def compute(model: MoE, x, k: int = 1, temperature: float = 1.0) -> dict:
    """Evaluate ``model`` on the points x (n,). Returns ``dict(x, gates (n, E), probs (n, E), top1 (n,),
    y (n,), load (E,))`` as numpy arrays; ``load`` is the share of points whose top-1 expert is j."""
    model = _check_model(model)
    x = np.asarray(x, dtype=float)
    if x.ndim != 1 or x.size == 0:
        raise ValueError(f"x: expected a non-empty 1-D array of inputs, got shape {x.shape}")
    p = next(model.parameters())
    xt = torch.as_tensor(x, dtype=p.dtype, device=p.device)[:, None]
    y, aux = model(xt, return_aux=True, temperature=temperature, k=k)
    top1 = aux["topk_idx"][:, 0].cpu().numpy()
    E = len(model.experts)
    return dict(x=x, gates=aux["gates"].cpu().double().numpy(), probs=aux["probs"].cpu().double().numpy(),
                top1=top1, y=y[:, 0].cpu().double().numpy(), load=np.bincount(top1, minlength=E) / len(x))


def _base(E: int, x_data, y_data) -> go.Figure:
    fig = make_subplots(rows=1, cols=3, column_widths=[0.42, 0.36, 0.22], horizontal_spacing=0.07,
                        subplot_titles=("gates g_j(x)", "prediction", "top-1 load"))
    colors = [plotting.PALETTE[j % len(plotting.PALETTE)] for j in range(E)]
    for j in range(E):  # traces 0..E-1: gates
        fig.add_trace(go.Scatter(mode="lines", name=f"expert {j}", line=dict(color=colors[j], width=2.5)), row=1, col=1)
    fig.add_trace(go.Scatter(mode="markers", name="top-1 expert", showlegend=False,  # trace E: band
                             marker=dict(symbol="square", size=7, line=dict(width=0)), hoverinfo="x+text"), row=1, col=1)
    fig.add_trace(go.Scatter(mode="lines", name="MoE output", line=dict(color="#000000", width=2)), row=1, col=2)
    fig.add_trace(go.Bar(x=[f"{j}" for j in range(E)], marker_color=colors, name="load", showlegend=False),
                  row=1, col=3)
    fig.add_trace(go.Scatter(x=np.asarray(x_data).tolist(), y=np.asarray(y_data).tolist(), mode="markers",
                             name="data", marker=dict(color="#999999", size=3)), row=1, col=2)
    fig.add_hline(y=1 / E, line=dict(color="#888888", dash="dot"), row=1, col=3)
    fig.update_xaxes(title_text="x", row=1, col=1)
    fig.update_yaxes(title_text="gate value", range=[-0.12, 1.05], row=1, col=1)
    fig.update_xaxes(title_text="x", row=1, col=2)
    fig.update_yaxes(title_text="y", row=1, col=2)
    fig.update_xaxes(title_text="expert", row=1, col=3)
    fig.update_yaxes(title_text="share of points", range=[0, 1], row=1, col=3)
    fig.update_layout(height=460, margin=dict(t=110), legend=dict(orientation="h", yanchor="bottom", y=1.1, x=0))
    return fig


def _traces(res: dict, show_gates: bool = True) -> list[dict]:
    E = res["gates"].shape[1]
    x = np.round(res["x"], 4).tolist()
    w = res["gates"] if show_gates else res["probs"]
    colors = [plotting.PALETTE[j % len(plotting.PALETTE)] for j in res["top1"]]
    out = [dict(x=x, y=np.round(w[:, j], 4).tolist()) for j in range(E)]
    out.append(dict(x=x, y=[-0.07] * len(x), marker=dict(color=colors, symbol="square", size=7),
                    text=[f"expert {j}" for j in res["top1"]]))
    out.append(dict(x=x, y=np.round(res["y"], 4).tolist()))
    out.append(dict(y=np.round(res["load"], 4).tolist()))
    return out


def _title(res: dict, k: int, temperature: float) -> str:
    active = (res["gates"] > 0).sum(1).mean()
    return (f"MoE router: k = {k}, temperature {temperature:g}; {active:.0f} of {res['gates'].shape[1]} "
            f"experts active per point")


def figure(model: MoE, x_data, y_data, n_grid: int = 200, temperatures=TEMPERATURES) -> go.Figure:
    """Kernel-free: a slider over (k, temperature) pairs."""
    model = _check_model(model)
    E = len(model.experts)
    x = np.linspace(float(np.min(x_data)), float(np.max(x_data)), n_grid)
    fig = _base(E, x_data, y_data)
    steps = []
    for k in range(1, E + 1):
        for t in temperatures:
            res = compute(model, x, k, t)
            steps.append((f"k={k}, T={t:g}", _traces(res), {"title.text": _title(res, k, t)}))
    start = list(temperatures).index(1.0) if 1.0 in temperatures else 0
    sl = slider(steps, prefix="", active=start)
    moving = list(range(E + 3))
    for step in sl["steps"]:
        step["args"].append(moving)
    for trace, upd in zip(fig.data, steps[start][1]):
        trace.update(upd)
    fig.update_layout(title=steps[start][2]["title.text"], sliders=[sl], height=560)
    return fig


def widget(model: MoE, x_data, y_data, n_grid: int = 200) -> Live:
    """Live: k, the router temperature, and gates (after top-k) or the dense router probabilities."""
    model = _check_model(model)
    E = len(model.experts)
    x = np.linspace(float(np.min(x_data)), float(np.max(x_data)), n_grid)
    style = dict(description_width="initial")
    controls = dict(
        k=W.IntSlider(value=model.router.k, min=1, max=E, description="experts per point k", style=style),
        temperature=W.FloatLogSlider(value=1.0, base=10, min=-1.3, max=1.0, step=0.05,
                                     description="router temperature", style=style),
        view=W.ToggleButtons(options=[("gates (top-k)", "gates"), ("softmax probabilities", "probs")],
                             value="gates", description="show", style=style),
    )
    fig = go.FigureWidget(_base(E, x_data, y_data))
    info = readout()

    def redraw(_=None):
        k, t = controls["k"].value, controls["temperature"].value
        res = compute(model, x, k, t)
        with fig.batch_update():
            for trace, upd in zip(fig.data, _traces(res, controls["view"].value == "gates")):
                trace.update(**upd)
            fig.layout.title.text = _title(res, k, t)
        info.value = ("share of points per expert (top-1): " + ", ".join(f"{v:.2f}" for v in res["load"])
                      + f"; uniform would be {1 / E:.2f}")

    for control in controls.values():
        control.observe(redraw, names="value")
    redraw()
    return Live(controls=controls, figures=[fig], children=[W.HBox(list(controls.values())), info, fig])


def show(model: MoE, x_data, y_data) -> None:
    """The live widget in a kernel, the static figure on the website."""
    dual(widget(model, x_data, y_data), figure(model, x_data, y_data))
