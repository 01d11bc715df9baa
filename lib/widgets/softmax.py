"""Widget W2.2: softmax, temperature, hardmax and the cross-entropy gradient for C = 4 logits.

For logits ``s``, a constant ``c`` added to all of them and a temperature ``T > 0``::

    z = (s + c) / T,    p = softmax(z),    loss = -log p_y,    d loss / d z = p - onehot(y)

``c`` changes nothing but the log-sum-exp (softmax is shift-invariant); ``T -> 0`` sharpens ``p`` into
``hardmax(s)`` and ``T -> infinity`` flattens it to uniform.

* ``compute``: probabilities, hardmax, gradient, loss, entropy and log-sum-exp (``lib.losses``);
* ``figure``: kernel-free, a slider over the temperature;
* ``widget``: live, sliders for the four logits, the temperature, the shift, and the true class;
* ``show``: both, through :func:`lib.widgets.dual`.
"""
from __future__ import annotations

import ipywidgets as W
import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .. import losses, plotting
from . import Live, dual, readout, slider

LOGITS = (2.0, 1.0, 0.2, -1.0)
TEMPERATURES = (0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 8.0, 12.0, 20.0)


def compute(logits=LOGITS, T: float = 1.0, true_class: int = 0, shift: float = 0.0) -> dict:
    """``dict(p, hard, grad = p - onehot(y), loss = -log p_y, entropy, lse = logsumexp(z))`` with
    ``z = (logits + shift) / T``; all arrays have shape (C,)."""
    s = np.asarray(logits, dtype=np.float64)
    if s.ndim != 1 or s.size < 2 or not np.all(np.isfinite(s)):
        raise ValueError(f"logits: expected at least two finite numbers, got {logits!r}")
    if isinstance(T, bool) or not np.isscalar(T) or not np.isfinite(T) or T <= 0:
        raise ValueError(f"T: expected a positive temperature, got {T!r}")
    if isinstance(true_class, bool) or not isinstance(true_class, (int, np.integer)) or not 0 <= true_class < s.size:
        raise ValueError(f"true_class: expected an integer in 0..{s.size - 1}, got {true_class!r}")
    if not np.isscalar(shift) or not np.isfinite(shift):
        raise ValueError(f"shift: expected a finite number, got {shift!r}")
    z = (s + shift) / T
    logp = losses.log_softmax(z)
    p = np.exp(logp)
    y = losses.one_hot([true_class], s.size)[0]
    return dict(p=p, hard=losses.hardmax(s), grad=p - y, loss=float(-logp[true_class]),
                entropy=float(-(p * logp).sum()), lse=float(losses.logsumexp(z)))


def _names(C: int) -> list[str]:
    return [f"class {c + 1}" for c in range(C)]


def _traces(res: dict) -> list[dict]:
    C = res["p"].size
    return [dict(x=_names(C), y=np.round(res["p"], 5).tolist()), dict(x=_names(C), y=res["hard"].tolist()),
            dict(x=_names(C), y=np.round(res["grad"], 5).tolist())]


def _text(res: dict, T: float, true_class: int) -> str:
    return (f"Softmax at temperature T = {T:g}: cross-entropy −log p_{true_class + 1} = {res['loss']:.3f}, "
            f"entropy {res['entropy']:.3f} nats")


def _base(C: int) -> go.Figure:
    fig = make_subplots(rows=1, cols=2, column_widths=[0.6, 0.4], horizontal_spacing=0.12,
                        subplot_titles=("probabilities", "gradient of the loss, p − y"))
    fig.add_trace(go.Bar(name="softmax((s + c)/T)", marker_color=plotting.PALETTE[0]), row=1, col=1)
    fig.add_trace(go.Bar(name="hardmax(s)", marker_color="rgba(0,0,0,0.35)"), row=1, col=1)
    fig.add_trace(go.Bar(name="p − y", marker_color=plotting.PALETTE[3], showlegend=False), row=1, col=2)
    fig.update_xaxes(title_text="class")
    fig.update_yaxes(title_text="probability", range=[0, 1.05], row=1, col=1)
    fig.update_yaxes(title_text="∂ loss / ∂ z", range=[-1.05, 1.05], row=1, col=2)
    fig.update_layout(barmode="group", height=430, legend=dict(orientation="h", yanchor="bottom", y=1.1, x=0),
                      margin=dict(t=120))
    return fig


def figure(logits=LOGITS, true_class: int = 0, temperatures=TEMPERATURES) -> go.Figure:
    """Kernel-free: a slider over the temperature for fixed logits."""
    fig = _base(len(logits))
    steps = []
    for T in temperatures:
        res = compute(logits, T, true_class)
        steps.append((f"{T:g}", _traces(res), {"title.text": _text(res, T, true_class)}))
    start = list(temperatures).index(1.0) if 1.0 in temperatures else 0
    sl = slider(steps, prefix="temperature T = ", active=start)
    for i, upd in enumerate(steps[start][1]):
        fig.data[i].update(upd)
    fig.update_layout(sliders=[sl], title=steps[start][2]["title.text"], height=520)
    return fig


def widget(logits=LOGITS, T: float = 1.0, true_class: int = 0) -> Live:
    """Live: four logit sliders, temperature, a constant added to every logit, and the true class."""
    style = dict(description_width="initial")
    controls = {f"s{c + 1}": W.FloatSlider(value=float(v), min=-5, max=5, step=0.1, description=f"s{c + 1}",
                                           style=style) for c, v in enumerate(logits)}
    controls.update(
        T=W.FloatLogSlider(value=T, base=10, min=np.log10(0.05), max=np.log10(20), step=0.02,
                           description="temperature T", style=style),
        shift=W.FloatSlider(value=0.0, min=-1000, max=1000, step=10, description="add c to all logits", style=style),
        true_class=W.Dropdown(options=[(n, c) for c, n in enumerate(_names(len(logits)))], value=true_class,
                              description="true class", style=style),
    )
    fig = go.FigureWidget(_base(len(logits)))
    info = readout()

    def redraw(_=None):
        s = [controls[f"s{c + 1}"].value for c in range(len(logits))]
        res = compute(s, controls["T"].value, controls["true_class"].value, controls["shift"].value)
        with fig.batch_update():
            for trace, upd in zip(fig.data, _traces(res)):
                trace.update(**upd)
            fig.layout.title.text = _text(res, controls["T"].value, controls["true_class"].value)
        info.value = (f"cross-entropy {res['loss']:.4f}; entropy {res['entropy']:.4f} nats; "
                      f"log Σ exp(z) = {res['lse']:.4f} (computed stably: the shift moves only this number)")

    for control in controls.values():
        control.observe(redraw, names="value")
    redraw()
    keys = [f"s{c + 1}" for c in range(len(logits))]
    return Live(controls=controls, figures=[fig],
                children=[W.HBox([controls[k] for k in keys], layout=W.Layout(flex_flow="row wrap")),
                          W.HBox([controls["T"], controls["shift"], controls["true_class"]]), info, fig])


def show(**kwargs) -> None:
    """The live widget in a kernel, the static figure on the website."""
    dual(widget(**kwargs), figure(**{k: v for k, v in kwargs.items() if k in ("logits", "true_class")}))
