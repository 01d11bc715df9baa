"""Widget W9.2: a regression tree on a noisy 1-D signal, limited by depth or pruned with a penalty lambda.

Left panel: training and test points, the true function, the depth-limited tree and the pruned tree
(piecewise constant). Right panel: training and test mean squared error against the number of leaves,
for the depth sequence and for the pruning path, the current trees marked. The pruned tree minimises
``SSE + lambda * leaves`` (9.11), which is sklearn's ``ccp_alpha = lambda / n``.

* ``compute``: all depth-limited trees, the full tree's pruning path and the trees at a grid of lambdas;
* ``figure``: kernel-free, one slider for the depth and one for log10 lambda;
* ``widget``: live, the same two controls;
* ``show``: both, through :func:`lib.widgets.dual`.
"""
from __future__ import annotations

import ipywidgets as W
import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .. import plotting
from ..data import make_1d_signal
from ..trees import RegressionTree
from . import Live, dual, readout, slider

DEPTHS = tuple(range(9))
LOG_LAMBDAS = tuple(np.round(np.arange(-2.0, 2.01, 0.25), 2))


def compute(n: int = 80, seed: int = 0, kind: str = "sin", noise: float = 0.3, n_test: int = 400,
            depths=DEPTHS, log_lambdas=LOG_LAMBDAS, n_grid: int = 400) -> dict:
    """Fits on ``make_1d_signal(n, seed, kind, noise)``, tested on ``n_test`` fresh points.

    Returns ``dict(x, y, x_test, y_test, grid, f_grid, depth={d: dict(pred, leaves, train, test)},
    prune={log10 lambda: dict(pred, leaves, train, test)}, path=dict(lam, leaves, train, test))``;
    ``pred`` is the tree on ``grid`` and ``train``/``test`` are mean squared errors.
    """
    if any(isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d < 0 for d in depths):
        raise ValueError(f"depths: expected non-negative integers, got {list(depths)!r}")
    x, y, f = make_1d_signal(n, seed=seed, kind=kind, noise=noise)
    x_test, y_test, _ = make_1d_signal(n_test, seed=seed + 1000, kind=kind, noise=noise)
    X, Xt = x[:, None], x_test[:, None]
    grid = np.linspace(0, 1, n_grid)
    mse = lambda t, A, b: float(np.mean((t.predict(A) - b) ** 2))  # noqa: E731

    def summary(tree):
        return dict(pred=tree.predict(grid[:, None]), leaves=tree.n_leaves_, train=mse(tree, X, y),
                    test=mse(tree, Xt, y_test))

    depth = {int(d): summary(RegressionTree(max_depth=int(d)).fit(X, y)) for d in depths}
    full = RegressionTree().fit(X, y)
    alphas, subtrees = full.pruning_sequence()
    path = [summary(t) for t in subtrees]
    # the subtree for alpha: the last one on the path whose alpha is <= it (the path's alphas increase)
    at = lambda a: int(np.searchsorted(alphas, a, side="right")) - 1  # noqa: E731
    prune = {float(l): path[at(10.0 ** l / n)] for l in log_lambdas}
    return dict(x=x, y=y, x_test=x_test, y_test=y_test, grid=grid, f_grid=f(grid), depth=depth, prune=prune,
                path=dict(lam=n * alphas, leaves=np.array([s["leaves"] for s in path]),
                          train=np.array([s["train"] for s in path]), test=np.array([s["test"] for s in path])))


def _base(res: dict) -> go.Figure:
    r = lambda a: np.round(np.asarray(a, dtype=float), 4).tolist()  # noqa: E731
    fig = make_subplots(rows=1, cols=2, column_widths=[0.56, 0.44], horizontal_spacing=0.1,
                        subplot_titles=("piecewise-constant fits", "error against the number of leaves"))
    fig.add_trace(go.Scatter(x=r(res["x_test"]), y=r(res["y_test"]), mode="markers", name="test points",
                             marker=dict(size=3, color="#bbbbbb")), row=1, col=1)
    fig.add_trace(go.Scatter(x=r(res["x"]), y=r(res["y"]), mode="markers", name="training points",
                             marker=dict(size=6, color=plotting.PALETTE[7])), row=1, col=1)
    fig.add_trace(go.Scatter(x=r(res["grid"]), y=r(res["f_grid"]), mode="lines", name="true f",
                             line=dict(color="#777777", dash="dot")), row=1, col=1)
    fig.add_trace(go.Scatter(x=r(res["grid"]), mode="lines", name="depth-limited tree",
                             line=dict(color=plotting.PALETTE[0], width=2.5, shape="hv")), row=1, col=1)
    fig.add_trace(go.Scatter(x=r(res["grid"]), mode="lines", name="pruned tree",
                             line=dict(color=plotting.PALETTE[3], width=2, dash="dash", shape="hv")), row=1, col=1)
    dl = [res["depth"][d]["leaves"] for d in res["depth"]]
    for key, dash in (("train", "dot"), ("test", "solid")):
        fig.add_trace(go.Scatter(x=dl, y=r([res["depth"][d][key] for d in res["depth"]]), mode="lines+markers",
                                 name=f"{key} MSE, depth sequence", marker=dict(size=5),
                                 line=dict(color=plotting.PALETTE[0], dash=dash)), row=1, col=2)
        fig.add_trace(go.Scatter(x=res["path"]["leaves"].tolist(), y=r(res["path"][key]), mode="lines",
                                 name=f"{key} MSE, pruning path", line=dict(color=plotting.PALETTE[3], dash=dash)),
                      row=1, col=2)
    fig.add_trace(go.Scatter(mode="markers", marker=dict(size=12, color=plotting.PALETTE[0], symbol="circle-open",
                                                         line=dict(width=3)), name="current depth"), row=1, col=2)
    fig.add_trace(go.Scatter(mode="markers", marker=dict(size=12, color=plotting.PALETTE[3], symbol="diamond-open",
                                                         line=dict(width=3)), name="current lambda"), row=1, col=2)
    fig.update_xaxes(title_text="x", row=1, col=1)
    fig.update_yaxes(title_text="y", row=1, col=1)
    fig.update_xaxes(title_text="number of leaves", type="log", row=1, col=2)
    fig.update_yaxes(title_text="mean squared error", row=1, col=2)
    fig.update_layout(height=520, margin=dict(t=90), legend=dict(orientation="h", y=-0.2, font=dict(size=11)))
    return fig


