"""Widget W7.3: mode collapse on a ring of Gaussians, GAN against WGAN-GP against a likelihood model.

Input: ``runs[method][seed]`` is a list of snapshots ``dict(step, samples [n, 2], grid, lim)`` from
:func:`lib.gan.train_gan` (``grid``: D(x) or the critic value on ``[-lim, lim]^2``), or a one-element
list ``[dict(step, samples)]`` for a model shown only at the end (the DDPM). For each snapshot::

    occupancy_k = share of samples whose nearest ring centre is mu_k
    covered     = #{k : occupancy_k > frac * pi_k}                     (frac = 1/4)

* ``compute``: occupancy and coverage for every snapshot of every run;
* ``figure``: kernel-free, one slider per trained method over its snapshots (one seed);
* ``widget``: live, method toggle, seed dropdown and a snapshot slider;
* ``show``: both, through :func:`lib.widgets.dual`.

Panels: samples over the (rescaled) discriminator or critic heat map; occupancy against the true
weights pi (and the final-only model); modes covered against the training step for every run.
"""
from __future__ import annotations

import ipywidgets as W
import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .. import plotting
from . import Live, dual, readout


def _check(runs, means, weights):
    if not isinstance(runs, dict) or not runs:
        raise ValueError("runs: expected a non-empty dict method -> {seed: [snapshots]}")
    for m, by_seed in runs.items():
        if not isinstance(by_seed, dict) or not by_seed or any(not s for s in by_seed.values()):
            raise ValueError(f"runs[{m!r}]: expected a non-empty dict seed -> non-empty list of snapshots")
    means, weights = np.asarray(means, dtype=np.float64), np.asarray(weights, dtype=np.float64)
    if means.ndim != 2 or weights.shape != (means.shape[0],) or abs(weights.sum() - 1) > 1e-6:
        raise ValueError("means, weights: expected [K, d] centres and K weights summing to 1")
    return means, weights


def occupancy(samples, means) -> np.ndarray:
    """Share of ``samples`` [n, d] nearest to each of the K ``means`` (K,)."""
    x = np.asarray(samples, dtype=np.float64)
    k = np.argmin(((x[:, None, :] - means[None]) ** 2).sum(-1), axis=1)
    return np.bincount(k, minlength=len(means)) / len(x)


def compute(runs: dict, means, weights, frac: float = 0.25) -> dict:
    """``out[method][seed] = dict(steps [S], occupancy [S, K], covered [S])``."""
    means, weights = _check(runs, means, weights)
    if not 0 < frac < 1:
        raise ValueError(f"frac: expected a number in (0, 1), got {frac!r}")
    out = {}
    for m, by_seed in runs.items():
        out[m] = {}
        for seed, snaps in by_seed.items():
            occ = np.stack([occupancy(s["samples"], means) for s in snaps])
            out[m][seed] = dict(steps=np.array([s["step"] for s in snaps]), occupancy=occ,
                                covered=(occ > frac * weights).sum(1))
    return out


def _trained(runs: dict) -> list:
    return [m for m, by_seed in runs.items() if "grid" in next(iter(by_seed.values()))[0]]


def _heat(grid: np.ndarray) -> list:
    g = np.asarray(grid, dtype=np.float64)
    lo, hi = g.min(), g.max()
    return np.round((g - lo) / (hi - lo) if hi > lo else np.full_like(g, 0.5), 3).tolist()


def _title(method, seed, step, covered, K) -> str:
    return f"{method}, seed {seed}, step {step}: {covered} of {K} modes covered"


def _state(runs, stats, method, seed, i) -> tuple[list[dict], str]:
    """Updates for traces 0 (heat map), 1 (samples), 4 (occupancy bars), last (current-step marker)."""
    snap, st = runs[method][seed][i], stats[method][seed]
    xy = np.round(np.asarray(snap["samples"]), 3)
    upd = [dict(z=_heat(snap["grid"])), dict(x=xy[:, 0].tolist(), y=xy[:, 1].tolist()),
           dict(y=np.round(st["occupancy"][i], 4).tolist(), name=f"{method} at step {snap['step']}"),
           dict(x=[int(st["steps"][i])], y=[int(st["covered"][i])])]
    return upd, _title(method, seed, snap["step"], int(st["covered"][i]), st["occupancy"].shape[1])


