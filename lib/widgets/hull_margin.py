"""Widget W10.2: the SVM dual as the closest points of two convex hulls.

Two point clouds, their convex hulls, and the closest points ``xbar_+`` and ``xbar_-`` of the hulls. The
hard-margin SVM boundary is the perpendicular bisector of the segment between them; the margin lines
``w^T x + b = +-1`` pass through its ends, so the hull distance ``D`` is the full slab width ``2 / ||w||``.
The dual weights are the hull weights scaled by ``lambda = 2 / D^2``: ``sum_+ alpha = sum_- alpha = 2/D^2``.
Support vectors (nonzero weight) are ringed.

* ``compute``: data, hulls, closest points, ``(w, b)``, alphas and the readouts;
* ``figure``: kernel-free, a slider over the separation of the two clouds (fixed seed);
* ``widget``: live, with seed and separation sliders and a "move point k" dropdown with x/y sliders;
* ``show``: both, through :func:`lib.widgets.dual`.
"""
from __future__ import annotations

import ipywidgets as W
import numpy as np
import plotly.graph_objects as go

from .. import plotting
from ..svm_geometry import hull_closest_points, hull_to_svm, hull_vertices
from . import Live, dual, readout, slider

BOX = 4.0
SEPARATIONS = (0.6, 0.9, 1.2, 1.5, 1.8, 2.1, 2.4, 2.7, 3.0)


def data(seed: int = 1, separation: float = 2.0, n: int = 12) -> tuple[np.ndarray, np.ndarray]:
    """n points per class from two Gaussian clouds whose centres are ``separation`` apart along (1, 1)/sqrt(2)."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed: expected a non-negative integer, got {seed!r}")
    if not isinstance(separation, (int, float, np.floating, np.integer)) or not separation >= 0:
        raise ValueError(f"separation: expected a non-negative number, got {separation!r}")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n: expected an integer >= 1, got {n!r}")
    rng = np.random.default_rng(int(seed))
    direction = np.array([1.0, 1.0]) / np.sqrt(2)
    Xp = rng.normal(size=(n, 2)) * 0.55 + separation / 2 * direction
    Xn = rng.normal(size=(n, 2)) * 0.55 - separation / 2 * direction
    return np.vstack([Xp, Xn]), np.r_[np.ones(n), -np.ones(n)]


def compute(X, y) -> dict:
    """Hulls, closest points and the SVM of the labelled 2-D points ``X`` (labels in {-1, +1}).

    Returns ``dict(X, y, separable, hull_plus, hull_minus (vertex indices into each class), xbar_plus,
    xbar_minus, D, w, b, alpha (n,), sum_plus, sum_minus, support (indices))``; when the hulls touch
    (``D`` ~ 0) the data are not separable and ``w``, ``b``, ``alpha`` are None.
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"X: expected an (n, 2) array, got shape {X.shape}")
    if y.shape != (X.shape[0],) or not np.all(np.isin(y, (-1.0, 1.0))) or not (np.any(y > 0) and np.any(y < 0)):
        raise ValueError("y: expected one label in {-1, +1} per row of X, both classes present")
    P, N = X[y > 0], X[y < 0]
    xp, xn, D, g, h = hull_closest_points(P, N)
    res = dict(X=X, y=y, hull_plus=hull_vertices(P), hull_minus=hull_vertices(N), xbar_plus=xp, xbar_minus=xn,
               D=D, separable=bool(D > 1e-6), w=None, b=None, alpha=None, sum_plus=None, sum_minus=None,
               support=np.array([], dtype=int))
    if res["separable"]:
        w, b = hull_to_svm(xp, xn)
        lam = 2 / D**2
        alpha = np.zeros(X.shape[0])
        alpha[y > 0], alpha[y < 0] = lam * g, lam * h
        res.update(w=w, b=b, alpha=alpha, sum_plus=float(alpha[y > 0].sum()), sum_minus=float(alpha[y < 0].sum()),
                   support=np.flatnonzero(alpha > 1e-6 * lam))
    return res


# --------------------------------------------------------------------------- drawing
def _polygon(P, idx):
    ring = np.r_[idx, idx[:1]]
    return dict(x=P[ring, 0].round(4).tolist(), y=P[ring, 1].round(4).tolist())


def _line(w, level, b):
    """Points of ``w^T x + b = level`` across the box."""
    u = w / np.linalg.norm(w)
    perp = np.array([-u[1], u[0]])
    x0 = (level - b) / np.linalg.norm(w) * u
    p = np.array([x0 - 3 * BOX * perp, x0 + 3 * BOX * perp])
    return dict(x=p[:, 0].round(4).tolist(), y=p[:, 1].round(4).tolist())


def _traces(res: dict) -> list[dict]:
    X, y = res["X"], res["y"]
    P, N = X[y > 0], X[y < 0]
    xp, xn = res["xbar_plus"], res["xbar_minus"]
    out = [dict(x=P[:, 0].round(4).tolist(), y=P[:, 1].round(4).tolist()),
           dict(x=N[:, 0].round(4).tolist(), y=N[:, 1].round(4).tolist()),
           _polygon(P, res["hull_plus"]), _polygon(N, res["hull_minus"]),
           dict(x=[xp[0], xn[0]], y=[xp[1], xn[1]])]
    if res["separable"]:
        sv = X[res["support"]]
        out += [_line(res["w"], 0.0, res["b"]), _line(res["w"], 1.0, res["b"]), _line(res["w"], -1.0, res["b"]),
                dict(x=sv[:, 0].round(4).tolist(), y=sv[:, 1].round(4).tolist())]
    else:
        out += [dict(x=[], y=[])] * 4
    return out


