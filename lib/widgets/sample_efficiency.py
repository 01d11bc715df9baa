"""Widget W3.5: test accuracy of several models against the number of training examples.

The runs are computed by the notebook (training is too slow for a widget) and passed in as
``runs = {model name: {n_train: [accuracy per seed, ...]}}`` with ``n_params = {model name: int}``.

* ``compute``: mean, min and max accuracy per model at one training-set size;
* ``figure``: kernel-free, bars per model with the seed range, a slider over ``n_train``;
* ``widget``: live, a dropdown over ``n_train`` redrawing the same bars;
* ``show``: both, through :func:`lib.widgets.dual`.
"""
from __future__ import annotations

import ipywidgets as W
import numpy as np
import plotly.graph_objects as go

from .. import plotting
from . import Live, dual, slider


def _check_runs(runs, n_params) -> list[int]:
    if not isinstance(runs, dict) or not runs:
        raise TypeError("runs: expected a non-empty dict {model: {n_train: [accuracies]}}")
    sizes = None
    for name, per_n in runs.items():
        if not isinstance(per_n, dict) or not per_n:
            raise TypeError(f"runs[{name!r}]: expected a non-empty dict {{n_train: [accuracies]}}")
        for n, accs in per_n.items():
            a = np.asarray(accs, dtype=float)
            if a.ndim != 1 or a.size == 0 or np.any((a < 0) | (a > 1)) or not np.all(np.isfinite(a)):
                raise ValueError(f"runs[{name!r}][{n!r}]: expected a non-empty list of accuracies in [0, 1]")
        if sizes is None:
            sizes = sorted(per_n)
        elif sorted(per_n) != sizes:
            raise ValueError(f"runs[{name!r}]: expected the same training sizes {sizes} for every model")
    if not isinstance(n_params, dict) or set(n_params) != set(runs):
        raise ValueError("n_params: expected one parameter count per model in runs")
    return sizes


def compute(runs: dict, n_params: dict, n_train: int) -> dict:
    """At one training-set size: ``models`` (names), ``mean``, ``low``, ``high`` (over seeds), ``accs``
    (lists per model) and ``params`` (parameter counts), in the order of ``runs``."""
    sizes = _check_runs(runs, n_params)
    if n_train not in sizes:
        raise ValueError(f"n_train: expected one of {sizes}, got {n_train!r}")
    models = list(runs)
    accs = [list(map(float, runs[m][n_train])) for m in models]
    return dict(models=models, accs=accs, mean=[float(np.mean(a)) for a in accs],
                low=[float(np.min(a)) for a in accs], high=[float(np.max(a)) for a in accs],
                params=[int(n_params[m]) for m in models])


def _bar_update(res: dict) -> dict:
    mean, low, high = (np.array(res[k]) for k in ("mean", "low", "high"))
    return dict(y=res["mean"], text=[f"{m:.3f}" for m in res["mean"]],
                error_y=dict(type="data", symmetric=False, array=(high - mean).tolist(),
                             arrayminus=(mean - low).tolist()))


def _base(res: dict) -> go.Figure:
    labels = [f"{m}<br>{p:,} parameters" for m, p in zip(res["models"], res["params"])]
    colours = [plotting.PALETTE[i % len(plotting.PALETTE)] for i in range(len(labels))]
    fig = go.Figure(go.Bar(x=labels, marker_color=colours, textposition="outside", name="mean over seeds",
                           **_bar_update(res)))
    fig.update_yaxes(title="test accuracy (bar: mean, whisker: seed range)", range=[0, 1.1])
    fig.update_xaxes(title="model")
    fig.update_layout(height=420)
    return fig


def _title(n: int) -> str:
    return f"Test accuracy with n = {n} training examples"


def figure(runs: dict, n_params: dict) -> go.Figure:
    """Kernel-free: one bar per model, a slider over the training-set sizes."""
    sizes = _check_runs(runs, n_params)
    fig = _base(compute(runs, n_params, sizes[0]))
    steps = [(str(n), [_bar_update(compute(runs, n_params, n))], {"title.text": _title(n)}) for n in sizes]
    fig.update_layout(sliders=[slider(steps, prefix="training examples n = ")], title=_title(sizes[0]))
    return fig


def widget(runs: dict, n_params: dict, n_train: int | None = None) -> Live:
    """Live: a dropdown over the training-set sizes."""
    sizes = _check_runs(runs, n_params)
    n_train = sizes[0] if n_train is None else n_train
    control = W.Dropdown(options=sizes, value=n_train, description="training examples n",
                         style=dict(description_width="initial"))
    fig = go.FigureWidget(_base(compute(runs, n_params, n_train)))
    fig.layout.title.text = _title(n_train)

    def redraw(_=None):
        with fig.batch_update():
            fig.data[0].update(_bar_update(compute(runs, n_params, control.value)))
            fig.layout.title.text = _title(control.value)

    control.observe(redraw, names="value")
    return Live(controls=dict(n_train=control), figures=[fig])


def show(runs: dict, n_params: dict) -> None:
    """The live widget in a kernel, the static figure on the website."""
    dual(widget(runs, n_params), figure(runs, n_params))
