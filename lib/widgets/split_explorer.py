"""Widget W9.1: explore the splits of a two-feature, two-class data set and their impurity decrease.

Left panel: the points of both classes, the threshold as a line and the two half-planes shaded, with
the class proportions of each side in the title. Right panel: the impurity decrease ``Delta I`` (9.6)
against the threshold for Gini, entropy and misclassification, the current threshold marked.

* ``compute``: for one feature, every candidate threshold (midpoints of consecutive distinct values)
  with ``Delta I`` for the three impurities and the class proportions on each side;
* ``figure``: kernel-free, one slider whose precomputed steps walk the thresholds of each feature;
* ``widget``: live, a feature dropdown, a threshold slider, an impurity dropdown and "jump to best";
* ``show``: both, through :func:`lib.widgets.dual`.
"""
from __future__ import annotations

import ipywidgets as W
import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .. import plotting
from ..data import make_height_weight
from ..trees import IMPURITIES
from . import Live, dual, readout, slider

FEATURES = ("height (cm)", "weight (kg)")
CLASSES = ("group A", "group B")
CRITERIA = ("gini", "entropy", "error")


def compute(X, y, feature: int) -> dict:
    """All candidate splits of ``X[:, feature]`` for labels ``y`` in {0, 1}.

    Returns ``dict(thresholds (T,), gain={criterion: (T,)}, p_left (T,), p_right (T,), n_left (T,),
    best={criterion: index})``, where ``p_left``/``p_right`` are the fractions of class 1 on each side.
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y)
    if X.ndim != 2 or y.shape != (X.shape[0],):
        raise ValueError(f"X, y: expected shapes (n, p) and (n,), got {X.shape} and {y.shape}")
    if not np.all(np.isin(y, (0, 1))):
        raise ValueError("y: expected labels in {0, 1}")
    if isinstance(feature, bool) or not isinstance(feature, (int, np.integer)) or not 0 <= feature < X.shape[1]:
        raise ValueError(f"feature: expected an integer in [0, {X.shape[1]}), got {feature!r}")
    order = np.argsort(X[:, feature], kind="stable")
    xs, ys = X[order, feature], y[order]
    n = xs.size
    pos = np.flatnonzero(np.diff(xs) > 0) + 1                      # left side = first `pos` sorted points
    ones = np.cumsum(ys)[pos - 1]
    p_left = ones / pos
    p_right = (ys.sum() - ones) / (n - pos)
    p_all = ys.mean()
    props = lambda p: np.stack([1 - p, p], -1)                      # noqa: E731
    gain = {c: IMPURITIES[c](props(np.array([p_all])))[0] - pos / n * IMPURITIES[c](props(p_left))
            - (n - pos) / n * IMPURITIES[c](props(p_right)) for c in CRITERIA}
    return dict(thresholds=xs[pos - 1] / 2 + xs[pos] / 2, gain=gain, p_left=p_left, p_right=p_right,
                n_left=pos, best={c: int(np.argmax(g)) for c, g in gain.items()})


def _data(n: int, seed: int):
    return make_height_weight(n=n, seed=seed)


def _box(x0, x1, y0, y1) -> dict:
    return dict(x=[x0, x1, x1, x0, x0], y=[y0, y0, y1, y1, y0])


def _region_traces(X, feature: int, t: float) -> list[dict]:
    lo, hi = X.min(0) - 2, X.max(0) + 2
    if feature == 0:
        left, right, line = _box(lo[0], t, lo[1], hi[1]), _box(t, hi[0], lo[1], hi[1]), dict(x=[t, t], y=[lo[1], hi[1]])
    else:
        left, right, line = _box(lo[0], hi[0], lo[1], t), _box(lo[0], hi[0], t, hi[1]), dict(x=[lo[0], hi[0]], y=[t, t])
    return [left, right, line]


def _title(res: dict, feature: int, k: int) -> str:
    name = FEATURES[feature].split(" ")[0]
    return (f"Split {name} ≤ {res['thresholds'][k]:.1f}: {CLASSES[1]} share {res['p_left'][k]:.2f} left, "
            f"{res['p_right'][k]:.2f} right; ΔI gini {res['gain']['gini'][k]:.3f}, "
            f"error {res['gain']['error'][k]:.3f}")


def _base(X, y) -> go.Figure:
    fig = make_subplots(rows=1, cols=2, column_widths=[0.5, 0.5], horizontal_spacing=0.1,
                        subplot_titles=("SYNTHETIC height and weight", "impurity decrease ΔI against the threshold"))
    for cls in (0, 1):
        fig.add_trace(go.Scatter(x=np.round(X[y == cls, 0], 2), y=np.round(X[y == cls, 1], 2), mode="markers",
                                 marker=dict(size=5, color=plotting.PALETTE[cls], opacity=0.7), name=CLASSES[cls]),
                      row=1, col=1)
    for i, name in enumerate(("left side", "right side")):
        fig.add_trace(go.Scatter(mode="lines", fill="toself", line=dict(width=0), hoverinfo="skip",
                                 fillcolor=["rgba(0,114,178,0.10)", "rgba(230,159,0,0.12)"][i], name=name,
                                 showlegend=False), row=1, col=1)
    fig.add_trace(go.Scatter(mode="lines", line=dict(color="black", width=2), name="threshold",
                             showlegend=False), row=1, col=1)
    for i, c in enumerate(CRITERIA):
        fig.add_trace(go.Scatter(mode="lines", line=dict(color=plotting.PALETTE[2 + i], width=2), name=f"ΔI {c}"),
                      row=1, col=2)
    fig.add_trace(go.Scatter(mode="markers", marker=dict(color="black", size=9, symbol="x"),
                             name="current threshold"), row=1, col=2)
    fig.update_xaxes(title_text="height (cm)", row=1, col=1)
    fig.update_yaxes(title_text="weight (kg)", row=1, col=1)
    fig.update_xaxes(title_text="threshold", row=1, col=2)
    fig.update_yaxes(title_text="impurity decrease ΔI", row=1, col=2)
    fig.update_layout(height=470, margin=dict(t=100), legend=dict(orientation="h", y=-0.22))
    return fig


def _moving(X, res: dict, feature: int, k: int, every: int = 1) -> list[dict]:
    """Updates for traces 2.. (regions, line, three curves, marker); curves keep every ``every``-th point."""
    r = lambda a: np.round(np.asarray(a, dtype=float), 3).tolist()  # noqa: E731
    t = res["thresholds"]
    keep = sorted(set(range(0, t.size, every)) | set(res["best"].values()) | {t.size - 1})
    traces = _region_traces(X, feature, float(t[k]))
    traces += [dict(x=r(t[keep]), y=r(res["gain"][c][keep])) for c in CRITERIA]
    traces.append(dict(x=[float(t[k])] * 3, y=[round(float(res["gain"][c][k]), 4) for c in CRITERIA]))
    return traces


def figure(n: int = 400, seed: int = 0, n_steps: int = 18) -> go.Figure:
    """Kernel-free: one slider; its first half moves a height threshold, its second half a weight threshold."""
    X, y = _data(n, seed)
    fig = _base(X, y)
    moving = list(range(2, len(fig.data)))
    steps = []
    for feature in (0, 1):
        res = compute(X, y, feature)
        T = res["thresholds"].size
        picks = sorted(set(np.linspace(T * 0.04, T * 0.96, n_steps).astype(int)) | {res["best"]["gini"]})
        for k in picks:
            label = f"{FEATURES[feature][0]} {res['thresholds'][k]:.0f}"
            layout = {"title.text": _title(res, feature, k),
                      "xaxis2.title.text": f"threshold on {FEATURES[feature]}"}
            steps.append((label, _moving(X, res, feature, k, every=3), layout))
    res0 = compute(X, y, 0)
    start = next(i for i, s in enumerate(steps) if s[2]["title.text"] == _title(res0, 0, res0["best"]["gini"]))
    sl = slider(steps, prefix="split at ", active=start)
    for step in sl["steps"]:
        step["args"].append(moving)
    for trace, upd in zip(fig.data[2:], steps[start][1]):
        trace.update(upd)
    fig.update_layout(title=steps[start][2]["title.text"], sliders=[sl], height=560)
    fig.layout.xaxis2.title.text = steps[start][2]["xaxis2.title.text"]
    return fig


def widget(n: int = 400, seed: int = 0) -> Live:
    """Live: feature, threshold, impurity to highlight, and a button that jumps to the best split."""
    X, y = _data(n, seed)
    results = [compute(X, y, f) for f in (0, 1)]
    style = dict(description_width="initial")
    controls = dict(
        feature=W.Dropdown(options=[(name, i) for i, name in enumerate(FEATURES)], value=0,
                           description="feature", style=style),
        threshold=W.FloatSlider(description="threshold", step=0.01, style=style,
                                layout=W.Layout(width="420px"), continuous_update=True),
        criterion=W.Dropdown(options=list(CRITERIA), value="gini", description="impurity", style=style),
        best=W.Button(description="jump to best"),
    )
    fig = go.FigureWidget(_base(X, y))
    info = readout()

    def set_range():
        t = results[controls["feature"].value]["thresholds"]
        s = controls["threshold"]
        s.min, s.max = -1e9, 1e9                           # widen first so the new range is always valid
        s.min, s.max = float(np.floor(t.min())), float(np.ceil(t.max()))

    def redraw(_=None):
        f = controls["feature"].value
        res = results[f]
        k = int(np.argmin(np.abs(res["thresholds"] - controls["threshold"].value)))   # nearest candidate
        crit = controls["criterion"].value
        with fig.batch_update():
            for trace, upd in zip(fig.data[2:], _moving(X, res, f, k)):
                trace.update(**upd)
            for i, c in enumerate(CRITERIA):
                fig.data[5 + i].line.width = 4 if c == crit else 1.5
            fig.layout.title.text = _title(res, f, k)
            fig.layout.xaxis2.title.text = f"threshold on {FEATURES[f]}"
        b = res["best"][crit]
        info.value = (f"ΔI ({crit}) here {res['gain'][crit][k]:.4f}; best {res['gain'][crit][b]:.4f} at "
                      f"{res['thresholds'][b]:.2f}; left side holds {res['n_left'][k]} of {len(y)} points")

    def on_feature(_):
        set_range()
        res = results[controls["feature"].value]
        controls["threshold"].value = float(res["thresholds"][res["best"]["gini"]])
        redraw()

    def jump(_):
        res = results[controls["feature"].value]
        controls["threshold"].value = float(res["thresholds"][res["best"][controls["criterion"].value]])

    set_range()
    controls["threshold"].value = float(results[0]["thresholds"][results[0]["best"]["gini"]])
    controls["feature"].observe(on_feature, names="value")
    controls["threshold"].observe(redraw, names="value")
    controls["criterion"].observe(redraw, names="value")
    controls["best"].on_click(jump)
    redraw()
    return Live(controls=controls, figures=[fig],
                children=[W.HBox([controls["feature"], controls["criterion"], controls["best"]]),
                          controls["threshold"], info, fig])


def show(n: int = 400, seed: int = 0) -> None:
    """The live widget in a kernel, the static figure on the website."""
    dual(widget(n, seed), figure(n, seed))
