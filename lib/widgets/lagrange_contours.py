"""Widget W10.8: Lagrange multipliers on a contour plot.

A point moves along a constraint curve ``c(x) = 0`` over the level sets of an objective ``f``. At the point
the widget draws ``grad f`` and ``grad c``; at the constrained minimum they are parallel,
``grad f = lambda grad c``, and ``lambda`` is read off. Problems:

* ``"quadratic/circle"``: ``f = (x - m)^T A (x - m)``, ``c = ||x||^2 - r^2``;
* ``"quadratic/line"``: the same ``f``, ``c = a^T x - 1``;
* ``"linear/circle"``: ``f = g^T x``, ``c = ||x||^2 - r^2`` (the minimum is ``-r g / ||g||``).

Inequality mode (``c(x) <= 0``, ``lambda >= 0``) shows complementary slackness: when the unconstrained
minimum ``m`` is feasible the constraint is inactive and ``lambda = 0``.

* ``compute``: the point, both gradients, their cosine, the optimum and its multiplier;
* ``figure``: kernel-free, a slider that moves the point along the constraint;
* ``widget``: live, with the problem, the position, the circle's radius and equality/inequality mode;
* ``show``: both, through :func:`lib.widgets.dual`.
"""
from __future__ import annotations

import math

import ipywidgets as W
import numpy as np
import plotly.graph_objects as go

from .. import plotting
from . import Live, dual, readout, slider

PROBLEMS = ("quadratic/circle", "quadratic/line", "linear/circle")
M = np.array([1.6, 0.9])                       # the unconstrained minimum of the quadratic
A = np.array([[1.0, 0.35], [0.35, 0.6]])        # its (positive definite) curvature
G = np.array([1.0, 0.6])                        # the linear objective's gradient
LINE = np.array([-0.5, 1.0])                    # the line a^T x = 1
BOX = 2.6


def _check(problem, radius, mode):
    if problem not in PROBLEMS:
        raise ValueError(f"problem: expected one of {PROBLEMS}, got {problem!r}")
    if not isinstance(radius, (int, float, np.floating, np.integer)) or not radius > 0:
        raise ValueError(f"radius: expected a positive number, got {radius!r}")
    if mode not in ("equality", "inequality"):
        raise ValueError(f"mode: expected 'equality' or 'inequality', got {mode!r}")


def f(problem: str, x) -> np.ndarray:
    """The objective at points ``x`` (..., 2)."""
    x = np.asarray(x, dtype=float)
    if problem.startswith("linear"):
        return x @ G
    d = x - M
    return np.einsum("...i,ij,...j->...", d, A, d)


def grad_f(problem: str, x) -> np.ndarray:
    return G.copy() if problem.startswith("linear") else 2 * A @ (np.asarray(x, dtype=float) - M)


def _curve(problem: str, t, radius: float) -> tuple[np.ndarray, np.ndarray]:
    """Point and constraint gradient at parameter t (an angle on the circle, arc length on the line)."""
    if problem.endswith("circle"):
        x = radius * np.array([math.cos(t), math.sin(t)])
        return x, 2 * x
    a = LINE
    x0 = a / (a @ a)
    d = np.array([-a[1], a[0]]) / np.linalg.norm(a)
    return x0 + t * d, a.copy()


def _curve_many(problem: str, ts, radius: float) -> np.ndarray:
    """Points of the constraint at many parameters, shape (len(ts), 2)."""
    ts = np.asarray(ts, dtype=float)
    if problem.endswith("circle"):
        return radius * np.stack([np.cos(ts), np.sin(ts)], axis=1)
    x0 = LINE / (LINE @ LINE)
    d = np.array([-LINE[1], LINE[0]]) / np.linalg.norm(LINE)
    return x0 + ts[:, None] * d


def _t_range(problem):
    return (-math.pi, math.pi) if problem.endswith("circle") else (-2.5, 2.5)


