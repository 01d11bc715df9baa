"""Widget W7.4: divergences between two shifted copies of one shape, as the supports separate.

Data ``p = N(0, w^2)`` and generator ``q = N(theta, w^2)`` on a 1-D grid (``w = 0`` is a point mass,
one grid cell wide). Plotted: both densities, the optimal discriminator ``D* = p / (p + q)`` and the
1-D optimal critic of the Kantorovich-Rubinstein dual, whose slope is ``sign(F_q - F_p)``::

    JSD(p, q) -> log 2 once the supports are disjoint      (flat in theta: no gradient for G)
    KL(p || q) -> infinity                                 (undefined for disjoint supports)
    W1(p, q) = |theta| for every width                     (keeps growing: a useful gradient)

* ``compute``: densities, D*, critic and the three numbers for one (theta, width);
* ``figure``: kernel-free, sliders over theta and over the width, plus JSD and W1 against theta;
* ``widget``: live sliders for theta and the width, with a readout of the three numbers;
* ``show``: both, through :func:`lib.widgets.dual`.
"""
from __future__ import annotations

import math

import ipywidgets as W
import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .. import gan, plotting
from . import Live, dual, readout

X = np.round(np.linspace(-4.0, 8.0, 601), 4)
THETAS = tuple(float(t) for t in np.round(np.arange(0.0, 4.01, 0.25), 2))
WIDTHS = (0.0, 0.05, 0.2, 0.5, 1.0)


def _shape(x: np.ndarray, center: float, width: float) -> np.ndarray:
    if width == 0:  # a point mass: all the mass in the nearest cell
        out = np.zeros_like(x)
        out[np.argmin(np.abs(x - center))] = 1.0
        return out
    return np.exp(-0.5 * ((x - center) / width) ** 2)


def compute(theta: float = 2.0, width: float = 0.2, x=X) -> dict:
    """``dict(x, p, q, d_star, critic, jsd, kl, w1)`` for data N(0, width^2) and generator N(theta, width^2).
    Densities are normalised on the grid; the critic is the W1 potential with f(x[0]) = 0."""
    for name, v in dict(theta=theta, width=width).items():
        if isinstance(v, bool) or not np.isscalar(v) or not np.isfinite(v):
            raise ValueError(f"{name}: expected a finite number, got {v!r}")
    if width < 0:
        raise ValueError(f"width: expected a number >= 0, got {width!r}")
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 1 or x.size < 3 or np.any(np.diff(x) <= 0):
        raise ValueError("x: expected an increasing 1-D grid")
    if not (x[0] <= min(0.0, theta) and max(0.0, theta) <= x[-1]):
        raise ValueError(f"theta: expected both centres inside the grid [{x[0]}, {x[-1]}], got {theta!r}")
    dx = x[1] - x[0]
    p, q = _shape(x, 0.0, width), _shape(x, theta, width)
    p, q = p / (p.sum() * dx), q / (q.sum() * dx)
    slope = np.sign(np.cumsum(q - p) * dx)
    critic = np.concatenate([[0.0], np.cumsum(slope[:-1]) * dx])
    return dict(x=x, p=p, q=q, d_star=gan.optimal_discriminator(p, q), critic=critic,
                jsd=gan.js_divergence_grid(p, q, dx), kl=gan.kl_grid(p, q, dx), w1=gan.w1_grid(p, q, dx))


def _fmt(v: float) -> str:
    return "∞" if math.isinf(v) else f"{v:.3f}"


def _title(r: dict, theta: float, width: float) -> str:
    return (f"θ = {theta:g}, width {width:g}: JSD {_fmt(r['jsd'])} (log 2 = 0.693), "
            f"KL {_fmt(r['kl'])}, W1 {_fmt(r['w1'])}")


def _curves(width: float, thetas=THETAS) -> tuple[list, list]:
    rs = [compute(t, width) for t in thetas]
    return [round(r["jsd"], 5) for r in rs], [round(r["w1"], 5) for r in rs]


def _traces(r: dict, theta: float, width: float) -> list[dict]:
    peak = max(r["p"].max(), r["q"].max())
    scale = 1.0 / peak  # densities drawn relative to their peak so a point mass stays on the chart
    jsd, w1 = _curves(width)
    rd = lambda a: np.round(a, 4).tolist()
    return [dict(y=rd(r["p"] * scale)), dict(y=rd(r["q"] * scale)), dict(y=rd(r["d_star"])),
            dict(y=rd(r["critic"] - r["critic"].min())),
            dict(y=jsd), dict(y=w1), dict(y=[round(r["jsd"], 5) if t == theta else None for t in THETAS]),
            dict(y=[round(r["w1"], 5) if t == theta else None for t in THETAS])]


