"""Widget W10.7: capacity as the ability to fit noise.

Left panel: an RBF SVM trained on uniformly random ±1 labels for n points in the plane; training accuracy
against the kernel width gamma (mean ± sd over random label draws). Chance is 0.5; a class that reaches
1.0 can memorise anything on this sample. Right panel: the empirical Rademacher complexity of
``{x -> w^T x : ||w|| <= B}`` on the same points, by Monte Carlo, against its bound
``(B / n) sqrt(sum ||x_i||^2)`` (both linear in B, both shrink like 1 / sqrt(n)).

* ``compute``: both curves for one (n, C, seed);
* ``figure``: kernel-free, a slider over n (C = 1);
* ``widget``: live, with n, C and a button that draws new random labels;
* ``show``: both, through :func:`lib.widgets.dual`.
"""
from __future__ import annotations

import ipywidgets as W
import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots
from sklearn.svm import SVC

from .. import learning_theory as lt
from .. import plotting
from . import Live, dual, readout, slider

GAMMAS = (0.01, 0.1, 1.0, 10.0, 100.0, 1000.0)
BS = np.linspace(0.0, 4.0, 9)
NS = (20, 40, 80, 160)


def compute(n: int = 40, C: float = 1.0, gammas=GAMMAS, B=BS, n_trials: int = 6, seed: int = 0) -> dict:
    """Random-label training accuracy of ``SVC(rbf, C, gamma)`` per gamma, and Rademacher estimate vs B.

    Points: n standard normal points in R^2 (fixed by ``seed``). Returns ``dict(gammas, acc_mean, acc_sd,
    B, rad_mc, rad_se, rad_bound)`` (arrays).
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 4 <= n <= 1000:
        raise ValueError(f"n: expected an integer in [4, 1000], got {n!r}")
    if isinstance(C, bool) or not isinstance(C, (int, float, np.floating)) or not C > 0:
        raise ValueError(f"C: expected a positive number, got {C!r}")
    gammas = np.asarray(gammas, dtype=np.float64)
    if gammas.ndim != 1 or gammas.size == 0 or (gammas <= 0).any():
        raise ValueError("gammas: expected a non-empty 1-D array of positive kernel widths")
    B = np.asarray(B, dtype=np.float64)
    X = np.random.default_rng(seed).normal(size=(n, 2))
    acc = np.array([lt.random_label_fit(lambda g=g: SVC(C=C, gamma=g), X, n_trials=n_trials, seed=seed + 1,
                                        return_all=True) for g in gammas])
    est, bound, se = lt.empirical_rademacher_linear(X, 1.0, n_mc=2000, seed=seed, return_se=True)
    return dict(gammas=gammas, acc_mean=acc.mean(1), acc_sd=acc.std(1), B=B, rad_mc=est * B, rad_se=se * B,
                rad_bound=bound * B, n=n, C=float(C))


def _base() -> go.Figure:
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.12,
                        subplot_titles=("RBF SVM on random labels", "Rademacher complexity, ‖w‖ ≤ B"))
    fig.add_trace(go.Scatter(mode="lines+markers", name="train accuracy (mean ± sd)",
                             line=dict(color=plotting.PALETTE[0]), error_y=dict(type="data", visible=True)), 1, 1)
    fig.add_trace(go.Scatter(mode="lines", name="chance", line=dict(color="gray", dash="dot")), 1, 1)
    fig.add_trace(go.Scatter(mode="lines+markers", name="Monte Carlo estimate", line=dict(color=plotting.PALETTE[2])), 1, 2)
    fig.add_trace(go.Scatter(mode="lines", name="bound (B/n)·√Σ‖x‖²", line=dict(color=plotting.PALETTE[3], dash="dash")), 1, 2)
    fig.update_xaxes(type="log", title_text="RBF width γ", row=1, col=1)
    fig.update_yaxes(title_text="training accuracy on random labels", range=[0.4, 1.05], row=1, col=1)
    fig.update_xaxes(title_text="norm bound B", row=1, col=2)
    fig.update_yaxes(title_text="empirical Rademacher complexity", range=[0, 1.6], row=1, col=2)
    fig.update_layout(height=440, xaxis_title="RBF width γ", yaxis_title="training accuracy on random labels")
    return fig


def _traces(res: dict) -> list[dict]:
    r = lambda a: np.round(np.asarray(a, dtype=np.float64), 4).tolist()  # noqa: E731
    g = r(res["gammas"])
    return [dict(x=g, y=r(res["acc_mean"]), error_y=dict(type="data", array=r(res["acc_sd"]), visible=True)),
            dict(x=[g[0], g[-1]], y=[0.5, 0.5], error_y=None),
            dict(x=r(res["B"]), y=r(res["rad_mc"]), error_y=dict(type="data", array=r(res["rad_se"]), visible=True)),
            dict(x=r(res["B"]), y=r(res["rad_bound"]), error_y=None)]


def _title(res: dict) -> str:
    return (f"Fitting noise with n = {res['n']} points, C = {res['C']:g}: best random-label accuracy "
            f"{res['acc_mean'].max():.2f}; Rademacher at B = 1: {res['rad_mc'][np.searchsorted(res['B'], 1.0)]:.3f}")


def figure(ns=NS, C: float = 1.0, n_trials: int = 4) -> go.Figure:
    """Kernel-free: a slider over the sample size n (``n_trials`` label draws per gamma)."""
    fig = _base()
    steps = []
    for n in ns:
        res = compute(n, C, n_trials=n_trials)
        steps.append((str(n), _traces(res), {"title.text": _title(res)}))
    start = 1 if len(ns) > 1 else 0
    for trace, upd in zip(fig.data, steps[start][1]):
        trace.update(upd)
    fig.update_layout(title=steps[start][2]["title.text"], sliders=[slider(steps, prefix="n = ", active=start)])
    return fig


def widget(n: int = 40, C: float = 1.0) -> Live:
    """Live: n, C and a button that redraws the random labels (a new seed)."""
    style = dict(description_width="initial")
    controls = dict(n=W.IntSlider(value=n, min=10, max=200, step=10, description="n points", style=style),
                    C=W.FloatLogSlider(value=C, base=10, min=-2, max=3, description="C", style=style),
                    resample=W.Button(description="new random labels"))
    fig = go.FigureWidget(_base())
    info = readout()
    state = dict(seed=0)

    def redraw(_=None):
        res = compute(controls["n"].value, controls["C"].value, seed=state["seed"])
        with fig.batch_update():
            for trace, upd in zip(fig.data, _traces(res)):
                trace.update(upd)
            fig.layout.title.text = _title(res)
        info.value = (f"MC / bound at B = 1: {res['rad_mc'][2] / max(res['rad_bound'][2], 1e-300):.3f} "
                      f"(equal only for orthogonal points)" if len(res["B"]) > 2 else "")

    def resample(_):
        state["seed"] += 1
        redraw()

    controls["n"].observe(redraw, names="value")
    controls["C"].observe(redraw, names="value")
    controls["resample"].on_click(resample)
    redraw()
    return Live(controls=controls, figures=[fig], children=[W.HBox(list(controls.values())), fig, info])


def show(**kwargs) -> None:
    """The live widget in a kernel, the static figure on the website."""
    dual(widget(**kwargs), figure(C=kwargs.get("C", 1.0)))
