"""W1.4 Convex combinations: one formula, x = sum_i alpha_i P_i with alpha_i >= 0 and sum_i alpha_i = 1,
seen four ways. Each idea is one tab of the live widget and one static figure on the website:

    hull      points, their convex hull, and a combination of them (affine when a weight is negative)
    chord     the chord test of convexity on seven one-dimensional functions
    models    a training loss along the straight line between two parameter vectors
    averages  EMA, Adam's bias correction, heavy-ball momentum and Polyak-Ruppert averaging as weights

``compute(tab, **params)`` returns the numbers behind one view; ``figure(tab)`` the kernel-free plotly
figure of one view (a slider, and a menu where there is a choice, every state precomputed);
``widget()`` the live ipywidgets ``Tab``; ``show()`` one output holding both: the live Tab in a kernel,
the four static figures (one per tab, in order) on the website, so neither face repeats the other.
"""
from __future__ import annotations

from functools import lru_cache

import ipywidgets as W
import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots
from scipy.signal import lfilter
from scipy.special import expit
from sklearn.datasets import make_moons
from sklearn.linear_model import LogisticRegression

from .. import plotting
from ..convex import (TOL, chord_gap, convex_combination, convex_hull_2d, convexity_violations,
                      ema_weights, heavy_ball_weights, interpolate, loss_along_segment, mean_bce,
                      mlp_logits, permute_hidden, softmax_weights, train_mlp, uniform_average_weights)
from ..data import galton_families
from . import Dual, Live, readout, slider

TABS = ("hull", "chord", "models", "averages")
TAB_TITLES = ("Segment & hull", "Chord test", "Interpolating models", "Averages over time")
BLUE, ORANGE, GREEN, RED = (plotting.PALETTE[i] for i in (0, 1, 2, 3))
GREY = "rgba(128,128,128,0.8)"


def _device(device) -> str:
    if device is None:
        from ..device import get_device
        return str(get_device())
    return str(device)


def _place(s: dict, traces: list[int], x: float = 0.0, length: float = 1.0) -> dict:
    """Make a ``lib.widgets.slider`` restyle only ``traces`` and sit at [x, x + length] under the plots."""
    for step in s["steps"]:
        step["args"].append(traces)
    s.update(x=x, len=length, y=0, yanchor="top", pad=dict(t=55, b=10))
    return s


def _static_layout(fig: go.Figure, title: str, buttons=None, height: int = 620, top: int = 90,
                   bottom: int = 190) -> go.Figure:
    """Title, size and legend (at the very bottom); the menu, if any, sits under the title on the left,
    away from plotly's mode bar, which appears on the right."""
    fig.update_layout(title=dict(text=title, yref="container", y=1 - 14 / height, yanchor="top"),
                      height=height, margin=dict(t=top, b=bottom),
                      legend=dict(orientation="h", yref="container", y=0.0, yanchor="bottom", x=0.0))
    if buttons:
        fig.update_layout(updatemenus=[dict(buttons=buttons, x=0.0, xanchor="left", yanchor="top",
                                            y=1 + (top - 44) / (height - top - bottom))])
    return fig


def _menu(labels, per: int, extra: int = 0, layouts=None) -> list[dict]:
    """Buttons that show trace group i (``per`` traces each) plus ``extra`` shared traces at the end."""
    return [dict(label=label, method="update", args=[
        {"visible": [g == i for g in range(len(labels)) for _ in range(per)] + [True] * extra},
        layouts[i] if layouts else {}]) for i, label in enumerate(labels)]


def _add(fig: go.Figure, traces, visible: bool = True) -> None:
    for tr, col in traces:
        fig.add_trace(tr.update(visible=visible), row=1, col=col)


# =========================================================================== 1. segment & hull
POINTS = np.array([[0.0, 0.0], [4.0, 1.0], [3.0, 3.4], [0.6, 2.8]])  # A, B, C, D
NAMES = "ABCD"
SOFTMAX_LOGITS = np.array([2.0, 0.5, -1.0, 1.0])


def compute_hull(k: int = 3, r: float = 0.5, affine: bool = False, weights=None, logits=None) -> dict:
    """The combination x = sum_i alpha_i P_i of the first k of POINTS (A, B, C, D).

    k = 2: alpha = (1 - r, r); r outside [0, 1] needs ``affine=True`` (x leaves the segment).
    k = 3, 4: alpha = softmax(logits) if logits are given, else the non-negative ``weights``
    divided by their sum (equal weights by default). Returns points, hull (vertices), alpha, x, inside.
    """
    if k not in (2, 3, 4):
        raise ValueError(f"k: expected 2, 3 or 4 points, got {k!r}")
    P = POINTS[:k]
    if k == 2:
        alpha = np.array([1.0 - r, r])
    elif logits is not None:
        if np.shape(logits) != (k,):
            raise ValueError(f"logits: expected shape ({k},), got {np.shape(logits)}")
        alpha = softmax_weights(logits)
    else:
        w = np.ones(k) if weights is None else np.asarray(weights, dtype=float)
        if w.shape != (k,) or np.any(w < 0) or not w.sum() > 0:
            raise ValueError(f"weights: expected {k} non-negative numbers, not all 0, got {weights!r}")
        alpha = w / w.sum()
    x = convex_combination(P, alpha, affine=affine)
    return dict(points=P, hull=convex_hull_2d(P), alpha=alpha, x=x, inside=bool(np.all(alpha >= 0)))


