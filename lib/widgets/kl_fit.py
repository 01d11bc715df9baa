"""Widget W7.2: one Gaussian fitted to two modes, by forward and by reverse KL (book 7.5.6).

Target ``p = w N(-sep/2, s^2) + (1 - w) N(sep/2, s^2)`` with s = 0.5. The forward-KL (maximum-
likelihood) Gaussian matches p's mean and variance and spreads over both modes; the reverse-KL
Gaussian, found by a grid search over (m, log s) (:func:`lib.kl_fit.grid_fit`, a global optimum), sits
on one mode. Once the modes overlap enough, both fits agree.

* ``compute``: the target, both fits and the four KL values on a grid;
* ``figure``: kernel-free, a slider over the separation (w = 0.35) and one over w (sep = 4);
* ``widget``: live sliders for both; ``show``: both faces.
"""
from __future__ import annotations

import ipywidgets as W
import numpy as np
import plotly.graph_objects as go

from .. import kl_fit as kf
from .. import plotting
from . import Live, dual, readout, slider

STD = 0.5
X = np.round(np.linspace(-7.0, 7.0, 281), 4)
MEANS = np.linspace(-4.0, 4.0, 81)
LOG_STDS = np.linspace(np.log(0.2), np.log(4.0), 61)
SEPS = (0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 6.0)
WEIGHTS = (0.1, 0.2, 0.35, 0.5, 0.65, 0.8, 0.9)


def compute(sep: float = 4.0, weight: float = 0.35) -> dict:
    """``dict(x, p, forward (m, s), reverse (m, s), q_forward, q_reverse, kl)`` with ``kl`` holding
    KL(p || q) and KL(q || p) for both fits (quadrature on the grid)."""
    for name, v in dict(sep=sep, weight=weight).items():
        if isinstance(v, bool) or not np.isscalar(v) or not np.isfinite(v):
            raise ValueError(f"{name}: expected a finite number, got {v!r}")
    if not 0 <= sep <= 8:
        raise ValueError(f"sep: expected a separation in [0, 8], got {sep!r}")
    if not 0 < weight < 1:
        raise ValueError(f"weight: expected a mode weight in (0, 1), got {weight!r}")
    means, stds, w = [-sep / 2, sep / 2], [STD, STD], [weight, 1 - weight]
    log_p = kf.mixture_logpdf(X, means, stds, w)
    fwd = kf.mixture_moments(means, stds, w)
    rev = kf.grid_fit(log_p, X, MEANS, LOG_STDS, "reverse")
    gauss = lambda m, s: np.exp(-0.5 * ((X - m) / s) ** 2) / (s * np.sqrt(2 * np.pi))
    kl = {}
    for name, (m, s) in (("forward fit", fwd), ("reverse fit", rev)):
        kl[name] = dict(forward=float(kf.kl_grid(log_p, X, [m], [np.log(s)], "forward")[0, 0]),
                        reverse=float(kf.kl_grid(log_p, X, [m], [np.log(s)], "reverse")[0, 0]))
    return dict(x=X, p=np.exp(log_p), forward=fwd, reverse=rev, q_forward=gauss(*fwd), q_reverse=gauss(*rev), kl=kl)


def _traces(res: dict) -> list[dict]:
    return [dict(x=res["x"], y=np.round(res[k], 4)) for k in ("p", "q_forward", "q_reverse")]


def _title(res: dict, sep: float, weight: float) -> str:
    (mf, sf), (mr, sr) = res["forward"], res["reverse"]
    return (f"sep = {sep:g}, w = {weight:g}: forward KL N({mf:.2f}, {sf:.2f}²), "
            f"reverse KL N({mr:.2f}, {sr:.2f}²)")


def _base() -> go.Figure:
    fig = go.Figure()
    fig.add_trace(go.Scatter(mode="lines", name="target p (two modes)", fill="tozeroy",
                             line=dict(color="gray"), fillcolor="rgba(128,128,128,0.25)"))
    fig.add_trace(go.Scatter(mode="lines", name="min KL(p‖q): covers", line=dict(color=plotting.PALETTE[0], width=3)))
    fig.add_trace(go.Scatter(mode="lines", name="min KL(q‖p): seeks", line=dict(color=plotting.PALETTE[3], width=3,
                                                                                      dash="dash")))
    fig.update_layout(xaxis_title="x", yaxis_title="density", height=430,
                      legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0), margin=dict(t=100))
    return fig


def figure(seps=SEPS, weights=WEIGHTS, sep: float = 4.0, weight: float = 0.35) -> go.Figure:
    """Kernel-free: a slider over the separation (at ``weight``) and one over the weight (at ``sep``)."""
    fig = _base()
    s_steps = [(f"{s:g}", _traces(r := compute(s, weight)), {"title.text": _title(r, s, weight)}) for s in seps]
    w_steps = [(f"{w:g}", _traces(r := compute(sep, w)), {"title.text": _title(r, sep, w)}) for w in weights]
    i = list(seps).index(sep)
    s1 = slider(s_steps, prefix=f"separation (w = {weight:g}) = ", active=i)
    s2 = slider(w_steps, prefix=f"weight of the left mode (sep = {sep:g}) = ", active=list(weights).index(weight))
    s2["pad"] = dict(t=120)
    for trace, upd in zip(fig.data, s_steps[i][1]):
        trace.update(upd)
    fig.update_layout(sliders=[s1, s2], title=s_steps[i][2]["title.text"], height=620)
    return fig


def widget(sep: float = 4.0, weight: float = 0.35) -> Live:
    """Live: sliders for the separation and the weight; a readout of all four KL values."""
    style = dict(description_width="initial")
    controls = dict(sep=W.FloatSlider(value=sep, min=0.0, max=7.0, step=0.25, description="separation", style=style),
                    weight=W.FloatSlider(value=weight, min=0.05, max=0.95, step=0.05, description="left weight w",
                                         style=style))
    fig = go.FigureWidget(_base())
    info = readout()

    def redraw(_=None):
        s, w = controls["sep"].value, controls["weight"].value
        res = compute(s, w)
        with fig.batch_update():
            for trace, upd in zip(fig.data, _traces(res)):
                trace.update(**upd)
            fig.layout.title.text = _title(res, s, w)
        f, r = res["kl"]["forward fit"], res["kl"]["reverse fit"]
        info.value = (f"forward fit: KL(p‖q) = {f['forward']:.3f}, KL(q‖p) = {f['reverse']:.3f} &nbsp;|&nbsp; "
                      f"reverse fit: KL(p‖q) = {r['forward']:.3f}, KL(q‖p) = {r['reverse']:.3f}")

    for c in controls.values():
        c.observe(redraw, names="value")
    redraw()
    return Live(controls=controls, figures=[fig], children=[W.HBox(list(controls.values())), info, fig])


def show(**kwargs) -> None:
    """The live widget in a kernel, the static figure on the website."""
    dual(widget(**kwargs), figure(**kwargs))
