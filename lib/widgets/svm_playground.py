"""Widget W10.4: the kernel SVM playground (decision function, margins, free and bounded support vectors).

A soft-margin SVM (sklearn's ``SVC``, for speed) is fitted to a small 2-D dataset. The plot shows the
decision function ``f(x) = sum_i alpha_i y_i k(x_i, x) + b`` as filled contours with lines at
``f = -1, 0, +1`` (the boundary and the two margins), the training points, and the support vectors:
free ones (``0 < alpha < C``, exactly on the margin) ringed, bounded ones (``alpha = C``) crossed.

* ``compute(dataset, kernel, log2C, log2gamma, degree)``: fit, grid values, point types and readouts;
* ``figure()``: kernel-free, RBF kernel on moons, one slider over log2 C (gamma = 1) and one over
  log2 gamma (C = 1), every step precomputed;
* ``widget()``: live, with dataset, kernel, log2 C, log2 gamma, degree and a "lib SMO" toggle;
* ``show()``: both, through :func:`lib.widgets.dual`.
"""
from __future__ import annotations

import ipywidgets as W
import numpy as np
import plotly.graph_objects as go
from sklearn.datasets import load_breast_cancer, make_blobs, make_circles, make_moons
from sklearn.decomposition import PCA
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from .. import plotting, svm_dual
from ..kernels import linear_kernel, poly_kernel, rbf_kernel
from ..svm import KernelSVM
from . import Live, dual, readout, slider

DATASETS = ("moons", "circles", "xor", "blobs", "breast_cancer (2 PCs)")
KERNELS = ("rbf", "poly", "linear")
LOG2C = tuple(range(-5, 16, 2))
LOG2GAMMA = tuple(range(-7, 5, 2))


def make_data(name: str = "moons", n: int = 200, seed: int = 0):
    """``(X (n, 2), y in {-1, +1}, X_test, y_test)``; the test set has n points from the same source."""
    rng = np.random.default_rng(seed)
    if name == "moons":
        X, y = make_moons(2 * n, noise=0.25, random_state=seed)
    elif name == "circles":
        X, y = make_circles(2 * n, factor=0.4, noise=0.12, random_state=seed)
    elif name == "xor":
        X = rng.uniform(-1.5, 1.5, (2 * n, 2))
        y = (X[:, 0] * X[:, 1] > 0).astype(int)
        X = X + rng.normal(0, 0.15, X.shape)
    elif name == "blobs":
        X, y = make_blobs(2 * n, centers=[[-1, -1], [1, 1]], cluster_std=0.8, random_state=seed)
    elif name == "breast_cancer (2 PCs)":
        Xb, y = load_breast_cancer(return_X_y=True)
        X = PCA(2, random_state=0).fit_transform(StandardScaler().fit_transform(Xb)) / 3
        idx = rng.permutation(len(y))[:2 * n] if 2 * n <= len(y) else rng.permutation(len(y))
        X, y = X[idx], y[idx]
    else:
        raise ValueError(f"name: expected one of {DATASETS}, got {name!r}")
    y = 2 * y - 1
    h = len(y) // 2
    return X[:h], y[:h], X[h:], y[h:]


def _kernel_matrix(kernel, A, B, gamma, degree):
    if kernel == "rbf":
        return rbf_kernel(A, B, gamma=gamma)
    if kernel == "poly":
        return poly_kernel(A, B, degree=degree, gamma=gamma, coef0=1.0)
    return linear_kernel(A, B)


