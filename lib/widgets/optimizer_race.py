"""Widget W2.3: an optimizer race on four 2-D landscapes.

Five optimisers from :mod:`lib.optim` (each checked against ``torch.optim`` or, for the book's
Algorithm 3, against its closed-form equivalent) start from the same point:

* GD, the heavy ball and Nesterov share the learning rate ``eta`` and the momentum ``beta1``;
* Adam and Algorithm 3 ("Adam, simplified") share ``eta_adam``, ``beta1`` and ``beta2``.

They get separate rates because their steps have different units: GD moves by ``eta`` times the
gradient, Adam by about ``eta_adam`` per coordinate whatever the gradient's size.

The landscapes: an ill-conditioned quadratic (kappa = 100) with axis-aligned level sets, the same
quadratic turned by 45 degrees (and the start turned with it, so GD-type methods, which are rotation
invariant, run the identical race), Rosenbrock's banana valley, and a saddle ``(x^2 - y^2) / 2`` with
quartic walls ``y^4 / 4`` that give it two minima at ``(0, +-1)``. Left panel: level sets and paths;
right panel: ``f(x_t) - f*`` on a log scale.

* ``compute``: the paths and gaps (pure numpy);
* ``figure``: kernel-free, buttons for the landscape and a slider that scales both learning rates;
* ``widget``: live, with the landscape, both rates (log sliders), beta1, beta2, steps, a "scale the
  y-gradient by s" slider (Adam is invariant to it, up to eps; GD is not) and one checkbox per optimiser;
* ``show``: both, through :func:`lib.widgets.dual`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import ipywidgets as W
import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .. import plotting
from ..optim import Quadratic, adam, adam_book_simplified, gd, heavy_ball, nesterov
from . import Live, dual, readout, slider

OPTIMIZERS = ("GD", "heavy ball", "Nesterov", "Adam", "Algorithm 3")
COLOURS = dict(zip(OPTIMIZERS, [plotting.PALETTE[i] for i in (7, 0, 5, 3, 4)]))
FLOOR, CEILING = 1e-16, 1e8      # gaps below FLOOR are drawn at FLOOR; above CEILING the run has diverged
FAR = 1e3                        # path points farther out than this are not drawn
MULTIPLIERS = (0.1, 0.3, 1.0, 1.5, 2.0, 3.0)


@dataclass(frozen=True)
class Landscape:
    """A 2-D test function: ``f`` on points (..., 2), ``grad`` on one point (2,), the start, the plotted
    box, the minimisers (with ``f* = 0``), reference learning rates for the two families and a step count."""
    name: str
    f: Callable[[np.ndarray], np.ndarray]
    grad: Callable[[np.ndarray], np.ndarray]
    x0: tuple[float, float]
    xrange: tuple[float, float]
    yrange: tuple[float, float]
    minima: tuple[tuple[float, float], ...]
    eta: float
    eta_adam: float
    steps: int


def _rosenbrock_f(p):
    x, y = p[..., 0], p[..., 1]
    return (1 - x) ** 2 + 100 * (y - x ** 2) ** 2


def _rosenbrock_grad(p):
    x, y = p
    return np.array([-2 * (1 - x) - 400 * x * (y - x ** 2), 200 * (y - x ** 2)])


def _saddle_f(p):
    x, y = p[..., 0], p[..., 1]
    return (x ** 2 - y ** 2) / 2 + y ** 4 / 4 + 0.25


def _saddle_grad(p):
    x, y = p
    return np.array([x, y ** 3 - y])


def _landscapes() -> dict[str, Landscape]:
    axis, rot = Quadratic.ill_conditioned(100.0), Quadratic.ill_conditioned(100.0, np.pi / 4)
    c = s = np.sqrt(0.5)
    start = (0.8, 1.6)
    turned = (c * start[0] - s * start[1], s * start[0] + c * start[1])
    return {
        "quadratic κ = 100, axis-aligned": Landscape("quadratic κ = 100, axis-aligned", axis.f, axis.grad, start,
                                                     (-2, 2), (-2, 2), ((0, 0),), 1.0, 0.05, 150),
        "quadratic κ = 100, rotated 45°": Landscape("quadratic κ = 100, rotated 45°", rot.f, rot.grad, turned,
                                                    (-2, 2), (-2, 2), ((0, 0),), 1.0, 0.05, 150),
        "Rosenbrock": Landscape("Rosenbrock", _rosenbrock_f, _rosenbrock_grad, (-1.2, 1.0), (-2, 2), (-1, 3),
                                ((1, 1),), 1.5e-3, 0.05, 300),
        "saddle with quartic walls": Landscape("saddle with quartic walls", _saddle_f, _saddle_grad, (1.5, 1e-3),
                                               (-2, 2), (-2, 2), ((0, 1), (0, -1)), 0.3, 0.05, 100),
    }


LANDSCAPES = _landscapes()


def _check(landscape, optimizers, y_scale, eps):
    if landscape not in LANDSCAPES:
        raise ValueError(f"landscape: expected one of {list(LANDSCAPES)}, got {landscape!r}")
    if isinstance(optimizers, str) or not set(optimizers) <= set(OPTIMIZERS):
        raise ValueError(f"optimizers: expected a collection drawn from {OPTIMIZERS}, got {optimizers!r}")
    for name, value in (("y_scale", y_scale), ("eps", eps)):
        if isinstance(value, bool) or not np.isscalar(value) or not np.isfinite(value) or value < 0 \
                or (name == "y_scale" and value == 0):
            raise ValueError(f"{name}: expected a {'positive' if name == 'y_scale' else 'non-negative'} "
                             f"finite number, got {value!r}")


def compute(landscape: str = "quadratic κ = 100, axis-aligned", eta: float | None = None,
            eta_adam: float | None = None, beta1: float = 0.9, beta2: float = 0.999, steps: int | None = None,
            optimizers=OPTIMIZERS, y_scale: float = 1.0, eps: float = 1e-8) -> dict:
    """Run the chosen optimisers from the landscape's start.

    ``eta``, ``eta_adam`` and ``steps`` default to the landscape's reference values. ``y_scale``
    multiplies the y-component of every gradient (a diagonal rescaling). Returns
    ``dict(landscape, eta, eta_adam, steps, paths={name: (steps+1, 2)}, gaps={name: (steps+1,)})``
    with ``gaps = f(x_t) - f*`` (NaN or inf once a run has overflowed).
    """
    _check(landscape, optimizers, y_scale, eps)
    L = LANDSCAPES[landscape]
    eta = L.eta if eta is None else eta
    eta_adam = L.eta_adam if eta_adam is None else eta_adam
    steps = L.steps if steps is None else steps
    scale = np.array([1.0, float(y_scale)])

    def grad(p):
        return scale * L.grad(p)

    x0 = np.array(L.x0, dtype=float)
    runs = {"GD": lambda: gd(grad, x0, eta, steps),
            "heavy ball": lambda: heavy_ball(grad, x0, eta, beta1, steps),
            "Nesterov": lambda: nesterov(grad, x0, eta, beta1, steps),
            "Adam": lambda: adam(grad, x0, eta_adam, (beta1, beta2), eps, steps),
            "Algorithm 3": lambda: adam_book_simplified(grad, x0, eta_adam, beta1, beta2, eps, steps)}
    paths, gaps = {}, {}
    with np.errstate(over="ignore", invalid="ignore"):  # a divergent run overflows; that is part of the race
        for name in OPTIMIZERS:
            if name in optimizers:
                paths[name] = runs[name]()
                gaps[name] = L.f(paths[name])
    return dict(landscape=L, eta=eta, eta_adam=eta_adam, steps=steps, paths=paths, gaps=gaps)


# --------------------------------------------------------------------------- drawing helpers
def _coords(a) -> list:
    a = np.asarray(a, dtype=float)
    keep = np.isfinite(a) & (np.abs(a) <= FAR)
    return [round(float(v), 4) if k else None for v, k in zip(a, keep)]


def _gaps(a) -> list:
    a = np.asarray(a, dtype=float)
    keep = np.isfinite(a) & (a <= CEILING)
    return [float(f"{max(v, FLOOR):.4g}") if k else None for v, k in zip(a, keep)]


def _label(name: str, res: dict) -> str:
    rate = res["eta_adam"] if name in ("Adam", "Algorithm 3") else res["eta"]
    gap = res["gaps"][name][-1]
    end = "diverged" if not np.isfinite(gap) or gap > CEILING else f"f − f* = {gap:.1e}"
    return f"{name} (η = {rate:.2g}): {end}"


def _run_updates(res: dict) -> list[dict]:
    """Trace updates for the 5 paths then the 5 gap curves (empty for optimisers not run)."""
    paths, gaps = [], []
    for name in OPTIMIZERS:
        if name not in res["paths"]:
            paths.append(dict(x=[], y=[], name=name))
            gaps.append(dict(x=[], y=[], name=name))
            continue
        p = res["paths"][name]
        paths.append(dict(x=_coords(p[:, 0]), y=_coords(p[:, 1]), name=_label(name, res)))
        gaps.append(dict(x=list(range(len(p))), y=_gaps(res["gaps"][name]), name=name))
    return paths + gaps


def _contour(L: Landscape) -> dict:
    """Level sets of log10(f - f* + 0.01): readable from the valley floor to the walls."""
    gx, gy = np.linspace(*L.xrange, 71), np.linspace(*L.yrange, 71)
    z = np.log10(L.f(np.stack(np.meshgrid(gx, gy), axis=-1)) + 0.01)
    return dict(x=np.round(gx, 4).tolist(), y=np.round(gy, 4).tolist(), z=np.round(z, 3).tolist())


def _add_group(fig: go.Figure, L: Landscape, visible: bool) -> None:
    """One landscape's 12 traces: contour, minima, 5 paths (left), 5 gap curves (right)."""
    fig.add_trace(go.Contour(**_contour(L), colorscale=plotting.SEQUENTIAL, showscale=False, ncontours=18,
                             contours=dict(coloring="lines"), line=dict(width=1), name="level sets of log f",
                             showlegend=False, hoverinfo="skip", visible=visible), row=1, col=1)
    mx, my = zip(*L.minima)
    fig.add_trace(go.Scatter(x=list(mx), y=list(my), mode="markers", name="minimum", showlegend=False,
                             marker=dict(symbol="x", size=10, color="black"), visible=visible), row=1, col=1)
    for name in OPTIMIZERS:
        fig.add_trace(go.Scatter(mode="lines+markers", line=dict(color=COLOURS[name], width=1.5),
                                 marker=dict(size=3), legendgroup=name, name=name, visible=visible), row=1, col=1)
    for name in OPTIMIZERS:
        fig.add_trace(go.Scatter(mode="lines", line=dict(color=COLOURS[name]), legendgroup=name, showlegend=False,
                                 name=name, visible=visible), row=1, col=2)


