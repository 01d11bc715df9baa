"""Widget W8: PPO's clipped surrogate as a function of the probability ratio.

For one sample with advantage ``A`` and ratio ``rho = pi_theta / pi_old``::

    unclipped  rho A,        L^CLIP = min(rho A, clip(rho, 1 - eps, 1 + eps) A)          (5.208)

``dL^CLIP/d rho`` is ``A`` where the unclipped branch is the minimum and 0 where the clip is active
(A > 0 and rho > 1 + eps, or A < 0 and rho < 1 - eps): the shaded zero-gradient region.

* ``compute``: both curves, the gradient and the zero-gradient interval on a grid of ratios;
* ``figure``: kernel-free, two sliders (epsilon, advantage) with precomputed steps;
* ``widget``: live, sliders for epsilon and the advantage; the optional bandit panel shows a
  precomputed :func:`lib.rlhf.train_bandit` run (max/min ratio per iteration) for the chosen epsilon;
* ``show``: both, through :func:`lib.widgets.dual`.
"""
from __future__ import annotations

import ipywidgets as W
import numpy as np
import plotly.graph_objects as go

from .. import plotting
from . import Live, dual, readout, slider

EPSILONS = (0.05, 0.1, 0.2, 0.3, 0.5)
ADVANTAGES = (-2.0, -1.0, -0.5, 0.5, 1.0, 2.0)
RHO = np.round(np.linspace(0.0, 2.0, 201), 4)


def compute(eps: float = 0.2, adv: float = 1.0, rho=RHO) -> dict:
    """``dict(rho, unclipped = rho A, clipped = L^CLIP, grad = dL^CLIP/d rho, zero_grad (lo, hi))``;
    ``zero_grad`` is the interval of ratios where the clip removes the gradient (None for A = 0)."""
    for name, v in dict(eps=eps, adv=adv).items():
        if isinstance(v, bool) or not np.isscalar(v) or not np.isfinite(v):
            raise ValueError(f"{name}: expected a finite number, got {v!r}")
    if not 0 < eps < 1:
        raise ValueError(f"eps: expected a number in (0, 1), got {eps!r}")
    r = np.asarray(rho, dtype=np.float64)
    if r.ndim != 1 or r.size < 2 or np.any(r < 0):
        raise ValueError("rho: expected a 1-D grid of non-negative ratios")
    unclipped = r * adv
    clipped = np.minimum(unclipped, np.clip(r, 1 - eps, 1 + eps) * adv)
    active = (adv > 0) & (r > 1 + eps) | (adv < 0) & (r < 1 - eps)
    grad = np.where(active, 0.0, adv)
    zero = None if adv == 0 else ((1 + eps, float(r.max())) if adv > 0 else (float(r.min()), 1 - eps))
    return dict(rho=r, unclipped=unclipped, clipped=clipped, grad=grad, zero_grad=zero)


def _title(eps: float, adv: float) -> str:
    side = f"ρ > {1 + eps:g}" if adv > 0 else f"ρ < {1 - eps:g}"
    return f"PPO clipped surrogate, ε = {eps:g}, A = {adv:g}: zero gradient where {side} (shaded)"


def _traces(res: dict, adv: float) -> list[dict]:
    lo, hi = res["zero_grad"] or (1.0, 1.0)
    ymin = float(min(res["unclipped"].min(), res["clipped"].min())) - 0.2
    ymax = float(max(res["unclipped"].max(), res["clipped"].max())) + 0.2
    shade = dict(x=[lo, hi, hi, lo, lo], y=[ymin, ymin, ymax, ymax, ymin])
    return [shade, dict(x=res["rho"].tolist(), y=np.round(res["unclipped"], 5).tolist()),
            dict(x=res["rho"].tolist(), y=np.round(res["clipped"], 5).tolist())]


def _base() -> go.Figure:
    fig = go.Figure()
    fig.add_trace(go.Scatter(mode="lines", fill="toself", fillcolor="rgba(120,120,120,0.2)", line=dict(width=0),
                             name="zero-gradient region", hoverinfo="skip"))
    fig.add_trace(go.Scatter(mode="lines", name="ρA (unclipped, importance sampling)",
                             line=dict(color=plotting.PALETTE[0], dash="dash")))
    fig.add_trace(go.Scatter(mode="lines", name="L^CLIP = min(ρA, clip(ρ)A)", line=dict(color=plotting.PALETTE[3], width=3)))
    fig.update_layout(xaxis_title="probability ratio ρ = π_θ / π_old", yaxis_title="per-sample objective",
                      height=460, legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0), margin=dict(t=110))
    return fig


