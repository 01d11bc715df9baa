"""Double-descent explorer (widget W1.3): test error against the number of features.

* ``compute(...)``: one double-descent curve (``lib.double_descent.double_descent_curve``) with its
  summary: where the test error peaks near the threshold, the best error below and above it, the
  geometric-mean norm of the fitted coefficients and, on request, one fitted function and the
  Belkin-Hsu-Xu Gaussian-linear theory curve. Results are cached on the control values.
* ``figure(...)``: the kernel-free version: test and training error against ``p`` (log-log) with two
  precomputed sliders, noise ``sigma`` in {0, 0.1, 0.3} and ridge ``lambda`` in {0, 1e-3, 1e-2, 1e-1}.
  The sigma slider rewrites the data of every ridge group of traces; the lambda slider only switches
  which group is visible, so the two sliders combine freely.
* ``widget(...)``: the live version with every control and three panels (test error, coefficient norm,
  the fit at ``p_view``); ``show(...)`` displays the right one of the two.
"""
from __future__ import annotations

from functools import lru_cache

import ipywidgets as W
import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .. import double_descent as dd
from ..piecewise import spline_limit
from ..plotting import PALETTE
from . import Live, dual, readout, slider

SIGMAS = (0.0, 0.1, 0.3)
RIDGES = (0.0, 1e-3, 1e-2, 1e-1)
FEATURE_LABELS = {"random_relu": "random ReLU features", "hinge_1d": "book's hinges (1-D)"}
SHOW_BELOW = 1e-12  # training errors below this are exact interpolation (zero up to rounding)


def _threshold_p(n: int, features: str) -> int:
    """The ``p`` at which the number of columns equals ``n``: ``n`` (random features) or ``n - 1`` (hinges)."""
    return n if features == "random_relu" else n - 1


def _geo(a: np.ndarray) -> np.ndarray:
    return np.exp(np.log(a).mean(axis=0))


@lru_cache(maxsize=32)
def _curve(n, d, sigma, ridge, trials, seed, features, x_design) -> dict:
    c = dd.double_descent_curve(n=n, d=d, sigma=sigma, ridge=ridge, trials=trials, seed=seed,
                                features=features, x_design=x_design)
    cols, g = c["columns"], c["geo_mean_test"]
    near = np.flatnonzero((cols >= n / 2) & (cols <= 2 * n))
    under, over = np.flatnonzero(cols < n), np.flatnonzero(cols > n)
    peak = near[np.argmax(g[near])]
    best_under = under[np.argmin(g[under])] if under.size else None
    best_over = over[np.argmin(g[over])] if over.size else None
    out = dict(c, test_q25=np.quantile(c["test_mse"], 0.25, axis=0), test_q75=np.quantile(c["test_mse"], 0.75, axis=0),
               train_mean=c["train_mse"].mean(axis=0), norm_geo=_geo(c["beta_norm"]),
               peak_p=int(c["p"][peak]), peak_mse=float(g[peak]),
               best_under_p=None if best_under is None else int(c["p"][best_under]),
               best_under_mse=None if best_under is None else float(g[best_under]),
               best_over_p=None if best_over is None else int(c["p"][best_over]),
               best_over_mse=None if best_over is None else float(g[best_over]),
               threshold_p=_threshold_p(n, features))
    for v in out.values():  # shared by the cache: make accidental edits fail loudly
        if isinstance(v, np.ndarray):
            v.setflags(write=False)
    return out


@lru_cache(maxsize=64)
def _example(p, n, d, sigma, ridge, features, x_design, seed) -> dict:
    return dd.example_fit(p, n=n, d=d, sigma=sigma, ridge=ridge, features=features, x_design=x_design, seed=seed)


def _theory(columns: np.ndarray, n: int, sigma: float, signal_var: float) -> np.ndarray:
    """Belkin-Hsu-Xu excess risk (risk minus sigma^2) for x ~ N(0, I_D), |beta|^2 = signal_var spread
    evenly over D = max(columns) coordinates; nan where the formula is infinite."""
    D = int(columns.max())
    beta = np.full(D, np.sqrt(signal_var / D))
    risk = np.array([dd.bhx_risk(n, int(c), beta, sigma) for c in columns]) - sigma**2
    return np.where(np.isfinite(risk), risk, np.nan)


