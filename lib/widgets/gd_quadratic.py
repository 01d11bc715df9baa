"""Widget W1.1: gradient descent and the heavy ball on a 2-D quadratic.

The quadratic ``f(x) = x^T H x / 2`` has eigenvalues ``L = 1`` and ``mu = 1 / kappa``, with its steep
axis turned by ``angle`` degrees, so the step size ``eta`` is also ``eta * L``. Left panel: level sets
of ``f`` and the iterates; right panel: ``f(x_t) - f*`` on a log scale with the slope ``rho^(2t)``
predicted by the spectral radius ``rho`` of the iteration (``rho >= 1``: the iterates diverge).

* ``compute``: the path, the suboptimality, ``rho`` and the optimal parameters;
* ``figure``: kernel-free, a slider over ``eta`` for three momentum values (click the legend to hide one);
* ``widget``: live, with condition number, rotation, step size, momentum and steps, and a button that
  snaps ``(eta, gamma)`` to their optimal values;
* ``show``: both, through :func:`lib.widgets.dual`.
"""
from __future__ import annotations

import ipywidgets as W
import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .. import plotting
from ..optim import Quadratic, gd_optimal, heavy_ball, heavy_ball_optimal, iteration_spectral_radius
from . import Live, dual, readout, slider

X0 = (-1.7, 1.2)
BOX = 2.0           # the contour panel shows [-BOX, BOX]^2
FLOOR = 1e-16       # suboptimality below this is rounding noise; the log axis stops here
CEILING = 1e6       # above this the run has diverged; values are hidden so the axis stays readable


def compute(kappa: float = 20.0, angle: float = 30.0, eta: float = 1.0, gamma: float = 0.0,
            steps: int = 60, x0=X0) -> dict:
    """Run the heavy ball (GD when ``gamma = 0``) with step ``eta`` on the quadratic.

    Returns ``dict(path (steps+1, 2), gap (steps+1,) = f(x_t) - f*, theory (steps+1,) = gap_0 rho^(2t),
    rho, diverges, quadratic, eta_gd, rate_gd, eta_hb, gamma_hb, rate_hb)``; ``*_gd`` and ``*_hb`` are
    the optimal parameters of GD and the heavy ball and their rates.
    """
    q = Quadratic.ill_conditioned(kappa, np.deg2rad(angle))
    with np.errstate(over="ignore", invalid="ignore"):  # a divergent run may overflow; that is the lesson
        path = heavy_ball(q.grad, np.asarray(x0, dtype=float), eta, gamma, steps)
        gap = q.f(path)  # f* = 0 at the origin
        rho = iteration_spectral_radius(eta, gamma, q.eigvals)
        theory = gap[0] * rho ** (2.0 * np.arange(steps + 1))
    eta_gd, rate_gd = gd_optimal(q.mu, q.L)
    eta_hb, gamma_hb, rate_hb = heavy_ball_optimal(q.mu, q.L)
    return dict(path=path, gap=gap, theory=theory, rho=rho, diverges=bool(rho >= 1), quadratic=q,
                eta_gd=eta_gd, rate_gd=rate_gd, eta_hb=eta_hb, gamma_hb=gamma_hb, rate_hb=rate_hb)


# --------------------------------------------------------------------------- drawing helpers
def _visible(a: np.ndarray, low: float, high: float) -> list:
    """Values outside [low, high] (or not finite) become None: gaps in the drawn line."""
    a = np.asarray(a, dtype=float)
    keep = np.isfinite(a) & (np.abs(a) <= high) & (np.abs(a) >= low)
    return [float(v) if k else None for v, k in zip(a, keep)]


def _run_traces(res: dict, label: str) -> list[dict]:
    """Trace updates (path, suboptimality, theory) for one run, in the order the figure holds them."""
    t = list(range(len(res["gap"])))
    path = res["path"]
    state = f"diverges, ρ = {res['rho']:.3f}" if res["diverges"] else f"ρ = {res['rho']:.3f}"
    return [dict(x=_visible(path[:, 0], 0, CEILING), y=_visible(path[:, 1], 0, CEILING), name=f"{label}: {state}"),
            dict(x=t, y=_visible(res["gap"], FLOOR, CEILING), name=f"{label}: f(x_t) − f*"),
            dict(x=t, y=_visible(res["theory"], FLOOR, CEILING), name=f"{label}: ρ^(2t)")]


