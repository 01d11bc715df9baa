"""Widget W3.1: one 3x3 kernel slid over an image (the single-channel case of eq. 3.14).

``out[i, j] = sum_{a, e} k[a, e] * xp[s i + a, s j + e]`` (cross-correlation, no flip), computed by
:func:`lib.conv.conv2d_forward`, optionally followed by a ReLU. Padding: ``"zeros"`` and ``"circular"``
add one pixel per side (the output keeps the input size at stride 1), ``"none"`` adds nothing (the
output loses a pixel per side).

* ``compute(image, kernel, stride, padding, relu)``: the pure computation, unit-tested;
* ``figure()``: kernel-free, a slider over the kernel presets applied to the photo (downsampled);
* ``widget()``: live, with image, preset, an editable 3x3 grid, stride, padding and ReLU;
* ``show()``: both, through :func:`lib.widgets.dual`.
"""
from __future__ import annotations

import ipywidgets as W
import numpy as np
import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from .. import conv, data, plotting
from . import Live, dual, readout, slider

KERNELS = {
    "identity": np.array([[0, 0, 0], [0, 1, 0], [0, 0, 0]], float),
    "box blur": np.ones((3, 3)) / 9,
    "Gaussian": np.outer([1, 2, 1], [1, 2, 1]) / 16.0,
    "Sobel x": np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], float),
    "Sobel y": np.array([[-1, -2, -1], [0, 0, 0], [1, 2, 1]], float),
    "Laplacian": np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], float),
    "sharpen": np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], float),
}
PRESETS = (*KERNELS, "random")
PADDINGS = ("zeros", "circular", "none")
IMAGES = ("photo", "digit", "shapes")


# --------------------------------------------------------------------------- inputs
def kernel(name: str, seed: int = 0) -> np.ndarray:
    """The 3x3 preset ``name`` (one of ``PRESETS``); "random" draws N(0, 1/9) entries from ``seed``."""
    if name == "random":
        return np.round(np.random.default_rng(seed).normal(0, 1 / 3, (3, 3)), 2)
    if name not in KERNELS:
        raise ValueError(f"name: expected one of {PRESETS}, got {name!r}")
    return KERNELS[name].copy()


def image(name: str = "photo", size=(128, 192)) -> np.ndarray:
    """A grey image in [0, 1]: the photo (china.jpg at ``size``), digit 0 of sklearn's set (8x8),
    or a 32x32 canvas of synthetic shapes (a bar of each direction, a cross, a square outline)."""
    if name == "photo":
        return data.sample_image("china.jpg", gray=True, size=size)
    if name == "digit":
        return data.digits_tensors(dtype=torch.float64)[0][0, 0].numpy()
    if name == "shapes":
        X, y = data.bars_and_crosses(4, size=32, seed=2)
        return X[:, 0].double().sum(0).clamp(max=1).numpy()
    raise ValueError(f"name: expected one of {IMAGES}, got {name!r}")


def compute(img, kernel, stride: int = 1, padding: str = "zeros", relu: bool = False) -> dict:
    """Correlate the 2-D array ``img`` with a 2-D ``kernel`` (odd size), float64 on the CPU.

    Returns ``dict(out (H', W') array, pad (pixels per side), shape (H', W'), min, max)``.
    """
    img = np.asarray(img, dtype=np.float64)
    k = np.asarray(kernel, dtype=np.float64)
    if img.ndim != 2 or min(img.shape) < 3:
        raise ValueError(f"img: expected a 2-D array of at least 3x3, got shape {img.shape}")
    if k.ndim != 2 or k.shape[0] != k.shape[1] or k.shape[0] % 2 == 0 or k.shape[0] > min(img.shape):
        raise ValueError(f"kernel: expected a square array of odd size that fits the image, got shape {k.shape}")
    if not (np.all(np.isfinite(img)) and np.all(np.isfinite(k))):
        raise ValueError("img, kernel: expected finite values")
    if padding not in PADDINGS:
        raise ValueError(f"padding: expected one of {PADDINGS}, got {padding!r}")
    if isinstance(stride, bool) or not isinstance(stride, (int, np.integer)) or not 1 <= stride <= 8:
        raise ValueError(f"stride: expected an integer in [1, 8], got {stride!r}")
    pad = 0 if padding == "none" else k.shape[0] // 2
    x = torch.from_numpy(img)[None, None]
    w = torch.from_numpy(k)[None, None]
    out = conv.conv2d_forward(x, w, stride=int(stride), padding=pad,
                              padding_mode="zeros" if padding == "none" else padding)[0, 0]
    if relu:
        out = out.clamp(min=0)
    out = out.numpy()
    return dict(out=out, pad=pad, shape=out.shape, min=float(out.min()), max=float(out.max()))


# --------------------------------------------------------------------------- drawing
def _kernel_text(k: np.ndarray) -> str:
    return " | ".join(" ".join(f"{v:g}" for v in np.round(row, 3)) for row in k)


def _limit(out: np.ndarray) -> float:
    return float(max(np.abs(out).max(), 1e-9))


