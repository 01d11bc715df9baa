"""Widget W10.6: the loss zoo, seen through the conditional risk at one point.

For ``eta = P(Y = +1 | x)`` and a margin loss l(z), the expected loss of predicting the score f at x is::

    R_eta(f) = eta l(f) + (1 - eta) l(-f),      d/df R_eta(f) = eta l'(f) - (1 - eta) l'(-f)

and its minimiser f*(eta) is the population minimiser: log-odds (logistic), half the log-odds
(exponential), sign(2 eta - 1) (hinge), 2 eta - 1 (squared). All have the sign of 2 eta - 1 (Fisher
consistency), but only the smooth ones keep the size of the probability.

* ``compute``: the risk curves, their derivatives and the minimisers;
* ``figure``: kernel-free, a slider over eta;
* ``widget``: live, with eta, a checkbox per loss and a derivative toggle;
* ``show``: both, through :func:`lib.widgets.dual`.
"""
from __future__ import annotations

import ipywidgets as W
import numpy as np
import plotly.graph_objects as go

from .. import margin_losses as ml
from .. import plotting
from . import Live, dual, readout, slider

F = np.linspace(-3, 3, 241)
ETAS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


def _sq(z):
    return (1.0 - np.asarray(z, dtype=np.float64)) ** 2


def _d_sq(z):
    return -2.0 * (1.0 - np.asarray(z, dtype=np.float64))


def _d01(z):
    return np.zeros_like(np.asarray(z, dtype=np.float64))


# name -> (label, loss, derivative, colour index)
LOSSES = {
    "zero_one": ("0-1", ml.zero_one, _d01, 7),
    "hinge": ("hinge", ml.hinge, ml.d_hinge, 0),
    "logistic": ("logistic", ml.logistic_margin, ml.d_logistic, 2),
    "exponential": ("exponential", ml.exponential, ml.d_exponential, 3),
    "squared": ("squared (1 - z)²", _sq, _d_sq, 4),
}


def compute(eta: float = 0.7, f=F) -> dict:
    """Per loss: ``risk`` R_eta(f), ``drisk`` its derivative in f, ``fstar`` the minimiser and ``rstar`` its risk.

    ``f`` is the grid of scores (array). For the 0-1 loss every f with the sign of 2 eta - 1 is a minimiser;
    ``fstar`` reports sign(2 eta - 1) for it, as for the hinge.
    """
    if isinstance(eta, bool) or not isinstance(eta, (int, float, np.floating)) or not 0 < eta < 1:
        raise ValueError(f"eta: expected a probability strictly between 0 and 1, got {eta!r}")
    f = np.asarray(f, dtype=np.float64)
    if f.ndim != 1 or f.size < 2:
        raise ValueError(f"f: expected a 1-D grid of at least 2 scores, got shape {f.shape}")
    out = {}
    for name, (_, loss, dloss, _) in LOSSES.items():
        risk = eta * loss(f) + (1 - eta) * loss(-f)
        drisk = eta * dloss(f) - (1 - eta) * dloss(-f)
        key = "hinge" if name == "zero_one" else name
        fstar = ml.population_minimizer(key, eta)
        rstar = float(eta * loss(fstar) + (1 - eta) * loss(-fstar))
        out[name] = dict(risk=risk, drisk=drisk, fstar=fstar, rstar=rstar)
    out["f"] = f
    out["eta"] = float(eta)
    return out


def _base(derivative: bool = False) -> go.Figure:
    fig = go.Figure()
    for name, (label, _, _, col) in LOSSES.items():
        fig.add_trace(go.Scatter(mode="lines", name=label, legendgroup=name,
                                 line=dict(color=plotting.PALETTE[col], width=2.5 if name != "zero_one" else 2)))
    for name, (label, _, _, col) in LOSSES.items():
        fig.add_trace(go.Scatter(mode="markers", name=f"minimiser ({label})", legendgroup=name, showlegend=False,
                                 marker=dict(color=plotting.PALETTE[col], size=11, symbol="diamond",
                                             line=dict(color="white", width=1))))
    fig.update_layout(xaxis_title="score f", height=460,
                      yaxis_title="d/df of the conditional risk" if derivative else "conditional risk η l(f) + (1 - η) l(-f)",
                      yaxis_range=[-3, 3] if derivative else [0, 3])
    return fig