def _closed(hull: np.ndarray) -> tuple[list, list]:
    return [*hull[:, 0], hull[0, 0]], [*hull[:, 1], hull[0, 1]]


def _hull_text(s: dict) -> str:
    where = "inside the hull" if s["inside"] else "<b>outside the hull</b>: a weight is negative"
    return "α = (" + ", ".join(f"{a:.2f}" for a in s["alpha"]) + f"), sum = {s['alpha'].sum():.2f}<br>" + where


def _hull_traces(s: dict, show_line: bool) -> list[go.Scatter]:
    """hull, the line through A and B, the points, x (4 traces)."""
    hx, hy = _closed(s["hull"])
    A, B = POINTS[:2]
    line = np.array([A + t * (B - A) for t in (-0.5, 1.5)])
    return [
        go.Scatter(x=hx, y=hy, fill="toself", mode="lines", line=dict(color=GREEN, width=3 if len(hx) < 4 else 2),
                   fillcolor="rgba(0,158,115,0.18)", name="convex hull (all α ≥ 0)"),
        go.Scatter(x=line[:, 0], y=line[:, 1], mode="lines", line=dict(color=GREY, dash="dot"),
                   name="line through A, B (any r)", visible=show_line),
        go.Scatter(x=s["points"][:, 0], y=s["points"][:, 1], mode="markers+text",
                   text=list(NAMES[:len(s["points"])]), textposition="top left", marker=dict(color=BLUE, size=10), name="points"),
        go.Scatter(x=s["x"][:1], y=s["x"][1:], mode="markers", name="x = Σ α_i P_i (red: outside)",
                   marker=dict(size=14, color=ORANGE if s["inside"] else RED, symbol="diamond")),
    ]


def _figure_hull() -> go.Figure:
    fig = make_subplots(1, 2, horizontal_spacing=0.1, subplot_titles=(
        "two points: x = (1 − r) A + r B", "four points: α = softmax(z / T)"))
    rs, temps, i0 = np.round(np.linspace(-0.5, 1.5, 21), 2), np.geomspace(0.1, 20.0, 21), 10
    seg, soft = compute_hull(2, rs[i0]), compute_hull(4, logits=SOFTMAX_LOGITS / temps[i0])
    _add(fig, [(tr, 1) for tr in _hull_traces(seg, show_line=True)])
    path = np.array([softmax_weights(SOFTMAX_LOGITS / T) @ POINTS for T in np.geomspace(0.05, 100, 200)])
    soft_traces = _hull_traces(soft, show_line=False)
    soft_traces[1] = go.Scatter(x=path[:, 0], y=path[:, 1], mode="lines", line=dict(color=GREY, dash="dash"),
                                name="softmax path, T from 0 to ∞")
    _add(fig, [(tr.update(showlegend=i == 1), 2) for i, tr in enumerate(soft_traces)])
    for axis, s in (("", seg), ("2", soft)):
        fig.add_annotation(text=_hull_text(s), xref=f"x{axis} domain", yref=f"y{axis} domain", x=0.02, y=0.98,
                           xanchor="left", yanchor="top", showarrow=False, align="left")

    def seg_step(r):
        s = compute_hull(2, r, affine=True)
        return (f"{r:.2f}", [{"x": s["x"][:1], "y": s["x"][1:], "marker.color": ORANGE if s["inside"] else RED}],
                {"annotations[2].text": _hull_text(s)})

    def soft_step(T):
        s = compute_hull(4, logits=SOFTMAX_LOGITS / T)
        return f"{T:.2f}", [dict(x=s["x"][:1], y=s["x"][1:])], {"annotations[3].text": _hull_text(s)}

    fig.update_layout(sliders=[
        _place(slider([seg_step(r) for r in rs], "r = ", active=i0), [3], 0.0, 0.45),
        _place(slider([soft_step(T) for T in temps], "temperature T = ", active=i0), [7], 0.55, 0.45)])
    fig.update_xaxes(title_text="x₁", range=[-2.4, 6.4], row=1, col=1)
    fig.update_xaxes(title_text="x₁", range=[-0.8, 4.8], row=1, col=2)
    fig.update_yaxes(title_text="x₂", scaleanchor="x", row=1, col=1)
    fig.update_yaxes(title_text="x₂", scaleanchor="x2", row=1, col=2)
    return _static_layout(fig, "Convex combinations stay in the hull; affine ones can leave it")


# =========================================================================== 2. chord test
@lru_cache(maxsize=1)
def _galton_sex_data() -> tuple[np.ndarray, np.ndarray]:
    df = galton_families()
    h = df["childHeight"].to_numpy(float)
    return (h - h.mean()) / h.std(), df["male"].to_numpy(float)


def galton_logistic_nll(w):
    """Mean NLL of the one-parameter model P(male | z) = sigmoid(w z), z = standardised height
    (Galton's 934 children), for each w in an array: mean_i log(1 + e^{w z_i}) - y_i w z_i."""
    z, y = _galton_sex_data()
    s = np.multiply.outer(np.asarray(w, dtype=float), z)
    return np.mean(np.logaddexp(0.0, s) - y * s, axis=-1)


def huber(x, delta: float = 1.0):
    """Huber loss: x^2 / 2 for |x| <= delta, delta (|x| - delta / 2) beyond."""
    ax = np.abs(x)
    return np.where(ax <= delta, 0.5 * np.square(x), delta * (ax - 0.5 * delta))


