"""Widget W9.5: surrogates of a boosting loss around the current margin f, as functions of the step h.

For one point with label y and margin f it draws the true loss ``l(f + h)`` and four models of it:

* first-order Taylor ``l + g h``;
* second-order Taylor ``l + g h + h_f h^2 / 2`` (the XGBoost surrogate);
* the gradient-descent proximal surrogate ``l + g h + h^2 / (2 eta)``;
* for the logistic loss, Böhning's fixed-curvature bound ``l + g h + h^2 / 8`` (``l'' <= 1/4``).

Points where a quadratic surrogate lies below the loss (it is not a majorizer there) are marked in red.

* ``compute``: the curves and where each quadratic fails to majorize;
* ``figure``: kernel-free, a slider over f for the logistic loss (y = 1, eta = 4);
* ``widget``: live, with the loss, f, y and eta;
* ``show``: both, through :func:`lib.widgets.dual`.
"""
from __future__ import annotations

import ipywidgets as W
import numpy as np
import plotly.graph_objects as go

from .. import plotting
from ..margin_losses import ExponentialLoss, LogisticLoss, SquaredLoss
from . import Live, dual, readout, slider

LOSSES = {"logistic": LogisticLoss, "exponential": ExponentialLoss, "squared": SquaredLoss}
F_VALUES = (-3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0, 4.0)
H = np.linspace(-6, 6, 241)


def _label(loss: str, y: int) -> float:
    if loss not in LOSSES:
        raise ValueError(f"loss: expected one of {sorted(LOSSES)}, got {loss!r}")
    if y not in (-1, 1):
        raise ValueError(f"y: expected -1 or +1, got {y!r}")
    return float(y if loss == "exponential" else (y + 1) // 2 if loss == "logistic" else y)


def compute(loss: str = "logistic", f: float = 3.0, y: int = 1, eta: float = 4.0, h=H) -> dict:
    """Curves over the step ``h`` (array) and, per quadratic surrogate, a mask of where it is below the loss.

    ``y`` is given as ±1 and mapped to the loss's coding ({0, 1} for logistic). Returns
    ``dict(h, true, taylor1, taylor2, prox, bohning (None unless logistic), below (dict name -> bool mask))``.
    """
    lab = _label(loss, y)
    if not (isinstance(eta, (int, float, np.floating)) and eta > 0):
        raise ValueError(f"eta: expected a positive step size, got {eta!r}")
    L = LOSSES[loss]()
    h = np.asarray(h, dtype=np.float64)
    yv = np.full_like(h, lab)
    l0 = float(L.value(lab, f))
    g = float(L.grad(lab, f))
    c = float(L.hess(lab, f))
    out = dict(h=h, true=L.value(yv, f + h), taylor1=l0 + g * h, taylor2=l0 + g * h + 0.5 * c * h ** 2,
               prox=l0 + g * h + h ** 2 / (2 * eta), bohning=None, g=g, hess=c)
    if loss == "logistic":
        out["bohning"] = l0 + g * h + h ** 2 / 8
    tol = 1e-12
    out["below"] = {k: out[k] < out["true"] - tol for k in ("taylor2", "prox", "bohning") if out[k] is not None}
    return out


NAMES = (("true", "loss l(f + h)", 7, "solid", 3), ("taylor1", "1st-order Taylor", 4, "dot", 1.5),
         ("taylor2", "2nd-order Taylor (XGBoost)", 3, "solid", 2), ("prox", "GD surrogate, 1/(2η)", 0, "dash", 2),
         ("bohning", "Böhning, curvature 1/4", 2, "dashdot", 2))


def _base() -> go.Figure:
    fig = go.Figure()
    for _, name, col, dash, width in NAMES:
        fig.add_trace(go.Scatter(mode="lines", name=name, line=dict(color=plotting.PALETTE[col], dash=dash, width=width)))
    fig.add_trace(go.Scatter(mode="markers", name="2nd-order Taylor below the loss",
                             marker=dict(color="red", size=5, symbol="x")))
    fig.update_layout(xaxis_title="step h", yaxis_title="loss", height=480, yaxis_range=[-1, 8])
    return fig


def _traces(res: dict) -> list[dict]:
    r = lambda a: np.round(a, 4).tolist() if a is not None else []  # noqa: E731
    hx = r(res["h"])
    out = [dict(x=hx if res[k] is not None else [], y=r(res[k])) for k, *_ in NAMES]
    m = res["below"]["taylor2"]
    out.append(dict(x=r(res["h"][m]), y=r(res["taylor2"][m])))
    return out


def _title(loss: str, f: float, y: int, res: dict) -> str:
    fails = "is NOT an upper bound" if res["below"]["taylor2"].any() else "stays above the loss"
    return f"Surrogates of the {loss} loss at f = {f:g}, y = {y:+d}: the 2nd-order Taylor model {fails}"


def figure(loss: str = "logistic", y: int = 1, eta: float = 4.0, f_values=F_VALUES) -> go.Figure:
    """Kernel-free: a slider over the current margin f."""
    fig = _base()
    steps = []
    for f in f_values:
        res = compute(loss, f, y, eta)
        steps.append((f"{f:g}", _traces(res), {"title.text": _title(loss, f, y, res)}))
    start = len(f_values) - 2
    for trace, upd in zip(fig.data, steps[start][1]):
        trace.update(upd)
    fig.update_layout(title=steps[start][2]["title.text"], sliders=[slider(steps, prefix="margin f = ", active=start)])
    return fig


def widget(loss: str = "logistic", f: float = 3.0, y: int = 1, eta: float = 4.0) -> Live:
    """Live: the loss, the margin f, the label y and the GD step size eta."""
    style = dict(description_width="initial")
    controls = dict(
        loss=W.Dropdown(options=list(LOSSES), value=loss, description="loss", style=style),
        f=W.FloatSlider(value=f, min=-4, max=4, step=0.25, description="margin f", style=style),
        y=W.ToggleButtons(options=[-1, 1], value=y, description="label y", style=style),
        eta=W.FloatLogSlider(value=eta, base=10, min=-1, max=1.5, description="η", style=style),
    )
    fig = go.FigureWidget(_base())
    info = readout()

    def redraw(_=None):
        c = {k: v.value for k, v in controls.items()}
        res = compute(c["loss"], c["f"], c["y"], c["eta"])
        with fig.batch_update():
            for trace, upd in zip(fig.data, _traces(res)):
                trace.update(upd)
            fig.layout.title.text = _title(c["loss"], c["f"], c["y"], res)
        bad = [k for k, m in res["below"].items() if m.any()]
        info.value = (f"g = {res['g']:.3f}, l'' = {res['hess']:.3f}; quadratic models that dip below the loss: "
                      f"{', '.join(bad) if bad else 'none'}")

    for control in controls.values():
        control.observe(redraw, names="value")
    redraw()
    return Live(controls=controls, figures=[fig])


def show(**kwargs) -> None:
    """The live widget in a kernel, the static figure on the website."""
    static = {k: v for k, v in kwargs.items() if k in {"loss", "y", "eta"}}
    dual(widget(**kwargs), figure(**static))
