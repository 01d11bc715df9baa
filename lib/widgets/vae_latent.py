"""Widget W7.1: walking between two digits in a VAE's latent space (book 7.6.6).

For two inputs x_a, x_b with encoder means z_a = mu(x_a), z_b = mu(x_b), the latent path is the convex
combination ``z_lambda = (1 - lambda) z_a + lambda z_b`` (or the great-circle ``slerp``), decoded by the
decoder's mean. The contrast is the pixel crossfade ``(1 - lambda) x_a + lambda x_b``, which overlays two
ghost images instead of passing through digit-like ones.

* ``compute``: encoder means of all inputs, the path, and both image sequences;
* ``figure``: kernel-free, a slider over lambda for one pair (latent scatter with the current point,
  the decoded image, the crossfade, and a strip of both sequences);
* ``widget``: live, choose the digits by class and index, lambda, linear / slerp / pixel, mean or a
  Bernoulli sample, and a random pair;
* ``show``: both, through :func:`lib.widgets.dual`.
"""
from __future__ import annotations

import ipywidgets as W
import numpy as np
import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from .. import plotting
from ..vae import VAE, slerp
from . import Live, dual, readout

LAMBDAS = np.round(np.linspace(0.0, 1.0, 11), 3)
STRIP = 9
GREYS = [[0, "white"], [1, "black"]]


def _inputs(vae, X, ia, ib):
    if not isinstance(vae, VAE) or vae.z_dim != 2:
        raise TypeError("vae: expected a lib.vae.VAE with a 2-D latent space")
    if not isinstance(X, torch.Tensor) or X.ndim < 2:
        raise TypeError("X: expected a torch tensor of inputs [n, ...]")
    for name, i in (("ia", ia), ("ib", ib)):
        if isinstance(i, bool) or not isinstance(i, (int, np.integer)) or not 0 <= i < len(X):
            raise ValueError(f"{name}: expected an index in [0, {len(X) - 1}], got {i!r}")
    return X.reshape(len(X), -1)


def compute(vae: VAE, X, ia: int, ib: int, lambdas=LAMBDAS, mode: str = "linear", side: int = 8) -> dict:
    """``dict(mu [n, 2], z [m, 2], latent [m, side, side], pixel [m, side, side], lambdas [m])``:
    encoder means of all inputs, the latent path at ``lambdas`` (linear or slerp), its decoded means,
    and the pixel crossfade of the two endpoints."""
    X = _inputs(vae, X, ia, ib)
    if mode not in ("linear", "slerp"):
        raise ValueError(f"mode: expected 'linear' or 'slerp', got {mode!r}")
    lam = np.asarray(lambdas, dtype=np.float64)
    if lam.ndim != 1 or lam.size < 1 or lam.min() < 0 or lam.max() > 1:
        raise ValueError("lambdas: expected a 1-D array of values in [0, 1]")
    p = next(vae.parameters())
    with torch.no_grad():
        mu = vae.encode(X.to(p.device, p.dtype))[0].cpu()
        t = torch.tensor(lam, dtype=mu.dtype)[:, None]
        za, zb = mu[ia], mu[ib]
        z = slerp(za, zb, t) if mode == "slerp" else (1 - t) * za + t * zb
        latent = vae.decode(z.to(p.device)).cpu()
    X = X.cpu()
    pixel = (1 - t) * X[ia] + t * X[ib]
    shape = (len(lam), side, side)
    return dict(mu=mu.numpy(), z=z.numpy(), latent=latent.numpy().reshape(shape),
                pixel=pixel.numpy().reshape(shape), lambdas=lam)


def _strip(res: dict) -> np.ndarray:
    """Two rows of images (latent path above, crossfade below) separated by blank (NaN) gutters."""
    s = res["latent"].shape[1]
    rows = []
    for seq in (res["latent"], res["pixel"]):
        tiles = [np.pad(im, ((0, 0), (0, 1)), constant_values=np.nan) for im in seq]
        rows.append(np.pad(np.concatenate(tiles, 1), ((0, 1), (0, 0)), constant_values=np.nan))
    return np.round(np.concatenate(rows, 0)[: 2 * s + 1], 3)


def _point(z) -> dict:
    x, y = float(z[0]), float(z[1])
    r = 0.18
    return dict(type="circle", xref="x", yref="y", x0=x - r, x1=x + r, y0=y - r, y1=y + r,
                line=dict(color=plotting.PALETTE[3], width=3))


