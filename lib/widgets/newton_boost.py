"""Widget W9.4: Newton (XGBoost-style) boosting of the logistic loss on two moons.

A filled contour of ``p(x) = sigmoid(f_m(x))``; the training points sized by their Hessian weight
``w_i = p_i (1 - p_i)`` and coloured by the working response ``z_i = (y_i - p_i) / w_i`` (clipped to ±10).
Confident, correct points shrink (small weight) while their z tends to ±1; misclassified points keep a
large |z|. Built on :class:`lib.boosting.NewtonBoost`.

* ``compute``: the fit and the stage at round m;
* ``figure``: kernel-free, a slider over the rounds;
* ``widget``: live, with the round, lambda, gamma and the depth;
* ``show``: both, through :func:`lib.widgets.dual`.
"""
from __future__ import annotations

from functools import lru_cache

import ipywidgets as W
import numpy as np
import plotly.graph_objects as go
from scipy import special
from sklearn.datasets import make_moons

from .. import plotting
from ..boosting import NewtonBoost
from . import Live, dual, readout, slider

ROUNDS = (0, 1, 2, 3, 5, 10, 20, 40)
DEPTHS = (1, 2, 3, 4, 6)
GRID = 45


def data(n: int = 300, noise: float = 0.3, seed: int = 0):
    X, y = make_moons(n, noise=noise, random_state=seed)
    return X, y.astype(float)


@lru_cache(maxsize=16)  # widget() and figure() share one fit; callers must not modify the result
def compute(n_rounds: int = 40, reg_lambda: float = 1.0, gamma: float = 0.0, max_depth: int = 3,
            learning_rate: float = 0.3, seed: int = 0) -> dict:
    """Fit on ``make_moons(300, noise=0.3)``; return every stage.

    ``dict(X, y, gx, gy, P (M+1, GRID, GRID) probabilities on the grid, F (M+1, n) training margins,
    n_leaves (M,), log_loss (M+1,))``.
    """
    X, y = data(seed=seed)
    model = NewtonBoost("logistic", n_rounds, learning_rate, max_depth, reg_lambda, gamma).fit(X, y)
    gx = np.linspace(X[:, 0].min() - 0.5, X[:, 0].max() + 0.5, GRID)
    gy = np.linspace(X[:, 1].min() - 0.5, X[:, 1].max() + 0.5, GRID)
    G = np.column_stack([a.ravel() for a in np.meshgrid(gx, gy)])
    P = special.expit(np.array(list(model.staged_decision_function(G)))).reshape(-1, GRID, GRID)
    F = np.array(list(model.staged_decision_function(X)))
    return dict(X=X, y=y, gx=gx, gy=gy, P=P, F=F, n_leaves=np.array(model.history_["n_leaves"]),
                log_loss=np.array(model.history_["train_loss"]))


def point_stats(y: np.ndarray, f: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Hessian weights ``w = p (1 - p)`` and working responses ``z = (y - p) / w`` at margins f."""
    p = special.expit(f)
    w = np.maximum(p * (1 - p), 1e-16)
    return w, (y - p) / w


def _base(res: dict) -> go.Figure:
    fig = go.Figure()
    fig.add_trace(go.Contour(x=res["gx"], y=res["gy"], colorscale=plotting.DIVERGING, zmin=0, zmax=1,
                             contours=dict(start=0, end=1, size=0.1), opacity=0.55, name="p(x)",
                             colorbar=dict(title="p(x)", x=1.0, len=0.45, y=0.78)))
    fig.add_trace(go.Scatter(x=res["X"][:, 0], y=res["X"][:, 1], mode="markers", name="points",
                             marker=dict(colorscale="PuOr", cmin=-10, cmax=10, line=dict(color="black", width=0.5),
                                         colorbar=dict(title="z (clipped)", x=1.0, len=0.45, y=0.22)),
                             text=np.where(res["y"] > 0, "y = 1", "y = 0"),
                             hovertemplate="%{text}<br>z = %{marker.color:.2f}<extra></extra>"))
    fig.update_layout(xaxis_title="x1", yaxis_title="x2", height=520, showlegend=False)
    return fig


def _moving(res: dict, m: int) -> list[dict]:
    w, z = point_stats(res["y"], res["F"][m])
    return [dict(z=np.round(res["P"][m], 3).tolist()),
            dict(marker=dict(size=(3 + 60 * w).round(2).tolist(), color=np.clip(z, -10, 10).round(2).tolist()))]


def _title(res: dict, m: int) -> str:
    leaves = f", leaves in tree m: {res['n_leaves'][m - 1]}" if m > 0 else ""
    return f"Newton boosting on moons: round {m}, train log-loss {res['log_loss'][m]:.3f}{leaves}"


def figure(reg_lambda: float = 1.0, gamma: float = 0.0, max_depth: int = 3, rounds=ROUNDS) -> go.Figure:
    """Kernel-free: a slider over the rounds."""
    res = compute(max(rounds), reg_lambda, gamma, max_depth)
    fig = _base(res)
    steps = []
    for m in rounds:
        mv = _moving(res, m)
        steps.append((str(m), [mv[0], {"marker.size": mv[1]["marker"]["size"], "marker.color": mv[1]["marker"]["color"]}],
                      {"title.text": _title(res, m)}))
    sl = slider(steps, prefix="round m = ", active=3)
    for i, upd in enumerate(_moving(res, rounds[3])):
        fig.data[i].update(upd)
    fig.update_layout(title=steps[3][2]["title.text"], sliders=[sl])
    return fig


def widget(n_rounds: int = 40, reg_lambda: float = 1.0, gamma: float = 0.0, max_depth: int = 3) -> Live:
    """Live: the round, lambda, gamma and the depth."""
    style = dict(description_width="initial")
    controls = dict(
        m=W.IntSlider(value=3, min=0, max=n_rounds, description="round m", style=style),
        lam=W.FloatSlider(value=reg_lambda, min=0.0, max=20.0, step=0.5, description="λ", style=style),
        gamma=W.FloatSlider(value=gamma, min=0.0, max=10.0, step=0.25, description="γ (xgboost)", style=style),
        depth=W.Dropdown(options=list(DEPTHS), value=max_depth, description="depth", style=style),
    )
    state = dict(res=compute(n_rounds, reg_lambda, gamma, max_depth))
    fig = go.FigureWidget(_base(state["res"]))
    info = readout()

    def refit(_=None):
        c = controls
        state["res"] = compute(n_rounds, c["lam"].value, c["gamma"].value, c["depth"].value)
        redraw()

    def redraw(_=None):
        res, m = state["res"], controls["m"].value
        with fig.batch_update():
            for trace, upd in zip(fig.data, _moving(res, m)):
                trace.update(upd)
            fig.layout.title.text = _title(res, m)
        info.value = f"mean leaves per tree {res['n_leaves'].mean():.1f}; final train log-loss {res['log_loss'][-1]:.3f}"

    controls["m"].observe(redraw, names="value")
    for k in ("lam", "gamma", "depth"):
        controls[k].observe(refit, names="value")
    redraw()
    return Live(controls=controls, figures=[fig])


def show(**kwargs) -> None:
    """The live widget in a kernel, the static figure on the website."""
    static = {k: v for k, v in kwargs.items() if k in {"reg_lambda", "gamma", "max_depth"}}
    dual(widget(**kwargs), figure(**static))