def _contour(q: Quadratic) -> dict:
    """Level sets of sqrt(2 f), which are evenly spaced nested ellipses."""
    g = np.linspace(-BOX, BOX, 61)
    xx, yy = np.meshgrid(g, g)
    z = np.sqrt(2 * q.f(np.stack([xx, yy], axis=-1)))
    return dict(x=g.tolist(), y=g.tolist(), z=np.round(z, 4).tolist())


def _base(q: Quadratic, labels: list[str]) -> go.Figure:
    fig = make_subplots(rows=1, cols=2, column_widths=[0.5, 0.5], horizontal_spacing=0.1,
                        subplot_titles=("iterates on the level sets of f", "suboptimality f(x_t) − f*"))
    fig.add_trace(go.Contour(**_contour(q), colorscale=plotting.SEQUENTIAL, showscale=False, ncontours=14,
                             contours=dict(coloring="lines"), line=dict(width=1), name="level sets",
                             showlegend=False, hoverinfo="skip"), row=1, col=1)
    for i, label in enumerate(labels):
        colour = plotting.PALETTE[[0, 3, 2, 4][i % 4]]
        fig.add_trace(go.Scatter(mode="lines+markers", line=dict(color=colour, width=1.5), marker=dict(size=4),
                                 legendgroup=label, name=label), row=1, col=1)
        fig.add_trace(go.Scatter(mode="lines", line=dict(color=colour), legendgroup=label, showlegend=False,
                                 name=label), row=1, col=2)
        fig.add_trace(go.Scatter(mode="lines", line=dict(color=colour, dash="dash", width=1), legendgroup=label,
                                 showlegend=False, name=label), row=1, col=2)
    fig.add_trace(go.Scatter(x=[0], y=[0], mode="markers", marker=dict(symbol="x", size=10, color="black"),
                             name="minimum x*", showlegend=False), row=1, col=1)
    fig.update_xaxes(title_text="x₁", range=[-BOX, BOX], row=1, col=1)
    fig.update_yaxes(title_text="x₂", range=[-BOX, BOX], scaleanchor="x", scaleratio=1, row=1, col=1)
    fig.update_xaxes(title_text="iteration t", row=1, col=2)
    fig.update_yaxes(title_text="f(x_t) − f*  (log scale)", type="log", range=[-16, 4], exponentformat="power",
                     row=1, col=2)
    fig.update_layout(height=520, margin=dict(t=120), legend=dict(orientation="h", yanchor="bottom", y=1.09, x=0))
    return fig


# --------------------------------------------------------------------------- static figure
def figure(kappa: float = 20.0, angle: float = 30.0, steps: int = 60,
           etas=(0.1, 0.3, 0.6, 1.0, 1.5, 2.1, 2.5, 3.2, 3.7)) -> go.Figure:
    """Kernel-free: a slider over ``eta`` (``etas`` plus the optimal GD and heavy-ball steps) and three
    runs at once: GD, the heavy ball with Polyak's optimal ``gamma``, and ``gamma = 0.9``."""
    base = compute(kappa, angle, 1.0, 0.0, 1)
    q = base["quadratic"]
    etas = sorted({*etas, base["eta_gd"], base["eta_hb"]})
    gammas = {"GD (γ = 0)": 0.0, f"heavy ball, γ* = {base['gamma_hb']:.3f}": base["gamma_hb"],
              "heavy ball, γ = 0.9": 0.9}
    fig = _base(q, list(gammas))
    moving = list(range(1, 1 + 3 * len(gammas)))  # the runs' traces; the contour and the minimum stay
    steps_ = []
    for eta in etas:
        traces = []
        for label, gamma in gammas.items():
            traces += _run_traces(compute(kappa, angle, eta, gamma, steps), label)
        tag = " (best for GD)" if eta == base["eta_gd"] else " (best for heavy ball)" if eta == base["eta_hb"] else ""
        title = f"Gradient descent and heavy ball on a quadratic, κ = {kappa:g}: η·L = {eta:.3f}{tag}"
        steps_.append((f"{eta:.2f}", traces, {"title.text": title}))
    start = etas.index(base["eta_gd"])
    sl = slider(steps_, prefix="step size η·L = ", active=start)
    for step in sl["steps"]:  # restyle only the runs: the third argument of plotly's update
        step["args"].append(moving)
    for i, upd in zip(moving, steps_[start][1]):  # show the active step before the reader touches the slider
        fig.data[i].update(upd)
    fig.update_layout(sliders=[sl], title=steps_[start][2]["title.text"], height=600)
    for trace in fig.data:  # the third run starts hidden; a click on its legend entry shows it
        if trace.legendgroup == "heavy ball, γ = 0.9":
            trace.visible = "legendonly"
    return fig