def _depth_update(res: dict, d: int) -> list[dict]:
    s = res["depth"][d]
    return [dict(y=np.round(s["pred"], 4).tolist()), dict(x=[s["leaves"]] * 2, y=[round(s["train"], 4),
                                                                                  round(s["test"], 4)])]


def _prune_update(res: dict, l: float) -> list[dict]:
    s = res["prune"][l]
    return [dict(y=np.round(s["pred"], 4).tolist()), dict(x=[s["leaves"]] * 2, y=[round(s["train"], 4),
                                                                                  round(s["test"], 4)])]


def _title(res: dict, d: int, l: float) -> str:
    a, b = res["depth"][d], res["prune"][l]
    return (f"depth ≤ {d}: {a['leaves']} leaves, test MSE {a['test']:.3f}  |  λ = {10 ** l:.3g}: "
            f"{b['leaves']} leaves, test MSE {b['test']:.3f}")


DEPTH_TRACES, DEPTH_MARK, PRUNE_TRACE, PRUNE_MARK = 3, 9, 4, 10


def figure(n: int = 80, seed: int = 0, kind: str = "sin", noise: float = 0.3, depth: int = 3,
           log_lambda: float = 0.0) -> go.Figure:
    """Kernel-free: a depth slider and a log10 lambda slider, each moving its own tree and marker."""
    res = compute(n, seed, kind, noise)
    fig = _base(res)
    depth_steps = [(str(d), _depth_update(res, d), {"title.text": _title(res, d, log_lambda)}) for d in res["depth"]]
    prune_steps = [(f"{l:g}", _prune_update(res, l), {"title.text": _title(res, depth, l)}) for l in res["prune"]]
    s1 = slider(depth_steps, prefix="max_depth = ", active=list(res["depth"]).index(depth))
    s2 = slider(prune_steps, prefix="log10 λ = ", active=list(res["prune"]).index(log_lambda))
    for step in s1["steps"]:
        step["args"].append([DEPTH_TRACES, DEPTH_MARK])
    for step in s2["steps"]:
        step["args"].append([PRUNE_TRACE, PRUNE_MARK])
    s1.update(x=0.0, len=0.45, pad=dict(t=60))
    s2.update(x=0.52, len=0.45, pad=dict(t=60))
    for i, upd in zip((DEPTH_TRACES, DEPTH_MARK), _depth_update(res, depth)):
        fig.data[i].update(upd)
    for i, upd in zip((PRUNE_TRACE, PRUNE_MARK), _prune_update(res, log_lambda)):
        fig.data[i].update(upd)
    fig.update_layout(title=_title(res, depth, log_lambda), sliders=[s1, s2], height=640)
    return fig


def widget(n: int = 80, seed: int = 0, kind: str = "sin", noise: float = 0.3, depth: int = 3,
           log_lambda: float = 0.0) -> Live:
    """Live: max_depth and log10 lambda."""
    res = compute(n, seed, kind, noise)
    style = dict(description_width="initial")
    controls = dict(
        depth=W.IntSlider(value=depth, min=min(DEPTHS), max=max(DEPTHS), description="max_depth", style=style),
        log_lambda=W.SelectionSlider(options=[(f"{l:g}", l) for l in res["prune"]], value=log_lambda,
                                     description="log10 λ (pruning)", style=style),
    )
    fig = go.FigureWidget(_base(res))
    info = readout()

    def redraw(_=None):
        d, l = controls["depth"].value, controls["log_lambda"].value
        with fig.batch_update():
            for i, upd in zip((DEPTH_TRACES, DEPTH_MARK), _depth_update(res, d)):
                fig.data[i].update(**upd)
            for i, upd in zip((PRUNE_TRACE, PRUNE_MARK), _prune_update(res, l)):
                fig.data[i].update(**upd)
            fig.layout.title.text = _title(res, d, l)
        best = int(np.argmin(res["path"]["test"]))
        info.value = (f"best test MSE on the pruning path: {res['path']['test'][best]:.3f} with "
                      f"{res['path']['leaves'][best]} leaves (λ from {res['path']['lam'][best]:.3g}); "
                      f"ccp_alpha = λ / n = {10 ** l / n:.3g}")

    for c in controls.values():
        c.observe(redraw, names="value")
    redraw()
    return Live(controls=controls, figures=[fig], children=[W.HBox(list(controls.values())), info, fig])


def show(**kwargs) -> None:
    """The live widget in a kernel, the static figure on the website."""
    dual(widget(**kwargs), figure(**kwargs))