def compute(dataset: str = "moons", kernel: str = "rbf", log2C: float = 0.0, log2gamma: float = 0.0,
            degree: int = 3, n: int = 200, grid: int = 45, solver: str = "sklearn", seed: int = 0) -> dict:
    """Fit and evaluate. Returns ``dict(X, y, xs, ys, Z (grid, grid), alpha, sv_type (0/1/2), n_sv, n_free,
    n_bound, train_acc, test_acc, dual_objective, b)``; ``solver`` is "sklearn" (SVC) or "lib" (KernelSVM)."""
    if kernel not in KERNELS:
        raise ValueError(f"kernel: expected one of {KERNELS}, got {kernel!r}")
    if solver not in ("sklearn", "lib"):
        raise ValueError(f"solver: expected 'sklearn' or 'lib', got {solver!r}")
    X, y, Xt, yt = make_data(dataset, n, seed)
    C, gamma = 2.0 ** log2C, 2.0 ** log2gamma
    if solver == "sklearn":
        m = SVC(C=C, kernel=kernel, gamma=gamma, degree=degree, coef0=1.0, tol=1e-4, max_iter=200_000).fit(X, y)
        alpha = svm_dual.alpha_from_sklearn(m, len(y))
        b = float(m.intercept_[0])
        dec = m.decision_function
    else:
        m = KernelSVM(C=C, kernel=kernel, gamma=gamma, degree=degree, coef0=1.0, tol=1e-4).fit(X, y)
        alpha, b, dec = m.alpha_, float(m.intercept_[0]), m.decision_function
    lo, hi = np.r_[X, Xt].min(0) - 0.3, np.r_[X, Xt].max(0) + 0.3
    xs, ys = np.linspace(lo[0], hi[0], grid), np.linspace(lo[1], hi[1], grid)
    gx, gy = np.meshgrid(xs, ys)
    Z = dec(np.c_[gx.ravel(), gy.ravel()]).reshape(grid, grid)
    eps = 1e-8 * max(1.0, C)
    sv_type = np.where(alpha <= eps, 0, np.where(alpha >= C - 1e-6 * max(1.0, C), 2, 1))
    K = _kernel_matrix(kernel, X, X, gamma, degree)
    return dict(X=X, y=y, xs=xs, ys=ys, Z=Z, alpha=alpha, sv_type=sv_type, b=b,
                n_sv=int((sv_type > 0).sum()), n_free=int((sv_type == 1).sum()), n_bound=int((sv_type == 2).sum()),
                train_acc=float((np.sign(dec(X)) == y).mean()), test_acc=float((np.sign(dec(Xt)) == yt).mean()),
                dual_objective=svm_dual.dual_objective(alpha, y, K), C=C, gamma=gamma)


def _base(res: dict) -> go.Figure:
    X, y = res["X"], res["y"]
    fig = go.Figure()
    fig.add_trace(go.Contour(x=res["xs"], y=res["ys"], z=res["Z"], colorscale="RdBu", zmin=-2.5, zmax=2.5,
                             contours=dict(start=-2, end=2, size=1, showlabels=True), opacity=0.75,
                             colorbar=dict(title="f(x)"), name="f(x)", hoverinfo="skip"))
    for lab, col, sym in ((-1, plotting.PALETTE[3], "circle"), (1, plotting.PALETTE[0], "square")):
        fig.add_trace(go.Scatter(x=X[y == lab, 0], y=X[y == lab, 1], mode="markers", name=f"class {lab:+d}",
                                 marker=dict(color=col, size=6, symbol=sym, line=dict(width=0.5, color="white"))))
    fig.add_trace(go.Scatter(mode="markers", name="free SV (0 < α < C)",
                             marker=dict(size=13, color="rgba(0,0,0,0)", line=dict(width=2, color="black"))))
    fig.add_trace(go.Scatter(mode="markers", name="bounded SV (α = C)",
                             marker=dict(size=9, symbol="x-thin", line=dict(width=2, color="black"))))
    fig.update_layout(xaxis_title="x₁", yaxis_title="x₂", height=560,
                      legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0))
    return fig


def _moving(res: dict) -> list[dict]:
    X, t = res["X"], res["sv_type"]
    r = lambda a: np.round(a, 3).tolist()  # noqa: E731
    return [dict(x=r(res["xs"]), y=r(res["ys"]), z=r(res["Z"])),
            dict(x=r(X[t == 1, 0]), y=r(X[t == 1, 1])), dict(x=r(X[t == 2, 0]), y=r(X[t == 2, 1]))]


def _title(res: dict, kernel: str) -> str:
    return (f"{kernel} SVM: C = {res['C']:.3g}, γ = {res['gamma']:.3g}; {res['n_sv']} SVs "
            f"({res['n_free']} free, {res['n_bound']} at C); train {res['train_acc']:.2f}, test {res['test_acc']:.2f}")


