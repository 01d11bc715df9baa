"""Widget W3.4: is a convolution layer translation equivariant? Shift, convolve, compare.

The layer is ``f(x) = ReLU(conv3x3(x))`` with one fixed kernel, padding 1 (``"circular"`` or
``"zeros"``) and stride 1 or 2. For a shift ``(dy, dx)`` (of the same kind as the padding: a roll for
circular, a zero-filled move for zeros) the figure shows the shifted input, ``f(shift(x))``,
``shift(f(x))`` (moved by ``(dy, dx) / stride``, or by the best neighbouring integer shift when the
stride does not divide it) and their difference:

* circular padding, stride 1: the difference is exactly 0 for every shift (equivariance);
* zero padding, stride 1: it is 0 except in a band along the border;
* stride 2: it is 0 only for even shifts; an odd shift samples the other half of the positions.

The global-max-pool toggle marks where each map attains its maximum and compares the two maxima:
the position moves with the shift, the value does not (invariance, exact in the circular case at stride 1).

* ``compute``: all panels and the error norms for one setting;
* ``figure``: kernel-free, three rows (circular s = 1, zeros s = 1, circular s = 2) and a slider over shifts;
* ``widget``: live, with sliders for ``dx``, ``dy`` and controls for padding, stride, image, kernel, pooling;
* ``show``: both, through :func:`lib.widgets.dual`.
"""
from __future__ import annotations

import functools

import ipywidgets as W
import numpy as np
import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from .. import plotting
from ..cnn import _crop, shift
from ..conv import conv2d_forward
from . import Live, dual, readout, slider

KERNELS = {
    "sobel_x": [[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]],
    "laplacian": [[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]],
    "random": np.random.default_rng(3).normal(size=(3, 3)).round(3).tolist(),
}
IMAGES = ("photo", "digit")
STATIC_ROWS = (("circular", 1), ("zeros", 1), ("circular", 2))
STATIC_SHIFTS = ((0, 0), (0, 1), (0, 2), (0, 3), (0, 4), (1, 1), (2, 2), (3, 3), (4, 4),
                 (-1, 0), (-2, 0), (-1, -1), (-2, -2), (-3, 1))
PANELS = ("shift(x)", "f(shift(x))", "shift(f(x))", "difference")


@functools.lru_cache(maxsize=None)
def _image(name: str) -> torch.Tensor:
    """A 20 x 20 test image in float64: a crop of sklearn's china.jpg (texture up to the border) or a
    digit on a canvas with a 6-pixel blank margin (nothing near the border)."""
    if name == "photo":
        from ..data import sample_image
        img = sample_image("china.jpg", gray=True, size=(40, 60))[14:34, 18:38]
        return torch.tensor(img, dtype=torch.float64)
    if name == "digit":
        from ..data import digits_tensors
        X, _ = digits_tensors(dtype=torch.float64)
        return torch.nn.functional.pad(X[0, 0], (6, 6, 6, 6))
    raise ValueError(f"image: expected one of {IMAGES}, got {name!r}")


def image(name: str = "photo") -> torch.Tensor:
    """The test image ``name`` ("photo" or "digit"), shape (20, 20), float64 (a fresh copy each call)."""
    if name not in IMAGES:
        raise ValueError(f"image: expected one of {IMAGES}, got {name!r}")
    return _image(name).clone()


def _layer(kernel: str, padding: str, stride: int):
    if kernel not in KERNELS:
        raise ValueError(f"kernel: expected one of {tuple(KERNELS)}, got {kernel!r}")
    w = torch.tensor(KERNELS[kernel], dtype=torch.float64)[None, None]
    return lambda x: torch.relu(conv2d_forward(x[None, None], w, stride=stride, padding=1, padding_mode=padding))[0, 0]


@functools.lru_cache(maxsize=64)
def _f_of_image(image_name: str, kernel: str, padding: str, stride: int) -> torch.Tensor:
    """f(x) for the unshifted image: the same for every shift, so computed once per setting."""
    return _layer(kernel, padding, stride)(_image(image_name))


def _argmax(m: torch.Tensor) -> tuple[int, int]:
    i = int(torch.argmax(m))
    return divmod(i, m.shape[1])


