"""Widget W10.1: the margin as a projection gap.

Project two separable point clouds onto a unit direction ``u(theta) = (cos theta, sin theta)``. The
positive class starts at ``a_+ = min <x_i, u>``, the negative class ends at ``a_- = max <x_i, u>``, and the
gap ``a_+ - a_-`` is the width of the empty slab between them (negative: the projections overlap).
Left panel: the data, ``u`` and the two supporting lines ``<x, u> = a_+-``; middle: the projections on a
line, the gap shaded; right: ``gap(theta)`` over the circle with the current angle and the best one,
which is the direction of the hard-margin SVM's ``w`` (from the closest points of the convex hulls).

* ``compute``: data, projections, gap, the sweep and the SVM direction;
* ``figure``: kernel-free, a slider over theta in 5-degree steps (plus the optimum);
* ``widget``: live, with theta, the data seed and a button that jumps to the best direction;
* ``show``: both, through :func:`lib.widgets.dual`.
"""
from __future__ import annotations

import math

import ipywidgets as W
import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .. import plotting
from ..svm_geometry import best_direction_2d, hull_closest_points, hull_to_svm, projection_gap
from . import Live, dual, readout, slider

BOX = 3.6  # the data panel shows [-BOX, BOX]^2


def data(seed: int = 0, n: int = 30) -> tuple[np.ndarray, np.ndarray]:
    """Two separable Gaussian clouds (n points each), centred near (1.2, 0.8) and (-1.2, -0.8).

    The clouds are pushed apart along the line of centres until their convex hulls are 0.3 apart.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed: expected a non-negative integer, got {seed!r}")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
        raise ValueError(f"n: expected an integer >= 2, got {n!r}")
    rng = np.random.default_rng(int(seed))
    centre = np.array([1.2, 0.8])
    Xp = rng.normal(size=(n, 2)) * 0.6 + centre
    Xn = rng.normal(size=(n, 2)) * 0.6 - centre
    shift = centre / np.linalg.norm(centre)
    while hull_closest_points(Xp, Xn)[2] < 0.3:
        Xp, Xn = Xp + 0.1 * shift, Xn - 0.1 * shift
    X = np.vstack([Xp, Xn])
    return X, np.r_[np.ones(n), -np.ones(n)]


def compute(theta: float = 30.0, seed: int = 0, n: int = 30) -> dict:
    """Everything the panels show at angle ``theta`` (degrees).

    Returns ``dict(X, y, u, s (projections), a_plus, a_minus, gap, angles (deg), gaps, theta_best (deg),
    gap_best, w_svm, b_svm, theta_svm (deg))``; ``gap_best`` equals the SVM slab width ``2 / ||w||``.
    """
    if not isinstance(theta, (int, float, np.floating, np.integer)) or not math.isfinite(theta):
        raise ValueError(f"theta: expected a finite angle in degrees, got {theta!r}")
    X, y = data(seed, n)
    t = math.radians(theta)
    u = np.array([math.cos(t), math.sin(t)])
    a_plus, a_minus, gap = projection_gap(X, y, u)
    u_best, gap_best, angles, gaps = best_direction_2d(X, y, n_angles=720)
    xp, xn, _, _, _ = hull_closest_points(X[y > 0], X[y < 0])
    w, b = hull_to_svm(xp, xn)
    return dict(X=X, y=y, theta=float(theta), u=u, s=X @ u, a_plus=a_plus, a_minus=a_minus, gap=gap,
                angles=np.degrees(angles), gaps=gaps,
                theta_best=math.degrees(math.atan2(u_best[1], u_best[0])) % 360, gap_best=gap_best,
                w_svm=w, b_svm=b, theta_svm=math.degrees(math.atan2(w[1], w[0])) % 360)


# --------------------------------------------------------------------------- drawing
def _line(u, a):
    """The line <x, u> = a inside the box, as two end points."""
    perp = np.array([-u[1], u[0]])
    p = np.array([a * u - 2 * BOX * perp, a * u + 2 * BOX * perp])
    return dict(x=p[:, 0].round(4).tolist(), y=p[:, 1].round(4).tolist())


def _moving(res: dict) -> list[dict]:
    """Updates for the moving traces, in figure order (see ``_base``)."""
    u, y, s = res["u"], res["y"], res["s"]
    lo, hi = sorted((res["a_minus"], res["a_plus"]))
    colour = "rgba(0,158,115,0.3)" if res["gap"] > 0 else "rgba(213,94,0,0.35)"
    return [dict(x=[0, 1.5 * u[0]], y=[0, 1.5 * u[1]]),                        # arrow u
            _line(u, res["a_plus"]), _line(u, res["a_minus"]),                   # supporting lines
            dict(x=s[y > 0].round(4).tolist(), y=[1] * int((y > 0).sum())),      # projections +
            dict(x=s[y < 0].round(4).tolist(), y=[-1] * int((y < 0).sum())),     # projections -
            dict(x=[lo, hi, hi, lo, lo], y=[-1.5, -1.5, 1.5, 1.5, -1.5], fillcolor=colour),
            dict(x=[res["theta"]], y=[res["gap"]])]                              # current angle


def _title(res: dict) -> str:
    state = "separated" if res["gap"] > 0 else "overlap"
    return (f"Margin as a projection gap: θ = {res['theta']:.1f}°, a₊ − a₋ = {res['gap']:.3f} ({state}); "
            f"best θ = {res['theta_best']:.1f}°, SVM w at {res['theta_svm']:.1f}°, 2/‖w‖ = "
            f"{2 / np.linalg.norm(res['w_svm']):.3f}")


def _base(res: dict) -> go.Figure:
    fig = make_subplots(rows=1, cols=3, column_widths=[0.36, 0.3, 0.34], horizontal_spacing=0.08,
                        subplot_titles=("data, direction u and supporting lines", "projections ⟨x, u⟩",
                                        "gap a₊ − a₋ against the angle of u"))
    X, y = res["X"], res["y"]
    c_pos, c_neg = plotting.PALETTE[0], plotting.PALETTE[3]
    fig.add_trace(go.Scatter(x=X[y > 0, 0], y=X[y > 0, 1], mode="markers", marker=dict(color=c_pos, size=7),
                             name="class +1"), row=1, col=1)
    fig.add_trace(go.Scatter(x=X[y < 0, 0], y=X[y < 0, 1], mode="markers", marker=dict(color=c_neg, size=7),
                             name="class −1"), row=1, col=1)
    fig.add_trace(go.Scatter(mode="lines+markers", line=dict(color="black", width=3),
                             marker=dict(symbol="arrow", angleref="previous", size=[1, 14]), name="u"), row=1, col=1)
    fig.add_trace(go.Scatter(mode="lines", line=dict(color=c_pos, dash="dash"), name="⟨x, u⟩ = a₊"), row=1, col=1)
    fig.add_trace(go.Scatter(mode="lines", line=dict(color=c_neg, dash="dash"), name="⟨x, u⟩ = a₋"), row=1, col=1)
    fig.add_trace(go.Scatter(mode="markers", marker=dict(color=c_pos, size=7, symbol="line-ns-open"),
                             showlegend=False, name="projections +1"), row=1, col=2)
    fig.add_trace(go.Scatter(mode="markers", marker=dict(color=c_neg, size=7, symbol="line-ns-open"),
                             showlegend=False, name="projections −1"), row=1, col=2)
    fig.add_trace(go.Scatter(mode="lines", fill="toself", line=dict(width=0), name="gap (red: overlap)"),
                  row=1, col=2)
    fig.add_trace(go.Scatter(x=res["angles"].round(3), y=res["gaps"].round(5), mode="lines",
                             line=dict(color=plotting.PALETTE[2]), name="gap(θ)"), row=1, col=3)
    fig.add_trace(go.Scatter(mode="markers", marker=dict(color="black", size=10), name="current θ"), row=1, col=3)
    fig.add_trace(go.Scatter(x=[res["theta_svm"]], y=[2 / np.linalg.norm(res["w_svm"])], mode="markers",
                             marker=dict(symbol="star", size=14, color=plotting.PALETTE[1]),
                             name="SVM direction: 2/‖w‖"), row=1, col=3)
    fig.update_xaxes(title_text="x₁", range=[-BOX, BOX], row=1, col=1)
    fig.update_yaxes(title_text="x₂", range=[-BOX, BOX], scaleanchor="x", scaleratio=1, row=1, col=1)
    fig.update_xaxes(title_text="⟨x, u⟩", range=[-BOX * 1.2, BOX * 1.2], row=1, col=2)
    fig.update_yaxes(title_text="class", tickvals=[-1, 1], range=[-2, 2], row=1, col=2)
    fig.update_xaxes(title_text="θ (degrees)", range=[0, 360], row=1, col=3)
    fig.update_yaxes(title_text="a₊ − a₋", row=1, col=3)
    fig.update_layout(height=470, margin=dict(t=110), legend=dict(orientation="h", yanchor="bottom", y=1.1, x=0),
                      title=_title(res), title_font_size=13)
    return fig


MOVING = [2, 3, 4, 5, 6, 7, 9]  # indices of the traces that change with theta


def _apply(fig, res):
    for i, upd in zip(MOVING, _moving(res)):
        fig.data[i].update(upd)


def figure(seed: int = 0, n: int = 30, step: float = 5.0) -> go.Figure:
    """Kernel-free: a slider over theta in ``step``-degree steps, with the best angle inserted."""
    base = compute(0.0, seed, n)
    best = round(base["theta_best"], 6)
    thetas = sorted({*np.arange(0.0, 360.0, step).round(6).tolist(), best})
    steps = []
    for t in thetas:
        res = {**base, **compute_light(base, t)}
        steps.append((f"{t:.1f}*" if t == best else f"{t:.0f}", _moving(res), {"title.text": _title(res)}))
    start = thetas.index(best)
    res = {**base, **compute_light(base, best)}
    fig = _base(res)
    _apply(fig, res)
    sl = slider(steps, prefix="θ = ", active=start)
    for s in sl["steps"]:  # restyle only the moving traces
        s["args"].append(MOVING)
    fig.update_layout(sliders=[sl], height=560)
    return fig


def compute_light(res: dict, theta: float) -> dict:
    """The theta-dependent part of :func:`compute`, reusing its data and sweep."""
    t = math.radians(theta)
    u = np.array([math.cos(t), math.sin(t)])
    a_plus, a_minus, gap = projection_gap(res["X"], res["y"], u)
    return dict(theta=float(theta), u=u, s=res["X"] @ u, a_plus=a_plus, a_minus=a_minus, gap=gap)


def widget(theta: float = 30.0, seed: int = 0, n: int = 30) -> Live:
    """Live: the angle, the data seed, and a button that jumps to the widest gap."""
    style = dict(description_width="initial")
    controls = dict(
        theta=W.FloatSlider(value=theta, min=0.0, max=359.5, step=0.5, description="θ (degrees)", style=style),
        seed=W.IntSlider(value=seed, min=0, max=20, description="data seed", style=style),
        best=W.Button(description="widest gap", tooltip="set θ to the direction with the largest gap"),
    )
    state = dict(seed=seed, base=compute(theta, seed, n))
    fig = go.FigureWidget(_base({**state["base"], **compute_light(state["base"], theta)}))
    info = readout()

    def redraw(_=None):
        if controls["seed"].value != state["seed"]:  # new data: recompute the sweep and the SVM
            state["seed"] = controls["seed"].value
            state["base"] = compute(controls["theta"].value, state["seed"], n)
        res = {**state["base"], **compute_light(state["base"], controls["theta"].value)}
        X, y = res["X"], res["y"]
        with fig.batch_update():
            fig.data[0].update(x=X[y > 0, 0], y=X[y > 0, 1])
            fig.data[1].update(x=X[y < 0, 0], y=X[y < 0, 1])
            fig.data[8].update(x=res["angles"], y=res["gaps"])
            fig.data[10].update(x=[res["theta_svm"]], y=[2 / np.linalg.norm(res["w_svm"])])
            _apply(fig, res)
            fig.layout.title.text = _title(res)
        info.value = (f"a₊ = {res['a_plus']:.3f}, a₋ = {res['a_minus']:.3f}; with Δ = (a₊ − a₋)/2 the hyperplane "
                      f"w = u/Δ has ‖w‖ = {2 / abs(res['gap']):.3f}" if res["gap"] > 0 else
                      "the projections overlap: no hyperplane orthogonal to this u separates the classes")

    def snap(_=None):
        controls["theta"].value = round(state["base"]["theta_best"] * 2) / 2

    controls["theta"].observe(redraw, names="value")
    controls["seed"].observe(redraw, names="value")
    controls["best"].on_click(snap)
    redraw()
    return Live(controls=controls, figures=[fig], children=[W.HBox(list(controls.values())), info, fig])


def show(**kwargs) -> None:
    """The live widget in a kernel, the static figure on the website."""
    static = {k: v for k, v in kwargs.items() if k in {"seed", "n"}}
    dual(widget(**kwargs), figure(**static))
