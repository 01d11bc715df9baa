"""Widget W4.7: discretising one continuous mode ``h' = A h + B x`` with Euler, ZOH and bilinear.

The mode has eigenvalues ``lam = re ± i im``: ``A = [[re, -im], [im, re]]``, ``B = (1, 0)``, read-out
``y = h_1``. Left panel: the discrete eigenvalue of each method in the complex plane with the unit
circle (inside = stable). Middle panel: the response to a unit step sampled every ``delta`` by each
method, against the exact continuous response. Right panel: the error of ``(I + A delta / n)^n``
against ``e^{A delta}`` as a function of n, which falls like 1/n.

* ``compute``: all of it for one setting;
* ``figure``: kernel-free, a slider over the step size delta;
* ``widget``: live, with the real and imaginary parts of lam, delta, the method shown and n;
* ``show``: both, through :func:`lib.widgets.dual`.
"""
from __future__ import annotations

import ipywidgets as W
import numpy as np
import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from .. import plotting
from ..ssm import discretize_bilinear, discretize_euler, discretize_zoh, euler_power
from . import Live, dual, readout, slider

METHODS = {"Euler": discretize_euler, "ZOH": discretize_zoh, "bilinear": discretize_bilinear}
DELTAS = (0.02, 0.05, 0.1, 0.2, 0.3, 0.4, 0.6)
NS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)
HORIZON = 6.0


def mode(re: float, im: float):
    """``(A, B)`` as float64 tensors for the eigenvalue pair ``re ± i im``."""
    A = torch.tensor([[re, -im], [im, re]], dtype=torch.float64)
    return A, torch.tensor([1.0, 0.0], dtype=torch.float64)


def compute(re: float = -1.0, im: float = 4.0, delta: float = 0.2, n: int = 10, horizon: float = HORIZON) -> dict:
    """Returns ``dict(eig {method: complex}, t_exact, y_exact, t {method: ...}, y {method: ...}, ns, err, err_n)``."""
    if not (isinstance(delta, (int, float)) and delta > 0):
        raise ValueError(f"delta: expected a positive step size, got {delta!r}")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n: expected a positive integer, got {n!r}")
    A, B = mode(float(re), float(im))
    t_exact = np.linspace(0, horizon, 301)
    lam = complex(re, im)  # h_1 + i h_2 evolves as z' = lam z + x, so the step response is Re((e^{lam t} - 1) / lam)
    y_exact = t_exact if lam == 0 else ((np.exp(lam * t_exact) - 1) / lam).real
    steps = int(np.ceil(horizon / delta))
    eig, ts, ys = {}, {}, {}
    for name, fn in METHODS.items():
        Ad, Bd = fn(A, B, float(delta))
        eig[name] = complex(torch.linalg.eigvals(Ad)[0].item())
        h, y = torch.zeros(2, dtype=torch.float64), [0.0]
        for _ in range(steps):
            h = Ad @ h + Bd
            y.append(h[0].item())
            if abs(y[-1]) > 1e6:  # diverged: stop drawing
                break
        ts[name] = (np.arange(len(y)) * delta).tolist()
        ys[name] = y
    exact = torch.linalg.matrix_exp(A * delta).numpy()
    err = [float(np.abs(euler_power(A, float(delta), int(k)).numpy() - exact).max()) for k in NS]
    err_n = float(np.abs(euler_power(A, float(delta), int(n)).numpy() - exact).max())
    return dict(eig=eig, t_exact=t_exact, y_exact=np.array(y_exact), t=ts, y=ys, ns=list(NS), err=err, err_n=err_n)


def _base(n_methods: int) -> go.Figure:
    fig = make_subplots(rows=1, cols=3, horizontal_spacing=0.08, column_widths=[0.28, 0.42, 0.30],
                        subplot_titles=("discrete eigenvalue", "step response", "(I + AΔ/n)ⁿ vs exp(AΔ)"))
    th = np.linspace(0, 2 * np.pi, 121)
    fig.add_trace(go.Scatter(x=np.round(np.cos(th), 4).tolist(), y=np.round(np.sin(th), 4).tolist(), mode="lines",
                             line=dict(color="gray", dash="dot"), name="unit circle", showlegend=False), row=1, col=1)
    fig.add_trace(go.Scatter(mode="lines", line=dict(color="black", width=3), name="exact"), row=1, col=2)
    for i in range(n_methods):
        colour = plotting.PALETTE[[3, 0, 2][i % 3]]
        fig.add_trace(go.Scatter(mode="markers", marker=dict(color=colour, size=11), showlegend=False), row=1, col=1)
        fig.add_trace(go.Scatter(mode="markers+lines", marker=dict(color=colour, size=5), line=dict(color=colour, width=1)),
                      row=1, col=2)
    fig.add_trace(go.Scatter(mode="lines+markers", line=dict(color=plotting.PALETTE[4]), name="Euler-power error"),
                  row=1, col=3)
    fig.update_xaxes(title_text="Re λ̄", range=[-1.6, 1.6], row=1, col=1)
    fig.update_yaxes(title_text="Im λ̄", range=[-1.6, 1.6], scaleanchor="x", row=1, col=1)
    fig.update_xaxes(title_text="time t", row=1, col=2)
    fig.update_yaxes(title_text="y(t)", range=[-0.6, 0.8], row=1, col=2)
    fig.update_xaxes(title_text="sub-steps n", type="log", row=1, col=3)
    fig.update_yaxes(title_text="max entry error", type="log", exponentformat="power", row=1, col=3)
    fig.update_layout(height=460, margin=dict(t=110), legend=dict(orientation="h", yanchor="bottom", y=1.08, x=0.3))
    return fig