# name -> (f, plotting range, (a, b) of the static figure and the live widget's start)
FUNCTIONS = {
    "x^2": (np.square, (-3.0, 3.0), (-2.0, 2.5)),
    "|x|": (np.abs, (-3.0, 3.0), (-2.0, 1.0)),
    "softplus": (lambda x: np.logaddexp(0.0, x), (-4.0, 4.0), (-3.0, 2.5)),
    "logistic NLL": (galton_logistic_nll, (-2.0, 7.0), (-1.5, 6.0)),
    "Huber": (huber, (-3.0, 3.0), (-2.5, 1.5)),
    "x^4 - 3x^2": (lambda x: x ** 4 - 3 * x ** 2, (-2.2, 2.2), (-1.5, 1.5)),
    "sin x": (np.sin, (-4.0, 4.0), (-1.0, 2.8)),
}
LABELS = {"x^2": "x²", "|x|": "|x|", "softplus": "softplus log(1 + eˣ)",
          "logistic NLL": "logistic NLL in w (Galton: sex from height)", "Huber": "Huber (δ = 1)",
          "x^4 - 3x^2": "x⁴ − 3x² (not convex)", "sin x": "sin x (not convex)"}


@lru_cache(maxsize=16)
def _curve(f: str, n: int) -> tuple[np.ndarray, np.ndarray]:
    fn, (lo, hi), _ = FUNCTIONS[f]
    xs = np.linspace(lo, hi, n)
    return xs, fn(xs)


def compute_chord(f: str = "x^4 - 3x^2", a: float = -1.5, b: float = 1.5, r: float = 0.5, n: int = 401) -> dict:
    """The chord test for FUNCTIONS[f] between a and b, at x_r = (1 - r) a + r b.

    Returns the curve (xs, fx) over the function's plotting range, the chord ends (a, fa), (b, fb),
    x_r with f_xr = f(x_r) and chord_r = (1 - r) f(a) + r f(b), gap = chord_r - f_xr (>= 0 for a
    convex f), violations (the r of a 201-point grid where this chord is below f), convex_ab (no
    negative second difference of f on a 201-point grid of [a, b]) and the region where the chord is
    below f (shade_x, shade_y: closed pieces separated by None).
    """
    if f not in FUNCTIONS:
        raise ValueError(f"f: expected one of {list(FUNCTIONS)}, got {f!r}")
    if not 0.0 <= r <= 1.0:
        raise ValueError(f"r: expected a number in [0, 1], got {r!r}")
    fn = FUNCTIONS[f][0]
    xs, fx = _curve(f, n)
    fa, fb = float(fn(np.float64(a))), float(fn(np.float64(b)))
    xr = (1 - r) * a + r * b
    rs = np.linspace(0.0, 1.0, 201)
    below = np.asarray(chord_gap(fn, a, b, rs)) < -TOL * (1 + abs(fa) + abs(fb))
    shade_x, shade_y = [], []
    for piece in np.split(np.arange(rs.size), np.flatnonzero(np.diff(below.astype(int))) + 1):
        if below[piece[0]]:
            px, chord = (1 - rs[piece]) * a + rs[piece] * b, (1 - rs[piece]) * fa + rs[piece] * fb
            shade_x += [*px, *px[::-1], None]
            shade_y += [*fn(px), *chord[::-1], None]
    fg = fn(np.linspace(min(a, b), max(a, b), 201))
    return dict(xs=xs, fx=fx, a=a, b=b, fa=fa, fb=fb, xr=xr, f_xr=float(fn(np.float64(xr))),
                chord_r=(1 - r) * fa + r * fb, gap=chord_gap(fn, a, b, r),
                violations=convexity_violations(fn, a, b),
                convex_ab=bool(np.all(np.diff(fg, 2) >= -TOL * (1 + np.abs(fg).max()))),
                shade_x=shade_x, shade_y=shade_y)


def _chord_text(s: dict) -> str:
    line = "this chord: ≥ f at all 201 r" if s["violations"].size == 0 else \
        f"this chord: <b>below f</b> at {s['violations'].size} of 201 r"
    convex = "yes" if s["convex_ab"] else "<b>no</b> (a negative second difference)"
    return (f"gap = chord − f = {s['gap']:.3f}<br>{line}<br>"
            f"convex on [{min(s['a'], s['b']):.2f}, {max(s['a'], s['b']):.2f}]? {convex}")


def _y_range(s: dict) -> list[float]:
    lo, hi = float(np.min(s["fx"])), float(np.max(s["fx"]))
    return [lo - 0.1 * (hi - lo), hi + 0.5 * (hi - lo)]


