"""Widget W6.3: noise schedules side by side, and classifier-free guidance with exact scores.

Left panel: how three noising processes spend their time, on a common axis t / T in [0, 1]: the signal
coefficient ``abar_t`` (DDPM linear and cosine schedules; for the VE chain ``a_t = 1`` and the
signal-to-noise ratio ``1 / b_t^2`` is shown through the log-SNR view), the log signal-to-noise ratio
``log(a_t^2 / b_t^2)``, or the noise scale ``b_t``.

Right panel: two overlapping classes ``N((-0.7, 0), 0.5^2 I)`` and ``N((0.7, 0), 0.5^2 I)`` with equal
weights. Samples of class 1 come from the reverse VP-SDE driven by the guided score (Ho & Salimans 2022)::

    s_w(x, t) = (1 + w) grad log p_t(x | c = 1) - w grad log p_t(x)                    (6.18, CFG)

computed exactly from the mixture. ``w = 0`` samples the class itself; larger ``w`` pushes the samples
away from the other class (and concentrates them): guidance trades diversity for class separation.

* ``compute``: the curves and the guided samples for one ``w``;
* ``figure``: kernel-free, one slider for the schedule view and one over precomputed ``w`` values;
* ``widget``: live, a dropdown for the view, a slider for ``w`` and a seed;
* ``show``: both, through :func:`lib.widgets.dual`.
"""
from __future__ import annotations

import ipywidgets as W
import numpy as np
import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from .. import plotting
from ..diffusion.samplers import cfg_score, reverse_sde_sample
from ..diffusion.schedules import VPSDE, VPSchedule
from ..gmm import GaussianMixture
from . import Live, dual, readout, slider

VIEWS = ("ᾱ_t (signal kept)", "log SNR", "b_t (noise scale)")
GUIDANCE = (0.0, 0.5, 1.0, 2.0, 4.0, 8.0)
CLASSES = GaussianMixture([0.5, 0.5], [[-0.7, 0.0], [0.7, 0.0]], [0.25, 0.25])
VE_SIGMA2 = 0.025  # the book's chain: T = 1000 steps of variance 0.025


def schedule_curves(T: int = 1000) -> dict:
    """``t/T`` and, per process, ``abar`` (= a_t^2), ``log_snr`` and ``b`` on t = 1..T (numpy arrays)."""
    if isinstance(T, bool) or not isinstance(T, int) or T < 2:
        raise ValueError(f"T: expected an integer >= 2, got {T!r}")
    t = np.arange(1, T + 1)
    out = {"t": t / T}
    for name, sch in (("DDPM linear", VPSchedule.linear(T)), ("DDPM cosine", VPSchedule.cosine(T))):
        ab = sch.alpha_bars[1:].numpy()
        out[name] = dict(abar=ab, log_snr=np.log(ab / (1 - ab)), b=np.sqrt(1 - ab))
    b2 = VE_SIGMA2 * t * (1000 / T)
    out["book VE"] = dict(abar=np.ones(T), log_snr=-np.log(b2), b=np.sqrt(b2))
    return out