def _base(res: dict, y: np.ndarray, title: str) -> go.Figure:
    fig = make_subplots(rows=2, cols=3, specs=[[{}, {}, {}], [{"colspan": 3}, None, None]],
                        column_widths=[0.5, 0.25, 0.25], row_heights=[0.64, 0.36], vertical_spacing=0.18,
                        subplot_titles=("encoder means μ(x)", "decoded z_λ", "pixel crossfade",
                                        "latent path (top) vs pixel crossfade (bottom)"))
    mu = res["mu"]
    for c in range(10):
        sel = y == c
        fig.add_trace(go.Scatter(x=np.round(mu[sel, 0], 3), y=np.round(mu[sel, 1], 3), mode="markers",
                                 marker=dict(size=4, opacity=0.55, color=plotting.PALETTE[c % 8],
                                             symbol="circle" if c < 8 else "diamond"),
                                 name=str(c), legendgroup="digits"), 1, 1)
    fig.add_trace(go.Scatter(x=res["z"][:, 0], y=res["z"][:, 1], mode="lines", name="path",
                             line=dict(color="black", width=2)), 1, 1)
    heat = dict(colorscale=GREYS, zmin=0, zmax=1, showscale=False)
    fig.add_trace(go.Heatmap(z=np.round(res["latent"][0], 3), name="decoded", **heat), 1, 2)
    fig.add_trace(go.Heatmap(z=np.round(res["pixel"][0], 3), name="crossfade", **heat), 1, 3)
    fig.add_trace(go.Heatmap(z=_strip(res), name="strip", hoverongaps=False, **heat), 2, 1)
    fig.update_xaxes(title_text="z₁", row=1, col=1)
    fig.update_yaxes(title_text="z₂", row=1, col=1)
    for r, c in ((1, 2), (1, 3), (2, 1)):
        fig.update_xaxes(visible=False, row=r, col=c)
        fig.update_yaxes(visible=False, autorange="reversed", row=r, col=c)
    fig.update_yaxes(scaleanchor="x2", row=1, col=2)
    fig.update_yaxes(scaleanchor="x3", row=1, col=3)
    fig.update_yaxes(scaleanchor="x4", row=2, col=1)
    fig.update_layout(title=title, height=640, legend=dict(orientation="h", y=1.02, yanchor="bottom", x=0, traceorder="normal"),
                      margin=dict(t=110), shapes=[_point(res["z"][0])])
    return fig


def _title(y, ia, ib, lam) -> str:
    return f"VAE latent walk from a {int(y[ia])} to a {int(y[ib])}, λ = {lam:g}"


def figure(vae: VAE, X, y, ia: int = 0, ib: int = 1, lambdas=LAMBDAS) -> go.Figure:
    """Kernel-free: one slider over lambda for the pair (ia, ib); the strip shows the whole path."""
    y = np.asarray(y)
    res = compute(vae, X, ia, ib, lambdas)
    strip = compute(vae, X, ia, ib, np.linspace(0, 1, STRIP))
    fig = _base(res, y, _title(y, ia, ib, 0.0))
    fig.data[-1].z = _strip(strip)
    n = len(fig.data)
    steps = []
    for i, lam in enumerate(res["lambdas"]):
        data = {"z": [np.round(res["latent"][i], 3), np.round(res["pixel"][i], 3)]}
        layout = {"title.text": _title(y, ia, ib, lam), "shapes": [_point(res["z"][i])]}
        steps.append(dict(method="update", label=f"{lam:g}", args=[data, layout, [n - 3, n - 2]]))
    fig.update_layout(sliders=[dict(active=0, steps=steps, currentvalue=dict(prefix="λ = "), pad=dict(t=30))],
                      height=700)
    return fig


