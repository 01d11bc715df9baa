"""Widget W9.3: least-squares boosting round by round on a 1-D signal.

Top left: the data, the fit ``f_m`` and the next (shrunk) tree ``eta h_{m+1}``. Bottom left: the residuals
``r_i = y_i - f_m(x_i)`` as stems. Right: train and test MSE against the round, with a marker at m.
All stages come from one :class:`lib.boosting.LSBoost` fit and its ``staged_predict``.

* ``compute``: the fit and every stage;
* ``figure``: kernel-free, a slider over the rounds;
* ``widget``: live, with the round, the learning rate, the depth and lambda;
* ``show``: both, through :func:`lib.widgets.dual`.
"""
from __future__ import annotations

from functools import lru_cache

import ipywidgets as W
import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .. import plotting
from ..boosting import LSBoost
from ..data import make_1d_signal
from . import Live, dual, readout, slider

ROUNDS = (0, 1, 2, 3, 5, 10, 20, 50, 100, 150)
ETAS = (1.0, 0.3, 0.1, 0.03)


@lru_cache(maxsize=16)  # widget() and figure() share one fit; callers must not modify the result
def compute(learning_rate: float = 0.3, max_depth: int = 2, reg_lambda: float = 0.0, n_rounds: int = 150,
            n: int = 200, seed: int = 0) -> dict:
    """Fit LSBoost on ``make_1d_signal(n, seed)`` and keep every stage.

    Returns ``dict(x, y, grid, F (M+1, G) fits on the grid, F_train (M+1, n), next_tree (M+1, G) with the
    shrunk tree of round m+1 (zeros after the last), train_mse (M+1,), test_mse (M+1,))``.
    """
    x, y, f = make_1d_signal(n, seed)
    xt, yt, _ = make_1d_signal(1000, seed + 1)
    model = LSBoost(n_rounds, learning_rate, max_depth, reg_lambda=reg_lambda).fit(x[:, None], y)
    grid = np.linspace(0, 1, 300)
    F = np.array(list(model.staged_predict(grid[:, None])))
    F_train = np.array(list(model.staged_predict(x[:, None])))
    F_test = np.array(list(model.staged_predict(xt[:, None])))
    next_tree = np.vstack([np.diff(F, axis=0), np.zeros((1, len(grid)))])
    return dict(x=x, y=y, grid=grid, truth=f(grid), F=F, F_train=F_train, next_tree=next_tree,
                train_mse=((F_train - y) ** 2).mean(1), test_mse=((F_test - yt) ** 2).mean(1))


def _stems(x, r):
    xs, ys = [], []
    for a, b in zip(x, r):
        xs += [round(float(a), 4), round(float(a), 4), None]
        ys += [0.0, round(float(b), 4), None]
    return dict(x=xs, y=ys)


def _base(res: dict) -> go.Figure:
    fig = make_subplots(rows=2, cols=2, column_widths=[0.62, 0.38], specs=[[{}, {"rowspan": 2}], [{}, None]],
                        vertical_spacing=0.12, horizontal_spacing=0.1,
                        subplot_titles=("data, fit f_m and next tree η h_(m+1)", "mean squared error",
                                        "residuals r_i = y_i − f_m(x_i)"))
    m = np.arange(len(res["train_mse"]))
    fig.add_trace(go.Scatter(x=res["x"], y=res["y"], mode="markers", name="data",
                             marker=dict(color="#999999", size=4)), row=1, col=1)
    fig.add_trace(go.Scatter(mode="lines", name="f_m", line=dict(color=plotting.PALETTE[0], width=2.5)), row=1, col=1)
    fig.add_trace(go.Scatter(mode="lines", name="η h_(m+1)", line=dict(color=plotting.PALETTE[3], width=1.5)),
                  row=1, col=1)
    fig.add_trace(go.Scatter(mode="lines", name="residuals", line=dict(color=plotting.PALETTE[2], width=1),
                             showlegend=False), row=2, col=1)
    fig.add_trace(go.Scatter(x=m, y=res["train_mse"], mode="lines", name="train MSE",
                             line=dict(color=plotting.PALETTE[0])), row=1, col=2)
    fig.add_trace(go.Scatter(x=m, y=res["test_mse"], mode="lines", name="test MSE",
                             line=dict(color=plotting.PALETTE[1])), row=1, col=2)
    fig.add_trace(go.Scatter(mode="markers", name="round m", marker=dict(color="black", size=9)), row=1, col=2)
    fig.update_xaxes(title_text="x", row=1, col=1)
    fig.update_yaxes(title_text="y", row=1, col=1)
    fig.update_xaxes(title_text="x", row=2, col=1)
    fig.update_yaxes(title_text="residual", row=2, col=1)
    fig.update_xaxes(title_text="round m", type="log", row=1, col=2)
    fig.update_yaxes(title_text="MSE", type="log", row=1, col=2)
    fig.update_layout(height=620, legend=dict(orientation="h", y=-0.12))
    return fig


