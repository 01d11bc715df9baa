"""Widget W7.1 extension (book 7.2.4): editing the code of the supervised "mini-chairs" decoder.

The decoder of :mod:`lib.shapes` maps ``[type weights (3), cos theta, sin theta]`` to a 16 x 16 image.
Type weights are projected onto the probability simplex (negative parts clipped, then normalised), so
any setting of the sliders is a crossfade ``sum_k w_k e_k`` of the one-hot type codes; the angle enters
through (cos theta, sin theta).

* ``compute``: the projected weights and the decoded image;
* ``figure``: kernel-free, a slider along square -> plus -> triangle (at 20 degrees) and one over the
  angle (for the triangle);
* ``widget``: live, one slider per type weight and one for the angle; ``show``: both faces.
"""
from __future__ import annotations

import ipywidgets as W
import numpy as np
import plotly.graph_objects as go
import torch

from .. import plotting
from ..shapes import KINDS, make_code
from . import Live, dual, readout

GREYS = [[0, "white"], [1, "black"]]
PATH_T = np.round(np.linspace(0.0, 2.0, 9), 3)           # 0 square, 1 plus, 2 triangle
ANGLES_DEG = tuple(range(0, 361, 30))


def project_simplex(weights) -> np.ndarray:
    """Clip negative weights to 0 and normalise to sum 1 (uniform if all are 0)."""
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != (len(KINDS),) or not np.all(np.isfinite(w)):
        raise ValueError(f"weights: expected {len(KINDS)} finite numbers, got {weights!r}")
    w = np.clip(w, 0.0, None)
    return w / w.sum() if w.sum() > 0 else np.full(len(KINDS), 1.0 / len(KINDS))


def compute(decoder: torch.nn.Module, weights=(1.0, 0.0, 0.0), angle_deg: float = 0.0) -> dict:
    """``dict(weights, image [size, size])`` for the code [projected weights, cos, sin] of ``angle_deg``."""
    if not isinstance(decoder, torch.nn.Module):
        raise TypeError("decoder: expected a trained lib.shapes.ShapeDecoder")
    if not np.isfinite(angle_deg):
        raise ValueError(f"angle_deg: expected a finite angle in degrees, got {angle_deg!r}")
    w = project_simplex(weights)
    p = next(decoder.parameters())
    code = torch.tensor(make_code(w, np.deg2rad(angle_deg)), dtype=p.dtype, device=p.device)
    with torch.no_grad():
        img = decoder(code)[0].cpu().numpy()
    side = int(round(np.sqrt(img.size)))
    return dict(weights=w, image=img.reshape(side, side))


def _path_weights(t: float) -> np.ndarray:
    """Piecewise-linear path square (t = 0) -> plus (t = 1) -> triangle (t = 2)."""
    return np.array([max(0.0, 1 - t), 1 - abs(t - 1), max(0.0, t - 1)])


def _title(res: dict, angle_deg: float) -> str:
    parts = ", ".join(f"{k} {w:.2f}" for k, w in zip(KINDS, res["weights"]) if w > 0)
    return f"Decoded code: {parts}; angle {angle_deg:g}°"


def _base(res: dict, angle_deg: float) -> go.Figure:
    fig = go.Figure(go.Heatmap(z=np.round(res["image"], 3), colorscale=GREYS, zmin=0, zmax=1, showscale=False,
                               name="decoded image"))
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False, autorange="reversed", scaleanchor="x")
    fig.update_layout(title=_title(res, angle_deg), height=430, width=460, margin=dict(t=70, l=20, r=20))
    return fig


def figure(decoder: torch.nn.Module, angle_deg: float = 20.0) -> go.Figure:
    """Kernel-free: a slider along the type path (at ``angle_deg``) and one over the triangle's angle."""
    type_steps, angle_steps = [], []
    for t in PATH_T:
        res = compute(decoder, _path_weights(t), angle_deg)
        type_steps.append(dict(method="update", label=f"{t:g}",
                               args=[{"z": [np.round(res["image"], 3)]}, {"title.text": _title(res, angle_deg)}]))
    for a in ANGLES_DEG:
        res = compute(decoder, (0.0, 0.0, 1.0), a)
        angle_steps.append(dict(method="update", label=f"{a}°",
                                args=[{"z": [np.round(res["image"], 3)]}, {"title.text": _title(res, a)}]))
    fig = _base(compute(decoder, _path_weights(0.0), angle_deg), angle_deg)
    fig.update_layout(height=600, sliders=[
        dict(active=0, steps=type_steps, currentvalue=dict(prefix="type path (0 square, 1 plus, 2 triangle): "),
             pad=dict(t=20)),
        dict(active=0, steps=angle_steps, currentvalue=dict(prefix="triangle angle: "), pad=dict(t=100))])
    return fig


def widget(decoder: torch.nn.Module) -> Live:
    """Live: one weight slider per shape type (projected onto the simplex) and an angle slider."""
    style = dict(description_width="initial")
    controls = {k: W.FloatSlider(value=1.0 if i == 0 else 0.0, min=0.0, max=1.0, step=0.05, description=k, style=style)
                for i, k in enumerate(KINDS)}
    controls["angle"] = W.FloatSlider(value=0.0, min=0.0, max=360.0, step=5.0, description="angle (°)", style=style)
    fig = go.FigureWidget(_base(compute(decoder), 0.0))
    info = readout()

    def redraw(_=None):
        a = controls["angle"].value
        res = compute(decoder, [controls[k].value for k in KINDS], a)
        with fig.batch_update():
            fig.data[0].z = np.round(res["image"], 3)
            fig.layout.title.text = _title(res, a)
        info.value = "type code after projection onto the simplex: " + ", ".join(
            f"{k} {w:.2f}" for k, w in zip(KINDS, res["weights"]))

    for c in controls.values():
        c.observe(redraw, names="value")
    redraw()
    return Live(controls=controls, figures=[fig], children=[W.HBox(list(controls.values())[:3]), controls["angle"],
                                                             info, fig])


def show(decoder: torch.nn.Module) -> None:
    """The live widget in a kernel, the static figure on the website."""
    dual(widget(decoder), figure(decoder))
