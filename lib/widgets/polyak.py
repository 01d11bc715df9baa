"""Widget: how a target network follows the online network (Polyak averaging vs periodic hard copies).

A scalar "online parameter" drifts slowly (a sine) and jitters (Gaussian noise), the way SGD iterates do.
Two targets follow it, as in DQN-style training::

    Polyak:      target <- (1 - tau) target + tau online          every step
    hard copy:   target <- online                                  every C steps

A small tau (or a large C) gives a smoother but more delayed target; ``compute`` measures both: the lag
(the shift that best aligns the target with the drifting signal) and the roughness (mean |step-to-step
change|). With the online parameter fixed, Polyak closes the gap geometrically:
``target_k - online = (1 - tau)^k (target_0 - online)``.

* ``compute``: the series and the two measures; ``figure``: kernel-free sliders for tau and C;
  ``widget``: live sliders; ``show``: both, through :func:`lib.widgets.dual`.
"""
from __future__ import annotations

import ipywidgets as W
import numpy as np
import plotly.graph_objects as go

from .. import plotting
from . import Live, dual, readout

TAUS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0)
CS = (1, 5, 10, 20, 50, 100)


def _signal(T: int, noise: float, seed: int):
    t = np.arange(T)
    smooth = np.sin(2 * np.pi * t / 200)
    return t, smooth, smooth + noise * np.random.default_rng(seed).normal(size=T)


def _lag(series: np.ndarray, smooth: np.ndarray, max_shift: int = 100) -> float:
    errs = [np.abs(series[k:] - smooth[: len(smooth) - k]).mean() for k in range(max_shift)]
    return float(np.argmin(errs))


def compute(tau: float = 0.05, C: int = 20, T: int = 400, noise: float = 0.3, seed: int = 0) -> dict:
    """``dict(t, signal, online, polyak, hard, lag {polyak, hard}, rough {online, polyak, hard})``."""
    if not 0 < tau <= 1:
        raise ValueError(f"tau: expected a number in (0, 1], got {tau!r}")
    if isinstance(C, bool) or not isinstance(C, (int, np.integer)) or C < 1:
        raise ValueError(f"C: expected a positive integer, got {C!r}")
    t, smooth, online = _signal(T, noise, seed)
    pol, hard = np.empty(T), np.empty(T)
    p = h = 0.0
    for i in range(T):
        p = (1 - tau) * p + tau * online[i]
        if i % C == 0:
            h = online[i]
        pol[i], hard[i] = p, h
    rough = lambda x: float(np.abs(np.diff(x)).mean())
    return dict(t=t, signal=smooth, online=online, polyak=pol, hard=hard,
                lag=dict(polyak=_lag(pol, smooth), hard=_lag(hard, smooth)),
                rough=dict(online=rough(online), polyak=rough(pol), hard=rough(hard)))


def _base(res: dict) -> go.Figure:
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=res["t"], y=np.round(res["online"], 4), mode="lines", name="online θ",
                             line=dict(color="rgba(128,128,128,0.6)", width=1)))
    fig.add_trace(go.Scatter(x=res["t"], y=np.round(res["polyak"], 4), mode="lines", name="Polyak target",
                             line=dict(color=plotting.PALETTE[0], width=2.5)))
    fig.add_trace(go.Scatter(x=res["t"], y=np.round(res["hard"], 4), mode="lines", name="hard copy every C",
                             line=dict(color=plotting.PALETTE[3], width=2, shape="hv")))
    fig.update_layout(xaxis_title="training step", yaxis_title="parameter value", height=460,
                      legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0))
    return fig


def figure(tau: float = 0.05, C: int = 20) -> go.Figure:
    """Kernel-free: a slider for tau (moves the Polyak curve) and one for C (moves the hard-copy curve)."""
    fig = _base(compute(tau, C))

    def steps(values, key, trace):
        return [dict(method="restyle", label=f"{v:g}",
                     args=[{"y": [np.round(compute(**{key: v})[trace], 4).tolist()]}, [1 if trace == "polyak" else 2]])
                for v in values]

    fig.update_layout(
        title="Target networks following a noisy online parameter: Polyak τ vs hard copy every C",
        sliders=[dict(active=TAUS.index(tau), steps=steps(TAUS, "tau", "polyak"), currentvalue=dict(prefix="τ = "),
                      pad=dict(t=45)),
                 dict(active=CS.index(C), steps=steps(CS, "C", "hard"), currentvalue=dict(prefix="C = "),
                      pad=dict(t=125))],
        height=640)
    return fig


def widget(tau: float = 0.05, C: int = 20) -> Live:
    """Live: sliders for tau and C, with the lag and roughness of each target."""
    style = dict(description_width="initial")
    controls = dict(tau=W.SelectionSlider(options=list(TAUS), value=tau, description="Polyak τ", style=style),
                    C=W.SelectionSlider(options=list(CS), value=C, description="hard copy every C", style=style))
    fig = go.FigureWidget(_base(compute(tau, C)))
    info = readout()

    def redraw(_=None):
        res = compute(controls["tau"].value, controls["C"].value)
        with fig.batch_update():
            fig.data[1].y = np.round(res["polyak"], 4)
            fig.data[2].y = np.round(res["hard"], 4)
            fig.layout.title.text = (f"Polyak τ = {controls['tau'].value:g} (lag {res['lag']['polyak']:.0f} steps) vs "
                                     f"hard copy every {controls['C'].value} (lag {res['lag']['hard']:.0f})")
        info.value = (f"roughness (mean |change| per step): online {res['rough']['online']:.3f}, "
                      f"Polyak {res['rough']['polyak']:.3f}, hard copy {res['rough']['hard']:.3f}")

    for c in controls.values():
        c.observe(redraw, names="value")
    redraw()
    return Live(controls=controls, figures=[fig], children=[W.HBox(list(controls.values())), info, fig])


def show(**kwargs) -> None:
    """The live widget in a kernel, the static figure on the website."""
    dual(widget(**kwargs), figure(**kwargs))
