"""Widget W7: the scaling-law explorer. How should a fixed training budget C be split between N and D?

Left panel: the isoFLOP curve, the Chinchilla loss ``L(N, C / (6N))`` against model size N at a fixed
compute C, for the rounded fit of Hoffmann et al. (2022) and the refit of Besiroglu et al. (2024), each
with its minimum marked. Right panel: the (N, D) plane with the compute-optimal frontiers of both fits,
a line of slope 0.73 (Kaplan's exponent, drawn through GPT-3), the isoFLOP line ``D = C / (6N)`` of
the chosen budget, and GPT-3, Gopher and Chinchilla as points.

* ``compute``: the curves and optima for one budget;
* ``figure``: kernel-free, a slider over log10 C;
* ``widget``: live, with log10 C, the parameter sets shown and the Kaplan line on or off;
* ``show``: both, through :func:`lib.widgets.dual`.
"""
from __future__ import annotations

import ipywidgets as W
import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .. import plotting
from .. import scaling as sc
from . import Live, dual, readout, slider

SETS = {"hoffmann": "Hoffmann 2022 (rounded)", "besiroglu": "Besiroglu 2024 (refit)"}
LOG10_C = tuple(np.round(np.arange(18.0, 26.01, 0.5), 1))
N_RANGE = (1e6, 1e14)
C_FRONTIER = np.logspace(18, 26, 33)
COLORS = {"hoffmann": plotting.PALETTE[0], "besiroglu": plotting.PALETTE[1]}


def compute(log10_C: float = 23.76, n_points: int = 121) -> dict:
    """IsoFLOP curves and optima at ``C = 10**log10_C`` FLOPs for both parameter sets.

    Returns ``dict(C, N (n_points,), D (n_points,), <set>: dict(L, N_opt, D_opt, L_opt, ratio))``.
    """
    if not 15 <= float(log10_C) <= 30:
        raise ValueError(f"log10_C: expected a number in [15, 30], got {log10_C!r}")
    if isinstance(n_points, bool) or not isinstance(n_points, int) or n_points < 3:
        raise ValueError(f"n_points: expected an integer >= 3, got {n_points!r}")
    C = 10.0 ** float(log10_C)
    # keep N and D = C / (6N) both at least 1e6
    N = np.logspace(np.log10(N_RANGE[0]), np.log10(min(N_RANGE[1], C / 6 / 1e6)), n_points)
    D = C / (6 * N)
    out = dict(C=C, N=N, D=D)
    for key in SETS:
        N_opt, D_opt = sc.compute_optimal(C, key)
        out[key] = dict(L=sc.chinchilla_loss(N, D, key), N_opt=N_opt, D_opt=D_opt,
                        L_opt=sc.chinchilla_loss(N_opt, D_opt, key), ratio=D_opt / N_opt)
    return out


def _base() -> go.Figure:
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.1,
                        subplot_titles=("isoFLOP curve: loss against N at fixed C", "model size and data"))
    for key, name in SETS.items():  # traces 0-3: curve and optimum per set (moving)
        fig.add_trace(go.Scatter(mode="lines", name=name, line=dict(color=COLORS[key], width=2.5),
                                 legendgroup=key), row=1, col=1)
        fig.add_trace(go.Scatter(mode="markers", name=f"optimum, {name}", showlegend=False, legendgroup=key,
                                 marker=dict(color=COLORS[key], size=12, symbol="star")), row=1, col=1)
    fig.add_trace(go.Scatter(mode="lines", name="isoFLOP line D = C/(6N)",  # trace 4 (moving)
                             line=dict(color="#888888", dash="dot")), row=1, col=2)
    for key in SETS:  # traces 5-6: the optima in the (N, D) plane (moving)
        fig.add_trace(go.Scatter(mode="markers", showlegend=False, legendgroup=key, name=f"optimum, {SETS[key]}",
                                 marker=dict(color=COLORS[key], size=12, symbol="star")), row=1, col=2)
    for key in SETS:  # fixed: the frontiers
        Nf, Df = sc.compute_optimal(C_FRONTIER, key)
        fig.add_trace(go.Scatter(x=Nf, y=Df, mode="lines", legendgroup=key, showlegend=False,
                                 name=f"frontier, {SETS[key]}", line=dict(color=COLORS[key], width=1.5)),
                      row=1, col=2)
    N3, D3 = sc.MODELS["GPT-3"]
    Nk = np.logspace(7, 13, 13)
    fig.add_trace(go.Scatter(x=Nk, y=D3 * (Nk / N3) ** (sc.KAPLAN_ALLOCATION["D"] / sc.KAPLAN_ALLOCATION["N"]),
                             mode="lines", name="Kaplan slope 0.27/0.73 (through GPT-3)",
                             line=dict(color=plotting.PALETTE[3], dash="dash")), row=1, col=2)
    names = list(sc.MODELS)
    fig.add_trace(go.Scatter(x=[sc.MODELS[n][0] for n in names], y=[sc.MODELS[n][1] for n in names],
                             mode="markers+text", text=names, textposition="top left", name="trained models",
                             marker=dict(color="#000000", size=9, symbol="diamond")), row=1, col=2)
    fig.update_xaxes(type="log", title_text="parameters N", row=1, col=1)
    fig.update_yaxes(title_text="predicted loss L(N, C/6N)", row=1, col=1)
    fig.update_xaxes(type="log", title_text="parameters N", range=[7, 13], row=1, col=2)
    fig.update_yaxes(type="log", title_text="training tokens D", range=[8, 14.5], row=1, col=2)
    fig.update_layout(height=500, margin=dict(t=110), legend=dict(orientation="h", yanchor="bottom", y=1.08, x=0))
    return fig


