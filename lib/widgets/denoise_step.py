"""Widget W6.2: one noising step y = x + sigma e and three ways back (6.2).

For 1-D data p(x) (unimodal N(0, 1) or a two-bump mixture) and noise level sigma:

* top panel, one observation y: the exact posterior p(x | y) (Bayes on a grid), its first-order Gaussian
  approximation N(y + sigma^2 s~(y), sigma^2) with s~ the score of the *noisy* marginal, and Tweedie's
  exact posterior mean y + sigma^2 s~(y);
* bottom panel, the whole cloud: the target p(x) against histograms of the full deterministic step
  y + sigma^2 s~(y) (too concentrated), the half step y + sigma^2 s~(y) / 2 and the stochastic step
  y + sigma^2 s~(y) + sigma z.

``compute`` does the arithmetic with the exact mixture oracle (:mod:`lib.gmm`); ``figure`` is kernel-free
with a slider over sigma; ``widget`` is live (sigma, y, data shape); ``show`` displays both.
"""
from __future__ import annotations

import ipywidgets as W
import numpy as np
import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from .. import plotting
from ..gmm import GaussianMixture
from . import Live, dual, readout, slider

SHAPES = {"unimodal": ([1.0], [[0.0]], [1.0]),
          "bimodal": ([0.5, 0.5], [[-1.5], [1.5]], [0.25, 0.25])}
SIGMAS = (0.2, 0.4, 0.6, 0.8, 1.0)
GRID = np.linspace(-5, 5, 401)
EDGES = np.linspace(-5, 5, 81)


def _mixture(shape: str) -> GaussianMixture:
    if shape not in SHAPES:
        raise ValueError(f"shape: expected one of {sorted(SHAPES)}, got {shape!r}")
    return GaussianMixture(*SHAPES[shape])


def _hist(x: np.ndarray) -> np.ndarray:
    return np.histogram(x, bins=EDGES, density=True)[0]


def compute(sigma: float = 0.6, shape: str = "bimodal", y: float = 0.5, n: int = 20_000, seed: int = 0) -> dict:
    """Everything the figure draws, plus the variances of the three denoised clouds."""
    if isinstance(sigma, bool) or not np.isscalar(sigma) or not 0 < sigma <= 3:
        raise ValueError(f"sigma: expected a number in (0, 3], got {sigma!r}")
    if isinstance(y, bool) or not np.isscalar(y) or not np.isfinite(y):
        raise ValueError(f"y: expected a finite number, got {y!r}")
    mix = _mixture(shape)
    noisy = mix.noised(1.0, sigma)
    g = torch.from_numpy(GRID[:, None])
    prior = np.exp(mix.log_prob(g).numpy())
    like = np.exp(-0.5 * ((y - GRID) / sigma) ** 2)
    post = prior * like
    post /= post.sum() * (GRID[1] - GRID[0])
    yt = torch.tensor([[float(y)]], dtype=torch.float64)
    s_y = float(noisy.score(yt)[0, 0])
    mean = y + sigma ** 2 * s_y
    approx = np.exp(-0.5 * ((GRID - mean) / sigma) ** 2) / (sigma * np.sqrt(2 * np.pi))

    gen = torch.Generator().manual_seed(seed)
    x, _ = mix.sample(n, generator=gen)
    yy = x + sigma * torch.randn(x.shape, dtype=torch.float64, generator=gen)
    s = noisy.score(yy)
    z = torch.randn(x.shape, dtype=torch.float64, generator=gen)
    clouds = {"full": yy + sigma ** 2 * s, "half": yy + 0.5 * sigma ** 2 * s,
              "stochastic": yy + sigma ** 2 * s + sigma * z}
    return dict(grid=GRID, prior=prior, posterior=post, approx=approx, y=float(y), tweedie_mean=mean,
                exact_mean=float((GRID * post).sum() * (GRID[1] - GRID[0])),
                centers=0.5 * (EDGES[1:] + EDGES[:-1]),
                hists={k: _hist(v.numpy()[:, 0]) for k, v in clouds.items()},
                variances={"data": float(x.var()), **{k: float(v.var()) for k, v in clouds.items()}})


