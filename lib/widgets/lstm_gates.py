"""Widget W4.4: an LSTM cell with its gates held constant, driven by a train of input pulses.

One unit, 20 steps. The gates are fixed numbers f, i, o in [0, 1]; the input x_t is 1 at the chosen steps
and 0 elsewhere, and the candidate is Delta c_t = tanh(gain x_t). The cell follows (4.49)-(4.50)::

    c_t = f c_{t-1} + i Delta c_t,      h_t = o tanh(c_t),      c_0 = 0

so a pulse written at step s is still present at step t with weight f^(t-s): f = 1 (with i = 1) is the pure
memory stream, which only accumulates; f < 1 makes it leaky.

* ``compute``: the traces c_t and h_t;
* ``figure``: kernel-free, a slider over the forget gate f (i = o = 1, a fixed pulse train);
* ``widget``: live, with f, i, o sliders, a preset menu and one checkbox per step;
* ``show``: both, through :func:`lib.widgets.dual`.
"""
from __future__ import annotations

import math

import ipywidgets as W
import numpy as np
import plotly.graph_objects as go

from .. import plotting
from . import Live, dual, readout, slider

STEPS = 20
GAIN = 2.0
DEFAULT_PULSES = (2, 3, 10)           # steps (1-based) with x_t = 1
STATIC_F = (0.0, 0.5, 0.8, 0.9, 0.95, 0.99, 1.0)
PRESETS = {"memory stream (f = i = 1)": (1.0, 1.0, 1.0), "leaky (f = 0.9)": (0.9, 1.0, 1.0),
           "forget everything (f = 0)": (0.0, 1.0, 1.0), "closed output (o = 0.2)": (1.0, 1.0, 0.2)}


def _gate(name: str, v) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float, np.floating, np.integer)) or not math.isfinite(v) \
            or not 0 <= v <= 1:
        raise ValueError(f"{name}: expected a gate value in [0, 1], got {v!r}")
    return float(v)


def compute(f: float = 1.0, i: float = 1.0, o: float = 1.0, pulses=DEFAULT_PULSES, steps: int = STEPS,
            gain: float = GAIN) -> dict:
    """The traces of one LSTM unit with constant gates: ``t`` (1..steps), ``x``, ``c`` and ``h`` lists.

    ``pulses`` lists the steps (1-based) where x_t = 1. Also returns ``retained`` = f^(steps - first pulse),
    the share of the first pulse still in c at the last step.
    """
    f, i, o = _gate("f", f), _gate("i", i), _gate("o", o)
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or not 1 <= steps <= 1000:
        raise ValueError(f"steps: expected an integer in [1, 1000], got {steps!r}")
    pulses = sorted({int(s) for s in pulses})
    if any(not 1 <= s <= steps for s in pulses):
        raise ValueError(f"pulses: expected steps in [1, {steps}], got {pulses}")
    x = np.zeros(steps)
    x[[s - 1 for s in pulses]] = 1.0
    c, cs, hs = 0.0, [], []
    for t in range(steps):
        c = f * c + i * math.tanh(gain * x[t])   # (4.49) with constant gates
        cs.append(c)
        hs.append(o * math.tanh(c))              # (4.50)
    retained = f ** (steps - pulses[0]) if pulses else 0.0
    return {"t": list(range(1, steps + 1)), "x": x.tolist(), "c": cs, "h": hs, "retained": retained,
            "f": f, "i": i, "o": o}


def _traces(res: dict) -> list[dict]:
    return [dict(y=[round(v, 4) for v in res["x"]]), dict(y=[round(v, 4) for v in res["c"]]),
            dict(y=[round(v, 4) for v in res["h"]])]


def _title(res: dict) -> str:
    kind = "memory stream: c only accumulates" if res["f"] == 1 and res["i"] == 1 else \
        f"after the first pulse, f^(t−s) = {res['retained']:.2g} of it is left at t = {len(res['t'])}"
    return f"LSTM unit with constant gates f = {res['f']:g}, i = {res['i']:g}, o = {res['o']:g} ({kind})"


