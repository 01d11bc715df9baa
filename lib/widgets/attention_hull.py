"""Widget W5.1: an attention output is a convex combination of the value vectors, so it stays in their hull.

Two-dimensional toy attention with the keys equal to the values (``W_K = W_V = I``), so the geometry is
easy to read. For a query ``q = r (cos theta, sin theta)``, temperature ``T`` and a mask that blocks the
last ``m`` keys::

    s_i = q^T v_i / sqrt(2),   alpha = softmax(s / T) over the allowed keys (0 on blocked ones),
    o = sum_i alpha_i v_i  (in the convex hull of the allowed values)

As ``T -> infinity`` the weights become uniform and ``o`` moves to the centroid of the allowed values; as
``T -> 0`` they become one-hot on the best-aligned value, a vertex of the hull in the direction of ``q``.

* ``compute``: weights, output, the hulls, the entropy and the whole path of ``o`` over temperatures;
* ``figure``: kernel-free, one slider for the query angle and one for the temperature;
* ``figure_mask``: kernel-free, a slider over the number of masked keys (query and temperature fixed);
* ``widget``: live, with query angle, temperature (log scale 0.05 to 5), number of values and the mask;
* ``show``: the live widget in a kernel; both static figures on the website.
"""
from __future__ import annotations

import ipywidgets as W
import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .. import plotting
from ..convex import convex_hull_2d
from . import Dual, Live, readout, slider

MAX_VALUES = 10
RADIUS = 3.0                                   # length of the query vector
T_MIN, T_MAX = 0.05, 5.0
ANGLES = tuple(range(0, 360, 15))              # the static figure's query angles (degrees)
TEMPERATURES = (0.05, 0.15, 0.4, 1.0, 2.0, 5.0)
PATH_T = np.geomspace(0.02, 50.0, 60)          # temperatures along the drawn path of the output
BOX = 1.9


def value_points(n_values: int = 6, seed: int = 0) -> np.ndarray:
    """``n_values`` value vectors (n, 2): the first n of MAX_VALUES seeded points (adding one keeps the rest)."""
    if isinstance(n_values, bool) or not isinstance(n_values, (int, np.integer)) or not 2 <= n_values <= MAX_VALUES:
        raise ValueError(f"n_values: expected an integer in [2, {MAX_VALUES}], got {n_values!r}")
    rng = np.random.default_rng(seed)
    ang = rng.uniform(0, 2 * np.pi, MAX_VALUES)
    rad = rng.uniform(0.5, 1.5, MAX_VALUES)
    return np.stack([rad * np.cos(ang), rad * np.sin(ang)], axis=1)[:n_values]


def _weights(scores: np.ndarray, allowed: np.ndarray, T: float) -> np.ndarray:
    z = np.where(allowed, scores / T, -np.inf)
    e = np.exp(z - z.max())
    return e / e.sum()


def compute(angle: float = 60.0, temperature: float = 1.0, n_values: int = 6, mask_last: int = 0,
            seed: int = 0) -> dict:
    """Attention of one query (at ``angle`` degrees) over ``n_values`` 2-D values, the last ``mask_last`` blocked.

    Returns ``dict(values (n, 2), allowed (n,) bool, query (2,), scores (n,), weights (n,), output (2,),
    hull (m, 2) of the allowed values, hull_all of all values, entropy (nats), max_entropy = log(#allowed),
    path (len(PATH_T), 2): the output for each temperature in PATH_T)``.
    """
    if not np.isscalar(angle) or not np.isfinite(angle):
        raise ValueError(f"angle: expected a finite number of degrees, got {angle!r}")
    if isinstance(temperature, bool) or not np.isscalar(temperature) or not np.isfinite(temperature) \
            or temperature <= 0:
        raise ValueError(f"temperature: expected a positive number, got {temperature!r}")
    V = value_points(n_values, seed)
    if isinstance(mask_last, bool) or not isinstance(mask_last, (int, np.integer)) or not 0 <= mask_last < n_values:
        raise ValueError(f"mask_last: expected an integer in [0, n_values - 1 = {n_values - 1}], got {mask_last!r}")
    allowed = np.arange(n_values) < n_values - mask_last
    th = np.deg2rad(angle)
    q = RADIUS * np.array([np.cos(th), np.sin(th)])
    scores = V @ q / np.sqrt(2.0)
    alpha = _weights(scores, allowed, temperature)
    a = alpha[allowed]
    path = np.array([_weights(scores, allowed, t) @ V for t in PATH_T])
    return dict(values=V, allowed=allowed, query=q, scores=scores, weights=alpha, output=alpha @ V,
                hull=convex_hull_2d(V[allowed]), hull_all=convex_hull_2d(V),
                entropy=float(-(a[a > 0] * np.log(a[a > 0])).sum()), max_entropy=float(np.log(allowed.sum())),
                path=path)


