"""Widget W2.1: a hidden layer of ReLU units as hinges (1-D input) and folds (2-D input).

One hidden layer and a linear output::

    1-D:  f(x) = c + sum_k a_k ReLU(w_k x + b_k)          kink of unit k at x = -b_k / w_k
    2-D:  f(x) = c + sum_k a_k ReLU(w_k . x + b_k)        fold of unit k along the line w_k . x + b_k = 0

In 1-D, K units bend f at most K times, so f has at most K + 1 linear pieces (two units with the same
kink, or a unit with ``a_k = 0``, bend it fewer times). In 2-D the K lines cut the plane into at most
``1 + K + K(K-1)/2`` regions (lines in general position); f is linear on each region.

* ``compute_1d`` / ``compute_2d``: the pure computation (numpy), unit-tested; ``compute(tab, ...)`` picks one;
* ``train_snapshots``: the 1-D network fitted to data by full-batch Adam (``lib.nn``), a snapshot every 10 steps;
* ``figure(tab)``: kernel-free; "1d" has a slider over training snapshots, "2d" a slider over K;
* ``widget``: live, two tabs: per-unit sliders for (w, b, a) of a chosen unit, K, random units, training
  snapshots (every 10 of 400 Adam steps) with a Play button (1-D); K, seed and per-unit switches (2-D);
* ``show``: both, through :func:`lib.widgets.dual`.
"""
from __future__ import annotations

from math import comb

import ipywidgets as W
import numpy as np
import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from .. import nn as libnn
from .. import plotting
from . import Live, dual, readout, slider

X_RANGE = (-3.0, 3.0)
BOX = 2.0
MAX_K_1D, MAX_K_2D = 12, 8
TARGETS = ("sin", "steps")