def widget(vae: VAE, X, y, ia: int = 0, ib: int = 1, seed: int = 0) -> Live:
    """Live: digit classes and indices for both ends, lambda, path mode (linear, slerp, pixel
    crossfade), decoding (mean or a Bernoulli sample) and a random-pair button."""
    y = np.asarray(y)
    Xf = _inputs(vae, X, ia, ib)
    by_class = {c: np.flatnonzero(y == c) for c in range(10)}
    rng = np.random.default_rng(seed)
    style = dict(description_width="initial")

    def picker(label, i):
        c = int(y[i])
        return (W.Dropdown(options=list(range(10)), value=c, description=f"{label} digit", style=style,
                           layout=W.Layout(width="130px")),
                W.IntSlider(value=int(np.searchsorted(by_class[c], i)), min=0, max=len(by_class[c]) - 1,
                            description="example", style=style))

    ca, ka = picker("start", ia)
    cb, kb = picker("end", ib)
    controls = dict(class_a=ca, index_a=ka, class_b=cb, index_b=kb,
                    lam=W.FloatSlider(value=0.5, min=0, max=1, step=0.05, description="λ", style=style),
                    mode=W.ToggleButtons(options=["linear", "slerp", "pixel"], value="linear", description="path"),
                    decode=W.ToggleButtons(options=["mean", "sample"], value="mean", description="decode"),
                    random=W.Button(description="random pair"))
    fig = go.FigureWidget(_base(compute(vae, X, ia, ib, [0.5]), y, _title(y, ia, ib, 0.5)))
    info = readout()

    def pair():
        return (int(by_class[ca.value][min(ka.value, len(by_class[ca.value]) - 1)]),
                int(by_class[cb.value][min(kb.value, len(by_class[cb.value]) - 1)]))

    def redraw(_=None):
        ka.max, kb.max = len(by_class[ca.value]) - 1, len(by_class[cb.value]) - 1
        a, b = pair()
        mode = controls["mode"].value
        lam = controls["lam"].value
        path_mode = "slerp" if mode == "slerp" else "linear"
        res = compute(vae, X, a, b, [lam], path_mode)
        strip = compute(vae, X, a, b, np.linspace(0, 1, STRIP), path_mode)
        img = res["pixel"][0] if mode == "pixel" else res["latent"][0]
        if controls["decode"].value == "sample" and mode != "pixel":
            img = (rng.random(img.shape) < img).astype(float)
        with fig.batch_update():
            fig.data[10].update(x=strip["z"][:, 0], y=strip["z"][:, 1])
            fig.data[11].z = np.round(img, 3)
            fig.data[12].z = np.round(res["pixel"][0], 3)
            fig.data[13].z = _strip(strip)
            fig.layout.shapes = [_point(res["z"][0])]
            fig.layout.title.text = _title(y, a, b, lam)
        norms = np.linalg.norm(strip["z"], axis=1)
        info.value = (f"‖z‖ along the path: {norms.min():.2f} to {norms.max():.2f}; "
                      f"prior typical radius √2 ≈ 1.41")

    def shuffle(_):
        a, b = rng.choice(len(Xf), 2, replace=False)
        with fig.batch_update():
            ca.value, cb.value = int(y[a]), int(y[b])
            ka.value = int(np.searchsorted(by_class[int(y[a])], a))
            kb.value = int(np.searchsorted(by_class[int(y[b])], b))
        redraw()

    for name, c in controls.items():
        if name == "random":
            c.on_click(shuffle)
        else:
            c.observe(redraw, names="value")
    redraw()
    return Live(controls=controls, figures=[fig],
                children=[W.HBox([ca, ka]), W.HBox([cb, kb]), controls["lam"],
                          W.HBox([controls["mode"], controls["decode"], controls["random"]]), info, fig])


def manifold(vae: VAE, n: int = 15, side: int = 8) -> np.ndarray:
    """The decoder's images on an n x n grid of prior quantiles (z_i = Phi^{-1}(u_i)), tiled into one
    array [n * side, n * side]; rows run from high z_2 (top) to low z_2."""
    from scipy.stats import norm
    if not isinstance(vae, VAE) or vae.z_dim != 2:
        raise TypeError("vae: expected a lib.vae.VAE with a 2-D latent space")
    q = norm.ppf(np.linspace(0.5 / n, 1 - 0.5 / n, n))
    Z1, Z2 = np.meshgrid(q, q[::-1])
    p = next(vae.parameters())
    with torch.no_grad():
        imgs = vae.decode(torch.tensor(np.stack([Z1.ravel(), Z2.ravel()], 1), dtype=p.dtype, device=p.device)).cpu().numpy()
    return imgs.reshape(n, n, side, side).transpose(0, 2, 1, 3).reshape(n * side, n * side)


def show(vae: VAE, X, y, ia: int = 0, ib: int = 1) -> None:
    """The live widget in a kernel, the static figure on the website."""
    dual(widget(vae, X, y, ia, ib), figure(vae, X, y, ia, ib))