def in_hull(point, hull: np.ndarray, tol: float = 1e-9) -> bool:
    """Whether ``point`` (2,) lies in the convex polygon with counter-clockwise vertices ``hull`` (m, 2)."""
    p, H = np.asarray(point, dtype=float), np.asarray(hull, dtype=float)
    if len(H) == 1:
        return bool(np.linalg.norm(p - H[0]) <= tol)
    if len(H) == 2:  # a segment: collinear and between the ends
        d = H[1] - H[0]
        r = (p - H[0]) @ d / (d @ d)
        return bool(-tol <= r <= 1 + tol and np.linalg.norm(H[0] + r * d - p) <= tol)
    e, w = np.roll(H, -1, axis=0) - H, p - H
    return bool(np.all(e[:, 0] * w[:, 1] - e[:, 1] * w[:, 0] >= -tol))


# --------------------------------------------------------------------------- drawing helpers
def _closed(P: np.ndarray) -> dict:
    P = np.vstack([P, P[:1]])
    return dict(x=np.round(P[:, 0], 4).tolist(), y=np.round(P[:, 1], 4).tolist())


def _names(n: int) -> list[str]:
    return [f"v{i + 1}" for i in range(n)]


def _query_line(q: np.ndarray) -> dict:
    tip = q / RADIUS * 1.7
    return dict(x=[0.0, round(float(tip[0]), 4)], y=[0.0, round(float(tip[1]), 4)])


def _star(res: dict) -> dict:
    o = res["output"]
    return dict(x=[round(float(o[0]), 4)], y=[round(float(o[1]), 4)])


def _bars(res: dict) -> dict:
    return dict(x=_names(len(res["weights"])), y=np.round(res["weights"], 4).tolist())


def _base(n_temps: int) -> go.Figure:
    """Traces: 0 hull of all values, 1 hull of the allowed values, 2 values, 3 query direction,
    4 output path over T, then per temperature group: output star and weight bars."""
    fig = make_subplots(rows=1, cols=2, column_widths=[0.58, 0.42], horizontal_spacing=0.1,
                        subplot_titles=("values, their convex hull and the output o", "attention weights α_i"))
    fig.add_trace(go.Scatter(mode="lines", line=dict(color="#999999", dash="dot", width=1), name="hull of all values",
                             hoverinfo="skip"), row=1, col=1)
    fig.add_trace(go.Scatter(mode="lines", fill="toself", fillcolor="rgba(0,114,178,0.12)",
                             line=dict(color=plotting.PALETTE[0], width=1.5), name="convex hull (allowed values)",
                             hoverinfo="skip"), row=1, col=1)
    fig.add_trace(go.Scatter(mode="markers+text", textposition="top center", name="values v_i",
                             marker=dict(size=9, color=plotting.PALETTE[0])), row=1, col=1)
    fig.add_trace(go.Scatter(mode="lines+markers", line=dict(color=plotting.PALETTE[2], width=2),
                             marker=dict(symbol="arrow", angleref="previous", size=[0, 12]),
                             name="query direction"), row=1, col=1)
    fig.add_trace(go.Scatter(mode="lines", line=dict(color=plotting.PALETTE[1], width=1.5, dash="dash"),
                             name="o as T goes from 0.02 to 50"), row=1, col=1)
    for j in range(n_temps):
        fig.add_trace(go.Scatter(mode="markers", marker=dict(symbol="star", size=18, color=plotting.PALETTE[3],
                                                             line=dict(color="black", width=1)),
                                 name="output o = Σ α_i v_i", showlegend=j == 0, legendgroup="o",
                                 visible=j == 0), row=1, col=1)
        fig.add_trace(go.Bar(marker_color=plotting.PALETTE[0], name="α", showlegend=False, visible=j == 0),
                      row=1, col=2)
    fig.update_xaxes(title_text="dimension 1", range=[-BOX, BOX], row=1, col=1)
    fig.update_yaxes(title_text="dimension 2", range=[-BOX, BOX], scaleanchor="x", scaleratio=1, row=1, col=1)
    fig.update_xaxes(title_text="value", row=1, col=2)
    fig.update_yaxes(title_text="weight α_i", range=[0, 1.02], row=1, col=2)
    fig.update_layout(height=600, margin=dict(t=190), title=dict(y=0.98, yanchor="top"),
                      legend=dict(orientation="h", yanchor="bottom", y=1.06, x=0))
    return fig