NAMES = [("target p(x)", 7, None), ("full step", 3, "dot"), ("half step", 0, None), ("stochastic step", 2, "dash"),
         ("exact p(x | y)", 7, None), ("Gaussian approx.", 1, "dash"), ("Tweedie mean", 3, None)]


def _title(res: dict, sigma: float) -> str:
    v = res["variances"]
    return (f"One denoising step, σ = {sigma:g}: variance data {v['data']:.2f}, full {v['full']:.2f}, "
            f"half {v['half']:.2f}, stochastic {v['stochastic']:.2f}")


def _traces(res: dict) -> list[dict]:
    r = lambda a: np.round(a, 4).tolist()  # noqa: E731
    c = res["centers"].tolist()
    top = max(res["posterior"].max(), res["approx"].max()) * 1.05
    return [dict(x=res["grid"].tolist(), y=r(res["prior"])),
            dict(x=c, y=r(res["hists"]["full"])), dict(x=c, y=r(res["hists"]["half"])),
            dict(x=c, y=r(res["hists"]["stochastic"])),
            dict(x=res["grid"].tolist(), y=r(res["posterior"])), dict(x=res["grid"].tolist(), y=r(res["approx"])),
            dict(x=[res["tweedie_mean"]] * 2, y=[0, float(top)])]


def _base() -> go.Figure:
    fig = make_subplots(rows=2, cols=1, vertical_spacing=0.2,
                        subplot_titles=("one observation y: the way back", "the whole cloud after one step"))
    for i, (name, color, dash) in enumerate(NAMES):
        row = 2 if i < 4 else 1
        fig.add_trace(go.Scatter(mode="lines", name=name, line=dict(color=plotting.PALETTE[color], dash=dash,
                                 width=3 if i in (0, 4) else 2, shape="hv" if 1 <= i <= 3 else "linear"),
                                 legendgroup=str(row)), row=row, col=1)
    fig.update_xaxes(title_text="x", range=[-5, 5])
    fig.update_yaxes(title_text="density")
    fig.update_layout(height=640, legend=dict(orientation="h", yanchor="bottom", y=1.06, x=0), margin=dict(t=150))
    return fig


def figure(sigmas=SIGMAS, shape: str = "bimodal", y: float = 0.5, sigma: float = 0.6) -> go.Figure:
    """Kernel-free: a slider over sigma (data shape and y fixed)."""
    fig = _base()
    results = [compute(s, shape, y, n=20_000) for s in sigmas]
    steps = [(f"{s:g}", _traces(res), {"title.text": _title(res, s)}) for s, res in zip(sigmas, results)]
    active = int(np.argmin([abs(s - sigma) for s in sigmas]))
    for trace, upd in zip(fig.data, steps[active][1]):
        trace.update(upd)
    fig.update_layout(sliders=[slider(steps, prefix="σ = ", active=active)],
                      title=_title(results[active], sigmas[active]))
    return fig


def widget(sigma: float = 0.6, shape: str = "bimodal", y: float = 0.5) -> Live:
    """Live: sliders for sigma and the observation y, a dropdown for the data shape."""
    style = dict(description_width="initial")
    controls = dict(sigma=W.FloatSlider(value=sigma, min=0.1, max=1.5, step=0.05, description="σ", style=style),
                    y=W.FloatSlider(value=y, min=-3.0, max=3.0, step=0.1, description="observation y", style=style),
                    shape=W.Dropdown(options=list(SHAPES), value=shape, description="data"))
    fig = go.FigureWidget(_base())
    info = readout()

    def redraw(_=None):
        s = controls["sigma"].value
        res = compute(s, controls["shape"].value, controls["y"].value, n=10_000)
        with fig.batch_update():
            for trace, upd in zip(fig.data, _traces(res)):
                trace.update(**upd)
            fig.layout.title.text = _title(res, s)
        info.value = (f"posterior mean at y: exact {res['exact_mean']:.3f}, Tweedie {res['tweedie_mean']:.3f}")

    for c in controls.values():
        c.observe(redraw, names="value")
    redraw()
    return Live(controls=controls, figures=[fig], children=[W.HBox(list(controls.values())), info, fig])


def show(**kwargs) -> None:
    """The live widget in a kernel, the static figure on the website."""
    dual(widget(**kwargs), figure(**{k: v for k, v in kwargs.items() if k in ("shape", "y", "sigma")}))