# --------------------------------------------------------------------------- checks
def _int(name: str, value, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not lo <= value <= hi:
        raise ValueError(f"{name}: expected an integer in [{lo}, {hi}], got {value!r}")
    return int(value)


def _vec(name: str, v, K: int) -> np.ndarray:
    v = np.asarray(v, dtype=np.float64)
    if v.shape != (K,) or not np.all(np.isfinite(v)):
        raise ValueError(f"{name}: expected {K} finite numbers (one per unit), got shape {v.shape}")
    return v


# --------------------------------------------------------------------------- 1-D
def random_units_1d(K: int = 4, seed: int = 0) -> dict:
    """K random units whose kinks fall in [-2.5, 2.5]: ``dict(w, b, a, c)``; about half face left (w < 0)."""
    K = _int("K", K, 1, MAX_K_1D)
    rng = np.random.default_rng(seed)
    kinks = rng.uniform(-2.5, 2.5, K)
    w = rng.choice([-1.0, 1.0], K) * rng.uniform(0.5, 2.0, K)
    return dict(w=w, b=-w * kinks, a=rng.normal(0.0, 1.0, K), c=0.0)


def count_pieces(w, b, a, x_range=X_RANGE) -> int:
    """Linear pieces of ``f`` on ``x_range``: 1 + the number of places inside it where the slope changes.

    Unit k changes the slope by ``a_k |w_k|`` at its kink; units sharing a kink add their changes.
    """
    w, b, a = np.asarray(w, float), np.asarray(b, float), np.asarray(a, float)
    live = (w != 0) & (a != 0)
    kinks = -b[live] / w[live]
    jumps = a[live] * np.abs(w[live])
    inside = (kinks > x_range[0]) & (kinks < x_range[1])
    if not inside.any():
        return 1
    keys = np.round(kinks[inside], 9)
    totals = {}
    for k, j in zip(keys, jumps[inside]):
        totals[k] = totals.get(k, 0.0) + j
    return 1 + sum(abs(t) > 1e-12 for t in totals.values())


def compute_1d(w, b, a, c: float = 0.0, x_range=X_RANGE, n: int = 601) -> dict:
    """f and each unit's contribution on a grid of ``n`` points over ``x_range``.

    Returns ``dict(x (n,), f (n,), parts (K, n) = a_k ReLU(w_k x + b_k), kinks (K,) = -b_k/w_k
    (NaN where w_k = 0), pieces, bound = K + 1)``.
    """
    w = np.asarray(w, dtype=np.float64)
    K = w.shape[0] if w.ndim == 1 else 0
    if K < 1:
        raise ValueError(f"w: expected a 1-D array with at least one unit, got shape {w.shape}")
    w, b, a = _vec("w", w, K), _vec("b", b, K), _vec("a", a, K)
    if not np.isfinite(c):
        raise ValueError(f"c: expected a finite output bias, got {c!r}")
    x = np.linspace(x_range[0], x_range[1], n)
    parts = a[:, None] * np.maximum(w[:, None] * x[None, :] + b[:, None], 0.0)
    kinks = np.full(K, np.nan)
    np.divide(-b, w, out=kinks, where=w != 0)
    return dict(x=x, f=c + parts.sum(0), parts=parts, kinks=kinks, pieces=count_pieces(w, b, a, x_range),
                bound=K + 1)


def target_data(target: str = "sin", n: int = 40, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A 1-D regression set on [-2.5, 2.5]: ``sin(1.5 x)`` or a two-step staircase, plus noise 0.05."""
    if target not in TARGETS:
        raise ValueError(f"target: expected one of {TARGETS}, got {target!r}")
    rng = np.random.default_rng(seed)
    x = np.sort(rng.uniform(-2.5, 2.5, n))
    y = np.sin(1.5 * x) if target == "sin" else np.floor(x + 0.5).clip(-1, 1) * 0.8
    return x, y + 0.05 * rng.normal(size=n)


def train_snapshots(K: int = 8, target: str = "sin", steps: int = 400, every: int = 10, lr: float = 0.01,
                    seed: int = 0, device=None) -> dict:
    """Fit ``1 -> K -> 1`` (ReLU, torch default init) to ``target_data`` by full-batch Adam on the
    squared error. Returns ``dict(x, y, step (S,), units: list of dict(w, b, a, c), loss (S,))`` with a
    snapshot every ``every`` steps, step 0 included."""
    K = _int("K", K, 1, MAX_K_1D)
    steps, every = _int("steps", steps, 1, 100_000), _int("every", every, 1, 100_000)
    x, y = target_data(target, seed=seed)
    model = libnn.make_mlp([1, K, 1], seed=seed, dtype=torch.float64, device=device)
    snaps, marks, losses = [], [], []

    def take(step: int, m) -> None:
        W1, b1, W2, b2 = [p.detach().cpu().numpy() for p in m.parameters()]
        snaps.append(dict(w=W1[:, 0].copy(), b=b1.copy(), a=W2[0].copy(), c=float(b2[0])))
        marks.append(step)
        with torch.no_grad():
            pred = m(torch.as_tensor(x[:, None], device=next(m.parameters()).device)).cpu().numpy()[:, 0]
        losses.append(float(np.mean((pred - y) ** 2)))

    take(0, model)
    libnn.train(model, x[:, None], y, loss="mse", optimizer="adam", lr=lr, epochs=steps, seed=seed,
                callback=lambda e, m: take(e + 1, m) if (e + 1) % every == 0 else None)
    return dict(x=x, y=y, step=np.array(marks), units=snaps, loss=np.array(losses))


# --------------------------------------------------------------------------- 2-D
def random_units_2d(K: int = 5, seed: int = 0) -> dict:
    """K random units in 2-D whose fold lines cross the box [-2, 2]^2: ``dict(W (K, 2), b (K,), a (K,))``."""
    K = _int("K", K, 1, MAX_K_2D)
    rng = np.random.default_rng(seed)
    angle = rng.uniform(0, 2 * np.pi, K)
    W = np.column_stack([np.cos(angle), np.sin(angle)]) * rng.uniform(0.7, 1.5, K)[:, None]
    anchor = rng.uniform(-1.2, 1.2, (K, 2))
    return dict(W=W, b=-(W * anchor).sum(1), a=rng.normal(0.0, 1.0, K))


def _segment(w: np.ndarray, b: float, box: float) -> tuple[list, list]:
    """The part of the line w . x + b = 0 inside [-box, box]^2 as two end points (empty if it misses)."""
    p0 = -b * w / (w @ w)
    d = np.array([-w[1], w[0]])
    lo, hi = -np.inf, np.inf
    for i in range(2):
        if abs(d[i]) < 1e-15:
            if abs(p0[i]) > box:
                return [], []
            continue
        t1, t2 = (-box - p0[i]) / d[i], (box - p0[i]) / d[i]
        lo, hi = max(lo, min(t1, t2)), min(hi, max(t1, t2))
    if lo >= hi:
        return [], []
    a, c = p0 + lo * d, p0 + hi * d
    return [float(a[0]), float(c[0])], [float(a[1]), float(c[1])]


def compute_2d(W, b, a, active=None, box: float = BOX, grid: int = 61, res: int = 400) -> dict:
    """f on a ``grid`` x ``grid`` mesh of [-box, box]^2, its activation-pattern regions and fold lines.

    ``active`` (K,) booleans switch units off (they then neither fold nor contribute). Returns
    ``dict(g (grid,), f (grid, grid) [row = x2], region (grid, grid) region ids, regions (count on a
    res x res mesh), bound = 1 + K' + K'(K'-1)/2 for the K' active units, lines: list of (xs, ys))``.
    """
    W = np.asarray(W, dtype=np.float64)
    if W.ndim != 2 or W.shape[1] != 2 or not 1 <= W.shape[0] <= 62:
        raise ValueError(f"W: expected first-layer weights of shape (K, 2) with 1 <= K <= 62, got {W.shape}")
    K = W.shape[0]
    b, a = _vec("b", b, K), _vec("a", a, K)
    active = np.ones(K, bool) if active is None else np.asarray(active, dtype=bool)
    if active.shape != (K,):
        raise ValueError(f"active: expected {K} booleans (one per unit), got shape {active.shape}")
    _int("grid", grid, 2, 1000)
    _int("res", res, 2, 4000)

    def patterns(n: int):
        g = np.linspace(-box, box, n)
        X = np.stack(np.meshgrid(g, g), axis=-1).reshape(-1, 2)
        Z = X @ W[active].T + b[active]
        return g, Z

    def codes(Z: np.ndarray) -> np.ndarray:  # each activation pattern as one integer (K <= 8 bits)
        return (Z > 0).astype(np.int64) @ (1 << np.arange(Z.shape[1], dtype=np.int64))

    g, Z = patterns(grid)
    f = (np.maximum(Z, 0.0) @ a[active]).reshape(grid, grid)
    _, ids = np.unique(codes(Z), return_inverse=True)
    regions = int(np.unique(codes(patterns(res)[1])).size)
    k = int(active.sum())
    lines = [_segment(W[i], b[i], box) for i in range(K) if active[i]]
    return dict(g=g, f=f, region=ids.reshape(grid, grid), regions=regions, bound=1 + k + comb(k, 2),
                lines=lines)


def compute(tab: str = "1d", **params) -> dict:
    """``compute_1d(**params)`` for tab "1d", ``compute_2d(**params)`` for "2d"."""
    if tab == "1d":
        return compute_1d(**params)
    if tab == "2d":
        return compute_2d(**params)
    raise ValueError(f"tab: expected '1d' or '2d', got {tab!r}")


# --------------------------------------------------------------------------- 1-D drawing
def _ticks(kinks: np.ndarray, lo: float, hi: float, x_range=X_RANGE) -> tuple[list, list]:
    xs, ys = [], []
    for k in kinks:
        if np.isfinite(k) and x_range[0] < k < x_range[1]:
            xs += [float(k), float(k), None]
            ys += [lo, hi, None]
    return xs, ys


def _traces_1d(res: dict, n_parts: int, y_lo: float, y_hi: float, units: dict) -> list[dict]:
    """Updates for f, ``n_parts`` contribution traces (extra ones emptied) and the kink ticks.

    Everything drawn is piecewise linear, so it is sent exactly at its break points (the ends of the
    range and the kinks) rather than on a dense grid: this keeps the static figure small.
    """
    w, b, a = units["w"], units["b"], units["a"]
    lo, hi = X_RANGE
    kinks = res["kinks"]
    inside = np.sort(kinks[np.isfinite(kinks) & (kinks > lo) & (kinks < hi)])
    xs = np.concatenate([[lo], inside, [hi]])
    f = units["c"] + (a[:, None] * np.maximum(w[:, None] * xs[None, :] + b[:, None], 0.0)).sum(0)
    out = [dict(x=np.round(xs, 4).tolist(), y=np.round(f, 4).tolist())]
    for k in range(n_parts):
        if k < len(w):
            xk = np.array([lo, kinks[k], hi]) if lo < kinks[k] < hi else np.array([lo, hi])
            out.append(dict(x=np.round(xk, 4).tolist(),
                            y=np.round(a[k] * np.maximum(w[k] * xk + b[k], 0.0), 4).tolist()))
        else:
            out.append(dict(x=[], y=[]))
    tx, ty = _ticks(kinks, y_lo, y_lo + 0.08 * (y_hi - y_lo))
    out.append(dict(x=tx, y=ty))
    return out


def _base_1d(n_parts: int, y_range, data=None) -> go.Figure:
    fig = go.Figure()
    fig.add_trace(go.Scatter(mode="lines", line=dict(color=plotting.PALETTE[0], width=4), name="f(x)"))
    for k in range(n_parts):
        fig.add_trace(go.Scatter(mode="lines", line=dict(width=1.2, color=plotting.PALETTE[(k + 1) % 7 or 1]),
                                 opacity=0.8, name=f"unit {k + 1}: a·ReLU(wx + b)", legendgroup="units",
                                 showlegend=k == 0))
    fig.add_trace(go.Scatter(mode="lines", line=dict(color="black", width=2), name="kinks x = −b/w"))
    if data is not None:
        fig.add_trace(go.Scatter(x=np.round(data[0], 4).tolist(), y=np.round(data[1], 4).tolist(), mode="markers",
                                 marker=dict(color=plotting.PALETTE[3], size=6), name="data"))
    fig.update_xaxes(title_text="input x", range=list(X_RANGE))
    fig.update_yaxes(title_text="output f(x) and unit contributions", range=list(y_range))
    fig.update_layout(height=480, legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0), margin=dict(t=110))
    return fig


def _title_1d(res: dict, extra: str = "") -> str:
    return f"ReLU hinges: {res['pieces']} linear pieces (at most K + 1 = {res['bound']}){extra}"


def _figure_1d(K: int = 8, target: str = "sin", steps: int = 400, every: int = 10, seed: int = 0) -> go.Figure:
    snaps = train_snapshots(K, target, steps, every, seed=seed)
    y_lo, y_hi = -2.0, 2.0
    fig = _base_1d(K, (y_lo, y_hi), data=(snaps["x"], snaps["y"]))
    steps_ = []
    for step, u, loss in zip(snaps["step"], snaps["units"], snaps["loss"]):
        res = compute_1d(u["w"], u["b"], u["a"], u["c"])
        title = _title_1d(res, f"; Adam step {step}, mean squared error {loss:.4f}")
        steps_.append((str(step), _traces_1d(res, K, y_lo, y_hi, u), {"title.text": title}))
    moving = list(range(K + 2))
    sl = slider(steps_, prefix="training step: ", active=0)
    for s in sl["steps"]:
        s["args"].append(moving)
    for i, upd in zip(moving, steps_[0][1]):
        fig.data[i].update(upd)
    fig.update_layout(sliders=[sl], title=steps_[0][2]["title.text"], height=560)
    return fig


# --------------------------------------------------------------------------- 2-D drawing
def _lines_xy(lines) -> tuple[list, list]:
    xs, ys = [], []
    for lx, ly in lines:
        if lx:
            xs += lx + [None]
            ys += ly + [None]
    return xs, ys


def _shuffle_ids(region: np.ndarray) -> np.ndarray:
    """Spread neighbouring region ids over the colour scale so adjacent regions look different."""
    n = int(region.max()) + 1
    perm = np.random.default_rng(1).permutation(n)
    return perm[region] / max(n - 1, 1)


def _traces_2d(res: dict) -> list[dict]:
    xs, ys = _lines_xy(res["lines"])
    g = np.round(res["g"], 4).tolist()
    return [dict(x=g, y=g, z=np.round(res["f"], 3).tolist()), dict(x=xs, y=ys),
            dict(x=g, y=g, z=np.round(_shuffle_ids(res["region"]), 3).tolist()), dict(x=xs, y=ys)]


def _base_2d() -> go.Figure:
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.12,
                        subplot_titles=("f(x₁, x₂) with the fold lines", "linear regions (activation patterns)"))
    fig.add_trace(go.Heatmap(colorscale=plotting.DIVERGING, zmid=0, colorbar=dict(x=0.44, len=0.8, title="f"),
                             name="f"), row=1, col=1)
    fig.add_trace(go.Scatter(mode="lines", line=dict(color="black", width=2), name="fold lines w·x + b = 0"),
                  row=1, col=1)
    fig.add_trace(go.Heatmap(colorscale="Turbo", showscale=False, name="region", hoverinfo="skip"), row=1, col=2)
    fig.add_trace(go.Scatter(mode="lines", line=dict(color="black", width=2), showlegend=False,
                             name="fold lines"), row=1, col=2)
    for col in (1, 2):
        fig.update_xaxes(title_text="x₁", range=[-BOX, BOX], row=1, col=col)
        fig.update_yaxes(title_text="x₂", range=[-BOX, BOX], row=1, col=col)
    fig.update_layout(height=480, legend=dict(orientation="h", yanchor="bottom", y=1.08, x=0), margin=dict(t=120))
    return fig


def _title_2d(res: dict, K: int) -> str:
    return (f"ReLU folds in 2-D, K = {K}: {res['regions']} regions in the box "
            f"(at most 1 + K + K(K−1)/2 = {res['bound']})")


def _figure_2d(seed: int = 0, K_max: int = MAX_K_2D) -> go.Figure:
    units = random_units_2d(K_max, seed)
    fig = _base_2d()
    steps_ = []
    for K in range(1, K_max + 1):
        res = compute_2d(units["W"][:K], units["b"][:K], units["a"][:K])
        steps_.append((str(K), _traces_2d(res), {"title.text": _title_2d(res, K)}))
    sl = slider(steps_, prefix="hidden units K = ", active=2)
    moving = [0, 1, 2, 3]
    for s in sl["steps"]:
        s["args"].append(moving)
    for i, upd in zip(moving, steps_[2][1]):
        fig.data[i].update(upd)
    fig.update_layout(sliders=[sl], title=steps_[2][2]["title.text"], height=560)
    return fig


def figure(tab: str = "1d", **kwargs) -> go.Figure:
    """Kernel-free figure: "1d" (slider over training snapshots) or "2d" (slider over K)."""
    if tab == "1d":
        return _figure_1d(**kwargs)
    if tab == "2d":
        return _figure_2d(**kwargs)
    raise ValueError(f"tab: expected '1d' or '2d', got {tab!r}")


# --------------------------------------------------------------------------- live widget
def _tab_1d(K: int, seed: int) -> tuple[dict, go.FigureWidget, W.Widget]:
    style = dict(description_width="initial")
    c = dict(
        K=W.IntSlider(value=K, min=1, max=MAX_K_1D, description="units K", style=style),
        seed=W.IntSlider(value=seed, min=0, max=50, description="seed", style=style),
        randomise=W.Button(description="randomise units"),
        unit=W.Dropdown(options=list(range(1, K + 1)), value=1, description="unit", style=style),
        w=W.FloatSlider(min=-3, max=3, step=0.05, description="w", style=style),
        b=W.FloatSlider(min=-5, max=5, step=0.05, description="b", style=style),
        a=W.FloatSlider(min=-3, max=3, step=0.05, description="a", style=style),
        mode=W.ToggleButtons(options=["manual", "trained"], value="manual", description="units", style=style),
        target=W.Dropdown(options=list(TARGETS), value="sin", description="target", style=style),
        t=W.IntSlider(value=0, min=0, max=400, step=10, description="Adam step", style=style),
        play=W.Play(value=0, min=0, max=400, step=10, interval=150, description="play"),
    )
    W.jslink((c["play"], "value"), (c["t"], "value"))
    fig = go.FigureWidget(_base_1d(MAX_K_1D, (-3, 3), data=([], [])))
    info = readout()
    state = {"units": random_units_1d(K, seed), "busy": False, "snaps": {}}

    def units_now() -> dict:
        if c["mode"].value == "manual":
            return state["units"]
        key = (c["K"].value, c["target"].value, c["seed"].value)
        if key not in state["snaps"]:
            state["snaps"][key] = train_snapshots(*key[:2], seed=key[2])
        snaps = state["snaps"][key]
        return snaps["units"][min(c["t"].value // 10, len(snaps["units"]) - 1)]

    def sync_sliders():
        u, k = units_now(), c["unit"].value - 1
        state["busy"] = True
        for name in "wba":
            c[name].value = float(np.clip(u[name][k], c[name].min, c[name].max))
        state["busy"] = False

    def redraw(_=None):
        if state["busy"]:
            return
        u = units_now()
        res = compute_1d(u["w"], u["b"], u["a"], u["c"])
        trained = c["mode"].value == "trained"
        lo, hi = -3.0, 3.0
        with fig.batch_update():
            for trace, upd in zip(fig.data[:MAX_K_1D + 2], _traces_1d(res, MAX_K_1D, lo, hi, u)):
                trace.update(**upd)
            if trained:
                snaps = state["snaps"][(c["K"].value, c["target"].value, c["seed"].value)]
                fig.data[-1].update(x=snaps["x"], y=snaps["y"])
            else:
                fig.data[-1].update(x=[], y=[])
            fig.layout.title.text = _title_1d(res, f"; Adam step {c['t'].value}" if trained else "")
        info.value = (f"K = {len(u['w'])} units; kinks at " +
                      ", ".join(f"{k:.2f}" for k in np.sort(res["kinks"][np.isfinite(res["kinks"])])) +
                      f"; pieces: {res['pieces']} (≤ K + 1 = {res['bound']})")
        for name in ("w", "b", "a", "randomise"):
            c[name].disabled = trained

    def new_units(_=None):
        state["units"] = random_units_1d(c["K"].value, c["seed"].value)
        state["busy"] = True
        c["unit"].options = list(range(1, c["K"].value + 1))
        state["busy"] = False
        sync_sliders()
        redraw()

    def edit(_=None):
        if state["busy"] or c["mode"].value != "manual":
            return
        k = c["unit"].value - 1
        for name in "wba":
            state["units"][name][k] = c[name].value
        redraw()

    def pick_unit(_=None):
        if not state["busy"]:
            sync_sliders()

    c["K"].observe(new_units, names="value")
    c["seed"].observe(new_units, names="value")
    c["randomise"].on_click(lambda _: (setattr(c["seed"], "value", (c["seed"].value + 1) % 51)))
    c["unit"].observe(pick_unit, names="value")
    for name in "wba":
        c[name].observe(edit, names="value")
    for name in ("mode", "target", "t"):
        c[name].observe(lambda _: (sync_sliders(), redraw()), names="value")
    sync_sliders()
    redraw()
    box = W.VBox([W.HBox([c["K"], c["seed"], c["randomise"]]), W.HBox([c["unit"], c["w"], c["b"], c["a"]]),
                  W.HBox([c["mode"], c["target"], c["play"], c["t"]]), info, fig])
    return c, fig, box


def _tab_2d(K: int, seed: int) -> tuple[dict, go.FigureWidget, W.Widget]:
    style = dict(description_width="initial")
    c = dict(K2=W.IntSlider(value=K, min=1, max=MAX_K_2D, description="units K", style=style),
             seed2=W.IntSlider(value=seed, min=0, max=50, description="seed", style=style))
    toggles = [W.Checkbox(value=True, description=f"unit {k + 1}", indent=False, layout=W.Layout(width="80px"))
               for k in range(MAX_K_2D)]
    for k, t in enumerate(toggles):
        c[f"on{k + 1}"] = t
    fig = go.FigureWidget(_base_2d())
    info = readout()

    def redraw(_=None):
        K_ = c["K2"].value
        u = random_units_2d(K_, c["seed2"].value)
        for k, t in enumerate(toggles):
            t.disabled = k >= K_
        active = np.array([toggles[k].value for k in range(K_)])
        res = compute_2d(u["W"], u["b"], u["a"], active=active)
        with fig.batch_update():
            for trace, upd in zip(fig.data, _traces_2d(res)):
                trace.update(**upd)
            fig.layout.title.text = _title_2d(res, int(active.sum()))
        info.value = (f"{int(active.sum())} active units: {res['regions']} linear regions inside the box; "
                      f"bound for lines in general position: {res['bound']}")

    for ctl in c.values():
        ctl.observe(redraw, names="value")
    redraw()
    box = W.VBox([W.HBox([c["K2"], c["seed2"]]), W.HBox(toggles), info, fig])
    return c, fig, box


def widget(K: int = 4, seed: int = 0, K2: int = 3, seed2: int = 0) -> Live:
    """Live: a 1-D tab and a 2-D tab; ``controls`` holds both tabs' controls, ``figures`` both figures."""
    c1, f1, box1 = _tab_1d(_int("K", K, 1, MAX_K_1D), seed)
    c2, f2, box2 = _tab_2d(_int("K2", K2, 1, MAX_K_2D), seed2)
    tabs = W.Tab(children=[box1, box2])
    tabs.set_title(0, "1-D: hinges")
    tabs.set_title(1, "2-D: folds")
    return Live(controls={**c1, **c2}, figures=[f1, f2], children=[tabs])


def show(tab: str = "1d", **kwargs) -> None:
    """The live widget (both tabs) in a kernel, the static figure of ``tab`` on the website."""
    dual(widget(**kwargs), figure(tab))
