"""Widget W2.4: initialisation and signal propagation through a deep network at initialisation.

A batch of Gaussian inputs goes through ``depth`` random layers of one ``width`` (no biases); per layer the
figure shows, on a log scale, the forward second moment E[h^2], the variance Var[h], the size (RMS) of
the back-propagated gradient dL/dh, and the prediction E[x^2] * multiplier^l with the per-layer factor
n_in Var[W] c_phi (c_relu = 1/2, c_identity = 1, and 1 as tanh's small-signal value).

* ``compute``: one run of ``lib.init.signal_propagation`` plus the readouts;
* ``figure``: kernel-free, a slider over sigma^2 n_in (the named schemes are points on it for square
  layers: torch's default 1/3, Xavier 1, He 2; plus zero init) and buttons for the activation;
* ``widget``: live, with depth, width, activation, scheme, sigma^2 n_in, batch size and seed;
* ``show``: both, through :func:`lib.widgets.dual`.
"""
from __future__ import annotations

import ipywidgets as W
import numpy as np
import plotly.graph_objects as go

from .. import plotting
from ..init import ACTIVATIONS, SCHEMES, signal_propagation
from . import Live, dual, readout, slider

FLOOR = 1e-30          # values below this (exact zeros of zero init) are not drawn on the log axis
QUANTITIES = ("E[h²]", "Var[h]", "gradient RMS ‖∂L/∂h‖", "prediction E[x²]·factorˡ")
COLOURS = [plotting.PALETTE[i] for i in (0, 2, 3, 7)]
ACT_NAMES = {"relu": "ReLU", "tanh": "tanh", "identity": "identity"}
SCHEME_NAMES = {"zero": "zero", "normal": "N(0, σ²)", "xavier": "Xavier", "he": "He",
                "torch_default": "torch default"}
# slider of the static figure: (label, scheme, sigma^2 n_in); for square layers the named schemes are points
STATIC_STEPS = (("zero", "zero", 1.0), ("1/3 (torch default)", "torch_default", 1.0), ("0.5", "normal", 0.5),
                ("0.75", "normal", 0.75), ("1 (Xavier)", "xavier", 1.0), ("1.5", "normal", 1.5),
                ("2 (He)", "he", 1.0), ("2.5", "normal", 2.5), ("3", "normal", 3.0), ("4", "normal", 4.0))


def compute(depth: int = 30, width: int = 256, act: str = "relu", scheme: str = "he", sigma2_n: float = 2.0,
            n_samples: int = 1000, seed: int = 0, device=None) -> dict:
    """One random network's statistics (``lib.init.signal_propagation``) and the readouts.

    ``sigma2_n`` is sigma^2 n_in for the "normal" scheme and ignored by the others. Adds:
    ``prediction`` (depth+1,) = E[x^2] multiplier^l; ``measured_factor`` = (E[h_L^2] / E[h_0^2])^(1/L),
    the geometric mean of the per-layer factors (0 when the signal is 0); ``dead_percent`` = the
    percentage of hidden units (all layers) that are 0 for every input; ``identical`` = whether every
    layer's units all compute the same function.
    """
    if scheme not in SCHEMES:
        raise ValueError(f"scheme: expected one of {list(SCHEMES)}, got {scheme!r}")
    mult = sigma2_n if scheme == "normal" else 1.0
    res = signal_propagation(depth, width, scheme, act, n_samples, sigma_mult=mult, seed=seed, device=device)
    m = res["second_moment"]
    res["prediction"] = m[0] * res["multiplier"] ** np.arange(depth + 1, dtype=float)
    res["measured_factor"] = float((m[-1] / m[0]) ** (1.0 / depth))
    res["dead_percent"] = float(100 * res["dead"][1:].mean())
    res["identical"] = bool(res["identical"][1:].all())
    res["depth"], res["width"], res["act"], res["scheme"] = depth, width, act, scheme
    return res


def _log_values(a) -> list:
    """Values for a log axis: below FLOOR (zero) or not finite -> None (a gap)."""
    return [float(f"{v:.4g}") if np.isfinite(v) and v > FLOOR else None for v in np.asarray(a, dtype=float)]


def _traces(res: dict) -> list[dict]:
    return [dict(y=_log_values(res[k])) for k in ("second_moment", "variance", "grad_norm", "prediction")]


def _readout(res: dict) -> str:
    state = "yes: the layer acts like one unit" if res["identical"] else "no"
    return (f"predicted factor n_in·Var W·c = {res['multiplier']:.3g}; measured (geometric mean) "
            f"{res['measured_factor']:.3g}; dead units {res['dead_percent']:.1f}%; all units identical: {state}")


def _base(depth: int, acts, title: str) -> go.Figure:
    fig = go.Figure()
    layers = list(range(depth + 1))
    for act in acts:
        for q, colour in zip(QUANTITIES, COLOURS):
            dash = "dot" if q.startswith("prediction") else None
            fig.add_trace(go.Scatter(x=layers, mode="lines+markers" if dash is None else "lines",
                                     marker=dict(size=4), line=dict(color=colour, dash=dash),
                                     name=f"{q}" if len(acts) == 1 else f"{ACT_NAMES[act]}: {q}",
                                     legendgroup=q))
    fig.update_layout(title=title, xaxis_title="layer l (0 = input)", yaxis_title="value (log scale)",
                      yaxis_type="log", yaxis_exponentformat="power", height=560, margin=dict(t=110, b=60),
                      legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0))
    return fig