def _base(img: np.ndarray) -> go.Figure:
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.1, subplot_titles=("input image", "output feature map"))
    fig.add_trace(go.Heatmap(z=np.round(img, 3), colorscale="Greys", reversescale=True, showscale=False,
                             name="input", hovertemplate="row %{y}, col %{x}: %{z}<extra>input</extra>"),
                  row=1, col=1)
    fig.add_trace(go.Heatmap(colorscale=plotting.DIVERGING, zmid=0, colorbar=dict(title="output", len=0.8),
                             name="output", hovertemplate="row %{y}, col %{x}: %{z}<extra>output</extra>"),
                  row=1, col=2)
    for col in (1, 2):
        fig.update_xaxes(title_text="column j", row=1, col=col, constrain="domain")
        fig.update_yaxes(title_text="row i", autorange="reversed", row=1, col=col,
                         scaleanchor="x" if col == 1 else "x2", constrain="domain")
    fig.update_layout(height=430, margin=dict(t=110))
    return fig


def _title(name: str, k: np.ndarray, res: dict, stride: int, padding: str, relu: bool) -> str:
    return (f"Kernel '{name}' [{_kernel_text(k)}], stride {stride}, padding {padding}"
            f"{', ReLU' if relu else ''}: output {res['shape'][0]}×{res['shape'][1]}")


def figure(size=(64, 96)) -> go.Figure:
    """Static: the photo (downsampled to ``size`` to keep the page light) and a slider over the presets
    (stride 1, zero padding, no ReLU); only the output heatmap and the title change between steps."""
    img = image("photo", size=size)
    fig = _base(img)
    steps = []
    for name in KERNELS:
        k = kernel(name)
        res = compute(img, k)
        lim = _limit(res["out"])
        steps.append((name, [dict(z=np.round(res["out"], 3).tolist(), zmin=-lim, zmax=lim)],
                      {"title.text": _title(name, k, res, 1, "zeros", False)}))
    sl = slider(steps, prefix="kernel: ", active=0)
    for s in sl["steps"]:
        s["args"].append([1])
    fig.data[1].update(steps[0][1][0])
    fig.update_layout(sliders=[sl], title=steps[0][2]["title.text"], height=470)
    return fig


# --------------------------------------------------------------------------- live widget
def widget(image_name: str = "photo", preset: str = "Sobel x") -> Live:
    """Live: image, preset, editable 3x3 kernel, stride, padding and ReLU; the output redraws on each change."""
    if image_name not in IMAGES:
        raise ValueError(f"image_name: expected one of {IMAGES}, got {image_name!r}")
    if preset not in PRESETS:
        raise ValueError(f"preset: expected one of {PRESETS}, got {preset!r}")
    style = dict(description_width="initial")
    c = dict(
        image=W.Dropdown(options=list(IMAGES), value=image_name, description="image", style=style),
        preset=W.Dropdown(options=list(PRESETS), value=preset, description="kernel", style=style),
        stride=W.IntSlider(value=1, min=1, max=4, description="stride", style=style),
        padding=W.Dropdown(options=list(PADDINGS), value="zeros", description="padding", style=style),
        relu=W.Checkbox(value=False, description="ReLU", indent=False),
    )
    cells = [W.FloatText(value=0.0, step=0.1, layout=W.Layout(width="70px")) for _ in range(9)]
    for n, cell in enumerate(cells):
        c[f"k{n // 3}{n % 3}"] = cell
    images = {image_name: image(image_name)}
    fig = go.FigureWidget(_base(images[image_name]))
    info = readout()
    state = {"busy": False, "seed": 0, "shown": image_name}

    def grid() -> np.ndarray:
        return np.array([cell.value for cell in cells], float).reshape(3, 3)

    def redraw(_=None):
        if state["busy"]:
            return
        name = c["image"].value
        if name not in images:
            images[name] = image(name)
        img, k = images[name], grid()
        res = compute(img, k, c["stride"].value, c["padding"].value, c["relu"].value)
        lim = _limit(res["out"])
        with fig.batch_update():
            if state["shown"] != name:          # resend the input only when it changes
                fig.data[0].z = np.round(img, 3)
                state["shown"] = name
            fig.data[1].update(z=np.round(res["out"], 4), zmin=-lim, zmax=lim)
            fig.layout.title.text = _title(c["preset"].value, k, res, c["stride"].value, c["padding"].value,
                                           c["relu"].value)
        info.value = (f"input {img.shape[0]}×{img.shape[1]} → output {res['shape'][0]}×{res['shape'][1]}; "
                      f"output range [{res['min']:.3g}, {res['max']:.3g}]; kernel sum {k.sum():.3g}")

    def load_preset(_=None):
        if c["preset"].value == "random":
            state["seed"] += 1
        k = kernel(c["preset"].value, seed=state["seed"])
        state["busy"] = True
        for cell, v in zip(cells, k.ravel()):
            cell.value = float(v)
        state["busy"] = False
        redraw()

    c["preset"].observe(load_preset, names="value")
    for name in ("image", "stride", "padding", "relu", *[f"k{n // 3}{n % 3}" for n in range(9)]):
        c[name].observe(redraw, names="value")
    load_preset()
    kernel_box = W.VBox([W.HTML("<b>kernel (editable)</b>")] + [W.HBox(cells[3 * r:3 * r + 3]) for r in range(3)])
    box = [W.HBox([W.VBox([c["image"], c["preset"], c["stride"], c["padding"], c["relu"]]), kernel_box]), info, fig]
    return Live(controls=c, figures=[fig], children=box)


def show(**kwargs) -> None:
    """The live playground in a kernel, the static preset slider on the website."""
    dual(widget(**kwargs), figure())