def _traces(res: dict, methods) -> list[dict]:
    r = lambda a: np.round(np.asarray(a, dtype=float), 5).tolist()  # noqa: E731
    out = [dict(x=r(res["t_exact"]), y=r(res["y_exact"]))]
    for name in methods:
        lam = res["eig"][name]
        out.append(dict(x=[round(lam.real, 5)], y=[round(lam.imag, 5)], name=f"{name}: |λ̄| = {abs(lam):.3f}"))
        out.append(dict(x=r(res["t"][name]), y=r(res["y"][name]), name=f"{name}: |λ̄| = {abs(lam):.3f}"))
    out.append(dict(x=res["ns"], y=res["err"]))
    return out


def figure(re: float = -1.0, im: float = 4.0, deltas=DELTAS) -> go.Figure:
    """Kernel-free: a slider over the step size, all three methods at once."""
    fig = _base(len(METHODS))
    moving = list(range(1, len(fig.data)))
    steps = []
    for d in deltas:
        res = compute(re, im, d)
        worst = {k: abs(v) for k, v in res["eig"].items()}
        state = "Euler unstable" if worst["Euler"] > 1 else "all stable"
        steps.append((f"{d:g}", _traces(res, METHODS),
                      {"title.text": f"Discretising λ = {re:g} ± {im:g}i with step Δ = {d:g} ({state})"}))
    start = list(deltas).index(0.2) if 0.2 in deltas else 0
    sl = slider(steps, prefix="step size Δ = ", active=start)
    for step in sl["steps"]:
        step["args"].append(moving)
    for i, upd in zip(moving, steps[start][1]):
        fig.data[i].update(upd)
    fig.update_layout(title=steps[start][2]["title.text"], sliders=[sl], height=540)
    return fig


def widget(re: float = -1.0, im: float = 4.0, delta: float = 0.2, method: str = "all", n: int = 10) -> Live:
    """Live: the eigenvalue, the step size, the method(s) shown and n."""
    style = dict(description_width="initial")
    controls = dict(
        re=W.FloatSlider(value=re, min=-5.0, max=-0.05, step=0.05, description="Re λ", style=style),
        im=W.FloatSlider(value=im, min=0.0, max=10.0, step=0.1, description="Im λ", style=style),
        delta=W.FloatLogSlider(value=delta, base=10, min=-2.5, max=0, step=0.05, description="step Δ", style=style),
        method=W.ToggleButtons(options=["all", *METHODS], value=method, description="method", style=style),
        n=W.IntSlider(value=n, min=1, max=1000, description="sub-steps n", style=style),
    )
    fig = go.FigureWidget(_base(len(METHODS)))
    info = readout()

    def redraw(_=None):
        c = {k: v.value for k, v in controls.items()}
        res = compute(c["re"], c["im"], c["delta"], c["n"])
        with fig.batch_update():
            for trace, upd in zip(fig.data[1:], _traces(res, METHODS)):
                trace.update(**upd)
            for j, name in enumerate(METHODS):
                shown = c["method"] in ("all", name)
                fig.data[2 + 2 * j].visible = shown
                fig.data[3 + 2 * j].visible = shown
            fig.layout.title.text = f"Discretising λ = {c['re']:.2f} ± {c['im']:.2f}i with Δ = {c['delta']:.3f}"
        mags = ", ".join(f"{k} |λ̄| = {abs(v):.4f}" for k, v in res["eig"].items())
        info.value = f"{mags}; Euler power with n = {c['n']}: error {res['err_n']:.2e}"

    for control in controls.values():
        control.observe(redraw, names="value")
    redraw()
    return Live(controls=controls, figures=[fig],
                children=[W.HBox([controls["re"], controls["im"], controls["delta"]]),
                          W.HBox([controls["method"], controls["n"]]), info, fig])


def show(**kwargs) -> None:
    """The live widget in a kernel, the static figure on the website."""
    static = {k: v for k, v in kwargs.items() if k in {"re", "im"}}
    dual(widget(**kwargs), figure(**static))