def _chord_traces(s: dict) -> list[tuple]:
    """shade, f, chord, connector, point on f, point on chord, readout (7 traces)."""
    return [(tr, 1) for tr in (
        go.Scatter(x=s["shade_x"], y=s["shade_y"], fill="toself", mode="lines", line=dict(width=0),
                   fillcolor="rgba(213,94,0,0.3)", name="chord below f"),
        go.Scatter(x=s["xs"], y=s["fx"], mode="lines", line=dict(color=BLUE, width=2.5), name="f"),
        go.Scatter(x=[s["a"], s["b"]], y=[s["fa"], s["fb"]], mode="lines+markers",
                   line=dict(color=GREEN, dash="dash"), name="chord from (a, f(a)) to (b, f(b))"),
        go.Scatter(x=[s["xr"], s["xr"]], y=[s["f_xr"], s["chord_r"]], mode="lines",
                   line=dict(color=GREY, width=1), showlegend=False),
        go.Scatter(x=[s["xr"]], y=[s["f_xr"]], mode="markers", marker=dict(color=BLUE, size=11),
                   name="f((1 − r) a + r b)"),
        go.Scatter(x=[s["xr"]], y=[s["chord_r"]], mode="markers",
                   marker=dict(color=GREEN, size=11, symbol="square"), name="(1 − r) f(a) + r f(b)"),
        go.Scatter(x=[s["xs"][0]], y=[_y_range(s)[1]], mode="text", text=[_chord_text(s)],
                   textposition="bottom right", showlegend=False, hoverinfo="skip"))]


def _chord_axes(fig: go.Figure, s: dict) -> None:
    fig.update_layout(xaxis=dict(title="x", range=[s["xs"][0], s["xs"][-1]]),
                      yaxis=dict(title="f(x)", range=_y_range(s)))


def _figure_chord() -> go.Figure:
    fig = make_subplots(1, 1)
    names, rs, r0 = list(FUNCTIONS), np.round(np.linspace(0, 1, 21), 2), 10
    first = [compute_chord(name, *FUNCTIONS[name][2], rs[r0]) for name in names]
    for i, s in enumerate(first):
        _add(fig, _chord_traces(s), visible=i == 0)
    per = len(fig.data) // len(names)
    moving = [g * per + j for g in range(len(names)) for j in (3, 4, 5, 6)]

    def step(r):
        traces = []
        for name in names:
            s = compute_chord(name, *FUNCTIONS[name][2], r)
            traces += [dict(x=[s["xr"], s["xr"]], y=[s["f_xr"], s["chord_r"]]), dict(x=[s["xr"]], y=[s["f_xr"]]),
                       dict(x=[s["xr"]], y=[s["chord_r"]]),
                       dict(x=[s["xs"][0]], y=[_y_range(s)[1]], text=[_chord_text(s)])]
        return f"{r:.2f}", traces, None

    layouts = [{"xaxis.range": [s["xs"][0], s["xs"][-1]], "yaxis.range": _y_range(s)} for s in first]
    fig.update_layout(sliders=[_place(slider([step(r) for r in rs], "r = ", active=r0), moving)])
    _chord_axes(fig, first[0])
    return _static_layout(fig, "Chord test: convex means every chord lies on or above the graph",
                          _menu([LABELS[n] for n in names], per, layouts=layouts), top=110)


# =========================================================================== 3. interpolating models
MODEL_CASES = ("logistic regression: θ = 0 → MLE", "logistic regression: two bootstrap MLEs",
               "MLP 2-64-64-1: two seeds", "MLP 2-64-64-1: θ and its permutation")
GRID_X, GRID_Y = (-1.6, 2.6), (-1.2, 1.7)


def moons_data() -> tuple[np.ndarray, np.ndarray]:
    """The two-moons data of this tab: 200 points, noise 0.2, random_state 0 (scikit-learn)."""
    return make_moons(n_samples=200, noise=0.2, random_state=0)


def _linear_logits(theta, X):
    return theta[0] + X @ theta[1:]


def _logistic_mle(X, y) -> np.ndarray:
    fit = LogisticRegression(C=np.inf, tol=1e-10, max_iter=10_000).fit(X, y)
    return np.r_[fit.intercept_, fit.coef_[0]]


@lru_cache(maxsize=2)
def model_cases(device: str = "cpu") -> dict:
    """Case name -> (logit_fn(theta, X), theta_A, theta_B) on ``moons_data()``; trains two MLPs.

    Logistic regression (intercept first): from theta = 0 to the MLE, and between the MLEs of two
    bootstrap resamples. MLP (``train_mlp`` with seeds 0 and 1): between the two, and between the first
    and a copy with both hidden layers' units permuted (``permute_hidden``): the same function.
    """
    X, y = moons_data()
    rng = np.random.default_rng(0)
    boot = [rng.integers(0, len(y), len(y)) for _ in range(2)]
    mlp_a, mlp_b = (train_mlp(X, y, seed=seed, device=device) for seed in (0, 1))
    perm = [rng.permutation(mlp_a[f"b{l}"].size) for l in (1, 2)]
    return {
        MODEL_CASES[0]: (_linear_logits, np.zeros(3), _logistic_mle(X, y)),
        MODEL_CASES[1]: (_linear_logits, *(_logistic_mle(X[i], y[i]) for i in boot)),
        MODEL_CASES[2]: (mlp_logits, mlp_a, mlp_b),
        MODEL_CASES[3]: (mlp_logits, mlp_a, permute_hidden(mlp_a, perm)),
    }


@lru_cache(maxsize=16)
def _loss_curve(device: str, case: str, n_r: int) -> np.ndarray:
    logit_fn, ta, tb = model_cases(device)[case]
    X, y = moons_data()
    return loss_along_segment(lambda th: mean_bce(logit_fn(th, X), y), ta, tb, np.linspace(0, 1, n_r))