GROUP = 2 + 2 * len(OPTIMIZERS)  # traces per landscape


def _base(landscapes: list[Landscape]) -> go.Figure:
    fig = make_subplots(rows=1, cols=2, column_widths=[0.5, 0.5], horizontal_spacing=0.1,
                        subplot_titles=("paths on the level sets", "f(x_t) − f*"))
    for i, L in enumerate(landscapes):
        _add_group(fig, L, visible=i == 0)
    L = landscapes[0]
    fig.update_xaxes(title_text="x", range=list(L.xrange), row=1, col=1)
    fig.update_yaxes(title_text="y", range=list(L.yrange), scaleanchor="x", scaleratio=1, row=1, col=1)
    fig.update_xaxes(title_text="step t", row=1, col=2)
    fig.update_yaxes(title_text="f(x_t) − f*  (log scale)", type="log", range=[-16, 2], exponentformat="power",
                     row=1, col=2)
    fig.update_layout(height=580, margin=dict(t=175), legend=dict(orientation="h", yanchor="bottom", y=1.08, x=0))
    return fig


def _title(L: Landscape) -> str:
    return f"Optimizer race: {L.name}, start {tuple(round(v, 2) for v in L.x0)}"


# --------------------------------------------------------------------------- static figure
def figure(beta1: float = 0.9, beta2: float = 0.999, multipliers=MULTIPLIERS) -> go.Figure:
    """Kernel-free: buttons pick the landscape; the slider multiplies both reference learning rates
    (the legend shows the rates in use and where each run ends)."""
    names = list(LANDSCAPES)
    fig = _base([LANDSCAPES[n] for n in names])
    moving = [g * GROUP + 2 + k for g in range(len(names)) for k in range(2 * len(OPTIMIZERS))]
    steps_ = []
    for m in multipliers:
        traces = []
        for n in names:
            L = LANDSCAPES[n]
            traces += _run_updates(compute(n, m * L.eta, m * L.eta_adam, beta1, beta2))
        steps_.append((f"×{m:g}", traces, None))
    start = list(multipliers).index(1.0) if 1.0 in multipliers else 0
    sl = slider(steps_, prefix="learning rates = reference ", active=start)
    for step in sl["steps"]:
        step["args"].append(moving)
    for i, upd in zip(moving, steps_[start][1]):
        fig.data[i].update(upd)
    buttons = []
    for g, n in enumerate(names):
        L = LANDSCAPES[n]
        visible = [g * GROUP <= i < (g + 1) * GROUP for i in range(len(fig.data))]
        buttons.append(dict(method="update", label=n, args=[
            {"visible": visible},
            {"title.text": _title(L), "xaxis.range": list(L.xrange), "yaxis.range": list(L.yrange)}]))
    fig.update_layout(sliders=[sl], title=_title(LANDSCAPES[names[0]]), height=720, margin=dict(t=175, b=190),
                      updatemenus=[dict(type="buttons", direction="right", buttons=buttons, x=0, xanchor="left",
                                        y=-0.52, yanchor="top", showactive=True, pad=dict(t=10))])
    fig.layout.sliders[0].update(y=-0.12)
    return fig