# --------------------------------------------------------------------------- live widget
def widget(kappa: float = 20.0, angle: float = 30.0, eta: float = 1.0, gamma: float = 0.5,
           method: str = "heavy ball", steps: int = 60) -> Live:
    """Live: every control re-runs the optimiser and updates the figure in place."""
    style = dict(description_width="initial")
    controls = dict(
        kappa=W.FloatLogSlider(value=kappa, base=10, min=0, max=3, step=0.05, description="κ", style=style),
        angle=W.FloatSlider(value=angle, min=0, max=90, step=5, description="rotation (°)", style=style),
        eta=W.FloatSlider(value=eta, min=0.02, max=4.0, step=0.01, description="η·L", readout_format=".3f",
                         style=style),
        gamma=W.FloatSlider(value=gamma, min=0.0, max=0.99, step=0.01, description="momentum γ",
                           readout_format=".3f", style=style),
        method=W.ToggleButtons(options=["GD", "heavy ball"], value=method, description="method", style=style),
        steps=W.IntSlider(value=steps, min=10, max=300, step=10, description="steps", style=style),
        optimal=W.Button(description="optimal (η, γ)", tooltip="set the step (and momentum) to the best fixed values"),
    )
    fig = go.FigureWidget(_base(Quadratic.ill_conditioned(kappa, np.deg2rad(angle)), ["run"]))
    info = readout()

    def current() -> dict:
        c = controls
        g = c["gamma"].value if c["method"].value == "heavy ball" else 0.0
        return compute(c["kappa"].value, c["angle"].value, c["eta"].value, g, c["steps"].value)

    def redraw(_=None):
        res = current()
        c = controls
        c["gamma"].disabled = c["method"].value == "GD"
        label = "GD" if c["method"].value == "GD" else f"heavy ball (γ = {c['gamma'].value:.2f})"
        run = _run_traces(res, label)
        with fig.batch_update():
            fig.data[0].update(**_contour(res["quadratic"]))
            for trace, upd in zip(fig.data[1:4], run):
                trace.update(**upd)
            fig.layout.title.text = f"{label} on a quadratic with κ = {c['kappa'].value:.0f}, η·L = {c['eta'].value:.2f}"
        state = "<b style='color:#D55E00'>diverges</b>" if res["diverges"] else "converges"
        info.value = (f"ρ = {res['rho']:.4f} ({state}); best GD: η = {res['eta_gd']:.3f}, ρ = {res['rate_gd']:.4f}; "
                      f"best heavy ball: η = {res['eta_hb']:.3f}, γ = {res['gamma_hb']:.3f}, ρ = {res['rate_hb']:.4f}")

    def snap(_):
        res = current()
        if controls["method"].value == "GD":
            controls["eta"].value = res["eta_gd"]
        else:  # exact values: near the optimum the rate is sensitive to gamma
            controls["gamma"].value = res["gamma_hb"]
            controls["eta"].value = res["eta_hb"]

    for name, control in controls.items():
        if name == "optimal":
            control.on_click(snap)
        else:
            control.observe(redraw, names="value")
    redraw()
    return Live(controls=controls, figures=[fig],
                children=[W.HBox([controls["method"], controls["optimal"]]),
                          W.HBox([controls["kappa"], controls["angle"], controls["steps"]]),
                          W.HBox([controls["eta"], controls["gamma"]]), info, fig])


def show(**kwargs) -> None:
    """The live widget in a kernel, the static figure on the website."""
    static_keys = {"kappa", "angle", "steps"}
    dual(widget(**kwargs), figure(**{k: v for k, v in kwargs.items() if k in static_keys}))