def optimum(problem: str = "quadratic/circle", radius: float = 1.0, mode: str = "equality") -> dict:
    """The constrained minimum: ``dict(x, t, lam, active)``, found by a dense search along the constraint
    polished by golden-section steps.

    For an equality constraint ``lam`` solves ``grad f = lam grad c`` (either sign: stationarity of
    ``L = f - lam c``). For ``c(x) <= 0`` the KKT conditions read ``grad f + mu grad c = 0``, ``mu >= 0``,
    ``mu c(x) = 0``, and ``lam`` reports ``mu`` (zero when the constraint is inactive).
    """
    _check(problem, radius, mode)
    if mode == "inequality" and problem.startswith("quadratic"):
        feasible = (M @ M <= radius**2) if problem.endswith("circle") else (LINE @ M <= 1)
        if feasible:
            return dict(x=M.copy(), t=None, lam=0.0, active=False)
    lo, hi = _t_range(problem)
    ts = np.linspace(lo, hi, 2001)
    vals = f(problem, _curve_many(problem, ts, radius))
    k = int(np.argmin(vals))
    # polish with a few Newton-free golden-section steps on the bracket
    a, b = ts[max(k - 1, 0)], ts[min(k + 1, len(ts) - 1)]
    phi = (math.sqrt(5) - 1) / 2
    for _ in range(80):
        c1, c2 = b - phi * (b - a), a + phi * (b - a)
        if f(problem, _curve(problem, c1, radius)[0]) < f(problem, _curve(problem, c2, radius)[0]):
            b = c2
        else:
            a = c1
    t = (a + b) / 2
    x, gc = _curve(problem, t, radius)
    gf = grad_f(problem, x)
    lam = float(gf @ gc / (gc @ gc))
    if mode == "inequality":
        lam = -lam  # grad f + mu grad c = 0
    return dict(x=x, t=float(t), lam=lam, active=True)


def compute(t: float = 0.0, problem: str = "quadratic/circle", radius: float = 1.0, mode: str = "equality",
            opt: dict | None = None) -> dict:
    """The moving point at parameter ``t``: ``dict(x, f, grad_f, grad_c, cosine (between the gradients),
    lam_here (least-squares multiplier at x), opt (see :func:`optimum`; pass it to skip the search))``."""
    _check(problem, radius, mode)
    if not isinstance(t, (int, float, np.floating, np.integer)) or not math.isfinite(t):
        raise ValueError(f"t: expected a finite number, got {t!r}")
    x, gc = _curve(problem, t, radius)
    gf = grad_f(problem, x)
    cos = float(gf @ gc / (np.linalg.norm(gf) * np.linalg.norm(gc) + 1e-300))
    return dict(x=x, f=float(f(problem, x)), grad_f=gf, grad_c=gc, cosine=cos,
                lam_here=float(gf @ gc / (gc @ gc)), opt=opt if opt is not None else optimum(problem, radius, mode))


# --------------------------------------------------------------------------- drawing
def _arrow(x, v, scale=0.5):
    v = np.asarray(v, dtype=float)
    n = np.linalg.norm(v)
    end = x + scale * v / n if n > 0 else x
    return dict(x=[float(x[0]), float(end[0])], y=[float(x[1]), float(end[1])])


def _constraint(problem, radius):
    lo, hi = _t_range(problem)
    pts = _curve_many(problem, np.linspace(lo, hi, 121), radius)
    return dict(x=pts[:, 0].round(4).tolist(), y=pts[:, 1].round(4).tolist())


def _moving(res):
    x = res["x"]
    return [dict(x=[float(x[0])], y=[float(x[1])]), _arrow(x, res["grad_f"]), _arrow(x, res["grad_c"])]


def _title(res, problem, mode):
    o = res["opt"]
    where = "the unconstrained minimum is feasible: constraint inactive, λ = 0" if not o["active"] else \
        f"at the optimum λ = {o['lam']:.3f}"
    return (f"Lagrange multipliers ({problem}, {mode}): cos∠(∇f, ∇c) = {res['cosine']:.3f} here, "
            f"f = {res['f']:.3f}; {where}")


