"""Widget W10.3: min-max on the toy Lagrangian ``L(x, alpha) = x^2 - alpha (x - 1)``.

The problem ``min x^2`` subject to ``x >= 1`` has ``p* = 1`` at ``x = 1``. For a fixed multiplier
``alpha >= 0`` the Lagrangian is minimised at ``x*(alpha) = alpha / 2``, which gives the dual function
``g(alpha) = alpha - alpha^2 / 4 <= p*`` (weak duality), equal to ``p*`` at ``alpha = 2`` (strong
duality). For a fixed ``x`` the maximum over ``alpha >= 0`` is ``x^2`` if ``x >= 1`` and ``+inf`` otherwise.
Left panel: contours of L, the curve ``x*(alpha)``, the current ``(x, alpha)`` and a gradient
descent-ascent path into the saddle ``(1, 2)``; right panel: ``g(alpha)``, ``p*`` and the current point.

* ``compute``: ``g``, ``x*``, the inner maximum at ``x`` and the GDA path;
* ``figure``: kernel-free, a slider over ``alpha``;
* ``widget``: live, with ``alpha``, ``x`` and the GDA step size;
* ``show``: both, through :func:`lib.widgets.dual`.
"""
from __future__ import annotations

import math

import ipywidgets as W
import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .. import plotting
from ..lagrange import gda_toy, saddle_toy
from . import Live, dual, readout, slider

X_GRID = np.linspace(-0.5, 2.5, 61)
A_GRID = np.linspace(0.0, 4.0, 81)


def compute(alpha: float = 1.0, x: float = 0.5, lr: float = 0.15, steps: int = 120) -> dict:
    """``dict(alpha, x, x_star (= alpha/2), g (dual value), L (at (x, alpha)), inner_max (over alpha >= 0 at x:
    x^2 or inf), p_star, path (GDA from (-0.3, 0)))``."""
    for name, v in (("alpha", alpha), ("x", x), ("lr", lr)):
        if isinstance(v, bool) or not isinstance(v, (int, float, np.floating, np.integer)) or not math.isfinite(v):
            raise ValueError(f"{name}: expected a finite number, got {v!r}")
    if alpha < 0:
        raise ValueError(f"alpha: expected alpha >= 0, got {alpha}")
    alpha, x = float(alpha), float(x)
    return dict(alpha=alpha, x=x, x_star=alpha / 2, g=alpha - alpha**2 / 4,
                L=x**2 - alpha * (x - 1), inner_max=x**2 if x >= 1 else math.inf, p_star=1.0,
                path=gda_toy(-0.3, 0.0, lr, steps))


def _title(res: dict) -> str:
    inner = "+∞ (x infeasible)" if math.isinf(res["inner_max"]) else f"{res['inner_max']:.3f}"
    return (f"Saddle of L(x, α) = x² − α(x − 1): α = {res['alpha']:.2f}, g(α) = {res['g']:.3f} ≤ p* = 1; "
            f"at x = {res['x']:.2f}: max over α of L = {inner}")


def _moving(res: dict) -> list[dict]:
    return [dict(x=[res["x_star"]], y=[res["alpha"]]),                       # minimiser in x for this alpha
            dict(x=[res["x"], res["x"]], y=[A_GRID[0], A_GRID[-1]]),          # the fixed x
            dict(x=[res["alpha"]], y=[res["g"]])]                             # the dual value