def _traces(res: dict, show=None, derivative: bool = False) -> list[dict]:
    show = set(LOSSES) if show is None else set(show)
    r = lambda a: np.round(np.asarray(a, dtype=np.float64), 4).tolist()  # noqa: E731
    lines, marks = [], []
    for name in LOSSES:
        on = name in show
        curve = res[name]["drisk" if derivative else "risk"]
        lines.append(dict(x=r(res["f"]) if on else [], y=r(curve) if on else []))
        yv = 0.0 if derivative else res[name]["rstar"]
        marks.append(dict(x=[round(res[name]["fstar"], 4)] if on else [], y=[round(yv, 4)] if on else []))
    return lines + marks


def _title(res: dict) -> str:
    eta = res["eta"]
    return (f"η = P(Y=1|x) = {eta:.2f}: minimisers: logistic {res['logistic']['fstar']:+.2f}, "
            f"exponential {res['exponential']['fstar']:+.2f}, hinge {res['hinge']['fstar']:+.0f}")


def figure(etas=ETAS) -> go.Figure:
    """Kernel-free: a slider over eta, all five losses."""
    fig = _base()
    steps = []
    for eta in etas:
        res = compute(eta)
        steps.append((f"{eta:.2f}", _traces(res), {"title.text": _title(res)}))
    start = min(len(etas) - 1, 6)
    for trace, upd in zip(fig.data, steps[start][1]):
        trace.update(upd)
    fig.update_layout(title=steps[start][2]["title.text"], sliders=[slider(steps, prefix="η = ", active=start)])
    return fig


def widget(eta: float = 0.7, derivative: bool = False) -> Live:
    """Live: eta, a checkbox per loss, and a toggle between the risk and its derivative in f."""
    style = dict(description_width="initial")
    controls = dict(eta=W.FloatSlider(value=eta, min=0.02, max=0.98, step=0.02, description="η = P(Y=1)", style=style),
                    derivative=W.Checkbox(value=derivative, description="derivative in f", style=style))
    for name, (label, *_rest) in LOSSES.items():
        controls[name] = W.Checkbox(value=True, description=label, style=style, indent=False,
                                    layout=W.Layout(width="auto"))
    fig = go.FigureWidget(_base(derivative))
    info = readout()

    def redraw(_=None):
        deriv = controls["derivative"].value
        res = compute(controls["eta"].value)
        show_ = [n for n in LOSSES if controls[n].value]
        with fig.batch_update():
            for trace, upd in zip(fig.data, _traces(res, show_, deriv)):
                trace.update(upd)
            fig.layout.title.text = _title(res)
            fig.layout.yaxis.title.text = "d/df of the conditional risk" if deriv else "conditional risk η l(f) + (1 - η) l(-f)"
            fig.layout.yaxis.range = [-3, 3] if deriv else [0, 3]
        p_logit = 1 / (1 + np.exp(-res["logistic"]["fstar"]))
        info.value = (f"P(Y=1) read back from the logistic minimiser: {p_logit:.3f}; "
                      f"from the hinge minimiser: only its sign ({res['hinge']['fstar']:+.0f})")

    for control in controls.values():
        control.observe(redraw, names="value")
    redraw()
    return Live(controls=controls, figures=[fig], children=[W.HBox(list(controls.values()),
                layout=W.Layout(flex_flow="row wrap")), fig, info])


def show(**kwargs) -> None:
    """The live widget in a kernel, the static figure on the website."""
    dual(widget(**kwargs), figure())
