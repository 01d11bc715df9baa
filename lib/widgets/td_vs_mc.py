"""Widget: TD versus Monte Carlo on the 5-state random walk, as a bias/variance trade-off.

Many independent runs learn ``V`` from the same kind of episodes (:func:`lib.rl.mdp.random_walk`, true values
``1/6 ... 5/6``) with the same step size. The left panel shows the RMS error over the five states against the
number of episodes (mean over runs, band = one standard deviation) for TD(0), Monte Carlo, n-step TD and
TD(lambda). The right panel shows, across runs, the update target used at state B (true value 1/3) on its
first visit in one episode: the Monte Carlo target ``G`` is 0 or 1 (unbiased, variance 2/9); the TD target
``r + V(s')`` uses the current estimate (biased while V is wrong, but spread only as much as ``V`` is).

* ``compute``: curves, targets, bias^2 and variance;
* ``figure``: kernel-free, one slider over the step size alpha;
* ``widget``: live, sliders for alpha, n, lambda and the episode whose targets are shown;
* ``show``: both, through :func:`lib.widgets.dual`.
"""
from __future__ import annotations

import ipywidgets as W
import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .. import plotting
from ..rl import mdp, tabular
from . import Live, dual, readout, slider

TRUE = np.arange(1, 6) / 6
STATE = 2          # state B, true value 1/3
ALPHAS = (0.02, 0.05, 0.1, 0.2, 0.4)


def sample(n_runs: int = 100, n_episodes: int = 100, seed: int = 0) -> dict:
    """Episodes of the random walk for ``n_runs`` independent runs of ``n_episodes`` each."""
    if n_runs < 2 or n_episodes < 1:
        raise ValueError("n_runs, n_episodes: expected n_runs >= 2 and n_episodes >= 1")
    rw = mdp.random_walk(5)
    ep = mdp.sample_episodes(rw, np.ones((7, 1)), n_runs * n_episodes, 400, np.random.default_rng(seed))
    ep["n_runs"] = n_runs
    return ep


def compute(alpha: float = 0.1, n: int = 3, lam: float = 0.8, episode: int = 3, episodes: dict | None = None) -> dict:
    """``dict(x (E+1,), rms {method: (mean, std)}, targets {"TD(0)", "MC"} (one per run that visits B), bias2, var)``.
    ``episodes`` comes from :func:`sample` (default: 100 runs x 100 episodes, seed 0)."""
    if not 0 < alpha <= 1:
        raise ValueError(f"alpha: expected a step size in (0, 1], got {alpha!r}")
    ep = sample() if episodes is None else episodes
    R = ep["n_runs"]
    E = ep["rewards"].shape[0] // R
    if not 0 <= episode < E:
        raise ValueError(f"episode: expected an index in [0, {E}), got {episode!r}")
    kw = dict(alpha=alpha, gamma=1.0, v0=0.5, n_runs=R)
    hists = {"TD(0)": tabular.td0(ep, 7, **kw)[1], "MC": tabular.mc(ep, 7, **kw)[1],
             f"{n}-step TD": tabular.n_step_td(ep, 7, n, **kw)[1],
             f"TD(λ = {lam:g})": tabular.td_lambda(ep, 7, lam, **kw)[1]}
    rms = {}
    for name, h in hists.items():
        err = np.sqrt(((h[:, :, 1:6] - TRUE) ** 2).mean(-1))     # (E+1, R)
        rms[name] = (err.mean(1), err.std(1))
    # targets at state B on its first visit in episode `episode` of every run that visits it
    rows = np.arange(R) * E + episode
    st, ok = ep["states"][rows, :-1], ep["valid"][rows]
    hit = (st == STATE) & ok
    runs = np.flatnonzero(hit.any(1))
    t = hit[runs].argmax(1)
    V = hists["TD(0)"][episode][runs]                             # values before that episode
    rw = ep["rewards"][rows[runs]] * ok[runs]
    G = np.array([rw[i, ti:].sum() for i, ti in enumerate(t)])
    targets = {"TD(0)": rw[np.arange(len(runs)), t] + V[np.arange(len(runs)), ep["states"][rows[runs], t + 1]], "MC": G}
    true_c = TRUE[STATE - 1]
    return dict(x=np.arange(E + 1), rms=rms, targets=targets, n_visits=len(runs),
                bias2={k: float((t.mean() - true_c) ** 2) for k, t in targets.items()},
                var={k: float(t.var()) for k, t in targets.items()})


def _traces(res: dict) -> list[dict]:
    out = []
    x = res["x"].tolist()
    for mean, std in res["rms"].values():
        out.append(dict(x=x + x[::-1], y=np.round(np.r_[mean + std, (mean - std)[::-1]], 4).tolist()))
        out.append(dict(x=x, y=np.round(mean, 4).tolist()))
    for t in res["targets"].values():
        out.append(dict(x=np.round(t, 4).tolist()))
    return out


