"""Widget W4.6: the two views of one linear SSM, the recurrence and the convolution with ``K_k = C A^k B``.

The state matrix is block diagonal: 2x2 rotation-decay blocks ``r R(j * angle)`` (eigenvalues
``r e^{± i j angle}``, j = 1, 2, ...) and, for odd N, one real eigenvalue ``r``. ``B`` and ``C`` are fixed
seeded random vectors. Left panel: the kernel as stems. Right panel: the input, the output of the
recurrence and the output of the FFT convolution, with their largest difference in the legend.

* ``compute``: the system, kernel, input and both outputs;
* ``figure``: kernel-free, a slider over the radius r and buttons for the input type;
* ``widget``: live, with N, r, the angle and the input type;
* ``show``: both, through :func:`lib.widgets.dual`.
"""
from __future__ import annotations

import ipywidgets as W
import numpy as np
import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from .. import plotting
from ..ssm import causal_conv, ssm_kernel, ssm_recurrent
from . import Live, dual, readout, slider

INPUTS = ("impulse", "step", "noise", "sine")
RADII = (0.5, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99, 0.999)


def make_input(kind: str, L: int, seed: int = 0) -> np.ndarray:
    """An input sequence of length L: a unit impulse at t = 0, a unit step, white noise or a sine."""
    if kind == "impulse":
        x = np.zeros(L)
        x[0] = 1.0
        return x
    if kind == "step":
        return np.ones(L)
    if kind == "noise":
        return np.random.default_rng(seed).normal(size=L)
    if kind == "sine":
        return np.sin(2 * np.pi * np.arange(L) / 16)
    raise ValueError(f"kind: expected one of {INPUTS}, got {kind!r}")


def system(N: int, radius: float, angle: float, seed: int = 0):
    """``(A, B, C)`` as float64 numpy arrays: block-diagonal A with spectral radius ``radius``."""
    if isinstance(N, bool) or not isinstance(N, (int, np.integer)) or not 1 <= N <= 64:
        raise ValueError(f"N: expected an integer in [1, 64], got {N!r}")
    if not 0 < radius < 1:
        raise ValueError(f"radius: expected a number in (0, 1), got {radius!r}")
    A = np.zeros((N, N))
    for j in range(N // 2):
        th = (j + 1) * angle
        A[2 * j:2 * j + 2, 2 * j:2 * j + 2] = radius * np.array([[np.cos(th), -np.sin(th)], [np.sin(th), np.cos(th)]])
    if N % 2:
        A[-1, -1] = radius
    rng = np.random.default_rng(seed)
    return A, rng.normal(size=N), rng.normal(size=N) / np.sqrt(N)


def compute(N: int = 4, radius: float = 0.9, angle: float = 0.5, kind: str = "noise", L: int = 64,
            seed: int = 0) -> dict:
    """Kernel and both outputs. Returns ``dict(A, eig, K (L,), x (L,), y_rec (L,), y_conv (L,), max_diff)``."""
    A, B, C = system(N, radius, angle, seed)
    x = make_input(kind, L, seed + 1)
    tA, tB, tC, tx = (torch.as_tensor(v, dtype=torch.float64) for v in (A, B, C, x))
    y_rec, _ = ssm_recurrent(tA, tB, tC, tx)
    K = ssm_kernel(tA, tB, tC, L)
    y_conv = causal_conv(K, tx, "fft")
    return dict(A=A, eig=np.linalg.eigvals(A), K=K.numpy(), x=x, y_rec=y_rec.numpy(), y_conv=y_conv.numpy(),
                max_diff=float(np.abs(y_rec.numpy() - y_conv.numpy()).max()))


def _stems(K: np.ndarray) -> dict:
    """Vertical segments from 0 to K_k, separated by gaps."""
    xs, ys = [], []
    for k, v in enumerate(K):
        xs += [k, k, None]
        ys += [0.0, round(float(v), 6), None]
    return dict(x=xs, y=ys)


def _base(n_inputs: int) -> go.Figure:
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.09,
                        subplot_titles=("kernel K_k = C A^k B", "recurrence and convolution on the same input"))
    fig.add_trace(go.Scatter(mode="lines", line=dict(color=plotting.PALETTE[0], width=1.5), name="stems",
                             showlegend=False, hoverinfo="skip"), row=1, col=1)
    fig.add_trace(go.Scatter(mode="markers", marker=dict(color=plotting.PALETTE[0], size=5), name="K_k"), row=1, col=1)
    for i in range(n_inputs):
        fig.add_trace(go.Scatter(mode="lines", line=dict(color="#999999", width=1), name="input x_t",
                                 visible=i == 0), row=1, col=2)
        fig.add_trace(go.Scatter(mode="lines", line=dict(color=plotting.PALETTE[1], width=4), name="recurrent",
                                 visible=i == 0), row=1, col=2)
        fig.add_trace(go.Scatter(mode="lines", line=dict(color=plotting.PALETTE[4], width=1.5, dash="dash"),
                                 name="convolution", visible=i == 0), row=1, col=2)
    fig.update_xaxes(title_text="lag k", row=1, col=1)
    fig.update_yaxes(title_text="K_k", row=1, col=1)
    fig.update_xaxes(title_text="time t", row=1, col=2)
    fig.update_yaxes(title_text="x_t and y_t", row=1, col=2)
    fig.update_layout(height=480, margin=dict(t=110), legend=dict(orientation="h", yanchor="bottom", y=1.08, x=0.55))
    return fig