def _base() -> go.Figure:
    fig = make_subplots(rows=2, cols=1, vertical_spacing=0.16, row_heights=[0.6, 0.4],
                        subplot_titles=("densities, D* and the optimal critic", "JSD and W1 against the shift θ"))
    x = X.tolist()
    for name, color, dash in (("p_data (÷ peak)", plotting.PALETTE[0], None), ("p_G (÷ peak)", plotting.PALETTE[1], None),
                              ("D* = p/(p+q)", plotting.PALETTE[3], "dash"), ("optimal critic f", plotting.PALETTE[2], "dot")):
        fig.add_trace(go.Scatter(x=x, mode="lines", name=name, line=dict(color=color, dash=dash)), row=1, col=1)
    th = list(THETAS)
    fig.add_trace(go.Scatter(x=th, mode="lines+markers", name="JSD", line=dict(color=plotting.PALETTE[3])), row=2, col=1)
    fig.add_trace(go.Scatter(x=th, mode="lines+markers", name="W1", line=dict(color=plotting.PALETTE[2])), row=2, col=1)
    for name in ("current θ", ""):
        fig.add_trace(go.Scatter(x=th, mode="markers", name=name, showlegend=bool(name),
                                 marker=dict(size=12, color="black", symbol="x")), row=2, col=1)
    fig.add_hline(y=math.log(2), line_dash="dot", line_color="gray", row=2, col=1)
    fig.update_xaxes(title_text="x", row=1, col=1)
    fig.update_yaxes(title_text="value", row=1, col=1)
    fig.update_xaxes(title_text="shift θ", row=2, col=1)
    fig.update_yaxes(title_text="nats / distance", row=2, col=1)
    fig.update_layout(height=680, legend=dict(orientation="h", yanchor="bottom", y=1.04, x=0), margin=dict(t=120))
    return fig


def figure(theta: float = 2.0, width: float = 0.2) -> go.Figure:
    """Kernel-free: a slider over θ (at ``width``) and one over the width (at ``theta``)."""
    fig = _base()
    sliders = []
    for which, pairs, active in (("θ", [(t, width) for t in THETAS], list(THETAS).index(theta)),
                                 ("width", [(theta, w) for w in WIDTHS], list(WIDTHS).index(width))):
        steps = []
        for th, wd in pairs:
            r = compute(th, wd)
            steps.append(dict(method="update", label=f"{th:g}" if which == "θ" else f"{wd:g}",
                              args=[{"y": [t["y"] for t in _traces(r, th, wd)]}, {"title.text": _title(r, th, wd)}]))
        sliders.append(dict(active=active, steps=steps, pad=dict(t=45 if not sliders else 110),
                            currentvalue=dict(prefix=f"{which} = " if which == "θ" else f"width (θ = {theta:g}) = ")))
    sliders[0]["currentvalue"]["prefix"] = f"θ (width = {width:g}) = "
    r = compute(theta, width)
    for trace, upd in zip(fig.data, _traces(r, theta, width)):
        trace.update(upd)
    fig.update_layout(sliders=sliders, title=_title(r, theta, width), height=820)
    return fig


def widget(theta: float = 2.0, width: float = 0.2) -> Live:
    """Live: sliders for the shift θ and the width (0 = point mass)."""
    style = dict(description_width="initial")
    controls = dict(theta=W.SelectionSlider(value=theta, options=THETAS, description="shift θ", style=style),
                    width=W.FloatSlider(value=width, min=0.0, max=1.0, step=0.05, description="width", style=style))
    fig = go.FigureWidget(_base())
    info = readout()

    def redraw(_=None):
        th, wd = controls["theta"].value, controls["width"].value
        r = compute(th, wd)
        with fig.batch_update():
            for trace, upd in zip(fig.data, _traces(r, th, wd)):
                trace.update(**upd)
            fig.layout.title.text = _title(r, th, wd)
        info.value = (f"JSD = {_fmt(r['jsd'])} nats, KL(p‖q) = {_fmt(r['kl'])}, W1 = {_fmt(r['w1'])}; "
                      f"D* = 1/2 on {np.mean(np.abs(r['d_star'] - 0.5) < 1e-9):.0%} of the grid")

    for c in controls.values():
        c.observe(redraw, names="value")
    redraw()
    return Live(controls=controls, figures=[fig], children=[W.HBox(list(controls.values())), info, fig])


def show(theta: float = 2.0, width: float = 0.2) -> None:
    """The live widget in a kernel, the static figure on the website."""
    dual(widget(theta, width), figure(theta, width))