def _title(alpha: float, episode: int, res: dict) -> str:
    b, v = res["bias2"], res["var"]
    return (f"Random walk, α = {alpha:g}: targets at B in episode {episode}: "
            f"TD bias² {b['TD(0)']:.3f}, var {v['TD(0)']:.3f}; MC bias² {b['MC']:.3f}, var {v['MC']:.3f}")


def _base(res: dict) -> go.Figure:
    fig = make_subplots(rows=1, cols=2, column_widths=[0.6, 0.4], horizontal_spacing=0.12,
                        subplot_titles=("RMS error over the 5 states", "update targets at state B"))
    for i, name in enumerate(res["rms"]):
        c = plotting.PALETTE[i]
        fig.add_trace(go.Scatter(mode="lines", fill="toself", line=dict(width=0), opacity=0.2, fillcolor=c,
                                 showlegend=False, hoverinfo="skip", legendgroup=name), 1, 1)
        fig.add_trace(go.Scatter(mode="lines", name=name, line=dict(color=c), legendgroup=name), 1, 1)
    for i, name in enumerate(res["targets"]):
        fig.add_trace(go.Histogram(name=f"{name} target", marker_color=plotting.PALETTE[i], opacity=0.6,
                                   xbins=dict(start=-0.025, end=1.025, size=0.05), showlegend=False), 1, 2)
    fig.add_vline(x=TRUE[STATE - 1], line_dash="dash", line_color="gray", row=1, col=2)
    fig.update_layout(barmode="overlay", height=480, legend=dict(orientation="h", yanchor="bottom", y=1.08, x=0))
    fig.update_xaxes(title_text="episodes", row=1, col=1)
    fig.update_yaxes(title_text="RMS error", row=1, col=1)
    fig.update_xaxes(title_text="target value (true 1/3 dashed)", range=[-0.05, 1.05], row=1, col=2)
    fig.update_yaxes(title_text="runs", row=1, col=2)
    return fig


def figure(alphas=ALPHAS, n: int = 3, lam: float = 0.8, episode: int = 3, episodes: dict | None = None) -> go.Figure:
    """Kernel-free: one slider over the step size."""
    ep = sample() if episodes is None else episodes
    results = [compute(a, n, lam, episode, ep) for a in alphas]
    fig = _base(results[0])
    steps = [(f"{a:g}", _traces(r), {"title.text": _title(a, episode, r)}) for a, r in zip(alphas, results)]
    i0 = min(range(len(alphas)), key=lambda i: abs(alphas[i] - 0.1))
    for trace, upd in zip(fig.data, steps[i0][1]):
        trace.update(upd)
    fig.update_layout(sliders=[slider(steps, prefix="step size α = ", active=i0)],
                      title=_title(alphas[i0], episode, results[i0]), height=560)
    return fig


def widget(alpha: float = 0.1, n: int = 3, lam: float = 0.8, episode: int = 3, episodes: dict | None = None) -> Live:
    """Live: alpha, n, lambda and the episode whose targets are shown."""
    ep = sample() if episodes is None else episodes
    E = ep["rewards"].shape[0] // ep["n_runs"]
    style = dict(description_width="initial")
    controls = dict(alpha=W.FloatLogSlider(value=alpha, base=10, min=-2, max=0, step=0.1, description="α", style=style),
                    n=W.IntSlider(value=n, min=1, max=16, description="n (n-step)", style=style),
                    lam=W.FloatSlider(value=lam, min=0.0, max=1.0, step=0.1, description="λ", style=style),
                    episode=W.IntSlider(value=episode, min=0, max=E - 1, description="episode", style=style))
    fig = go.FigureWidget(_base(compute(alpha, n, lam, episode, ep)))
    info = readout()

    def redraw(_=None):
        a, e = controls["alpha"].value, controls["episode"].value
        res = compute(a, controls["n"].value, controls["lam"].value, e, ep)
        names = [nm for nm in res["rms"]]
        with fig.batch_update():
            for trace, upd in zip(fig.data, _traces(res)):
                trace.update(**upd)
            fig.data[5].name, fig.data[7].name = names[2], names[3]
            fig.layout.title.text = _title(a, e, res)
        final = {k: float(v[0][-1]) for k, v in res["rms"].items()}
        info.value = "final RMS error: " + ", ".join(f"{k} {v:.3f}" for k, v in final.items())

    for c in controls.values():
        c.observe(redraw, names="value")
    redraw()
    return Live(controls=controls, figures=[fig], children=[W.HBox(list(controls.values())), info, fig])


def show(**kwargs) -> None:
    """The live widget in a kernel, the static figure on the website (they share one set of episodes)."""
    ep = kwargs.pop("episodes", None) or sample()
    dual(widget(episodes=ep, **kwargs), figure(episodes=ep, **{k: v for k, v in kwargs.items() if k != "alpha"}))