def compute(n: int = 40, d: int = 5, sigma: float = 0.1, ridge: float = 0.0, trials: int = 10, seed: int = 0,
            features: str = "random_relu", x_design: str = "jitter", p_view: int | None = None,
            theory: bool = False) -> dict:
    """One double-descent curve and its summary (all arrays have one entry per ``p`` in ``p``).

    Keys: those of ``double_descent_curve`` plus ``test_q25``/``test_q75`` (quartiles over trials),
    ``train_mean``, ``norm_geo`` (geometric mean of ``|beta|``), ``threshold_p`` (columns = n),
    ``peak_p``/``peak_mse`` (largest geometric-mean test error for ``n/2 <= columns <= 2n``),
    ``best_under_p``/``best_under_mse`` (columns < n) and ``best_over_p``/``best_over_mse`` (columns > n);
    ``example`` (``example_fit`` at ``p_view``) if ``p_view`` is given; ``theory`` (Belkin-Hsu-Xu excess
    risk of a Gaussian-linear model with the same n, sigma and signal variance) if ``theory``.
    """
    out = dict(_curve(n, d, float(sigma), float(ridge), trials, seed, features, x_design))
    if p_view is not None:
        out["example"] = _example(int(p_view), n, d, float(sigma), float(ridge), features, x_design, seed)
    if theory:
        signal_var = 0.5 - 1 / (2 * np.pi) if features == "random_relu" else 0.5  # Var max(0,z); Var sin(pi U)
        out["theory"] = _theory(out["columns"], n, float(sigma), signal_var)
    return out


def _text(c: dict) -> str:
    parts = [f"highest near the threshold: test MSE {c['peak_mse']:.3g} at p = {c['peak_p']}"]
    if c["best_under_p"] is not None:
        parts.append(f"best below the threshold {c['best_under_mse']:.3g} (p = {c['best_under_p']})")
    if c["best_over_p"] is not None:
        parts.append(f"best above {c['best_over_mse']:.3g} (p = {c['best_over_p']})")
    return parts[0] + ("<br>" + " · ".join(parts[1:]) if len(parts) > 1 else "")


def _sig(a) -> list:
    """Round to 4 significant digits for a compact page (nan stays nan, shown as a gap)."""
    return [float(f"{v:.4g}") for v in np.asarray(a, dtype=float)]


def _train_shown(c: dict) -> np.ndarray:
    return np.where(c["train_mean"] > SHOW_BELOW, c["train_mean"], np.nan)