def compute_models(case: str = MODEL_CASES[3], r: float = 0.5, device=None, grid: int = 41,
                   n_r: int = 101) -> dict:
    """The mean cross-entropy on the moons along theta(r) = (1 - r) theta_A + r theta_B, and the model at r.

    Returns rs (n_r,), loss (n_r,), chord (n_r,) through the end losses, loss_r and chord_r at r,
    and the interpolated model's P(y = 1) on a grid: gx (grid,), gy (grid,), prob (grid, grid);
    plus the data X (200, 2), y (200,).
    """
    if case not in MODEL_CASES:
        raise ValueError(f"case: expected one of {list(MODEL_CASES)}, got {case!r}")
    dev = _device(device)
    logit_fn, ta, tb = model_cases(dev)[case]
    X, y = moons_data()
    rs, loss = np.linspace(0, 1, n_r), _loss_curve(dev, case, n_r)
    theta = interpolate(ta, tb, r)
    gx, gy = np.linspace(*GRID_X, grid), np.linspace(*GRID_Y, grid)
    G = np.stack(np.meshgrid(gx, gy), axis=-1).reshape(-1, 2)
    return dict(rs=rs, loss=loss, chord=(1 - rs) * loss[0] + rs * loss[-1], r=r,
                loss_r=mean_bce(logit_fn(theta, X), y), chord_r=(1 - r) * loss[0] + r * loss[-1],
                gx=gx, gy=gy, prob=expit(logit_fn(theta, G)).reshape(grid, grid), X=X, y=y)


def _models_text(s: dict) -> str:
    above = s["loss_r"] > s["chord_r"] + 1e-9
    return (f"L(θ_A) = {s['loss'][0]:.3f}, L(θ_B) = {s['loss'][-1]:.3f}<br>at r = {s['r']:.2f}: "
            f"L = {s['loss_r']:.3f}, chord {s['chord_r']:.3f}<br>"
            + ("<b>above the chord: not convex</b>" if above else "on or below the chord"))


def _loss_top(s: dict) -> float:
    return 1.3 * max(s["loss"].max(), 0.1)


def _percent(prob: np.ndarray) -> np.ndarray:
    return np.round(100 * prob).astype(int)


def _models_traces(s: dict) -> list[tuple]:
    """loss curve, chord, marker, readout (left); P(class 1) contour (right): 5 traces."""
    return [
        (go.Scatter(x=s["rs"], y=s["loss"], mode="lines", line=dict(color=BLUE, width=2.5), name="L(θ(r))"), 1),
        (go.Scatter(x=[0, 1], y=[s["loss"][0], s["loss"][-1]], mode="lines", line=dict(color=GREEN, dash="dash"),
                    name="chord"), 1),
        (go.Scatter(x=[s["r"]], y=[s["loss_r"]], mode="markers", marker=dict(color=ORANGE, size=12),
                    name="current r"), 1),
        (go.Scatter(x=[0.02], y=[_loss_top(s)], mode="text", text=[_models_text(s)], textposition="bottom right",
                    showlegend=False, hoverinfo="skip"), 1),
        (go.Contour(x=s["gx"], y=s["gy"], z=_percent(s["prob"]), zmin=0, zmax=100, showlegend=False,
                    contours=dict(start=10, end=90, size=10), colorscale=[[0, BLUE], [0.5, "white"], [1, RED]],
                    opacity=0.55, line=dict(width=0), colorbar=dict(title="P(1) %", len=0.9),
                    hoverinfo="skip"), 2),
    ]


def _models_base(s: dict) -> go.Figure:
    fig = make_subplots(1, 2, column_widths=[0.45, 0.55], horizontal_spacing=0.1, subplot_titles=(
        "training loss along θ(r) = (1 − r) θ_A + r θ_B", "the model θ(r): P(class 1) and the data"))
    fig.update_xaxes(title_text="r", range=[-0.02, 1.02], row=1, col=1)
    fig.update_yaxes(title_text="mean cross-entropy", range=[0, _loss_top(s)], row=1, col=1)
    fig.update_xaxes(title_text="x₁", range=list(GRID_X), row=1, col=2)
    fig.update_yaxes(title_text="x₂", range=list(GRID_Y), row=1, col=2)
    return fig


def _data_traces(s: dict) -> list[tuple]:
    return [(go.Scatter(x=s["X"][s["y"] == c, 0], y=s["X"][s["y"] == c, 1], mode="markers", name=f"class {c}",
                        marker=dict(color=color, size=6, symbol=symbol)), 2)
            for c, color, symbol in ((0, BLUE, "circle"), (1, RED, "x"))]


def _figure_models(device=None) -> go.Figure:
    rs, r0 = np.round(np.linspace(0, 1, 21), 2), 10
    first = [compute_models(case, rs[r0], device) for case in MODEL_CASES]
    fig = _models_base(first[0])
    for i, s in enumerate(first):
        _add(fig, _models_traces(s), visible=i == 0)
    per = len(fig.data) // len(MODEL_CASES)
    _add(fig, _data_traces(first[0]))
    moving = [g * per + j for g in range(len(MODEL_CASES)) for j in (2, 3, 4)]

    def step(r):
        traces = []
        for case in MODEL_CASES:
            s = compute_models(case, r, device)
            traces += [dict(x=[r], y=[s["loss_r"]]), dict(x=[0.02], y=[_loss_top(s)], text=[_models_text(s)]),
                       dict(x=s["gx"].round(3), y=s["gy"].round(3), z=_percent(s["prob"]))]
        return f"{r:.2f}", traces, None

    fig.update_layout(sliders=[_place(slider([step(r) for r in rs], "r = ", active=r0), moving)])
    layouts = [{"yaxis.range": [0, _loss_top(s)]} for s in first]
    return _static_layout(fig, "A loss along a straight line between two parameter vectors",
                          _menu(MODEL_CASES, per, extra=2, layouts=layouts), top=140)