def _base(runs, stats, means, weights, seed) -> go.Figure:
    K = len(weights)
    labels = [f"μ{k}" for k in range(K)]
    fig = make_subplots(rows=2, cols=2, specs=[[{}, {}], [{"colspan": 2}, None]], row_heights=[0.58, 0.42],
                        vertical_spacing=0.17, horizontal_spacing=0.12,
                        subplot_titles=("samples over D(x) / critic (rescaled)", "mode occupancy vs π",
                                        "modes covered during training"))
    m0 = _trained(runs)[0]
    lim = runs[m0][seed][0]["lim"]
    n = np.asarray(runs[m0][seed][0]["grid"]).shape[0]
    g = np.round(np.linspace(-lim, lim, n), 3).tolist()
    fig.add_trace(go.Heatmap(x=g, y=g, zmin=0, zmax=1, colorscale="RdBu", showscale=False, opacity=0.75,
                             name="D / critic"), row=1, col=1)
    fig.add_trace(go.Scatter(mode="markers", name="generated", marker=dict(size=3, color="black")), row=1, col=1)
    fig.add_trace(go.Scatter(x=means[:, 0], y=means[:, 1], mode="markers", name="ring centres",
                             marker=dict(size=9, symbol="x", color=plotting.PALETTE[1])), row=1, col=1)
    fig.add_trace(go.Bar(x=labels, y=np.round(weights, 4).tolist(), name="true π", marker_color="gray"), row=1, col=2)
    fig.add_trace(go.Bar(x=labels, name="trained", marker_color=plotting.PALETTE[0]), row=1, col=2)
    for j, m in enumerate(m for m in runs if m not in _trained(runs)):
        st = stats[m][seed]
        fig.add_trace(go.Bar(x=labels, y=np.round(st["occupancy"][-1], 4).tolist(), name=f"{m} (final)",
                             marker_color=plotting.PALETTE[2 + j]), row=1, col=2)
    last = max(int(stats[m][s]["steps"][-1]) for m in _trained(runs) for s in runs[m])
    for j, m in enumerate(runs):
        for s in runs[m]:
            st = stats[m][s]
            x = st["steps"].tolist() if len(st["steps"]) > 1 else [0, last]
            y = st["covered"].tolist() if len(st["steps"]) > 1 else [int(st["covered"][-1])] * 2
            fig.add_trace(go.Scatter(x=x, y=y, mode="lines", name=f"{m} seed {s}", legendgroup=m,
                                     line=dict(color=plotting.PALETTE[j % len(plotting.PALETTE)],
                                               width=3 if s == seed else 1, dash=None if len(x) > 2 else "dash"),
                                     showlegend=False), row=2, col=1)
    fig.add_trace(go.Scatter(mode="markers", name="current", marker=dict(size=12, color="black", symbol="circle-open"),
                             showlegend=False), row=2, col=1)
    fig.update_xaxes(title_text="x₁", range=[-lim, lim], row=1, col=1)
    fig.update_yaxes(title_text="x₂", range=[-lim, lim], scaleanchor="x", row=1, col=1)
    fig.update_xaxes(title_text="mode", row=1, col=2)
    fig.update_yaxes(title_text="share of samples", row=1, col=2)
    fig.update_xaxes(title_text="training step (colour = method, thick = shown seed, dashed = final only)", row=2, col=1)
    fig.update_yaxes(title_text="modes covered", range=[0, K + 0.5], row=2, col=1)
    fig.update_layout(height=760, barmode="group", legend=dict(orientation="h", yanchor="bottom", y=1.04, x=0, traceorder="normal"),
                      margin=dict(t=120))
    return fig


