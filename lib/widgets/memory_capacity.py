"""Widget W2.5: how many key -> value pairs an associative memory in R^d can hold.

n pairs of unit keys and unit values in R^d are stored in an outer-product memory ``W = B A^T``, a
pseudo-inverse memory ``W = B A^+`` or a ReLU network ``d -> 256 -> d`` (lib.memory). Left panel: the
relative recall error ``||W A - B||_F / ||B||_F`` against the load n/d, with the crosstalk prediction
``sqrt((n - 1)/d)`` for random keys; right panel: the fraction of recalled vectors whose nearest stored
value is the right one. The pseudo-inverse is exact up to n = d and then fails; the network, trained
only at a few loads (it is slow), keeps going.

* ``compute``: every curve for one d and key type;
* ``figure``: kernel-free, a slider over d;
* ``widget``: live, with d, n (a marker and exact numbers at that n), key type and which memories to show;
* ``show``: both, through :func:`lib.widgets.dual`.
"""
from __future__ import annotations

from functools import lru_cache

import ipywidgets as W
import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots
from threadpoolctl import threadpool_limits

from .. import memory as mem
from .. import plotting
from . import Live, dual, readout, slider

MEMORIES = ("outer", "pinv", "mlp")
LABELS = {"outer": "outer product B Aᵀ", "pinv": "pseudo-inverse B A⁺", "mlp": "ReLU network d→256→d"}
COLOURS = {"outer": plotting.PALETTE[0], "pinv": plotting.PALETTE[3], "mlp": plotting.PALETTE[2]}
MLP_LOADS = (2.0, 4.0)             # n/d values where the network is trained (beyond the linear limit)
MAX_LOAD = 4
RHO = 0.5                           # shared component of "correlated" keys


def _check(d, key_type, memories) -> tuple[int, str, tuple[str, ...]]:
    if isinstance(d, bool) or not isinstance(d, (int, np.integer)) or not 2 <= d <= 256:
        raise ValueError(f"d: expected an integer in [2, 256], got {d!r}")
    if key_type not in mem.KEY_TYPES:
        raise ValueError(f"key_type: expected one of {mem.KEY_TYPES}, got {key_type!r}")
    memories = tuple(memories)
    bad = [m for m in memories if m not in MEMORIES]
    if bad:
        raise ValueError(f"memories: expected a subset of {MEMORIES}, got {bad}")
    return int(d), key_type, memories


def _pairs(n: int, d: int, key_type: str, seed: int):
    A = mem.make_keys(n, d, key_type, rho=RHO, seed=seed)
    B = mem.make_keys(n, d, "random", seed=seed + 7919)
    return A, B


def _linear(kind: str, n: int, d: int, key_type: str, trials: int) -> tuple[float, float]:
    """Mean (error, accuracy) of a linear memory over ``trials`` draws; NaN when the keys cannot exist."""
    if key_type == "orthonormal" and n > d:
        return np.nan, np.nan
    build = mem.outer_product_memory if kind == "outer" else mem.pinv_memory
    err, acc = [], []
    for t in range(trials):
        A, B = _pairs(n, d, key_type, seed=1000 * t + n)
        Wm = build(A, B)
        err.append(mem.recall_error(Wm, A, B))
        acc.append(mem.nearest_value_accuracy(mem.recall(Wm, A), B))
    return float(np.mean(err)), float(np.mean(acc))


@lru_cache(maxsize=256)
def _mlp(n: int, d: int, key_type: str) -> tuple[float, float]:
    """(error, accuracy) of the ReLU memory for one draw; cached, since training takes a fraction of a second."""
    if key_type == "orthonormal" and n > d:
        return np.nan, np.nan
    A, B = _pairs(n, d, key_type, seed=n)
    model = mem.mlp_memory(A, B, hidden=256, steps=100, lr=2e-2, seed=0)
    return mem.recall_error(model, A, B), mem.nearest_value_accuracy(mem.recall(model, A), B)