# --------------------------------------------------------------------------- static figure
def figure(n: int = 40, d: int = 5, sigma: float = 0.1, ridge: float = 0.0, trials: int = 10, seed: int = 0,
           features: str = "random_relu", x_design: str = "jitter", p_view: int | None = None) -> go.Figure:
    """Kernel-free figure: test MSE (geometric mean over trials, with the interquartile band) and mean
    training MSE against ``p``, log-log; sliders over sigma (SIGMAS plus ``sigma``) and ridge lambda
    (RIDGES plus ``ridge``). ``p_view`` is accepted for symmetry with ``widget`` and not used."""
    sigmas = sorted(set(SIGMAS) | {float(sigma)})
    ridges = sorted(set(RIDGES) | {float(ridge)})
    curves = {(s, r): compute(n, d, s, r, trials, seed, features, x_design) for s in sigmas for r in ridges}
    thr = _threshold_p(n, features)
    # the y range fits every test curve; training errors falling towards 0 may leave it at the bottom
    values = np.concatenate([np.r_[c["test_q25"], c["test_q75"]] for c in curves.values()])
    lo, hi = np.log10(values.min()) - 1.0, np.log10(values.max()) + 0.3

    def group(c: dict, s: float, r: float) -> list[dict]:
        p = c["p"].astype(float)
        name = "ridgeless" if r == 0 else f"λ = {r:g}"
        return [dict(x=_sig(np.r_[p, p[::-1]]), y=_sig(np.r_[c["test_q75"], c["test_q25"][::-1]]), text=None),
                dict(x=_sig(p), y=_sig(c["geo_mean_test"]), text=None),
                dict(x=_sig(p), y=_sig(_train_shown(c)), text=None),
                dict(x=[c["peak_p"]], y=_sig([c["peak_mse"]]), text=None),
                dict(x=[0.0], y=[0.5], text=[f"σ = {s:g}, {name}: " + _text(c)])]

    fig = make_subplots(rows=2, cols=1, row_heights=[0.1, 0.9], vertical_spacing=0.02)
    styles = [dict(fill="toself", fillcolor="rgba(0,114,178,0.15)", line=dict(width=0), hoverinfo="skip",
                   name="test MSE, middle 50% of trials"),
              dict(mode="lines+markers", line=dict(color=PALETTE[0], width=2.5), marker=dict(size=4),
                   name="test MSE (geometric mean)"),
              dict(mode="lines", line=dict(color=PALETTE[1], dash="dash"), name="train MSE (mean; 0 is not drawn)"),
              dict(mode="markers", marker=dict(symbol="star", size=14, color=PALETTE[3]), name="peak"),
              dict(mode="text", textposition="middle right", hoverinfo="skip")]
    s0, r0 = float(sigma), float(ridge)
    for r in ridges:
        for k, (style, data) in enumerate(zip(styles, group(curves[(s0, r)], s0, r))):
            row = 1 if k == 4 else 2
            fig.add_trace(go.Scatter(**data, **style, visible=(r == r0), legendgroup=str(r),
                                     showlegend=(r == r0) and k < 4), row=row, col=1)
    vline = dict(x=[thr, thr], y=[10**lo, 10**hi], text=None)
    fig.add_trace(go.Scatter(**vline, mode="lines", line=dict(color="gray", dash="dot"),
                             name=f"threshold: {'p' if features == 'random_relu' else 'p + 1'} = n = {n}"), row=2, col=1)

    sigma_steps = [(f"{s:g}", [t for r in ridges for t in group(curves[(s, r)], s, r)] + [vline], None) for s in sigmas]
    n_group = len(styles)
    ridge_steps = [("ridgeless" if r == 0 else f"{r:g}",
                    [dict(visible=(q == r), showlegend=(q == r) and k < 4) for q in ridges for k in range(n_group)]
                    + [dict(visible=True, showlegend=True)], None) for r in ridges]
    s_slider = slider(sigma_steps, "noise σ = ", active=sigmas.index(s0))
    r_slider = slider(ridge_steps, "ridge λ = ", active=ridges.index(r0))
    s_slider.update(x=0.0, len=0.45, y=0, yanchor="top")
    r_slider.update(x=0.55, len=0.45, y=0, yanchor="top")
    what = "random ReLU features, d = %d" % d if features == "random_relu" else f"book's hinges, {x_design} x"
    fig.update_layout(
        title=f"Double descent: {what}, n = {n}, {trials} trials",
        height=560, sliders=[s_slider, r_slider], margin=dict(b=110),
        legend=dict(x=0.99, xanchor="right", y=0.87, yanchor="top", bgcolor="rgba(255,255,255,0.6)"),
        xaxis=dict(visible=False, range=[0, 1]), yaxis=dict(visible=False, range=[0, 1]),
        xaxis2=dict(type="log", title="number of features p"),
        yaxis2=dict(type="log", title="mean squared error", range=[lo, hi], dtick=1, exponentformat="power"),
    )
    return fig