# =========================================================================== 4. averages over time
KINDS = ("EMA", "Adam (bias-corrected EMA)", "heavy-ball sum", "uniform (Polyak-Ruppert)")
HORIZON = 200


def noisy_sequence(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A drifting signal 1 + 0.5 sin(2 pi s / 80) for s = 1..HORIZON, and the same plus N(0, 0.6^2) noise."""
    s = np.arange(1, HORIZON + 1)
    signal = 1.0 + 0.5 * np.sin(2 * np.pi * s / 80)
    return signal, signal + 0.6 * np.random.default_rng(seed).standard_normal(HORIZON)


def compute_averages(beta: float = 0.9, t: int = 50, kind: str = "EMA", seed: int = 0) -> dict:
    """Weights over lags 0..t-1 of one kind of average, and that average run over a noisy sequence g.

    EMA: m_s = beta m_{s-1} + (1 - beta) g_s, m_0 = 0; Adam: m_s / (1 - beta^s); heavy ball:
    v_s = beta v_{s-1} + g_s; uniform: gbar_s = (1 - 1/s) gbar_{s-1} + g_s / s. ``running`` (HORIZON,)
    is the recursion, ``avg_t`` the weights applied to g_t, ..., g_1 (the two agree at s = t).
    """
    if kind not in KINDS:
        raise ValueError(f"kind: expected one of {list(KINDS)}, got {kind!r}")
    if isinstance(t, bool) or not isinstance(t, (int, np.integer)) or not 1 <= t <= HORIZON:
        raise ValueError(f"t: expected an integer in [1, {HORIZON}], got {t!r}")
    signal, g = noisy_sequence(seed)
    s = np.arange(1, HORIZON + 1)
    if kind == KINDS[3]:
        weights, running = uniform_average_weights(t), np.cumsum(g) / s
    elif kind == KINDS[2]:
        weights, running = heavy_ball_weights(beta, t), lfilter([1.0], [1.0, -beta], g)
    else:
        weights, running = ema_weights(beta, t), lfilter([1.0 - beta], [1.0, -beta], g)
        if kind == KINDS[1]:
            weights, running = weights / (1 - beta ** t), running / (1 - beta ** s)
    return dict(lags=np.arange(t), weights=weights, total=float(weights.sum()), window=1 / (1 - beta),
                s=s, g=g, signal=signal, running=running, avg_t=float(weights @ g[t - 1::-1]), t=t, beta=beta)


def _averages_text(beta: float, t: int) -> str:
    return (f"β = {beta:g}: effective window 1/(1 − β) = {1 / (1 - beta):.3g} steps.<br>Sum of the weights at "
            f"t = {t}: EMA 1 − β^t = {1 - beta ** t:.3f} (Adam divides by it),<br>heavy ball "
            f"(1 − β^t)/(1 − β) = {(1 - beta ** t) / (1 - beta):.3g}, uniform 1.<br>The soft target update "
            f"θ′ ← (1 − τ) θ′ + τ θ is this EMA of the online weights θ,<br>with τ = 1 − β = "
            f"{1 - beta:.3g}.")


def _averages_traces(d: dict) -> list[tuple]:
    """bars (left); running average and its value at t (right): 3 traces."""
    return [
        (go.Bar(x=d["lags"], y=d["weights"], marker_color=BLUE, name="weight w_i on g_{t−i}"), 1),
        (go.Scatter(x=d["s"], y=d["running"], mode="lines", line=dict(color=ORANGE, width=2.5),
                    name="average"), 2),
        (go.Scatter(x=[d["t"]], y=[d["avg_t"]], mode="markers", marker=dict(color=RED, size=11, symbol="diamond"),
                    name="Σ_i w_i g_{t−i}"), 2),
    ]


def _sequence_traces(d: dict) -> list[tuple]:
    return [(go.Scatter(x=d["s"], y=d["g"], mode="markers", marker=dict(color=GREY, size=4), name="g_s"), 2),
            (go.Scatter(x=d["s"], y=d["signal"], mode="lines", line=dict(color=GREEN, dash="dot"),
                        name="signal (noise-free)"), 2)]


def _averages_base() -> go.Figure:
    fig = make_subplots(1, 2, column_widths=[0.4, 0.6], horizontal_spacing=0.09, subplot_titles=(
        "weights by lag i", "noisy values g_s and their running average"))
    fig.update_xaxes(title_text="lag i (steps back from t)", row=1, col=1)
    fig.update_yaxes(title_text="weight w_i", row=1, col=1)
    fig.update_xaxes(title_text="step s", row=1, col=2)
    fig.update_yaxes(title_text="value", row=1, col=2)
    return fig


BETAS = (0.0, 0.5, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99)


def _figure_averages(t: int = 50) -> go.Figure:
    fig, b0 = _averages_base(), BETAS.index(0.9)
    for i, kind in enumerate(KINDS):
        _add(fig, _averages_traces(compute_averages(BETAS[b0], t, kind)), visible=i == 0)
    per = len(fig.data) // len(KINDS)
    _add(fig, _sequence_traces(compute_averages(BETAS[b0], t)))
    height, top, bottom = 700, 230, 190
    fig.add_annotation(text=_averages_text(BETAS[b0], t), xref="paper", yref="paper", x=0, xanchor="left",
                       y=1 + (top - 88) / (height - top - bottom), yanchor="top", showarrow=False, align="left")
    note = len(fig.layout.annotations) - 1

    def step(beta):
        traces = []
        for kind in KINDS:
            d = compute_averages(beta, t, kind)
            traces += [dict(y=d["weights"].round(6)), dict(y=d["running"].round(4)),
                       dict(y=[round(d["avg_t"], 4)])]
        return f"{beta:g}", traces, {f"annotations[{note}].text": _averages_text(beta, t)}

    steps = [step(b) for b in BETAS]
    fig.update_layout(sliders=[_place(slider(steps, "β = ", active=b0), list(range(per * len(KINDS))))])
    return _static_layout(fig, f"One formula, many averages: the weights of past values at t = {t}",
                          _menu(KINDS, per, extra=2), height=height, top=top, bottom=bottom)


# =========================================================================== the contract
def compute(tab: str = "hull", **params) -> dict:
    """The numbers behind one tab: ``compute_hull``, ``compute_chord``, ``compute_models`` or
    ``compute_averages``, called with ``params``."""
    funcs = dict(hull=compute_hull, chord=compute_chord, models=compute_models, averages=compute_averages)
    if tab not in funcs:
        raise ValueError(f"tab: expected one of {list(TABS)}, got {tab!r}")
    return funcs[tab](**params)


def figure(tab: str = "hull", device=None) -> go.Figure:
    """The static (kernel-free) figure of one tab, with its slider and menu precomputed."""
    if tab not in TABS:
        raise ValueError(f"tab: expected one of {list(TABS)}, got {tab!r}")
    if tab == "models":
        return _figure_models(device)
    return dict(hull=_figure_hull, chord=_figure_chord, averages=_figure_averages)[tab]()


def _set_range(control, lo: float, hi: float, value: float) -> None:
    """Move a slider to [lo, hi] and set its value, never passing through min > max."""
    control.min, control.max = min(control.min, lo), max(control.max, hi)
    control.value = value
    control.min, control.max = lo, hi


def _toggle(control, visible: bool) -> None:
    control.layout.display = None if visible else "none"


def _live_figure(fig: go.Figure, title: str, height: int = 480) -> go.FigureWidget:
    fig.update_layout(title=title, height=height, margin=dict(t=90), legend=dict(orientation="h", y=-0.2))
    return go.FigureWidget(fig)


def _hull_tab():
    k = W.Dropdown(options=[2, 3, 4], value=3, description="points k")
    r = W.FloatSlider(value=0.3, min=0.0, max=1.0, step=0.01, description="r")
    affine = W.Checkbox(value=False, description="allow affine (r outside [0, 1])")
    use_softmax = W.Checkbox(value=False, description="softmax of logits")
    ws = [W.FloatSlider(value=v, min=0.0, max=1.0, step=0.01, description=f"w_{n}")
          for v, n in zip((0.5, 0.3, 0.2, 0.4), NAMES)]
    zs = [W.FloatSlider(value=v, min=-4.0, max=4.0, step=0.05, description=f"z_{n}")
          for v, n in zip(SOFTMAX_LOGITS, NAMES)]
    fig = go.Figure(_hull_traces(compute_hull(), show_line=False))
    fig.update_layout(xaxis=dict(title="x₁", range=[-2.4, 6.4]), yaxis=dict(title="x₂", scaleanchor="x"))
    fw, text = _live_figure(fig, "A combination of points, x = Σ α_i P_i"), readout()

    def update(_=None):
        kk, soft = k.value, use_softmax.value
        r.min, r.max = (-0.5, 1.5) if kk == 2 and affine.value else (0.0, 1.0)
        for c in (r, affine):
            _toggle(c, kk == 2)
        _toggle(use_softmax, kk > 2)
        for i in range(4):
            _toggle(ws[i], kk > 2 and i < kk and not soft)
            _toggle(zs[i], kk > 2 and i < kk and soft)
        weights = [w.value for w in ws[:kk]]
        if kk > 2 and not soft and sum(weights) == 0:
            text.value = "All weights are 0: raise one (the weights are divided by their sum)."
            return
        s = compute_hull(kk, r.value, affine=affine.value, weights=weights,
                         logits=[z.value for z in zs[:kk]] if kk > 2 and soft else None)
        with fw.batch_update():
            for tr, new in zip(fw.data, _hull_traces(s, show_line=kk == 2)):
                tr.update(x=new.x, y=new.y, text=new.text, visible=new.visible, marker=new.marker, line=new.line)
        text.value = _hull_text(s).replace("<br>", "; ") + f"; x = ({s['x'][0]:.2f}, {s['x'][1]:.2f})"

    controls = dict(k=k, r=r, affine=affine, softmax=use_softmax, **{f"w{i}": w for i, w in enumerate(ws)},
                    **{f"z{i}": z for i, z in enumerate(zs)})
    for c in controls.values():
        c.observe(update, names="value")
    update()
    return controls, fw, text


def _chord_tab():
    name = "x^4 - 3x^2"
    fn, (lo, hi), (a0, b0) = FUNCTIONS[name]
    f = W.Dropdown(options=[(LABELS[n], n) for n in FUNCTIONS], value=name, description="f",
                   layout=W.Layout(width="420px"))
    a = W.FloatSlider(value=a0, min=lo, max=hi, step=0.05, description="a")
    b = W.FloatSlider(value=b0, min=lo, max=hi, step=0.05, description="b")
    r = W.FloatSlider(value=0.5, min=0.0, max=1.0, step=0.01, description="r")
    s0 = compute_chord(name, a0, b0, r.value)
    fig = go.Figure([tr for tr, _ in _chord_traces(s0)[:6]])
    _chord_axes(fig, s0)
    fw, text = _live_figure(fig, "The chord test of convexity"), readout()

    def update(_=None):
        s = compute_chord(f.value, a.value, b.value, r.value)
        with fw.batch_update():
            for tr, (new, _) in zip(fw.data, _chord_traces(s)):
                tr.x, tr.y = new.x, new.y
            fw.layout.xaxis.range, fw.layout.yaxis.range = [s["xs"][0], s["xs"][-1]], _y_range(s)
        text.value = _chord_text(s).replace("<br>", "; ")

    def new_function(_):
        _, (lo, hi), ab = FUNCTIONS[f.value]
        for c, v in zip((a, b), ab):
            c.unobserve(update, names="value")
            _set_range(c, lo, hi, v)
            c.observe(update, names="value")
        update()

    for c in (a, b, r):
        c.observe(update, names="value")
    f.observe(new_function, names="value")
    update()
    return dict(f=f, a=a, b=b, r_chord=r), fw, text


LIVE_GRID = 61  # the live widget draws the model on a finer grid than the static figure (41)


def _models_tab(device: str):
    case = W.Dropdown(options=list(MODEL_CASES), value=MODEL_CASES[3], description="models",
                      layout=W.Layout(width="420px"))
    r = W.FloatSlider(value=0.5, min=0.0, max=1.0, step=0.01, description="r")
    s0 = compute_models(case.value, r.value, device, grid=LIVE_GRID)
    fig = _models_base(s0)
    _add(fig, _models_traces(s0) + _data_traces(s0))
    fw, text = _live_figure(fig, "A loss along the straight line between two parameter vectors"), readout()

    def update(_=None):
        s = compute_models(case.value, r.value, device, grid=LIVE_GRID)
        with fw.batch_update():
            for tr, (new, _) in zip(fw.data, _models_traces(s)):
                tr.update(z=new.z) if tr.type == "contour" else tr.update(x=new.x, y=new.y, text=new.text)
            fw.layout.yaxis.range = [0, _loss_top(s)]
        text.value = _models_text(s).replace("<br>", "; ")

    for c in (case, r):
        c.observe(update, names="value")
    update()
    return dict(model=case, r_model=r), fw, text


def _averages_tab():
    beta = W.FloatSlider(value=0.9, min=0.0, max=0.999, step=0.001, readout_format=".3f", description="β")
    t = W.IntSlider(value=50, min=1, max=HORIZON, description="t")
    kind = W.ToggleButtons(options=list(KINDS), value=KINDS[0], description="average",
                           style={"button_width": "190px"})
    d0 = compute_averages(beta.value, t.value, kind.value)
    fig = _averages_base()
    _add(fig, _averages_traces(d0) + _sequence_traces(d0))
    fw, text = _live_figure(fig, "The weights of past values in one running average"), readout()

    def update(_=None):
        d = compute_averages(beta.value, t.value, kind.value)
        with fw.batch_update():
            for tr, (new, _) in zip(fw.data, _averages_traces(d)):
                tr.x, tr.y = new.x, new.y
        text.value = (f"<b>{kind.value}</b>: the {t.value} weights sum to {d['total']:.4g}; the average at "
                      f"t = {t.value} is {d['avg_t']:.3f}.<br>" + _averages_text(beta.value, t.value))

    for c in (beta, t, kind):
        c.observe(update, names="value")
    update()
    return dict(beta=beta, t=t, kind=kind), fw, text


def widget(device=None) -> Live:
    """The live version: an ipywidgets Tab, one page per idea (controls, FigureWidget, readout)."""
    controls, figures, pages = {}, [], []
    for ctrl, fw, text in (_hull_tab(), _chord_tab(), _models_tab(_device(device)), _averages_tab()):
        controls.update(ctrl)
        figures.append(fw)
        pages.append(W.VBox([W.HBox(list(ctrl.values()), layout=W.Layout(flex_flow="row wrap")), fw, text]))
    return Live(controls=controls, figures=figures, children=[W.Tab(children=pages, titles=TAB_TITLES)])


def show(device=None) -> None:
    """One output: the live Tab in a kernel, the four static figures on the website (nothing shown twice).

    ``lib.widgets.dual`` pairs one live widget with one static figure; here the website's face is the
    four figures of ``figure(tab)`` in a row, so the HTML of the ``Dual`` bundle is theirs joined.
    """
    from IPython.display import display
    live = widget(device)
    if plotting._in_colab():  # Colab renders the live widget; static figures would repeat it
        display(live)
        return
    duals = [Dual(live, figure(tab, device)) for tab in TABS]  # Dual checks each figure's title and labels
    bundle = duals[0]._repr_mimebundle_()
    bundle["text/html"] = "\n".join(plotting.to_html(d.static) for d in duals)
    display(bundle, raw=True)