def compute(d: int = 16, key_type: str = "random", memories=("outer", "pinv"), trials: int = 2,
            points: int = 29) -> dict:
    """Curves for one d: ``dict(n, load = n/d, theory, error[m], accuracy[m], mlp_n, mlp_load)``.

    Linear memories are evaluated at ``points`` values of n in [1, 4d] (mean of ``trials`` draws); the
    network only at the loads ``MLP_LOADS``. Impossible settings (orthonormal keys with n > d) are NaN.
    """
    d, key_type, memories = _check(d, key_type, memories)
    with threadpool_limits(1):  # hundreds of tiny SVDs: one BLAS thread is many times faster than two
        return _compute(d, key_type, memories, trials, points)


def _compute(d: int, key_type: str, memories: tuple[str, ...], trials: int, points: int) -> dict:
    ns = np.unique(np.round(np.linspace(1, MAX_LOAD * d, points)).astype(int))
    out = dict(n=ns, load=ns / d, theory=mem.crosstalk_theory(ns, d), error={}, accuracy={},
               mlp_n=np.array([max(1, int(round(r * d))) for r in MLP_LOADS]))
    out["mlp_load"] = out["mlp_n"] / d
    for kind in memories:
        grid = out["mlp_n"] if kind == "mlp" else ns
        res = [_mlp(int(n), d, key_type) if kind == "mlp" else _linear(kind, int(n), d, key_type, trials)
               for n in grid]
        out["error"][kind] = np.array([r[0] for r in res])
        out["accuracy"][kind] = np.array([r[1] for r in res])
    return out


def at_n(n: int, d: int, key_type: str = "random") -> dict:
    """Exact numbers for one n: outer-product and pinv error/accuracy (one draw) and the theory."""
    d, key_type, _ = _check(d, key_type, ())
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n: expected a positive integer, got {n!r}")
    with threadpool_limits(1):
        res = {k: _linear(k, int(n), d, key_type, 1) for k in ("outer", "pinv")}
    return dict(res, theory=float(mem.crosstalk_theory(n, d)))


# --------------------------------------------------------------------------- drawing
def _nan_to_none(a) -> list:
    return [None if not np.isfinite(v) else round(float(v), 5) for v in np.asarray(a, dtype=float)]


def _traces(res: dict, key_type: str) -> list[dict]:
    """Trace updates in figure order: theory, then (error, accuracy) for each of MEMORIES."""
    show_theory = key_type != "orthonormal"
    out = [dict(x=_nan_to_none(res["load"]), y=_nan_to_none(res["theory"]),
                visible=True if show_theory else "legendonly")]
    for kind in MEMORIES:
        x = res["mlp_load"] if kind == "mlp" else res["load"]
        if kind in res["error"]:
            out += [dict(x=_nan_to_none(x), y=_nan_to_none(res["error"][kind])),
                    dict(x=_nan_to_none(x), y=_nan_to_none(res["accuracy"][kind]))]
        else:
            out += [dict(x=[], y=[]), dict(x=[], y=[])]
    return out


def _base() -> go.Figure:
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.1,
                        subplot_titles=("relative recall error", "nearest-value recall accuracy"))
    fig.add_trace(go.Scatter(mode="lines", name="crosstalk theory √((n−1)/d)",
                             line=dict(color="grey", dash="dash")), row=1, col=1)
    for kind in MEMORIES:
        mode = "markers+lines" if kind == "mlp" else "lines"
        style = dict(mode=mode, line=dict(color=COLOURS[kind]), marker=dict(size=8), legendgroup=kind)
        fig.add_trace(go.Scatter(name=LABELS[kind], **style), row=1, col=1)
        fig.add_trace(go.Scatter(name=LABELS[kind], showlegend=False, **style), row=1, col=2)
    for col in (1, 2):
        fig.add_vline(x=1.0, line=dict(color="grey", width=1, dash="dot"), row=1, col=col)
    fig.update_xaxes(title_text="load n / d (pairs per dimension)", range=[0, MAX_LOAD + 0.05])
    fig.update_yaxes(title_text="‖WA − B‖ / ‖B‖", range=[-0.05, 2.3], row=1, col=1)
    fig.update_yaxes(title_text="fraction recalled correctly", range=[-0.02, 1.05], row=1, col=2)
    fig.update_layout(height=470, margin=dict(t=110),
                      legend=dict(orientation="h", yanchor="bottom", y=1.1, x=0))
    return fig