# --------------------------------------------------------------------------- live widget
def widget(n: int = 40, d: int = 5, sigma: float = 0.1, ridge: float = 0.0, trials: int = 10, seed: int = 0,
           features: str = "random_relu", x_design: str = "jitter", p_view: int | None = None) -> Live:
    """Live explorer: controls for every argument of ``compute``; panels: test/train MSE against ``p``,
    ``|beta|`` against ``p``, and the fitted function at ``p_view`` (default: the threshold)."""
    c = compute(n, d, sigma, ridge, trials, seed, features, x_design)
    grid = [int(p) for p in c["p"]]
    controls = dict(
        features=W.Dropdown(options=[(v, k) for k, v in FEATURE_LABELS.items()], value=features, description="features"),
        n=W.IntSlider(value=n, min=10, max=80, step=5, description="n", continuous_update=False),
        d=W.Dropdown(options=[2, 3, 5, 10], value=d, description="d (ReLU)"),
        x_design=W.Dropdown(options=list(dd.X_DESIGNS), value=x_design, description="x (hinges)"),
        sigma=W.FloatSlider(value=sigma, min=0.0, max=1.0, step=0.05, description="noise σ", continuous_update=False),
        ridgeless=W.Checkbox(value=ridge == 0, description="ridgeless (λ = 0)"),
        ridge=W.FloatLogSlider(value=ridge if ridge > 0 else 1e-3, base=10, min=-8, max=1, description="ridge λ",
                               disabled=ridge == 0, continuous_update=False),
        trials=W.IntSlider(value=trials, min=1, max=20, description="trials", continuous_update=False),
        seed=W.IntSlider(value=seed, min=0, max=20, description="seed", continuous_update=False),
        p_view=W.SelectionSlider(options=grid, value=min(grid, key=lambda q: abs(q - (p_view or c["threshold_p"]))),
                                 description="p_view", continuous_update=False),
        theory=W.Checkbox(value=False, description="Belkin-Hsu-Xu theory"),
    )
    info = readout()
    fig = go.FigureWidget(make_subplots(rows=1, cols=3, horizontal_spacing=0.08, subplot_titles=(
        "test and training error", "size of the coefficients", "one fitted function (trial 1)")))
    traces = [  # (name, trace, column)
        ("band", go.Scatter(fill="toself", fillcolor="rgba(0,114,178,0.15)", line=dict(width=0), hoverinfo="skip",
                            name="test MSE, middle 50%"), 1),
        ("test", go.Scatter(mode="lines+markers", line=dict(color=PALETTE[0], width=2.5), marker=dict(size=4),
                            name="test MSE (geo. mean)"), 1),
        ("train", go.Scatter(mode="lines", line=dict(color=PALETTE[1], dash="dash"), name="train MSE"), 1),
        ("theory", go.Scatter(mode="lines", line=dict(color=PALETTE[4], dash="dashdot"), name="Gaussian-linear theory"), 1),
        ("view", go.Scatter(mode="markers", marker=dict(symbol="circle-open", size=14, color=PALETTE[3]),
                            name="p_view"), 1),
        ("vline", go.Scatter(mode="lines", line=dict(color="gray", dash="dot"), name="threshold"), 1),
        ("norm", go.Scatter(mode="lines+markers", line=dict(color=PALETTE[2]), marker=dict(size=4), name="|β| (geo. mean)"), 2),
        ("vline2", go.Scatter(mode="lines", line=dict(color="gray", dash="dot"), showlegend=False), 2),
        ("data", go.Scatter(mode="markers", marker=dict(color="black", size=6), name="training data"), 3),
        ("truth", go.Scatter(mode="lines", line=dict(color=PALETTE[2], width=2), name="truth"), 3),
        ("fit", go.Scatter(mode="lines", line=dict(color=PALETTE[3], width=2), name="fit at p_view"), 3),
        ("spline", go.Scatter(mode="lines", line=dict(color=PALETTE[4], dash="dash"), name="spline limit (p → ∞)"), 3),
        ("knots", go.Scatter(mode="markers", marker=dict(symbol="line-ns-open", size=8, color="gray"), name="knots"), 3),
    ]
    index = {}
    for i, (name, trace, col) in enumerate(traces):
        fig.add_trace(trace, row=1, col=col)
        index[name] = i
    fig.update_layout(title="Double descent explorer", height=470, legend=dict(orientation="h", y=-0.2))
    for col in (1, 2):
        fig.update_xaxes(type="log", title_text="number of features p", row=1, col=col)
        fig.update_yaxes(type="log", row=1, col=col)
    fig.update_yaxes(title_text="mean squared error", row=1, col=1)
    fig.update_yaxes(title_text="|β| (Euclidean norm)", row=1, col=2)
    fig.update_yaxes(title_text="y", row=1, col=3)
    busy = [False]

    def values():
        v = {k: w.value for k, w in controls.items()}
        v["ridge"] = 0.0 if v.pop("ridgeless") else float(v["ridge"])
        return v

    def redraw(change=None):
        if busy[0]:
            return
        busy[0] = True
        try:
            v = values()
            controls["ridge"].disabled = v["ridge"] == 0
            curve = compute(v["n"], v["d"], v["sigma"], v["ridge"], v["trials"], v["seed"], v["features"],
                            v["x_design"])
            grid = [int(p) for p in curve["p"]]
            if list(controls["p_view"].options) != grid:
                old = controls["p_view"].value
                controls["p_view"].options = grid
                controls["p_view"].value = min(grid, key=lambda q: abs(q - old))
            pv = controls["p_view"].value
            c = compute(v["n"], v["d"], v["sigma"], v["ridge"], v["trials"], v["seed"], v["features"],
                        v["x_design"], p_view=pv, theory=v["theory"])
            _update(fig, index, c, v, pv)
            info.value = f"<b>{FEATURE_LABELS[v['features']]}</b>: {_text(c)}" + (
                "; training error 0 (interpolation) from p = %d on" % c["p"][np.argmax(c["train_mean"] < SHOW_BELOW)]
                if v["ridge"] == 0 and np.any(c["train_mean"] < SHOW_BELOW) else "")
        finally:
            busy[0] = False

    for w in controls.values():
        w.observe(redraw, names="value")
    redraw()
    return Live(controls=controls, figures=[fig], children=[
        W.HBox(list(controls.values())[:6], layout=W.Layout(flex_flow="row wrap")),
        W.HBox(list(controls.values())[6:], layout=W.Layout(flex_flow="row wrap")), info, fig])