def _traces(res: dict) -> list[dict]:
    r = lambda a: [float(f"{v:.5g}") for v in np.atleast_1d(a)]  # noqa: E731
    out = []
    for key in SETS:
        s = res[key]
        out += [dict(x=r(res["N"]), y=r(s["L"])), dict(x=r(s["N_opt"]), y=r(s["L_opt"]))]
    out.append(dict(x=r(res["N"]), y=r(res["D"])))
    out += [dict(x=r(res[key]["N_opt"]), y=r(res[key]["D_opt"])) for key in SETS]
    return out


def _title(res: dict, keys=tuple(SETS)) -> str:
    parts = [f"{SETS[k].split(' (')[0]}: N = {res[k]['N_opt']:.3g}, D/N = {res[k]['ratio']:.1f}" for k in keys]
    return f"C = {res['C']:.2g} FLOPs. " + "; ".join(parts)


def figure(log10_C=LOG10_C) -> go.Figure:
    """Kernel-free: a slider over log10 C (the Gopher budget, 5.76e23, is close to 23.76)."""
    fig = _base()
    moving = list(range(7))
    steps = []
    for lc in log10_C:
        res = compute(lc)
        steps.append((f"{lc:g}", _traces(res), {"title.text": _title(res)}))
    start = min(range(len(log10_C)), key=lambda i: abs(log10_C[i] - 23.76))
    sl = slider(steps, prefix="log10 C = ", active=start)
    for step in sl["steps"]:
        step["args"].append(moving)
    for trace, upd in zip(fig.data, steps[start][1]):
        trace.update(upd)
    fig.update_layout(title=steps[start][2]["title.text"], sliders=[sl], height=580)
    return fig


def widget(log10_C: float = 23.76) -> Live:
    """Live: the budget, which fits to show, and the Kaplan line."""
    style = dict(description_width="initial")
    controls = dict(
        log10_C=W.FloatSlider(value=log10_C, min=18.0, max=26.0, step=0.02, description="log10 C (FLOPs)",
                              style=style, continuous_update=True),
        params=W.Dropdown(options=[("both", "both"), (SETS["hoffmann"], "hoffmann"), (SETS["besiroglu"], "besiroglu")],
                          value="both", description="parameter set", style=style),
        kaplan=W.Checkbox(value=True, description="show Kaplan line"),
    )
    fig = go.FigureWidget(_base())
    info = readout()

    def redraw(_=None):
        res = compute(controls["log10_C"].value)
        chosen = tuple(SETS) if controls["params"].value == "both" else (controls["params"].value,)
        with fig.batch_update():
            for trace, upd in zip(fig.data, _traces(res)):
                trace.update(**upd)
            for i, key in enumerate(SETS):
                for j in (2 * i, 2 * i + 1, 5 + i, 7 + i):
                    fig.data[j].visible = key in chosen
            fig.data[9].visible = controls["kaplan"].value
            fig.layout.title.text = _title(res, chosen)
        info.value = "; ".join(f"{SETS[k]}: N_opt = {res[k]['N_opt']:.3g}, D_opt = {res[k]['D_opt']:.3g}, "
                               f"loss {res[k]['L_opt']:.3f}" for k in chosen)

    for control in controls.values():
        control.observe(redraw, names="value")
    redraw()
    return Live(controls=controls, figures=[fig],
                children=[W.HBox(list(controls.values())), info, fig])


def show(**kwargs) -> None:
    """The live widget in a kernel, the static figure on the website."""
    dual(widget(**kwargs), figure())