def figure(dataset: str = "moons", n: int = 150, grid: int = 40) -> go.Figure:
    """Kernel-free: RBF kernel; slider 1 over log2 C (γ = 1), slider 2 over log2 γ (C = 1)."""
    first = compute(dataset, "rbf", 1.0, 0.0, n=n, grid=grid)
    fig = _base(first)
    moving = [0, 3, 4]
    sliders = []
    for key, values, fixed, prefix, y_pos in (("C", LOG2C, 0.0, "log₂ C (γ = 1) = ", 0.0),
                                              ("g", LOG2GAMMA, 0.0, "log₂ γ (C = 1) = ", -0.2)):
        steps = []
        for v in values:
            res = compute(dataset, "rbf", v if key == "C" else fixed, v if key == "g" else fixed, n=n, grid=grid)
            steps.append((f"{v:d}", _moving(res), {"title.text": _title(res, "RBF")}))
        sl = slider(steps, prefix=prefix, active=values.index(1) if 1 in values else 0)
        for step in sl["steps"]:
            step["args"].append(moving)
        sl.update(y=y_pos, len=0.9)
        sliders.append(sl)
    for trace, upd in zip([fig.data[i] for i in moving], _moving(first)):
        trace.update(upd)
    fig.update_layout(title=_title(first, "RBF"), sliders=sliders, height=720, margin=dict(b=170))
    return fig


def widget(dataset: str = "moons", kernel: str = "rbf", log2C: float = 1.0, log2gamma: float = 0.0,
           n: int = 150) -> Live:
    """Live: dataset, kernel, log2 C, log2 gamma, degree and a switch to the course's own SMO solver."""
    style = dict(description_width="initial")
    controls = dict(
        dataset=W.Dropdown(options=list(DATASETS), value=dataset, description="dataset", style=style),
        kernel=W.ToggleButtons(options=list(KERNELS), value=kernel, description="kernel", style=style),
        log2C=W.FloatSlider(value=log2C, min=-5, max=15, step=0.5, description="log₂ C", style=style),
        log2gamma=W.FloatSlider(value=log2gamma, min=-8, max=4, step=0.5, description="log₂ γ", style=style),
        degree=W.IntSlider(value=3, min=1, max=6, description="degree (poly)", style=style),
        lib=W.Checkbox(value=False, description="solve with lib SMO", style=style),
    )
    res = compute(dataset, kernel, log2C, log2gamma, n=n)
    fig = go.FigureWidget(_base(res))
    info = readout()

    def redraw(_=None):
        c = {k: v.value for k, v in controls.items()}
        r = compute(c["dataset"], c["kernel"], c["log2C"], c["log2gamma"], c["degree"], n=n,
                    solver="lib" if c["lib"] else "sklearn")
        with fig.batch_update():
            fig.data[0].update(x=r["xs"], y=r["ys"], z=r["Z"])
            for lab, k in ((-1, 1), (1, 2)):
                fig.data[k].update(x=r["X"][r["y"] == lab, 0], y=r["X"][r["y"] == lab, 1])
            for trace, upd in zip([fig.data[3], fig.data[4]], _moving(r)[1:]):
                trace.update(**upd)
            fig.layout.title.text = _title(r, c["kernel"])
        info.value = (f"#SV = {r['n_sv']} (free {r['n_free']}, bounded {r['n_bound']}); train accuracy "
                      f"{r['train_acc']:.3f}, test accuracy {r['test_acc']:.3f}; dual objective {r['dual_objective']:.4f}; "
                      f"b = {r['b']:.4f}")

    for control in controls.values():
        control.observe(redraw, names="value")
    redraw()
    return Live(controls=controls, figures=[fig],
                children=[W.HBox([controls["dataset"], controls["kernel"]]),
                          W.HBox([controls["log2C"], controls["log2gamma"], controls["degree"], controls["lib"]]),
                          info, fig])


def show(**kwargs) -> None:
    """The live widget in a kernel, the static figure on the website."""
    dual(widget(**kwargs), figure(**{k: v for k, v in kwargs.items() if k in {"dataset", "n"}}))