def _base(title: str) -> go.Figure:
    fig = go.Figure()
    t = list(range(1, STEPS + 1))
    fig.add_trace(go.Bar(x=t, name="input pulse x_t", marker_color=plotting.PALETTE[5], opacity=0.5))
    fig.add_trace(go.Scatter(x=t, mode="lines+markers", name="cell state c_t", line=dict(color=plotting.PALETTE[0])))
    fig.add_trace(go.Scatter(x=t, mode="lines+markers", name="output h_t = o·tanh(c_t)",
                             line=dict(color=plotting.PALETTE[3], dash="dash")))
    fig.update_layout(title=title, xaxis_title="time step t", yaxis_title="value", height=440,
                      legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0), margin=dict(t=100),
                      title_font_size=13)
    return fig


def figure(pulses=DEFAULT_PULSES) -> go.Figure:
    """Kernel-free: a slider over the forget gate (``STATIC_F``) with i = o = 1."""
    runs = [compute(f, 1.0, 1.0, pulses) for f in STATIC_F]
    steps = [(f"{f:g}", _traces(r), {"title.text": _title(r)}) for f, r in zip(STATIC_F, runs)]
    start = len(STATIC_F) - 1
    fig = _base(steps[start][2]["title.text"])
    for trace, upd in zip(fig.data, steps[start][1]):
        trace.update(upd)
    fig.update_layout(sliders=[slider(steps, prefix="forget gate f = ", active=start)], height=540,
                      margin=dict(t=100, b=120))
    return fig


def widget(f: float = 1.0, i: float = 1.0, o: float = 1.0, pulses=DEFAULT_PULSES) -> Live:
    """Live: gate sliders, presets and a checkbox per step for the pulse train."""
    style = dict(description_width="initial")
    controls = dict(
        preset=W.Dropdown(options=["custom", *PRESETS], value="custom", description="preset", style=style),
        f=W.FloatSlider(value=f, min=0, max=1, step=0.01, description="forget f", style=style),
        i=W.FloatSlider(value=i, min=0, max=1, step=0.01, description="input i", style=style),
        o=W.FloatSlider(value=o, min=0, max=1, step=0.01, description="output o", style=style),
    )
    boxes = {f"x{t}": W.Checkbox(value=t in set(pulses), description=str(t), indent=False,
                                 layout=W.Layout(width="48px")) for t in range(1, STEPS + 1)}
    controls.update(boxes)
    fig = go.FigureWidget(_base("LSTM gate playground"))
    info = readout()

    def redraw(_=None):
        res = compute(controls["f"].value, controls["i"].value, controls["o"].value,
                      [t for t in range(1, STEPS + 1) if boxes[f"x{t}"].value])
        with fig.batch_update():
            for trace, upd in zip(fig.data, _traces(res)):
                trace.update(upd)
            fig.layout.title.text = _title(res)
        info.value = f"c_T = {res['c'][-1]:.3f}, h_T = {res['h'][-1]:.3f}"

    def apply_preset(change):
        if change["new"] in PRESETS:  # each assignment redraws
            for name, v in zip("fio", PRESETS[change["new"]]):
                controls[name].value = v

    controls["preset"].observe(apply_preset, names="value")
    for name, control in controls.items():
        if name != "preset":
            control.observe(redraw, names="value")
    redraw()
    return Live(controls=controls, figures=[fig],
                children=[W.HBox([controls["preset"], controls["f"], controls["i"], controls["o"]]),
                          W.HBox([W.HTML("x<sub>t</sub> = 1 at:"), *boxes.values()],
                                 layout=W.Layout(flex_flow="row wrap")), info, fig])


def show(**kwargs) -> None:
    """The live widget in a kernel, the static figure on the website."""
    dual(widget(**kwargs), figure())