def _indices(fig) -> list[int]:
    return [0, 1, 4, len(fig.data) - 1]


def figure(runs: dict, means, weights, seed=None, frac: float = 0.25) -> go.Figure:
    """Kernel-free: one slider per trained method over its snapshots, for one ``seed`` (the first by default)."""
    means, weights = _check(runs, means, weights)
    stats = compute(runs, means, weights, frac)
    seed = next(iter(runs[_trained(runs)[0]])) if seed is None else seed
    fig = _base(runs, stats, means, weights, seed)
    idx = _indices(fig)
    sliders = []
    for j, m in enumerate(_trained(runs)):
        steps = []
        for i, snap in enumerate(runs[m][seed]):
            upd, title = _state(runs, stats, m, seed, i)
            keys = sorted({k for u in upd for k in u})
            steps.append(dict(method="update", label=str(snap["step"]),
                              args=[{k: [u.get(k) for u in upd] for k in keys}, {"title.text": title}, idx]))
        sliders.append(dict(active=len(steps) - 1, steps=steps, pad=dict(t=45 + 75 * j),
                            currentvalue=dict(prefix=f"{m}, step ")))
    m0 = _trained(runs)[0]
    upd, title = _state(runs, stats, m0, seed, len(runs[m0][seed]) - 1)
    for k, u in zip(idx, upd):
        fig.data[k].update(u)
    fig.update_layout(sliders=sliders, title=title, height=760 + 75 * len(sliders))
    return fig


def widget(runs: dict, means, weights, frac: float = 0.25) -> Live:
    """Live: method toggle (trained methods), seed dropdown, snapshot slider."""
    means, weights = _check(runs, means, weights)
    stats = compute(runs, means, weights, frac)
    trained = _trained(runs)
    seeds = list(runs[trained[0]])
    n_snap = len(runs[trained[0]][seeds[0]])
    controls = dict(method=W.ToggleButtons(options=trained, value=trained[0], description="method"),
                    seed=W.Dropdown(options=seeds, value=seeds[0], description="seed"),
                    step=W.IntSlider(value=n_snap - 1, min=0, max=n_snap - 1, description="snapshot"))
    box = {"fig": go.FigureWidget(_base(runs, stats, means, weights, seeds[0])), "seed": seeds[0]}
    info = readout()
    figs = [box["fig"]]

    def redraw(_=None):
        m, s = controls["method"].value, controls["seed"].value
        n = len(runs[m][s])
        controls["step"].max = n - 1
        i = min(controls["step"].value, n - 1)
        fig = box["fig"]
        if s != box["seed"]:  # the thick line follows the chosen seed
            with fig.batch_update():
                for t in fig.data:
                    if t.legendgroup:
                        t.line.width = 3 if t.name.endswith(f" seed {s}") else 1
                for j, mf in enumerate(m for m in runs if m not in trained):
                    fig.data[5 + j].y = np.round(stats[mf][s]["occupancy"][-1], 4).tolist()
            box["seed"] = s
        upd, title = _state(runs, stats, m, s, i)
        with fig.batch_update():
            for k, u in zip(_indices(fig), upd):
                fig.data[k].update(**u)
            fig.layout.title.text = title
        occ = stats[m][s]["occupancy"][i]
        info.value = (f"largest mode holds {occ[np.argmax(weights)]:.2f} (π = {weights.max():.2f}); "
                      f"smallest share among the other modes {np.delete(occ, np.argmax(weights)).min():.3f}")

    for c in controls.values():
        c.observe(redraw, names="value")
    redraw()
    return Live(controls=controls, figures=figs, children=[W.HBox(list(controls.values())), info, *figs])


def show(runs: dict, means, weights, seed=None, frac: float = 0.25) -> None:
    """The live widget in a kernel, the static figure on the website."""
    dual(widget(runs, means, weights, frac), figure(runs, means, weights, seed, frac))