# --------------------------------------------------------------------------- static figure
def _static_title(label: str, results: dict) -> str:
    r = results["relu"]
    if r["scheme"] == "zero":
        return "Zero init: every unit identical and equal to 0, so nothing reaches the output or flows back"
    facs = ", ".join(f"{ACT_NAMES[a]} ×{results[a]['multiplier']:.3g}" for a in results)
    return f"σ²·n_in = {label}: predicted factor of E[h²] per layer {facs} (tanh: at most)"


def figure(depth: int = 30, width: int = 128, n_samples: int = 200, seed: int = 0) -> go.Figure:
    """Kernel-free: a slider over sigma^2 n_in (``STATIC_STEPS``) and one button per activation."""
    runs = [{a: compute(depth, width, a, scheme, s2n, n_samples, seed) for a in ACTIVATIONS}
            for _, scheme, s2n in STATIC_STEPS]
    start = [label for label, *_ in STATIC_STEPS].index("2 (He)")
    fig = _base(depth, ACTIVATIONS, _static_title(STATIC_STEPS[start][0], runs[start]))
    steps = []
    for (label, *_), results in zip(STATIC_STEPS, runs):
        traces = [t for a in ACTIVATIONS for t in _traces(results[a])]
        steps.append((label, traces, {"title.text": _static_title(label, results)}))
    for trace, upd in zip(fig.data, steps[start][1]):
        trace.update(upd)
    per = len(QUANTITIES)
    buttons = [dict(label=ACT_NAMES[a], method="restyle",
                    args=[{"visible": [j == i for j in range(len(ACTIVATIONS)) for _ in range(per)]}])
               for i, a in enumerate(ACTIVATIONS)]
    for k, trace in enumerate(fig.data):
        trace.visible = k < per  # ReLU first
    fig.update_layout(sliders=[slider(steps, prefix="σ²·n_in = ", active=start)],
                      updatemenus=[dict(type="buttons", direction="right", buttons=buttons, x=0.0, xanchor="left",
                                        y=1.02, yanchor="bottom", pad=dict(t=0, b=0))],
                      height=680, margin=dict(t=120, b=230),
                      legend=dict(orientation="h", yref="container", y=0.0, yanchor="bottom", x=0.0))
    fig.layout.sliders[0].update(y=-0.12, yanchor="top")
    fig.add_annotation(text=f"depth {depth}, width {width}, {n_samples} Gaussian inputs, one random draw (seed {seed})",
                       xref="paper", yref="paper", x=1, y=1.02, xanchor="right", yanchor="bottom", showarrow=False)
    return fig


# --------------------------------------------------------------------------- live widget
def widget(depth: int = 30, width: int = 256, act: str = "relu", scheme: str = "he", sigma2_n: float = 2.0,
           n_samples: int = 1000, seed: int = 0, device=None) -> Live:
    """Live: every control re-runs the random network (about 0.1-0.5 s at the largest settings on a CPU)."""
    style = dict(description_width="initial")
    controls = dict(
        depth=W.IntSlider(value=depth, min=1, max=50, description="depth", style=style),
        width=W.IntSlider(value=width, min=16, max=512, step=16, description="width", style=style),
        act=W.Dropdown(options=[(ACT_NAMES[a], a) for a in ACTIVATIONS], value=act, description="activation",
                       style=style),
        scheme=W.Dropdown(options=[(SCHEME_NAMES[s], s) for s in SCHEMES], value=scheme, description="scheme",
                          style=style),
        sigma2_n=W.FloatSlider(value=sigma2_n, min=0.5, max=4.0, step=0.05, description="σ²·n_in", style=style),
        n_samples=W.IntSlider(value=n_samples, min=100, max=1000, step=100, description="inputs", style=style),
        seed=W.BoundedIntText(value=seed, min=0, max=10_000, description="seed", style=style,
                              layout=W.Layout(width="140px")),
    )
    fig = go.FigureWidget(_base(50, ["relu"], "Signal propagation at initialisation"))
    info = readout()

    def redraw(_=None):
        c = {k: v.value for k, v in controls.items()}
        controls["sigma2_n"].disabled = c["scheme"] != "normal"
        res = compute(c["depth"], c["width"], c["act"], c["scheme"], c["sigma2_n"], c["n_samples"], c["seed"],
                      device)
        layers = list(range(c["depth"] + 1))
        with fig.batch_update():
            for trace, upd in zip(fig.data, _traces(res)):
                trace.update(x=layers, **upd)
            extra = f", σ²·n_in = {c['sigma2_n']:.2f}" if c["scheme"] == "normal" else ""
            fig.layout.title.text = (f"{ACT_NAMES[c['act']]} network, {SCHEME_NAMES[c['scheme']]} init{extra}: "
                                     f"depth {c['depth']}, width {c['width']}")
        info.value = _readout(res)

    for control in controls.values():
        control.observe(redraw, names="value")
    redraw()
    return Live(controls=controls, figures=[fig],
                children=[W.HBox([controls["act"], controls["scheme"], controls["sigma2_n"]]),
                          W.HBox([controls["depth"], controls["width"], controls["n_samples"], controls["seed"]]),
                          info, fig])


def show(device=None, **kwargs) -> None:
    """The live widget in a kernel, the static figure on the website."""
    dual(widget(device=device, **kwargs), figure())