def compute(w: float = 1.0, n: int = 400, steps: int = 200, seed: int = 0) -> dict:
    """Guided samples of class 1 for guidance weight ``w`` (exact scores, reverse VP-SDE, ``steps`` steps).

    Returns ``dict(x (n, 2) ndarray, mean_x1, frac_left = share of samples with x_1 < 0, curves)``.
    """
    if isinstance(w, bool) or not np.isscalar(w) or not np.isfinite(w) or w < 0:
        raise ValueError(f"w: expected a finite number >= 0, got {w!r}")
    for name, v, lo in (("n", n, 1), ("steps", steps, 1), ("seed", seed, 0)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo:
            raise ValueError(f"{name}: expected an integer >= {lo}, got {v!r}")
    sde = VPSDE()
    cond, uncond = CLASSES.component(1), CLASSES

    def level(t):
        return sde.coeffs(t)

    s_c = lambda x, t: cond.score_t(x, *level(t))
    s_u = lambda x, t: uncond.score_t(x, *level(t))
    x = reverse_sde_sample(cfg_score(s_c, s_u, float(w)), sde, int(n), steps=int(steps),
                           generator=torch.Generator().manual_seed(int(seed))).numpy()
    return dict(x=x, mean_x1=float(x[:, 0].mean()), frac_left=float((x[:, 0] < 0).mean()),
                curves=schedule_curves())


KEYS = {VIEWS[0]: "abar", VIEWS[1]: "log_snr", VIEWS[2]: "b"}
PROCS = ("DDPM linear", "DDPM cosine", "book VE")


def _curve_traces(curves: dict, view: str) -> list[dict]:
    t = np.round(curves["t"][::5], 4).tolist()
    return [dict(x=t, y=np.round(curves[p][KEYS[view]][::5], 5).tolist()) for p in PROCS]


def _sample_trace(res: dict) -> dict:
    return dict(x=np.round(res["x"][:, 0], 4).tolist(), y=np.round(res["x"][:, 1], 4).tolist())


def _title(w: float, res: dict) -> str:
    return f"Schedules | guidance w = {w:g}: class-1 mean x₁ = {res['mean_x1']:.2f}"


def _base() -> go.Figure:
    fig = make_subplots(rows=1, cols=2, subplot_titles=("noise schedules", "class 1 with guidance"))
    for i, p in enumerate(PROCS):
        fig.add_trace(go.Scatter(mode="lines", name=p, line=dict(color=plotting.PALETTE[i])), row=1, col=1)
    ref, labels = CLASSES.sample(400, generator=torch.Generator().manual_seed(99))
    for k, color in ((0, "rgba(150,150,150,0.35)"), (1, "rgba(230,159,0,0.35)")):
        pts = ref[labels == k].numpy()
        fig.add_trace(go.Scatter(x=pts[:, 0].round(3).tolist(), y=pts[:, 1].round(3).tolist(), mode="markers",
                                 name=f"class {k} data", marker=dict(size=3, color=color)), row=1, col=2)
    fig.add_trace(go.Scatter(mode="markers", name="guided samples", marker=dict(size=4, color=plotting.PALETTE[4])),
                  row=1, col=2)
    fig.update_xaxes(title_text="t / T", row=1, col=1)
    fig.update_yaxes(title_text="value", row=1, col=1)
    fig.update_xaxes(title_text="x₁", range=[-3, 4], row=1, col=2)
    fig.update_yaxes(title_text="x₂", range=[-2.5, 2.5], row=1, col=2)
    fig.update_layout(height=470, legend=dict(orientation="h", yanchor="bottom", y=1.08, x=0), margin=dict(t=120))
    return fig


def figure(guidance=GUIDANCE, n: int = 300, steps: int = 150) -> go.Figure:
    """Kernel-free: a slider over the schedule view (left panel) and one over ``guidance`` (right panel)."""
    fig = _base()
    curves = schedule_curves()
    runs = {w: compute(w, n=n, steps=steps) for w in guidance}
    w0 = guidance[min(2, len(guidance) - 1)]
    # slider steps restyle only their own traces: plotly's update takes trace indices as a third argument
    view_steps = [dict(method="restyle", label=v.split(" (")[0],
                       args=[{k: [tr[k] for tr in _curve_traces(curves, v)] for k in ("x", "y")}, [0, 1, 2]])
                  for v in VIEWS]
    w_steps = [dict(method="update", label=f"{w:g}",
                    args=[{k: [_sample_trace(runs[w])[k]] for k in ("x", "y")}, {"title.text": _title(w, runs[w])}, [5]])
               for w in guidance]
    for trace, upd in zip(fig.data[:3], _curve_traces(curves, VIEWS[0])):
        trace.update(upd)
    fig.data[5].update(_sample_trace(runs[w0]))
    s1 = dict(active=0, steps=view_steps, currentvalue=dict(prefix="schedule view: "), pad=dict(t=45))
    s2 = dict(active=list(guidance).index(w0), steps=w_steps, currentvalue=dict(prefix="guidance w = "), pad=dict(t=120))
    fig.update_layout(sliders=[s1, s2], title=_title(w0, runs[w0]), height=640)
    return fig


def widget(w: float = 1.0, n: int = 300, steps: int = 150) -> Live:
    """Live: a dropdown for the schedule view, a slider for the guidance weight, a seed box."""
    style = dict(description_width="initial")
    controls = dict(view=W.Dropdown(options=list(VIEWS), value=VIEWS[0], description="schedule view", style=style),
                    w=W.FloatSlider(value=w, min=0.0, max=8.0, step=0.5, description="guidance w", style=style),
                    seed=W.BoundedIntText(value=0, min=0, max=10_000, description="seed", style=style,
                                          layout=W.Layout(width="160px")))
    fig = go.FigureWidget(_base())
    curves = schedule_curves()
    info = readout()

    def redraw_curves(_=None):
        with fig.batch_update():
            for trace, upd in zip(fig.data[:3], _curve_traces(curves, controls["view"].value)):
                trace.update(**upd)

    def redraw_samples(_=None):
        res = compute(controls["w"].value, n=n, steps=steps, seed=controls["seed"].value)
        with fig.batch_update():
            fig.data[5].update(**_sample_trace(res))
            fig.layout.title.text = _title(controls["w"].value, res)
        info.value = (f"guided class-1 samples: mean x₁ = {res['mean_x1']:.2f} (class mean 0.70), "
                      f"{100 * res['frac_left']:.0f}% on the other class's side (x₁ < 0)")

    controls["view"].observe(redraw_curves, names="value")
    controls["w"].observe(redraw_samples, names="value")
    controls["seed"].observe(redraw_samples, names="value")
    redraw_curves()
    redraw_samples()
    return Live(controls=controls, figures=[fig], children=[W.HBox(list(controls.values())), info, fig])


def show(**kwargs) -> None:
    """The live widget in a kernel, the static figure on the website."""
    dual(widget(**kwargs), figure(**{k: v for k, v in kwargs.items() if k in ("n", "steps")}))