def _base(problem, radius, res, mode) -> go.Figure:
    g = np.linspace(-BOX, BOX, 61)
    xx, yy = np.meshgrid(g, g)
    z = f(problem, np.stack([xx, yy], axis=-1))
    o = res["opt"]
    fig = go.Figure([
        go.Contour(x=g.round(3), y=g.round(3), z=z.round(4), colorscale=plotting.SEQUENTIAL, showscale=False,
                   ncontours=20, contours=dict(coloring="lines"), name="level sets of f", hoverinfo="skip"),
        go.Scatter(mode="lines", line=dict(color="black", width=2), name="constraint c(x) = 0",
                   **_constraint(problem, radius)),
        go.Scatter(x=[float(o["x"][0])], y=[float(o["x"][1])], mode="markers",
                   marker=dict(symbol="star", size=15, color=plotting.PALETTE[1]), name="constrained minimum"),
        go.Scatter(mode="markers", marker=dict(size=11, color="black"), name="point on the constraint"),
        go.Scatter(mode="lines+markers", line=dict(color=plotting.PALETTE[0], width=3),
                   marker=dict(symbol="arrow", angleref="previous", size=[1, 13]), name="∇f (scaled)"),
        go.Scatter(mode="lines+markers", line=dict(color=plotting.PALETTE[3], width=3),
                   marker=dict(symbol="arrow", angleref="previous", size=[1, 13]), name="∇c (scaled)"),
    ])
    for tr, upd in zip(fig.data[3:], _moving(res)):
        tr.update(upd)
    fig.update_xaxes(title_text="x₁", range=[-BOX, BOX])
    fig.update_yaxes(title_text="x₂", range=[-BOX, BOX], scaleanchor="x", scaleratio=1)
    fig.update_layout(height=620, title=_title(res, problem, mode), title_font_size=13, margin=dict(t=80))
    return fig


def figure(problem: str = "quadratic/circle", radius: float = 1.0, n_steps: int = 36) -> go.Figure:
    """Kernel-free: a slider moves the point along the constraint (the optimum is one of the steps)."""
    lo, hi = _t_range(problem)
    opt = optimum(problem, radius)
    ts = sorted({*np.linspace(lo, hi, n_steps, endpoint=problem.endswith("line")).round(6).tolist(),
                 round(opt["t"], 6)})
    steps = []
    for t in ts:
        res = compute(t, problem, radius, opt=opt)
        steps.append(("opt" if t == round(opt["t"], 6) else f"{t:.2f}", _moving(res),
                      {"title.text": _title(res, problem, "equality")}))
    start = ts.index(round(opt["t"], 6))
    fig = _base(problem, radius, compute(ts[start], problem, radius, opt=opt), "equality")
    sl = slider(steps, prefix="position on the constraint t = ", active=start)
    for s in sl["steps"]:
        s["args"].append([3, 4, 5])
    fig.update_layout(sliders=[sl], height=700)
    return fig


def widget(problem: str = "quadratic/circle", t: float = 0.0, radius: float = 1.0, mode: str = "equality") -> Live:
    """Live: the problem, the position along the constraint, the circle's radius and the constraint type."""
    style = dict(description_width="initial")
    controls = dict(
        problem=W.Dropdown(options=list(PROBLEMS), value=problem, description="problem", style=style),
        t=W.FloatSlider(value=t, min=-math.pi, max=math.pi, step=0.02, description="position t", style=style),
        radius=W.FloatSlider(value=radius, min=0.3, max=2.5, step=0.05, description="circle radius r", style=style),
        mode=W.ToggleButtons(options=["equality", "inequality"], value=mode, description="constraint", style=style),
    )
    fig = go.FigureWidget(_base(problem, radius, compute(t, problem, radius, mode), mode))
    info = readout()

    def redraw(_=None):
        c = {k: v.value for k, v in controls.items()}
        res = compute(c["t"], c["problem"], c["radius"], c["mode"])
        g = np.linspace(-BOX, BOX, 61)
        xx, yy = np.meshgrid(g, g)
        with fig.batch_update():
            fig.data[0].z = f(c["problem"], np.stack([xx, yy], axis=-1))
            fig.data[1].update(_constraint(c["problem"], c["radius"]))
            fig.data[2].update(x=[float(res["opt"]["x"][0])], y=[float(res["opt"]["x"][1])])
            for tr, upd in zip(fig.data[3:], _moving(res)):
                tr.update(upd)
            fig.layout.title.text = _title(res, c["problem"], c["mode"])
        info.value = (f"at this point ∇f ≈ λ∇c with least-squares λ = {res['lam_here']:.3f}; "
                      f"the gradients are parallel (|cos| = 1) only at stationary points of f on the constraint")

    for control in controls.values():
        control.observe(redraw, names="value")
    redraw()
    return Live(controls=controls, figures=[fig],
                children=[W.HBox([controls["problem"], controls["mode"]]),
                          W.HBox([controls["t"], controls["radius"]]), info, fig])


def show(**kwargs) -> None:
    """The live widget in a kernel, the static figure on the website."""
    static = {k: v for k, v in kwargs.items() if k in {"problem", "radius"}}
    dual(widget(**kwargs), figure(**static))