def _title(d: int, key_type: str) -> str:
    return f"Associative memory capacity in d = {d} dimensions, {key_type} keys"


def figure(ds=(8, 16, 32, 64), key_type: str = "random", memories=MEMORIES, start: int = 16) -> go.Figure:
    """Kernel-free: a slider over d; the network's points are precomputed at each d."""
    if start not in ds:
        raise ValueError(f"start: expected one of ds = {tuple(ds)}, got {start!r}")
    fig = _base()
    steps = [(str(d), _traces(compute(d, key_type, memories), key_type), {"title.text": _title(d, key_type)})
             for d in ds]
    sl = slider(steps, prefix="dimension d = ", active=list(ds).index(start))
    moving = list(range(len(fig.data)))
    for step in sl["steps"]:
        step["args"].append(moving)
    for trace, upd in zip(fig.data, steps[list(ds).index(start)][1]):
        trace.update(upd)
    fig.update_layout(sliders=[sl], title=_title(start, key_type))
    return fig


def widget(d: int = 16, n: int = 24, key_type: str = "random", memories=("outer", "pinv")) -> Live:
    """Live: d and key type recompute the curves; n moves a marker and prints exact numbers."""
    style = dict(description_width="initial")
    d, key_type, memories = _check(d, key_type, memories)
    controls = dict(
        d=W.IntSlider(value=d, min=8, max=64, step=8, description="dimension d", style=style),
        n=W.IntSlider(value=min(n, MAX_LOAD * d), min=1, max=MAX_LOAD * d, description="pairs n", style=style),
        key_type=W.Dropdown(options=list(mem.KEY_TYPES), value=key_type, description="keys", style=style),
        **{k: W.Checkbox(value=k in memories, description=LABELS[k], indent=False) for k in MEMORIES},
    )
    fig = go.FigureWidget(_base())
    fig.add_trace(go.Scatter(x=[0, 0], y=[-0.05, 2.3], mode="lines", name="current n / d",
                             line=dict(color="black", width=1)), row=1, col=1)
    info = readout()

    def curves(_=None):
        c = controls
        c["n"].max = MAX_LOAD * c["d"].value
        chosen = [k for k in MEMORIES if c[k].value]
        res = compute(c["d"].value, c["key_type"].value, chosen)
        with fig.batch_update():
            for trace, upd in zip(fig.data, _traces(res, c["key_type"].value)):
                trace.update(upd)
            fig.layout.title.text = _title(c["d"].value, c["key_type"].value)
        marker()

    def marker(_=None):
        c = controls
        d_, n_ = c["d"].value, c["n"].value
        fig.data[-1].x = [n_ / d_, n_ / d_]
        r = at_n(n_, d_, c["key_type"].value)
        fmt = lambda v: "n/a (no such keys)" if not np.isfinite(v) else f"{v:.3f}"
        info.value = (f"n = {n_}, n/d = {n_ / d_:.2f}: outer-product error {fmt(r['outer'][0])} "
                      f"(theory {r['theory']:.3f} for random keys), pseudo-inverse error {fmt(r['pinv'][0])}")

    for name, control in controls.items():
        control.observe(marker if name == "n" else curves, names="value")
    curves()
    return Live(controls=controls, figures=[fig],
                children=[W.HBox([controls["d"], controls["n"], controls["key_type"]]),
                          W.HBox([controls[k] for k in MEMORIES]), info, fig])


def show(**kwargs) -> None:
    """The live widget in a kernel, the static figure on the website."""
    static = {k: v for k, v in kwargs.items() if k in {"key_type"}}
    dual(widget(**kwargs), figure(**static))