def _title(res: dict) -> str:
    if not res["separable"]:
        return "Convex hulls overlap: D = 0, the classes are not linearly separable (no hard margin)"
    return (f"Closest points of the hulls: D = {res['D']:.3f} = 2/‖w‖ = {2 / np.linalg.norm(res['w']):.3f}; "
            f"Σ₊α = {res['sum_plus']:.3f}, Σ₋α = {res['sum_minus']:.3f}, 2/D² = {2 / res['D'] ** 2:.3f}")


def _base() -> go.Figure:
    c_pos, c_neg = plotting.PALETTE[0], plotting.PALETTE[3]
    fig = go.Figure([
        go.Scatter(mode="markers", marker=dict(color=c_pos, size=8), name="class +1"),
        go.Scatter(mode="markers", marker=dict(color=c_neg, size=8), name="class −1"),
        go.Scatter(mode="lines", fill="toself", fillcolor="rgba(0,114,178,0.15)", line=dict(color=c_pos, width=1),
                   name="conv(class +1)"),
        go.Scatter(mode="lines", fill="toself", fillcolor="rgba(213,94,0,0.15)", line=dict(color=c_neg, width=1),
                   name="conv(class −1)"),
        go.Scatter(mode="lines+markers", line=dict(color="black", width=2), marker=dict(size=9, symbol="diamond"),
                   name="closest points x̄₊, x̄₋"),
        go.Scatter(mode="lines", line=dict(color=plotting.PALETTE[2], width=3), name="boundary wᵀx + b = 0"),
        go.Scatter(mode="lines", line=dict(color=c_pos, dash="dash"), name="wᵀx + b = +1"),
        go.Scatter(mode="lines", line=dict(color=c_neg, dash="dash"), name="wᵀx + b = −1"),
        go.Scatter(mode="markers", marker=dict(size=16, color="rgba(0,0,0,0)", line=dict(color="black", width=1.5)),
                   name="support vectors"),
    ])
    fig.update_xaxes(title_text="x₁", range=[-BOX, BOX])
    fig.update_yaxes(title_text="x₂", range=[-BOX, BOX], scaleanchor="x", scaleratio=1)
    fig.update_layout(height=620, title_font_size=13, margin=dict(t=90))
    return fig


def _apply(fig, res):
    for trace, upd in zip(fig.data, _traces(res)):
        trace.update(upd)
    fig.layout.title.text = _title(res)


def figure(seed: int = 1, n: int = 12, separations=SEPARATIONS) -> go.Figure:
    """Kernel-free: a slider over the distance between the cloud centres (fixed seed)."""
    steps = []
    for s in separations:
        res = compute(*data(seed, s, n))
        steps.append((f"{s:g}", _traces(res), {"title.text": _title(res)}))
    start = len(steps) // 2
    fig = _base()
    _apply(fig, compute(*data(seed, separations[start], n)))
    fig.update_layout(sliders=[slider(steps, prefix="distance between the cloud centres = ", active=start)],
                      height=700)
    return fig


def widget(seed: int = 1, separation: float = 2.1, n: int = 12) -> Live:
    """Live: seed, separation, and any point moved by hand."""
    style = dict(description_width="initial")
    controls = dict(
        seed=W.IntSlider(value=seed, min=0, max=30, description="seed", style=style),
        separation=W.FloatSlider(value=separation, min=0.0, max=4.0, step=0.1, description="separation", style=style),
        point=W.Dropdown(options=[(f"{'+' if k < n else '−'} point {k % n}", k) for k in range(2 * n)], value=0,
                         description="move point", style=style),
        px=W.FloatSlider(value=0.0, min=-BOX, max=BOX, step=0.05, description="x₁", style=style),
        py=W.FloatSlider(value=0.0, min=-BOX, max=BOX, step=0.05, description="x₂", style=style),
    )
    state = dict(X=None, y=None, syncing=False)
    fig = go.FigureWidget(_base())
    info = readout()

    def sync_point():
        state["syncing"] = True
        k = controls["point"].value
        controls["px"].value, controls["py"].value = float(state["X"][k, 0]), float(state["X"][k, 1])
        state["syncing"] = False

    def draw():
        res = compute(state["X"], state["y"])
        with fig.batch_update():
            _apply(fig, res)
        info.value = ("support vectors: " + ", ".join(str(int(k)) for k in res["support"])
                      + f"; b = {res['b']:.3f}" if res["separable"] else "the hulls overlap")

    def new_data(_=None):
        state["X"], state["y"] = data(controls["seed"].value, controls["separation"].value, n)
        sync_point()
        draw()

    def move(_=None):
        if state["syncing"]:
            return
        state["X"][controls["point"].value] = controls["px"].value, controls["py"].value
        draw()

    controls["seed"].observe(new_data, names="value")
    controls["separation"].observe(new_data, names="value")
    controls["point"].observe(lambda _: sync_point(), names="value")
    controls["px"].observe(move, names="value")
    controls["py"].observe(move, names="value")
    new_data()
    return Live(controls=controls, figures=[fig],
                children=[W.HBox([controls["seed"], controls["separation"]]),
                          W.HBox([controls["point"], controls["px"], controls["py"]]), info, fig])


def show(**kwargs) -> None:
    """The live widget in a kernel, the static figure on the website."""
    static = {k: v for k, v in kwargs.items() if k in {"seed", "n"}}
    dual(widget(**kwargs), figure(**static))