def _base(res: dict) -> go.Figure:
    toy = saddle_toy(X_GRID, A_GRID)
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.1,
                        subplot_titles=("contours of L(x, α), the minimiser x*(α) and a descent-ascent path",
                                        "dual function g(α) = min over x of L"))
    fig.add_trace(go.Contour(x=X_GRID, y=A_GRID, z=toy["L"].round(4), colorscale=plotting.SEQUENTIAL,
                             ncontours=25, contours=dict(coloring="lines"), showscale=False, name="L",
                             hoverinfo="skip"), row=1, col=1)
    fig.add_trace(go.Scatter(x=toy["x_of_alpha"], y=A_GRID, mode="lines", line=dict(color=plotting.PALETTE[1], dash="dash"),
                             name="x*(α) = α/2"), row=1, col=1)
    fig.add_trace(go.Scatter(x=res["path"][:, 0], y=res["path"][:, 1], mode="lines+markers", marker=dict(size=3),
                             line=dict(color=plotting.PALETTE[3]), name="descent in x, ascent in α"), row=1, col=1)
    fig.add_trace(go.Scatter(x=[1], y=[2], mode="markers", marker=dict(symbol="star", size=14, color="black"),
                             name="saddle (1, 2)"), row=1, col=1)
    fig.add_trace(go.Scatter(mode="markers", marker=dict(size=11, color=plotting.PALETTE[0]),
                             name="(x*(α), α)"), row=1, col=1)
    fig.add_trace(go.Scatter(mode="lines", line=dict(color=plotting.PALETTE[2], width=2), name="fixed x"),
                  row=1, col=1)
    fig.add_trace(go.Scatter(mode="markers", marker=dict(size=11, color=plotting.PALETTE[0]), name="g(α)",
                             showlegend=False), row=1, col=2)
    fig.add_trace(go.Scatter(x=A_GRID, y=toy["dual"], mode="lines", line=dict(color=plotting.PALETTE[0]),
                             name="g(α) = α − α²/4"), row=1, col=2)
    fig.add_trace(go.Scatter(x=A_GRID, y=np.ones_like(A_GRID), mode="lines", line=dict(color="black", dash="dot"),
                             name="p* = 1"), row=1, col=2)
    for tr, upd in zip([fig.data[i] for i in MOVING], _moving(res)):
        tr.update(upd)
    fig.update_xaxes(title_text="x", range=[X_GRID[0], X_GRID[-1]], row=1, col=1)
    fig.update_yaxes(title_text="α", range=[A_GRID[0], A_GRID[-1]], row=1, col=1)
    fig.update_xaxes(title_text="α", row=1, col=2)
    fig.update_yaxes(title_text="g(α)", range=[-1.5, 1.4], row=1, col=2)
    fig.update_layout(title=_title(res), title_font_size=13, height=480, margin=dict(t=110),
                      legend=dict(orientation="h", yanchor="bottom", y=1.08, x=0))
    return fig


MOVING = [4, 5, 6]


def figure(x: float = 0.5, alphas=tuple(np.round(np.arange(0.0, 4.01, 0.25), 2))) -> go.Figure:
    """Kernel-free: a slider over alpha (x fixed)."""
    steps = []
    for a in alphas:
        res = compute(a, x)
        steps.append((f"{a:.2f}", _moving(res), {"title.text": _title(res)}))
    start = list(alphas).index(1.0) if 1.0 in alphas else 0
    fig = _base(compute(alphas[start], x))
    sl = slider(steps, prefix="α = ", active=start)
    for s in sl["steps"]:
        s["args"].append(MOVING)
    fig.update_layout(sliders=[sl], height=580)
    return fig


def widget(alpha: float = 1.0, x: float = 0.5, lr: float = 0.15) -> Live:
    """Live: alpha, x and the step size of gradient descent-ascent."""
    style = dict(description_width="initial")
    controls = dict(
        alpha=W.FloatSlider(value=alpha, min=0.0, max=4.0, step=0.05, description="α", style=style),
        x=W.FloatSlider(value=x, min=-0.5, max=2.5, step=0.05, description="x", style=style),
        lr=W.FloatSlider(value=lr, min=0.02, max=0.6, step=0.01, description="GDA step", style=style),
    )
    fig = go.FigureWidget(_base(compute(alpha, x, lr)))
    info = readout()

    def redraw(_=None):
        res = compute(controls["alpha"].value, controls["x"].value, controls["lr"].value)
        with fig.batch_update():
            for i, upd in zip(MOVING, _moving(res)):
                fig.data[i].update(upd)
            fig.data[2].update(x=res["path"][:, 0], y=res["path"][:, 1])
            fig.layout.title.text = _title(res)
        end = res["path"][-1]
        info.value = f"L(x, α) = {res['L']:.3f}; descent-ascent ends at (x, α) = ({end[0]:.4f}, {end[1]:.4f})"

    for control in controls.values():
        control.observe(redraw, names="value")
    redraw()
    return Live(controls=controls, figures=[fig], children=[W.HBox(list(controls.values())), info, fig])


def show(**kwargs) -> None:
    """The live widget in a kernel, the static figure on the website."""
    static = {k: v for k, v in kwargs.items() if k in {"x"}}
    dual(widget(**kwargs), figure(**static))
