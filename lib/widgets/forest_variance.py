"""Widget W9.7: what more trees buy a random forest: OOB error and the variance floor rho sigma^2.

Data: Friedman's regression problem 1 (10 features, 5 of them noise). Two experiments share one figure.

* One training set, one forest of our own (:class:`lib.forest.RandomForest`): its OOB error and its
  test error against the number of trees M (left panel). The OOB error tracks the test error without
  a test set.
* ``R`` independent training sets, one forest each (scikit-learn's ``RandomForestRegressor``, the same
  algorithm, used here for speed): at fixed test points, the single-tree variance ``sigma^2`` and the
  correlation ``rho`` between two trees of one forest are estimated from the per-tree predictions; the
  variance of the M-tree average across training sets is compared with
  ``rho sigma^2 + (1 - rho) sigma^2 / M`` (9.84) (middle panel), and the M-tree averages at a few test
  points are drawn for every training set (right panel): their spread shrinks towards ``sqrt(rho) sigma``,
  not to zero.

* ``compute``: both experiments;
* ``figure``: kernel-free, a slider over M;
* ``widget``: live, sliders for M and for the number k of features tried per split (refits);
* ``show``: both, through :func:`lib.widgets.dual`.
"""
from __future__ import annotations

import ipywidgets as W
import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots
from sklearn.datasets import make_friedman1
from sklearn.ensemble import RandomForestRegressor

from .. import plotting
from ..forest import RandomForest, ensemble_variance
from . import Live, dual, readout, slider

N_SHOWN = 8   # test points in the right panel


def variance_decomposition(P: np.ndarray) -> dict:
    """Split per-tree predictions ``P`` (R training sets, M trees, T test points) into the pieces of (9.84).

    With ``mu(x)`` the mean over all trees and training sets, ``sigma2`` is the mean over x of the
    single-tree variance, ``cov`` the mean covariance of two different trees of the same forest, and
    ``rho = cov / sigma2``. ``var_emp[M - 1]`` is the variance (about ``mu``) of the average of the first
    M trees across training sets, averaged over x; ``var_formula`` is (9.84) with the pooled estimates.
    """
    P = np.asarray(P, dtype=np.float64)
    if P.ndim != 3 or P.shape[0] < 2 or P.shape[1] < 2:
        raise ValueError(f"P: expected shape (R >= 2, M >= 2, T), got {P.shape}")
    R, M, _ = P.shape
    D = P - P.mean(axis=(0, 1))
    sigma2 = float(np.mean(D ** 2))
    S = D.sum(axis=1)                                            # (R, T)
    cov = float(np.mean((S ** 2 - (D ** 2).sum(axis=1)) / (M * (M - 1))))
    rho = cov / sigma2
    m = np.arange(1, M + 1)
    avg = np.cumsum(D, axis=1) / m[None, :, None]                # (R, M, T): deviation of the m-tree average
    var_emp = np.mean(avg ** 2, axis=(0, 2))
    return dict(sigma2=sigma2, cov=cov, rho=rho, var_emp=var_emp,
                var_formula=ensemble_variance(sigma2, rho, m), M=m)