def compute(dy: int = 1, dx: int = 2, padding: str = "circular", stride: int = 1, image_name: str = "photo",
            kernel: str = "sobel_x") -> dict:
    """One setting of the tester. Returns numpy arrays ``x_shifted``, ``f_shift`` (f(shift x)),
    ``shift_f`` (shift(f x)), ``diff`` (their difference), the output shift ``out_shift`` used, the norms
    ``err`` (whole map) and ``err_interior`` (without a band of ``max(1, |dy|, |dx|)`` output pixels along
    the border, where zero padding differs), the global maxima ``max_f``, ``max_f_shift`` and their positions ``argmax_f``
    (of shift(f x)) and ``argmax_f_shift``, and ``inv_err = |max f(shift x) - max f(x)|``."""
    for name, v in (("dy", dy), ("dx", dx)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or abs(v) > 8:
            raise ValueError(f"{name}: expected an integer shift in [-8, 8], got {v!r}")
    if padding not in ("circular", "zeros"):
        raise ValueError(f"padding: expected 'circular' or 'zeros', got {padding!r}")
    if stride not in (1, 2):
        raise ValueError(f"stride: expected 1 or 2, got {stride!r}")
    dy, dx = int(dy), int(dx)
    f = _layer(kernel, padding, stride)
    x = image(image_name)
    xs = shift(x, dy, dx, padding)
    fx, fsx = _f_of_image(image_name, kernel, padding, stride), f(xs)
    # the output shift: (dy, dx) / stride, or the neighbouring integer shift that matches best
    cands = [(oy, ox) for oy in {dy // stride, -(-dy // stride)} for ox in {dx // stride, -(-dx // stride)}]
    errs = [torch.linalg.vector_norm(fsx - shift(fx, oy, ox, padding)).item() for oy, ox in cands]
    out_shift = cands[int(np.argmin(errs))]
    sfx = shift(fx, *out_shift, padding)
    diff = fsx - sfx
    band = max(1, abs(dy), abs(dx))
    return dict(x_shifted=xs.numpy(), f_shift=fsx.numpy(), shift_f=sfx.numpy(), diff=diff.numpy(),
                out_shift=out_shift, err=torch.linalg.vector_norm(diff).item(),
                err_interior=torch.linalg.vector_norm(_crop(diff, band)).item(),
                max_f=fx.max().item(), max_f_shift=fsx.max().item(),
                argmax_f=_argmax(sfx), argmax_f_shift=_argmax(fsx),
                inv_err=abs(fsx.max().item() - fx.max().item()))


# --------------------------------------------------------------------------- drawing helpers
def _z(a: np.ndarray) -> list:
    return np.round(a, 3).tolist()


def _panel_updates(res: dict) -> list[dict]:
    """Trace updates for the four heatmaps of one row, in figure order."""
    return [dict(z=_z(res[k])) for k in ("x_shifted", "f_shift", "shift_f", "diff")]


def _summary(res: dict, pool: bool) -> str:
    text = f"‖difference‖ = {res['err']:.3g} (interior {res['err_interior']:.3g})"
    if pool:
        text += f"; global max {res['max_f_shift']:.3f} vs {res['max_f']:.3f}"
    return text


def _add_row(fig: go.Figure, row: int, zmax_f: float, zmax_d: float, n_rows: int) -> None:
    grey = dict(colorscale="Greys", reversescale=True, showscale=False)
    fig.add_trace(go.Heatmap(name="shift(x)", zmin=0, zmax=1, **grey), row=row, col=1)
    for col, name in ((2, "f(shift(x))"), (3, "shift(f(x))")):
        fig.add_trace(go.Heatmap(name=name, zmin=0, zmax=zmax_f, colorscale=plotting.SEQUENTIAL, showscale=False),
                      row=row, col=col)
    fig.add_trace(go.Heatmap(name="difference", zmin=-zmax_d, zmax=zmax_d, colorscale=plotting.DIVERGING,
                             showscale=row == 1, colorbar=dict(len=1 / n_rows, y=1, yanchor="top", title="diff")),
                  row=row, col=4)
    for col in range(1, 5):  # image panels: square pixels, row 0 on top; only the outer axes are labelled
        k = (row - 1) * 4 + col
        fig.update_xaxes(title_text="column j", visible=row == n_rows, showticklabels=False, row=row, col=col)
        fig.update_yaxes(title_text="row i", visible=col == 1, autorange="reversed", showticklabels=False,
                         scaleanchor=f"x{k if k > 1 else ''}", row=row, col=col)


def _titles(rows) -> list[str]:
    out = []
    for padding, stride in rows:
        out += [f"shift(x), {padding}", f"f(shift(x)), stride {stride}", "shift(f(x))", "difference"]
    return out


# --------------------------------------------------------------------------- static figure
def figure(image_name: str = "photo", kernel: str = "sobel_x", shifts=STATIC_SHIFTS) -> go.Figure:
    """Kernel-free: three rows (circular stride 1, zeros stride 1, circular stride 2), four panels each,
    and a slider over the shifts ``(dy, dx)``; the difference panels' titles carry the error norms."""
    n_rows = len(STATIC_ROWS)
    fig = make_subplots(rows=n_rows, cols=4, subplot_titles=_titles(STATIC_ROWS), horizontal_spacing=0.03,
                        vertical_spacing=0.08)
    results = {s: [compute(s[0], s[1], p, st, image_name, kernel) for p, st in STATIC_ROWS] for s in shifts}
    zmax_f = max(r["f_shift"].max() for rs in results.values() for r in rs)
    zmax_d = max(max(np.abs(r["diff"]).max() for rs in results.values() for r in rs), 1e-9)
    for row in range(1, n_rows + 1):
        _add_row(fig, row, zmax_f, zmax_d, n_rows)
    steps = []
    for (dy, dx), rs in results.items():
        traces = [u for r in rs for u in _panel_updates(r)]
        layout = {f"annotations[{4 * i + 3}].text": "difference: " + _summary(r, True) for i, r in enumerate(rs)}
        layout["title.text"] = f"Shift by (dy, dx) = ({dy}, {dx}): f = ReLU(3×3 conv), compared row by row"
        steps.append((f"({dy}, {dx})", traces, layout))
    start = 1 if len(steps) > 1 else 0
    sl = slider(steps, prefix="shift (dy, dx) = ", active=start)
    for trace, upd in zip(fig.data, steps[start][1]):
        trace.update(upd)
    for key, text in steps[start][2].items():
        if key.startswith("annotations"):
            fig.layout.annotations[int(key.split("[")[1].split("]")[0])].text = text
    for a in fig.layout.annotations:
        a.font.size = 11
    fig.update_layout(sliders=[sl], title=steps[start][2]["title.text"], height=260 * n_rows + 120,
                      margin=dict(t=90))
    return fig


# --------------------------------------------------------------------------- live widget
def widget(dy: int = 1, dx: int = 2, padding: str = "circular", stride: int = 1, pool: bool = False,
           image_name: str = "photo", kernel: str = "sobel_x") -> Live:
    """Live: every control recomputes the four panels; the pool toggle marks the two maxima."""
    style = dict(description_width="initial")
    controls = dict(
        dx=W.IntSlider(value=dx, min=-4, max=4, description="dx", style=style),
        dy=W.IntSlider(value=dy, min=-4, max=4, description="dy", style=style),
        padding=W.ToggleButtons(options=["circular", "zeros"], value=padding, description="padding", style=style),
        stride=W.ToggleButtons(options=[1, 2], value=stride, description="stride", style=style),
        pool=W.Checkbox(value=pool, description="global max pool"),
        image=W.Dropdown(options=list(IMAGES), value=image_name, description="image", style=style),
        kernel=W.Dropdown(options=list(KERNELS), value=kernel, description="kernel", style=style),
    )
    base = make_subplots(rows=1, cols=4, subplot_titles=PANELS, horizontal_spacing=0.04)
    _add_row(base, 1, 1.0, 1.0, 1)
    for col in (2, 3):  # markers at the global maximum of each map (empty while pooling is off)
        base.add_trace(go.Scatter(mode="markers", marker=dict(symbol="x", size=12, color=plotting.PALETTE[3]),
                                  name="global max", showlegend=False), row=1, col=col)
    base.update_layout(height=330, title="Shift and convolve")
    fig = go.FigureWidget(base)
    info = readout()

    def redraw(_=None):
        c = {k: v.value for k, v in controls.items()}
        res = compute(c["dy"], c["dx"], c["padding"], c["stride"], c["image"], c["kernel"])
        zf = max(res["f_shift"].max(), res["shift_f"].max(), 1e-9)
        zd = max(np.abs(res["diff"]).max(), 1e-9)
        with fig.batch_update():
            for trace, upd in zip(fig.data[:4], _panel_updates(res)):
                trace.update(upd)
            fig.data[1].zmax = fig.data[2].zmax = zf
            fig.data[3].zmin, fig.data[3].zmax = -zd, zd
            for trace, key in zip(fig.data[4:], ("argmax_f_shift", "argmax_f")):
                i, j = res[key]
                trace.update(x=[j] if c["pool"] else [], y=[i] if c["pool"] else [])
            fig.layout.title.text = (f"{c['padding']} padding, stride {c['stride']}, shift ({c['dy']}, {c['dx']}); "
                                     f"output moved by {res['out_shift']}")
        info.value = _summary(res, c["pool"]) + (f"; |difference of maxima| = {res['inv_err']:.3g}" if c["pool"] else "")

    for control in controls.values():
        control.observe(redraw, names="value")
    redraw()
    return Live(controls=controls, figures=[fig],
                children=[W.HBox([controls["dx"], controls["dy"], controls["pool"]]),
                          W.HBox([controls["padding"], controls["stride"]]),
                          W.HBox([controls["image"], controls["kernel"]]), info, fig])


def show(**kwargs) -> None:
    """The live widget in a kernel, the static figure on the website."""
    static_keys = {"image_name", "kernel"}
    dual(widget(**kwargs), figure(**{k: v for k, v in kwargs.items() if k in static_keys}))