def _static_parts(fig: go.Figure, res: dict) -> None:
    V = res["values"]
    fig.data[0].update(**_closed(res["hull_all"]))
    fig.data[1].update(**_closed(res["hull"]))
    fig.data[2].update(x=np.round(V[:, 0], 4).tolist(), y=np.round(V[:, 1], 4).tolist(), text=_names(len(V)))


# --------------------------------------------------------------------------- static figure
def figure(n_values: int = 6, angles=ANGLES, temperatures=TEMPERATURES, seed: int = 0) -> go.Figure:
    """Kernel-free: a slider over the query angle and a slider over the temperature (no mask)."""
    temperatures = list(temperatures)
    fig = _base(len(temperatures))
    results = {(a, t): compute(a, t, n_values, 0, seed) for a in angles for t in temperatures}
    _static_parts(fig, results[(angles[0], temperatures[0])])
    moving = [3, 4] + list(range(5, 5 + 2 * len(temperatures)))
    steps = []
    for a in angles:
        traces = [_query_line(results[(a, temperatures[0])]["query"]),
                  dict(x=np.round(results[(a, temperatures[0])]["path"][:, 0], 4).tolist(),
                       y=np.round(results[(a, temperatures[0])]["path"][:, 1], 4).tolist())]
        for t in temperatures:
            traces += [_star(results[(a, t)]), _bars(results[(a, t)])]
        steps.append((f"{a}°", traces, None))
    start_a = list(angles).index(60) if 60 in angles else 0
    start_t = temperatures.index(1.0) if 1.0 in temperatures else 0
    sl_angle = slider(steps, prefix="query angle θ = ", active=start_a)
    for step in sl_angle["steps"]:
        step["args"].append(moving)
    for i, upd in zip(moving, steps[start_a][1]):
        fig.data[i].update(upd)
    temp_steps = []
    for j, t in enumerate(temperatures):
        vis = [k // 2 == j for k in range(2 * len(temperatures))]
        temp_steps.append(dict(method="restyle", label=f"{t:g}", args=[{"visible": vis}, moving[2:]]))
    sl_temp = dict(active=start_t, steps=temp_steps, currentvalue=dict(prefix="temperature T = "),
                   pad=dict(t=120))
    for k, idx in enumerate(moving[2:]):
        fig.data[idx].visible = k // 2 == start_t
    fig.update_layout(sliders=[sl_angle, sl_temp], height=720,
                      title_text=f"Attention output = convex combination of {n_values} values<br>(keys = values, |q| = {RADIUS:g})")
    return fig


def _masked_parts(fig: go.Figure, res: dict, bars: int = 6, blocked: int = 7) -> None:
    """Bars grey for blocked keys, and the blocked values crossed out (traces ``bars`` and ``blocked``)."""
    V, ok = res["values"], res["allowed"]
    fig.data[bars].marker.color = [plotting.PALETTE[0] if a else "#BBBBBB" for a in ok]
    fig.data[blocked].update(x=V[~ok, 0].tolist(), y=V[~ok, 1].tolist())


def _add_blocked_trace(fig: go.Figure) -> None:
    fig.add_trace(go.Scatter(mode="markers", marker=dict(symbol="x", size=11, color="#999999"), name="masked keys"),
                  row=1, col=1)


def figure_mask(angle: float = 60.0, temperature: float = 1.0, n_values: int = 6, seed: int = 0) -> go.Figure:
    """Kernel-free: a slider over how many of the last keys are masked, at one query and temperature.

    Masking removes values from the hull the output may occupy: the weights renormalise over the allowed keys
    and the output stays in the smaller hull."""
    fig = _base(1)
    _add_blocked_trace(fig)
    results = [compute(angle, temperature, n_values, m, seed) for m in range(n_values)]
    _static_parts(fig, results[0])
    fig.data[3].update(**_query_line(results[0]["query"]))
    moving = [1, 4, 5, 6, 7]
    steps = []
    for m, res in enumerate(results):
        V, ok = res["values"], res["allowed"]
        traces = [_closed(res["hull"]),
                  dict(x=np.round(res["path"][:, 0], 4).tolist(), y=np.round(res["path"][:, 1], 4).tolist()),
                  _star(res), {**_bars(res), "marker.color": [plotting.PALETTE[0] if a else "#BBBBBB" for a in ok]},
                  dict(x=V[~ok, 0].tolist(), y=V[~ok, 1].tolist())]
        steps.append((f"{m}", traces, {"title.text": _mask_title(res, angle, temperature)}))
    sl = slider(steps, prefix="masked keys m = ")
    for step in sl["steps"]:
        step["args"].append(moving)
    for i, upd in zip(moving, steps[0][1]):
        fig.data[i].update(upd)
    fig.update_layout(sliders=[sl], title_text=steps[0][2]["title.text"])
    return fig


def _mask_title(res: dict, angle: float, temperature: float) -> str:
    ok = res["allowed"]
    return (f"Masking keys: the output stays in the hull of the allowed values<br>θ = {angle:.0f}°, "
            f"T = {temperature:.3g}, {int(ok.sum())} of {len(ok)} keys allowed")


# --------------------------------------------------------------------------- live widget
def widget(angle: float = 60.0, temperature: float = 1.0, n_values: int = 6, mask_last: int = 0,
           seed: int = 0) -> Live:
    """Live: query angle, temperature (log scale), number of values and how many of the last keys are masked."""
    style = dict(description_width="initial")
    controls = dict(
        angle=W.FloatSlider(value=angle, min=0, max=360, step=1, description="query angle θ (°)", style=style),
        temperature=W.FloatLogSlider(value=temperature, base=10, min=np.log10(T_MIN), max=np.log10(T_MAX),
                                     step=0.02, description="temperature T", readout_format=".3f", style=style),
        n_values=W.IntSlider(value=n_values, min=2, max=MAX_VALUES, description="number of values", style=style),
        mask_last=W.IntSlider(value=mask_last, min=0, max=n_values - 1, description="mask the last m keys",
                              style=style),
    )
    fig = go.FigureWidget(_base(1))
    _add_blocked_trace(fig)
    info = readout()

    def redraw(_=None):
        c = controls
        c["mask_last"].max = c["n_values"].value - 1  # clamps the value first if it was too large
        res = compute(c["angle"].value, c["temperature"].value, c["n_values"].value, c["mask_last"].value, seed)
        with fig.batch_update():
            _static_parts(fig, res)
            fig.data[3].update(**_query_line(res["query"]))
            fig.data[4].update(x=res["path"][:, 0].tolist(), y=res["path"][:, 1].tolist())
            fig.data[5].update(**_star(res))
            fig.data[6].update(**_bars(res))
            _masked_parts(fig, res)
            fig.layout.title.text = _mask_title(res, c["angle"].value, c["temperature"].value)
        info.value = (f"Σα = {res['weights'].sum():.6f}; entropy {res['entropy']:.3f} of at most "
                      f"{res['max_entropy']:.3f} nats; o = ({res['output'][0]:.3f}, {res['output'][1]:.3f}) "
                      f"{'inside' if in_hull(res['output'], res['hull']) else 'OUTSIDE'} the hull")

    for control in controls.values():
        control.observe(redraw, names="value")
    redraw()
    return Live(controls=controls, figures=[fig],
                children=[W.HBox([controls["angle"], controls["temperature"]]),
                          W.HBox([controls["n_values"], controls["mask_last"]]), info, fig])


def show(**kwargs) -> None:
    """The live widget in a kernel; on the website the two static figures (angle and temperature; mask)."""
    from IPython.display import display
    live = widget(**kwargs)
    if plotting._in_colab():  # Colab renders the live widget; static figures would repeat it
        display(live)
        return
    static = {k: v for k, v in kwargs.items() if k in {"n_values", "seed"}}
    mask_args = {k: v for k, v in kwargs.items() if k in {"angle", "temperature", "n_values", "seed"}}
    duals = [Dual(live, figure(**static)), Dual(live, figure_mask(**mask_args))]  # Dual checks titles and labels
    bundle = duals[0]._repr_mimebundle_()
    bundle["text/html"] = "\n".join(plotting.to_html(d.static) for d in duals)
    display(bundle, raw=True)