def figure(epsilons=EPSILONS, advantages=ADVANTAGES, eps: float = 0.2, adv: float = 1.0) -> go.Figure:
    """Kernel-free: one slider over epsilon (at advantage ``adv``) and one over the advantage (at ``eps``)."""
    fig = _base()
    eps_steps = [(f"{e:g}", _traces(compute(e, adv), adv), {"title.text": _title(e, adv)}) for e in epsilons]
    adv_steps = [(f"{a:g}", _traces(compute(eps, a), a), {"title.text": _title(eps, a)}) for a in advantages]
    i_eps = list(epsilons).index(eps)
    s1 = slider(eps_steps, prefix=f"ε (A = {adv:g}) = ", active=i_eps)
    s2 = slider(adv_steps, prefix=f"A (ε = {eps:g}) = ", active=list(advantages).index(adv))
    s2["pad"] = dict(t=120)
    for trace, upd in zip(fig.data, eps_steps[i_eps][1]):
        trace.update(upd)
    fig.update_layout(sliders=[s1, s2], title=_title(eps, adv), height=620)
    return fig


def widget(eps: float = 0.2, adv: float = 1.0, bandit_runs: dict | None = None) -> Live:
    """Live: sliders for epsilon and the advantage. ``bandit_runs`` maps epsilon to a
    :func:`lib.rlhf.train_bandit` history; when given, a second panel shows its ratio band."""
    style = dict(description_width="initial")
    controls = dict(eps=W.FloatSlider(value=eps, min=0.05, max=0.5, step=0.05, description="ε", style=style),
                    adv=W.FloatSlider(value=adv, min=-2.0, max=2.0, step=0.25, description="advantage A", style=style))
    fig = go.FigureWidget(_base())
    figures = [fig]
    band = None
    if bandit_runs:
        band = go.FigureWidget()
        for name, color in (("ρ_max", plotting.PALETTE[3]), ("ρ_min", plotting.PALETTE[0]),
                            ("1 ± ε", "gray"), ("", "gray")):
            band.add_trace(go.Scatter(mode="lines", name=name, line=dict(color=color, dash="dot" if "ε" in name or not name else None),
                                      showlegend=bool(name)))
        band.update_layout(xaxis_title="iteration", yaxis_title="ratio after the epochs", height=320,
                           title="bandit trained with PPO: extreme ratios per iteration")
        figures.append(band)
    info = readout()

    def redraw(_=None):
        e, a = controls["eps"].value, controls["adv"].value
        if a == 0:
            a = 1e-9
        res = compute(e, a)
        with fig.batch_update():
            for trace, upd in zip(fig.data, _traces(res, a)):
                trace.update(**upd)
            fig.layout.title.text = _title(e, a)
        n_zero = int((res["grad"] == 0).sum())
        info.value = f"{n_zero} of {res['rho'].size} grid ratios get no gradient from this sample"
        if band is not None:
            key = min(bandit_runs, key=lambda k: abs(k - e))
            h = bandit_runs[key]
            it = list(range(1, len(h["rho_max"]) + 1))
            with band.batch_update():
                band.data[0].update(x=it, y=list(h["rho_max"]))
                band.data[1].update(x=it, y=list(h["rho_min"]))
                band.data[2].update(x=it, y=[1 + key] * len(it))
                band.data[3].update(x=it, y=[1 - key] * len(it))
                band.layout.title.text = f"bandit trained with PPO (ε = {key:g}): extreme ratios per iteration"

    for c in controls.values():
        c.observe(redraw, names="value")
    redraw()
    return Live(controls=controls, figures=figures,
                children=[W.HBox(list(controls.values())), info, *figures])


def show(**kwargs) -> None:
    """The live widget in a kernel, the static figure on the website."""
    dual(widget(**kwargs), figure(**{k: v for k, v in kwargs.items() if k in ("eps", "adv")}))