def _traces(res: dict) -> list[dict]:
    t = list(range(len(res["x"])))
    r = lambda a: np.round(a, 6).tolist()  # noqa: E731
    return [dict(x=t, y=r(res["x"])), dict(x=t, y=r(res["y_rec"]), name="recurrent"),
            dict(x=t, y=r(res["y_conv"]), name=f"convolution (max |diff| = {res['max_diff']:.1e})")]


def figure(N: int = 4, angle: float = 0.5, L: int = 64, radii=RADII) -> go.Figure:
    """Kernel-free: a slider over the radius r, buttons for the input type."""
    fig = _base(len(INPUTS))
    moving = list(range(len(fig.data)))
    steps = []
    for r in radii:
        results = [compute(N, r, angle, kind, L) for kind in INPUTS]
        K = results[0]["K"]
        traces = [_stems(K), dict(x=list(range(L)), y=np.round(K, 6).tolist())]
        for res in results:
            traces += _traces(res)
        worst = max(res["max_diff"] for res in results)
        title = f"One SSM, two views: N = {N}, eigenvalue radius r = {r:g}; largest |recurrent − conv| = {worst:.1e}"
        steps.append((f"{r:g}", traces, {"title.text": title}))
    start = list(radii).index(0.9) if 0.9 in radii else 0
    sl = slider(steps, prefix="eigenvalue radius r = ", active=start)
    for step in sl["steps"]:
        step["args"].append(moving)
    for trace, upd in zip(fig.data, steps[start][1]):
        trace.update(upd)
    buttons = []
    for i, kind in enumerate(INPUTS):
        vis = [True, True] + [j // 3 == i for j in range(3 * len(INPUTS))]
        buttons.append(dict(method="restyle", label=kind, args=[{"visible": vis}]))
    fig.update_layout(title=steps[start][2]["title.text"], sliders=[sl], height=560,
                      updatemenus=[dict(type="buttons", direction="right", buttons=buttons, x=0.0, y=1.22,
                                        xanchor="left", yanchor="bottom", showactive=True)])
    return fig


def widget(N: int = 4, radius: float = 0.9, angle: float = 0.5, kind: str = "noise", L: int = 64) -> Live:
    """Live: state size, radius, angle and input type."""
    style = dict(description_width="initial")
    controls = dict(
        N=W.IntSlider(value=N, min=1, max=8, description="state size N", style=style),
        radius=W.FloatSlider(value=radius, min=0.5, max=0.999, step=0.001, readout_format=".3f",
                             description="eigenvalue radius r", style=style),
        angle=W.FloatSlider(value=angle, min=0.0, max=float(np.pi), step=0.05, description="angle (rad)", style=style),
        kind=W.ToggleButtons(options=list(INPUTS), value=kind, description="input", style=style),
    )
    fig = go.FigureWidget(_base(1))
    info = readout()

    def redraw(_=None):
        c = controls
        res = compute(c["N"].value, c["radius"].value, c["angle"].value, c["kind"].value, L)
        with fig.batch_update():
            fig.data[0].update(**_stems(res["K"]))
            fig.data[1].update(x=list(range(L)), y=res["K"].tolist())
            for trace, upd in zip(fig.data[2:5], _traces(res)):
                trace.update(**upd)
            fig.layout.title.text = f"One SSM, two views: N = {c['N'].value}, r = {c['radius'].value:.3f}"
        mags = np.abs(res["eig"])
        info.value = (f"max |recurrent − convolution| = {res['max_diff']:.2e}; spectral radius {mags.max():.3f}; "
                      f"kernel parameters: A, B, C = {res['A'].size + 2 * c['N'].value} numbers for {L} taps")

    for control in controls.values():
        control.observe(redraw, names="value")
    redraw()
    return Live(controls=controls, figures=[fig],
                children=[W.HBox([controls["N"], controls["radius"], controls["angle"]]), controls["kind"], info, fig])


def show(**kwargs) -> None:
    """The live widget in a kernel, the static figure on the website."""
    static = {k: v for k, v in kwargs.items() if k in {"N", "angle", "L"}}
    dual(widget(**kwargs), figure(**static))