def compute(n_train: int = 250, n_test: int = 200, M: int = 60, R: int = 20, M_var: int = 25,
            max_features: int = 3, min_samples_leaf: int = 3, noise: float = 1.0, seed: int = 0) -> dict:
    """Run both experiments. Returns ``forest`` (ours, on training set 0), ``X_train``, ``y_train``,
    ``X_test``, ``f_test`` (noise-free targets), ``y_test``, ``oob`` and ``test_mse`` (M,) against the
    number of trees, ``P`` (R, M_var, n_test) per-tree predictions of the R forests, the entries of
    :func:`variance_decomposition`, and ``averages`` (M_var, R, N_SHOWN): the m-tree averages at the
    first test points."""
    for name, v, lo in (("n_train", n_train, 20), ("n_test", n_test, N_SHOWN), ("M", M, 2), ("R", R, 2),
                        ("M_var", M_var, 2), ("max_features", max_features, 1)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo:
            raise ValueError(f"{name}: expected an integer >= {lo}, got {v!r}")
    if max_features > 10:
        raise ValueError(f"max_features: expected at most 10 (Friedman 1 has 10 features), got {max_features}")
    X_test, f_test = make_friedman1(n_test, noise=0.0, random_state=seed + 10_000)
    y_test = f_test + noise * np.random.default_rng(seed + 10_001).normal(size=n_test)
    X0, y0 = make_friedman1(n_train, noise=noise, random_state=seed)
    forest = RandomForest(n_estimators=M, max_features=max_features, min_samples_leaf=min_samples_leaf,
                          random_state=seed).fit(X0, y0)
    per_tree = forest.predict_all(X_test)
    test_mse = np.mean((np.cumsum(per_tree, axis=0) / np.arange(1, M + 1)[:, None] - y_test) ** 2, axis=1)
    P = np.empty((R, M_var, n_test))
    for r in range(R):
        X, y = make_friedman1(n_train, noise=noise, random_state=seed + r)
        sk = RandomForestRegressor(M_var, max_features=max_features, min_samples_leaf=min_samples_leaf,
                                   random_state=seed + r, n_jobs=1).fit(X, y)
        P[r] = np.stack([t.predict(X_test) for t in sk.estimators_])
    dec = variance_decomposition(P)
    m = np.arange(1, M_var + 1)
    averages = (np.cumsum(P[:, :, :N_SHOWN], axis=1) / m[None, :, None]).transpose(1, 0, 2)
    return dict(forest=forest, X_train=X0, y_train=y0, X_test=X_test, f_test=f_test, y_test=y_test,
                oob=forest.staged_oob_error(), test_mse=test_mse, P=P, averages=averages,
                max_features=max_features, **dec)


def _title(res: dict, M: int) -> str:
    return (f"Random forest with M = {M} trees (k = {res['max_features']}): variance {res['var_emp'][M - 1]:.2f} "
            f"vs formula {res['var_formula'][M - 1]:.2f}; floor ρσ² = {res['rho'] * res['sigma2']:.2f} "
            f"(ρ = {res['rho']:.2f}, σ² = {res['sigma2']:.2f})")


def _base(res: dict) -> go.Figure:
    fig = make_subplots(rows=1, cols=3, horizontal_spacing=0.08, column_widths=[0.34, 0.33, 0.33],
                        subplot_titles=("one forest: OOB and test error", "variance across training sets",
                                        f"M-tree averages at {N_SHOWN} test points"))
    M, Mv = len(res["oob"]), len(res["var_emp"])
    r = np.arange(1, M + 1)
    fig.add_trace(go.Scatter(x=r, y=np.round(res["oob"], 4), mode="lines", name="OOB error (MSE)",
                             line=dict(color=plotting.PALETTE[0], width=2.5)), row=1, col=1)
    fig.add_trace(go.Scatter(x=r, y=np.round(res["test_mse"], 4), mode="lines", name="test MSE",
                             line=dict(color=plotting.PALETTE[1], width=2, dash="dash")), row=1, col=1)
    m = np.arange(1, Mv + 1)
    fig.add_trace(go.Scatter(x=m, y=np.round(res["var_emp"], 5), mode="markers", name="empirical variance",
                             marker=dict(color=plotting.PALETTE[2], size=7)), row=1, col=2)
    fig.add_trace(go.Scatter(x=m, y=np.round(res["var_formula"], 5), mode="lines", name="ρσ² + (1−ρ)σ²/M",
                             line=dict(color=plotting.PALETTE[3], width=2)), row=1, col=2)
    floor = res["rho"] * res["sigma2"]
    fig.add_trace(go.Scatter(x=[1, Mv], y=[floor, floor], mode="lines", name="floor ρσ²",
                             line=dict(color="#888888", dash="dot")), row=1, col=2)
    fig.add_trace(go.Scatter(x=np.arange(1, N_SHOWN + 1), y=np.round(res["f_test"][:N_SHOWN], 4), mode="markers",
                             name="true f(x)", marker=dict(symbol="line-ew-open", size=26, color="#000000",
                                                           line=dict(width=2))), row=1, col=3)
    # moving traces: markers at M in panels 1 and 2, the averages in panel 3
    fig.add_trace(go.Scatter(mode="markers", name="M", showlegend=False,
                             marker=dict(color="#000000", size=10, symbol="circle-open")), row=1, col=1)
    fig.add_trace(go.Scatter(mode="markers", name="M", showlegend=False,
                             marker=dict(color="#000000", size=12, symbol="circle-open")), row=1, col=2)
    fig.add_trace(go.Scatter(mode="markers", name="one training set each",
                             marker=dict(color=plotting.PALETTE[4], size=6, opacity=0.6)), row=1, col=3)
    fig.update_xaxes(title_text="number of trees M", row=1, col=1)
    fig.update_yaxes(title_text="mean squared error", row=1, col=1)
    fig.update_xaxes(title_text="number of trees M", row=1, col=2)
    fig.update_yaxes(title_text="Var of the M-tree average", type="log", row=1, col=2)
    fig.update_xaxes(title_text="test point", row=1, col=3)
    fig.update_yaxes(title_text="prediction", row=1, col=3)
    fig.update_layout(height=500, margin=dict(t=110), legend=dict(orientation="h", yanchor="bottom", y=1.08, x=0.0))
    return fig


MOVING = [6, 7, 8]


def _frame(res: dict, M: int) -> list[dict]:
    Mv = len(res["var_emp"])
    mv = min(M, Mv)
    avg = res["averages"][mv - 1]                                  # (R, N_SHOWN)
    R = avg.shape[0]
    jitter = np.linspace(-0.25, 0.25, R)
    xs = (np.arange(1, N_SHOWN + 1)[None, :] + jitter[:, None]).ravel()
    return [dict(x=[M, M], y=[float(res["oob"][M - 1]), float(res["test_mse"][M - 1])]),
            dict(x=[mv], y=[float(res["var_emp"][mv - 1])]),
            dict(x=np.round(xs, 3).tolist(), y=np.round(avg.ravel(), 4).tolist())]


def _steps(res: dict) -> list[int]:
    M, Mv = len(res["oob"]), len(res["var_emp"])
    return sorted(set(range(1, Mv + 1)) | set(range(Mv, M + 1, 5)) | {M})


def figure(result: dict | None = None, start: int = 1, **kwargs) -> go.Figure:
    """Kernel-free: a slider over M (the variance panels stop at ``M_var``)."""
    res = result if result is not None else compute(**kwargs)
    fig = _base(res)
    values = _steps(res)
    steps = [(str(M), _frame(res, M), {"title.text": _title(res, min(M, len(res["var_emp"])))}) for M in values]
    active = values.index(start) if start in values else 0
    sl = slider(steps, prefix="trees M = ", active=active)
    for step in sl["steps"]:
        step["args"].append(MOVING)
    for i, upd in zip(MOVING, steps[active][1]):
        fig.data[i].update(upd)
    fig.update_layout(title=steps[active][2]["title.text"], sliders=[sl], height=600)
    return fig


def widget(result: dict | None = None, **kwargs) -> Live:
    """Live: M (indexes the precomputed curves) and k (refits both experiments)."""
    state = dict(res=result if result is not None else compute(**kwargs))
    res = state["res"]
    style = dict(description_width="initial")
    controls = dict(
        M=W.IntSlider(value=1, min=1, max=len(res["oob"]), description="trees M", style=style),
        k=W.IntSlider(value=res["max_features"], min=1, max=10, description="features per split k", style=style,
                      continuous_update=False),
    )
    fig = go.FigureWidget(_base(res))
    info = readout()

    def redraw(_=None):
        res = state["res"]
        M = controls["M"].value
        with fig.batch_update():
            for i, upd in zip(MOVING, _frame(res, M)):
                fig.data[i].update(upd)
            fig.layout.title.text = _title(res, min(M, len(res["var_emp"])))
        info.value = (f"OOB error {res['oob'][M - 1]:.2f}, test MSE {res['test_mse'][M - 1]:.2f} with {M} trees; "
                      f"ρ = {res['rho']:.2f} between two trees of one forest")

    def refit(_=None):
        state["res"] = compute(**{**kwargs, "max_features": controls["k"].value})
        new = _base(state["res"])
        with fig.batch_update():
            for i, trace in enumerate(new.data):
                if i not in MOVING:
                    fig.data[i].update(x=trace.x, y=trace.y)
        redraw()

    controls["M"].observe(redraw, names="value")
    controls["k"].observe(refit, names="value")
    redraw()
    return Live(controls=controls, figures=[fig])


def show(result: dict | None = None, **kwargs) -> None:
    """The live widget in a kernel, the static figure on the website (one computation shared by both)."""
    res = result if result is not None else compute(**kwargs)
    dual(widget(result=res, **kwargs), figure(result=res))