def _moving(res: dict, m: int) -> list[dict]:
    r = lambda a: np.round(a, 4).tolist()  # noqa: E731
    g = res["grid"]
    return [dict(x=r(g), y=r(res["F"][m])), dict(x=r(g), y=r(res["next_tree"][m])),
            _stems(res["x"], res["y"] - res["F_train"][m]),
            dict(x=[max(m, 1)], y=[round(float(res["test_mse"][m]), 5)])]


def _title(res: dict, m: int, eta: float) -> str:
    return (f"Least-squares boosting, η = {eta:g}: round {m}, train MSE {res['train_mse'][m]:.3f}, "
            f"test MSE {res['test_mse'][m]:.3f}")


def figure(learning_rate: float = 0.3, max_depth: int = 2, rounds=ROUNDS) -> go.Figure:
    """Kernel-free: a slider over the rounds of one fit."""
    res = compute(learning_rate, max_depth, 0.0, max(rounds))
    fig = _base(res)
    moving = [1, 2, 3, 6]
    steps = [(str(m), _moving(res, m), {"title.text": _title(res, m, learning_rate)}) for m in rounds]
    sl = slider(steps, prefix="round m = ", active=3)
    for step in sl["steps"]:
        step["args"].append(moving)
    for i, upd in zip(moving, steps[3][1]):
        fig.data[i].update(upd)
    fig.update_layout(title=steps[3][2]["title.text"], sliders=[sl])
    return fig


def widget(learning_rate: float = 0.3, max_depth: int = 2, reg_lambda: float = 0.0, n_rounds: int = 150) -> Live:
    """Live: the round, the learning rate, the depth and the ridge penalty lambda."""
    style = dict(description_width="initial")
    controls = dict(
        m=W.IntSlider(value=3, min=0, max=n_rounds, description="round m", style=style),
        eta=W.Dropdown(options=list(ETAS), value=learning_rate, description="learning rate η", style=style),
        depth=W.IntSlider(value=max_depth, min=1, max=5, description="depth", style=style),
        lam=W.FloatLogSlider(value=max(reg_lambda, 1e-3), base=10, min=-3, max=2, description="λ", style=style),
    )
    state = dict(res=compute(learning_rate, max_depth, reg_lambda, n_rounds))
    fig = go.FigureWidget(_base(state["res"]))
    info = readout()

    def refit(_=None):
        c = controls
        state["res"] = compute(c["eta"].value, c["depth"].value, c["lam"].value, n_rounds)
        with fig.batch_update():
            fig.data[4].y = state["res"]["train_mse"]
            fig.data[5].y = state["res"]["test_mse"]
        redraw()

    def redraw(_=None):
        res, m = state["res"], controls["m"].value
        with fig.batch_update():
            for i, upd in zip([1, 2, 3, 6], _moving(res, m)):
                fig.data[i].update(upd)
            fig.layout.title.text = _title(res, m, controls["eta"].value)
        info.value = f"best test MSE {res['test_mse'].min():.3f} at round {int(res['test_mse'].argmin())}"

    controls["m"].observe(redraw, names="value")
    for k in ("eta", "depth", "lam"):
        controls[k].observe(refit, names="value")
    redraw()
    return Live(controls=controls, figures=[fig],
                children=[W.HBox(list(controls.values())[:2]), W.HBox(list(controls.values())[2:]), info, fig])


def show(**kwargs) -> None:
    """The live widget in a kernel, the static figure on the website."""
    static = {k: v for k, v in kwargs.items() if k in {"learning_rate", "max_depth"}}
    dual(widget(**kwargs), figure(**static))