def _update(fig: go.FigureWidget, index: dict, c: dict, v: dict, pv: int) -> None:
    """Write one computation into the live figure's traces (one batched message to the front end)."""
    p = c["p"].astype(float)
    thr, ex = c["threshold_p"], c["example"]
    test, norm = c["geo_mean_test"], c["norm_geo"]
    k = int(np.flatnonzero(c["p"] == pv)[0])
    lo = np.nanmin(np.r_[c["test_q25"], _train_shown(c)]) / 2
    hinge = v["features"] == "hinge_1d"
    with fig.batch_update():
        d = fig.data
        d[index["band"]].update(x=np.r_[p, p[::-1]], y=np.r_[c["test_q75"], c["test_q25"][::-1]])
        d[index["test"]].update(x=p, y=test)
        d[index["train"]].update(x=p, y=_train_shown(c))
        d[index["theory"]].update(x=p, y=c.get("theory", np.full_like(p, np.nan)), visible=v["theory"])
        d[index["view"]].update(x=[pv], y=[test[k]])
        d[index["vline"]].update(x=[thr, thr], y=[lo, c["test_q75"].max() * 2],
                                 name=f"threshold ({'p' if not hinge else 'p + 1'} = n)")
        d[index["norm"]].update(x=p, y=norm)
        d[index["vline2"]].update(x=[thr, thr], y=[norm.min() / 2, norm.max() * 2])
        d[index["data"]].update(x=ex["x"], y=ex["y"])
        d[index["truth"]].update(x=ex["grid"], y=ex["truth"])
        d[index["fit"]].update(x=ex["grid"], y=ex["fit"], name=f"fit at p = {pv}")
        show_spline = hinge and v["ridge"] == 0
        inside = (ex["grid"] >= ex["x"].min()) & (ex["grid"] <= ex["x"].max())
        spline = spline_limit(ex["x"], ex["y"])(ex["grid"][inside]) if show_spline else []
        d[index["spline"]].update(x=ex["grid"][inside] if show_spline else [], y=spline, visible=show_spline)
        span = np.r_[ex["y"], ex["truth"]]
        pad = 0.5 * np.ptp(span) + 0.1
        bottom, top = span.min() - pad, span.max() + pad
        knots = ex["knots"] if hinge and ex["knots"].size <= 200 else np.array([])  # ticks; too dense past 200
        d[index["knots"]].update(x=knots, y=np.full(knots.size, bottom + 0.05 * (top - bottom)), visible=hinge)
        fig.layout.yaxis3.range = [bottom, top]
        fig.layout.xaxis3.title.text = "x" if hinge else "t, position along the teacher direction w*"


def show(**kwargs) -> None:
    """Display the explorer: live in a kernel, the precomputed figure on the website."""
    dual(widget(**kwargs), figure(**kwargs))