# --------------------------------------------------------------------------- live widget
def widget(landscape: str = "quadratic κ = 100, axis-aligned", beta1: float = 0.9, beta2: float = 0.999,
           optimizers=OPTIMIZERS) -> Live:
    """Live: every control re-runs the race; changing the landscape resets the rates and steps to its defaults."""
    _check(landscape, optimizers, 1.0, 0.0)
    L = LANDSCAPES[landscape]
    style = dict(description_width="initial")
    controls = dict(
        landscape=W.Dropdown(options=list(LANDSCAPES), value=landscape, description="landscape", style=style),
        eta=W.FloatLogSlider(value=L.eta, base=10, min=-5, max=1, step=0.05, description="η (GD, heavy ball, Nesterov)",
                             readout_format=".2e", style=style),
        eta_adam=W.FloatLogSlider(value=L.eta_adam, base=10, min=-4, max=0, step=0.05,
                                  description="η (Adam, Algorithm 3)", readout_format=".2e", style=style),
        beta1=W.FloatSlider(value=beta1, min=0.0, max=0.99, step=0.01, description="β₁", style=style),
        beta2=W.FloatSlider(value=beta2, min=0.5, max=0.9999, step=0.0001, description="β₂", readout_format=".4f",
                            style=style),
        steps=W.IntSlider(value=L.steps, min=10, max=1000, step=10, description="steps", style=style),
        y_scale=W.FloatLogSlider(value=1.0, base=10, min=-2, max=2, step=0.1, description="scale y-gradient by s",
                                 style=style),
        **{f"show {n}": W.Checkbox(value=n in optimizers, description=n, indent=False,
                                   layout=W.Layout(width="auto")) for n in OPTIMIZERS},
    )
    fig = go.FigureWidget(_base([L]))
    info = readout()
    busy = [False]

    def redraw(_=None):
        if busy[0]:
            return
        c = controls
        chosen = [n for n in OPTIMIZERS if c[f"show {n}"].value]
        res = compute(c["landscape"].value, c["eta"].value, c["eta_adam"].value, c["beta1"].value, c["beta2"].value,
                      c["steps"].value, chosen, c["y_scale"].value)
        upd = _run_updates(res)
        land = res["landscape"]
        with fig.batch_update():
            fig.data[0].update(**_contour(land))
            fig.data[1].update(x=[m[0] for m in land.minima], y=[m[1] for m in land.minima])
            for trace, u in zip(fig.data[2:], upd):
                trace.update(**u)
                trace.visible = trace.legendgroup in chosen
            fig.layout.xaxis.range, fig.layout.yaxis.range = land.xrange, land.yrange
            fig.layout.title.text = _title(land)
        ends = [f"{n}: {res['gaps'][n][-1]:.2e}" for n in chosen]
        info.value = "f(x_T) − f* after {} steps: {}".format(res["steps"], "; ".join(ends) or "no optimiser chosen")

    def new_landscape(change):
        land = LANDSCAPES[change["new"]]
        busy[0] = True
        controls["eta"].value, controls["eta_adam"].value, controls["steps"].value = land.eta, land.eta_adam, land.steps
        busy[0] = False
        redraw()

    for name, control in controls.items():
        control.observe(new_landscape if name == "landscape" else redraw, names="value")
    redraw()
    boxes = [controls[f"show {n}"] for n in OPTIMIZERS]
    return Live(controls=controls, figures=[fig],
                children=[W.HBox([controls["landscape"], *boxes], layout=W.Layout(flex_flow="row wrap")),
                          W.HBox([controls["eta"], controls["eta_adam"], controls["steps"]],
                                 layout=W.Layout(flex_flow="row wrap")),
                          W.HBox([controls["beta1"], controls["beta2"], controls["y_scale"]],
                                 layout=W.Layout(flex_flow="row wrap")), info, fig])


def show(**kwargs) -> None:
    """The live widget in a kernel, the static figure on the website."""
    static_keys = {"beta1", "beta2"}
    dual(widget(**kwargs), figure(**{k: v for k, v in kwargs.items() if k in static_keys}))
