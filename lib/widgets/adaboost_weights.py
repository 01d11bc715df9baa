"""Widget W9.6: AdaBoost round by round on two moons: the sample weights, the stump and the bounds.

Left panel: the training points, drawn with an area that grows with their weight ``w_i^(m)`` in round m,
the stump fitted in that round (a vertical or horizontal line) and, in the background, the sign of the
ensemble ``f_m`` after that round. Label-noise points (flipped labels) are ringed. Right panel: the
training 0-1 error, the average exponential loss and the product bound ``prod_k 2 sqrt(eps_k (1 - eps_k))``
against the round (the last two coincide for learning rate 1), with the current round marked.

* ``compute``: the data, the fitted :class:`lib.adaboost.AdaBoost` and everything the panels show;
* ``figure``: kernel-free, a slider over the rounds;
* ``widget``: live, a round slider and a label-noise switch (0%, 10% or 20% flipped labels);
* ``show``: both, through :func:`lib.widgets.dual`.
"""
from __future__ import annotations

import ipywidgets as W
import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots
from sklearn.datasets import make_moons

from .. import plotting
from ..adaboost import AdaBoost
from ..data import flip_labels
from . import Live, dual, readout, slider

NOISE_LEVELS = (0.0, 0.1, 0.2)


def compute(n: int = 200, noise: float = 0.25, flip: float = 0.0, n_rounds: int = 40, grid: int = 36,
            seed: int = 0) -> dict:
    """Fit AdaBoost with stumps on ``make_moons(n, noise)`` with a fraction ``flip`` of labels flipped.

    Returns a dict with ``X`` (n, 2), ``y`` in {-1, +1}, ``flipped`` (n,) bool, ``model``, ``weights``
    (M, n; row m is the weighting stump m + 1 was fitted with), ``alphas``, ``errors``, ``feature``,
    ``threshold`` (M,), ``train_error``, ``exp_loss``, ``bound`` (M,), ``flipped_share`` (M,) = total weight
    on flipped points, grid axes ``gx``, ``gy`` and ``sign_f`` (M, grid, grid), the sign of f_m on the grid.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 10:
        raise ValueError(f"n: expected an integer >= 10, got {n!r}")
    if not 0 <= flip <= 0.5:
        raise ValueError(f"flip: expected a fraction in [0, 0.5], got {flip!r}")
    if isinstance(n_rounds, bool) or not isinstance(n_rounds, (int, np.integer)) or n_rounds < 1:
        raise ValueError(f"n_rounds: expected an integer >= 1, got {n_rounds!r}")
    X, y01 = make_moons(n, noise=noise, random_state=seed)
    y = 2 * y01 - 1
    flipped = np.zeros(n, dtype=bool)
    if flip > 0:
        y, flipped = flip_labels(y, flip, seed)
    model = AdaBoost(n_estimators=n_rounds).fit(X, y)
    lo, hi = X.min(axis=0) - 0.3, X.max(axis=0) + 0.3
    gx, gy = np.linspace(lo[0], hi[0], grid), np.linspace(lo[1], hi[1], grid)
    G = np.column_stack([np.repeat(gx[None, :], grid, 0).ravel(), np.repeat(gy[:, None], grid, 1).ravel()])
    sign_f = np.array([np.where(f > 0, 1, -1).reshape(grid, grid) for f in model.staged_decision_function(G)])
    return dict(X=X, y=y, flipped=flipped, model=model, weights=model.weights_, alphas=model.alphas_,
                errors=model.errors_, feature=np.array([h.feature_ for h in model.learners_]),
                threshold=np.array([h.threshold_ for h in model.learners_]),
                train_error=model.staged_train_error_, exp_loss=model.staged_exp_loss_, bound=model.bound_,
                flipped_share=model.weights_[:, flipped].sum(axis=1), gx=gx, gy=gy, sign_f=sign_f)


def _sizes(w: np.ndarray) -> list:
    """Marker diameters: area proportional to the weight, 7 px at the uniform weight 1/n, capped at 45 px."""
    return np.round(np.clip(7.0 * np.sqrt(w * len(w)), 2.0, 45.0), 1).tolist()


def _stump_line(res: dict, m: int) -> dict:
    j, t = int(res["feature"][m]), float(res["threshold"][m])
    if not np.isfinite(t):                       # a constant stump has no boundary
        return dict(x=[], y=[])
    if j == 0:
        return dict(x=[t, t], y=[float(res["gy"][0]), float(res["gy"][-1])])
    return dict(x=[float(res["gx"][0]), float(res["gx"][-1])], y=[t, t])


def _frame(res: dict, m: int) -> list[dict]:
    """Updates for the moving traces (background, two classes, flipped rings, stump, markers) at round m."""
    size, y = np.array(_sizes(res["weights"][m])), res["y"]
    return [dict(z=res["sign_f"][m].tolist()),
            {"marker.size": size[y < 0].tolist()},
            {"marker.size": size[y > 0].tolist()},
            {"marker.size": size[res["flipped"]].tolist()},
            _stump_line(res, m),
            dict(x=[m + 1] * 3, y=[float(res["train_error"][m]), float(res["exp_loss"][m]), float(res["bound"][m])])]


def _title(res: dict, m: int) -> str:
    extra = f"; weight on flipped points {res['flipped_share'][m]:.2f}" if res["flipped"].any() else ""
    return (f"AdaBoost round {m + 1}: weighted error ε = {res['errors'][m]:.3f}, α = {res['alphas'][m]:.3f}, "
            f"training error {res['train_error'][m]:.3f}{extra}")


def _base(res: dict) -> go.Figure:
    X, y, fl = res["X"], res["y"], res["flipped"]
    fig = make_subplots(rows=1, cols=2, column_widths=[0.55, 0.45], horizontal_spacing=0.1,
                        subplot_titles=("points sized by weight w_i, stump of this round, sign of f_m",
                                        "training error ≤ exponential loss = product bound"))
    fig.add_trace(go.Heatmap(x=res["gx"], y=res["gy"], z=res["sign_f"][0], zmin=-1, zmax=1, showscale=False,
                             colorscale=[[0, "rgba(0,114,178,0.14)"], [1, "rgba(213,94,0,0.14)"]],
                             hoverinfo="skip", name="sign of f_m"), row=1, col=1)
    for lab, color, name in ((-1, plotting.PALETTE[0], "y = −1"), (1, plotting.PALETTE[3], "y = +1")):
        sel = y == lab
        fig.add_trace(go.Scatter(x=np.round(X[sel, 0], 4), y=np.round(X[sel, 1], 4), mode="markers", name=name,
                                 marker=dict(color=color, opacity=0.7, line=dict(width=0))), row=1, col=1)
    fig.add_trace(go.Scatter(x=np.round(X[fl, 0], 4), y=np.round(X[fl, 1], 4), mode="markers",
                             name="flipped label", showlegend=bool(fl.any()),
                             marker=dict(color="rgba(0,0,0,0)", line=dict(color="#000000", width=1.5))),
                  row=1, col=1)
    fig.add_trace(go.Scatter(mode="lines", name="stump of this round",
                             line=dict(color=plotting.PALETTE[2], width=3)), row=1, col=1)
    fig.add_trace(go.Scatter(mode="markers", name="this round", showlegend=False,
                             marker=dict(color="#000000", size=9, symbol="circle-open")), row=1, col=2)
    r = np.arange(1, len(res["errors"]) + 1)
    for key, color, name, dash in (("train_error", plotting.PALETTE[0], "training 0-1 error", "solid"),
                                   ("exp_loss", plotting.PALETTE[1], "exponential loss", "solid"),
                                   ("bound", plotting.PALETTE[4], "∏ 2√(ε(1−ε))", "dot")):
        fig.add_trace(go.Scatter(x=r, y=np.round(res[key], 5), mode="lines", name=name,
                                 line=dict(color=color, dash=dash, width=2.5 if dash == "solid" else 2)),
                      row=1, col=2)
    fig.update_xaxes(title_text="x₁", range=[res["gx"][0], res["gx"][-1]], row=1, col=1)
    fig.update_yaxes(title_text="x₂", range=[res["gy"][0], res["gy"][-1]], row=1, col=1)
    fig.update_xaxes(title_text="round m", row=1, col=2)
    fig.update_yaxes(title_text="error or loss (log scale)", type="log", row=1, col=2)
    fig.update_layout(height=520, margin=dict(t=110),
                      legend=dict(orientation="h", yanchor="bottom", y=1.08, x=0.0))
    return fig


MOVING = [0, 1, 2, 3, 4, 5]   # trace indices that the slider and the live controls update


def figure(n: int = 200, noise: float = 0.25, flip: float = 0.0, n_rounds: int = 40, result: dict | None = None,
           start: int = 0) -> go.Figure:
    """Kernel-free: a slider over the rounds (``result`` reuses a :func:`compute` output)."""
    res = result if result is not None else compute(n, noise, flip, n_rounds)
    fig = _base(res)
    M = len(res["errors"])
    steps = [(str(m + 1), _frame(res, m), {"title.text": _title(res, m)}) for m in range(M)]
    sl = slider(steps, prefix="round m = ", active=start)
    for step in sl["steps"]:
        step["args"].append(MOVING)
    for i, upd in zip(MOVING, steps[start][1]):
        fig.data[i].update(upd)
    fig.update_layout(title=_title(res, start), sliders=[sl], height=600)
    return fig


def widget(n: int = 200, noise: float = 0.25, flip: float = 0.0, n_rounds: int = 40,
           result: dict | None = None) -> Live:
    """Live: a round slider and a label-noise switch."""
    state = dict(res=result if result is not None else compute(n, noise, flip, n_rounds))
    flip = min(NOISE_LEVELS, key=lambda f: abs(f - state["res"]["flipped"].mean()))   # the fitted noise level
    style = dict(description_width="initial")
    controls = dict(
        round=W.IntSlider(value=1, min=1, max=len(state["res"]["errors"]), description="round m", style=style),
        flip=W.ToggleButtons(options=[(f"{int(100 * f)}% flipped", f) for f in NOISE_LEVELS], value=flip,
                             description="label noise", style=style),
    )
    fig = go.FigureWidget(_base(state["res"]))
    info = readout()

    def refit(_=None):
        state["res"] = compute(n, noise, controls["flip"].value, n_rounds)
        res = state["res"]
        controls["round"].max = len(res["errors"])
        new = _base(res)
        with fig.batch_update():
            for i, trace in enumerate(new.data):
                fig.data[i].update(x=trace.x, y=trace.y, showlegend=trace.showlegend)
        redraw()

    def redraw(_=None):
        res = state["res"]
        m = min(controls["round"].value, len(res["errors"])) - 1
        with fig.batch_update():
            for i, upd in zip(MOVING, _frame(res, m)):
                fig.data[i].update(upd)
            fig.layout.title.text = _title(res, m)
        top = np.argsort(res["weights"][m])[::-1][:10]
        info.value = (f"ε = {res['errors'][m]:.3f}, α = {res['alphas'][m]:.3f}; the 10 heaviest points carry "
                      f"{res['weights'][m][top].sum():.2f} of the weight, "
                      f"{int(res['flipped'][top].sum())} of them have flipped labels")

    controls["round"].observe(redraw, names="value")
    controls["flip"].observe(refit, names="value")
    redraw()
    return Live(controls=controls, figures=[fig])


def show(**kwargs) -> None:
    """The live widget in a kernel, the static figure on the website (one fit shared by both)."""
    res = kwargs.pop("result", None)
    if res is None:
        res = compute(**kwargs)
    dual(widget(result=res, **kwargs), figure(result=res))
