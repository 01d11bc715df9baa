"""Widget W6.1: particles carried from noise to data by the reverse SDE, the probability-flow ODE and
flow matching, over the exact density ``p_t`` of the noised Gaussian mixture.

Every process writes its marginal as ``x_t = a_t x_0 + b_t eps`` (t = 0 data, t = 1 noise). For a Gaussian
mixture the noised law is again a mixture, ``p_t = sum_k pi_k N(a_t mu_k, a_t^2 Sigma_k + b_t^2 I)``, so the
score, the flow-matching velocity and ``p_t`` itself are exact (:mod:`lib.gmm`). The samplers are those of
:mod:`lib.diffusion.samplers`, run from t = 1 down to t = 0:

* reverse SDE (Euler-Maruyama)   ``dx = [f - g^2 grad log p_t] dt + g dw``;
* probability-flow ODE           ``dx/dt = f - 1/2 g^2 grad log p_t`` (Euler or Heun);
* flow matching                  ``dx/dt = -v(x, t)`` with ``v = E[x_0 - x_1 | x_t]``, ``x_t = (1 - t) x_0 + t x_1``.

The three start from the same standard-normal draws (scaled by the prior's std), so a comparison shows the
processes, not the luck of the noise. Readouts: t and ``(a_t, b_t)``, the number of score or velocity
evaluations (NFE), the energy distance of the cloud to fresh samples of the exact ``p_t``, at t = 0 the mode
weights and the within-mode std, and the straightness (mean path length over mean displacement; 1 = straight).

* ``compute``: one run's trajectories, their times and the NFE (cached on the arguments);
* ``readouts``: the numbers above for one state of a run;
* ``figure``: kernel-free, a time slider and buttons over precomputed (process, step count) runs;
* ``widget``: live, every control (data set, process or compare, schedule, steps, integrator, score source,
  time with a play button, paths, density, seed);
* ``show``: both, through :func:`lib.widgets.dual`.
"""
from __future__ import annotations

import functools

import ipywidgets as W
import numpy as np
import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from .. import gmm as gm
from .. import plotting
from .. import sample_metrics as sm
from ..diffusion import samplers, schedules
from . import Live, dual, readout

DATASETS = ("ring8", "ring8-imbalanced", "moons", "spiral")
DATASET_NAMES = {"ring8": "the 8-Gaussian ring", "ring8-imbalanced": "the imbalanced ring", "moons": "two moons",
                 "spiral": "the spiral"}
PROCESSES = {"sde": "reverse SDE", "ode": "probability-flow ODE", "fm": "flow matching"}
SCHEDULES = {"vp": "VP-SDE, linear β(t)", "ve": "VE, geometric σ(t)", "ve-book": "VE, the book's constant σ²"}
STEPS = (5, 10, 20, 50, 100, 200, 500)
INTEGRATORS = ("euler", "heun")
COLORS = {"sde": plotting.PALETTE[3], "ode": plotting.PALETTE[0], "fm": plotting.PALETTE[2]}
T_MIN = 1e-3  # the SDE and the ODE stop just above t = 0, where the score of a narrow mixture is stiff


@functools.lru_cache(maxsize=None)
def mixture(dataset: str = "ring8") -> gm.GaussianMixture:
    """The data set as a Gaussian mixture (exact score at every noise level)."""
    if dataset not in DATASETS:
        raise ValueError(f"dataset: expected one of {DATASETS}, got {dataset!r}")
    if dataset == "ring8":
        return gm.ring_gmm()
    if dataset == "ring8-imbalanced":
        return gm.ring_gmm(weights=[0.51] + [0.07] * 7)
    return gm.moons_gmm() if dataset == "moons" else gm.spiral_gmm()


def process_of(process: str, schedule: str = "vp"):
    """The noising process of a run: flow matching's straight interpolant, else the chosen schedule."""
    if process == "fm":
        return schedules.LinearInterpolant()
    return {"vp": schedules.VPSDE, "ve": schedules.VEGeometric, "ve-book": schedules.VEBrownian}[schedule]()


def coeffs(process: str, schedule: str, t: float) -> tuple[float, float]:
    """``(a_t, b_t)`` of the process at continuous time ``t``."""
    a, b = process_of(process, schedule).coeffs(float(t))
    return float(a), float(b)


def _check(dataset, process, schedule, n_steps, integrator, n, seed):
    if dataset not in DATASETS:
        raise ValueError(f"dataset: expected one of {DATASETS}, got {dataset!r}")
    if process not in PROCESSES:
        raise ValueError(f"process: expected one of {tuple(PROCESSES)}, got {process!r}")
    if schedule not in SCHEDULES:
        raise ValueError(f"schedule: expected one of {tuple(SCHEDULES)}, got {schedule!r}")
    if integrator not in INTEGRATORS:
        raise ValueError(f"integrator: expected one of {INTEGRATORS}, got {integrator!r}")
    for name, v, lo in (("n_steps", n_steps, 1), ("n", n, 2), ("seed", seed, 0)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo:
            raise ValueError(f"{name}: expected an integer >= {lo}, got {v!r}")


def compute(dataset: str = "ring8", process: str = "ode", schedule: str = "vp", n_steps: int = 50,
            integrator: str = "heun", n: int = 200, seed: int = 0, learned: dict | None = None) -> dict:
    """One sampling run from t = 1 to t = 0 with the exact score, or with ``learned`` callables.

    ``learned`` may map ``'score'`` (used by the SDE and the ODE) and ``'velocity'`` (flow matching) to callables
    ``fn(x: Tensor[n, 2], t: float) -> Tensor[n, 2]``; a process without its entry uses the exact field. The
    start is ``b_1 z`` with ``z ~ N(0, I)`` drawn from ``seed``: the same ``z`` for every process. The SDE always
    integrates with Euler-Maruyama (``integrator`` applies to the ODE and flow matching).

    Returns ``dict(traj ndarray[n_steps + 1, n, 2], t ndarray[n_steps + 1], nfe, dataset, process, schedule,
    source)``; ``traj[0]`` is the start at t = 1 and ``traj[-1]`` the samples at t = 0 (``T_MIN`` for SDE/ODE).
    """
    _check(dataset, process, schedule, n_steps, integrator, n, seed)
    fn = None
    if learned is not None:
        if not isinstance(learned, dict) or not set(learned) <= {"score", "velocity"}:
            raise ValueError("learned: expected a dict with keys among 'score' and 'velocity'")
        fn = learned.get("velocity" if process == "fm" else "score")
        if fn is not None and not callable(fn):
            raise TypeError("learned: expected callables fn(x, t)")
    if fn is None:
        return dict(_exact_run(dataset, process, schedule, int(n_steps), integrator, int(n), int(seed)))
    return _run(dataset, process, schedule, int(n_steps), integrator, int(n), int(seed), fn, "learned")


@functools.lru_cache(maxsize=128)
def _exact_run(dataset, process, schedule, n_steps, integrator, n, seed):
    g = mixture(dataset)
    if process == "fm":
        fn = g.flow_velocity
    else:
        proc = process_of(process, schedule)
        fn = lambda x, t: g.score_t(x, *proc.coeffs(float(t)))  # noqa: E731
    return _run(dataset, process, schedule, n_steps, integrator, n, seed, fn, "exact")


def _run(dataset, process, schedule, n_steps, integrator, n, seed, fn, source) -> dict:
    proc = process_of(process, schedule)
    z = torch.randn(n, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))
    x_init = proc.prior_std() * z
    calls = [0]

    def counted(x, t):
        calls[0] += 1
        return fn(x, t)

    gen = torch.Generator().manual_seed(seed + 1)
    if process == "fm":
        _, traj = samplers.fm_sample(counted, n, steps=n_steps, method=integrator, x_init=x_init, generator=gen,
                                     return_traj=True)
        times = samplers.time_grid(n_steps, 0.0)
    elif process == "sde":
        _, traj = samplers.reverse_sde_sample(counted, proc, n, steps=n_steps, t_min=T_MIN, x_init=x_init,
                                              generator=gen, return_traj=True)
        times = samplers.time_grid(n_steps, T_MIN)
    else:
        _, traj = samplers.pf_ode_sample(counted, proc, n, steps=n_steps, method=integrator, t_min=T_MIN,
                                         x_init=x_init, generator=gen, return_traj=True)
        times = samplers.time_grid(n_steps, T_MIN)
    return dict(traj=traj.detach().cpu().double().numpy(), t=np.asarray(times), nfe=calls[0], dataset=dataset, process=process,
                schedule=schedule, source=source)


def readouts(res: dict, k: int = -1, seed: int = 1) -> dict:
    """Numbers for state ``k`` of a run: ``t, a, b, nfe``, ``ed`` (energy distance to as many fresh samples of
    the exact ``p_t``), ``straightness`` of the whole paths, and at the last state ``weights`` (nearest-mean
    shares), ``weights_dev`` (largest deviation from the mixture's weights), ``within_std`` and the data's
    ``within_std_data``."""
    traj = res["traj"]
    k = int(k) % len(traj)
    t = float(res["t"][k])
    g = mixture(res["dataset"])
    a, b = coeffs(res["process"], res["schedule"], t)
    x = traj[k]
    ref, _ = g.noised(a, b).sample(len(x), generator=torch.Generator().manual_seed(seed))
    length = np.linalg.norm(np.diff(traj, axis=0), axis=-1).sum(0).mean()
    shift = np.linalg.norm(traj[-1] - traj[0], axis=-1).mean()
    straightness = float(length / shift) if shift > 0 else float("nan")  # nan: nothing moved
    out = dict(t=t, a=a, b=b, nfe=res["nfe"], ed=sm.energy_distance(x, ref), straightness=straightness)
    if k == len(traj) - 1:
        means = g.means
        out["weights"] = sm.mode_weights(x, means)
        out["weights_dev"] = float(np.abs(out["weights"] - g.weights.cpu().numpy()).max())
        out["within_std"] = sm.within_mode_std(x, means)
        data, _ = g.sample(4000, generator=torch.Generator().manual_seed(seed + 1))
        out["within_std_data"] = sm.within_mode_std(data, means)
    return out


def _info(r: dict) -> str:
    text = (f"t = {r['t']:.3f}, (a_t, b_t) = ({r['a']:.3f}, {r['b']:.3f}); NFE {r['nfe']}; energy distance to "
            f"exact p_t samples {r['ed']:.4f}; straightness {r['straightness']:.2f}")
    if "within_std" in r:
        text += (f"; at t = 0 the mode weights are off by at most {r['weights_dev']:.3f}, within-mode std "
                 f"{r['within_std']:.3f} (data {r['within_std_data']:.3f})")
    return text


# --------------------------------------------------------------------------- drawing helpers
def density(dataset: str, process: str, schedule: str, t: float, lim: float, n: int = 36) -> np.ndarray:
    """log p_t on an n x n grid over [-lim, lim]^2 (rows are y), floored 12 nats below its maximum."""
    a, b = coeffs(process, schedule, t)
    z = mixture(dataset).density_grid((-lim, lim), (-lim, lim), n=n, a=a, b=b)
    logz = np.log(np.maximum(z, 1e-300))
    return np.maximum(logz, logz.max() - 12.0)


def _view(process: str, schedule: str, t: float) -> float:
    """Half-width of the square view: the data fit, and so does most of a wide VE cloud."""
    return float(max(3.2, 2.2 * coeffs(process, schedule, t)[1]))


def _paths(traj: np.ndarray, n_paths: int, upto: int | None = None, max_points: int = 40) -> dict:
    """The first ``n_paths`` particles' polylines (None-separated), states 0..``upto``, at most ``max_points`` each."""
    upto = len(traj) - 1 if upto is None else upto
    idx = np.unique(np.linspace(0, upto, min(upto + 1, max_points)).round().astype(int))
    xs, ys = [], []
    for i in range(min(n_paths, traj.shape[1])):
        xs += np.round(traj[idx, i, 0], 3).tolist() + [None]
        ys += np.round(traj[idx, i, 1], 3).tolist() + [None]
    return dict(x=xs, y=ys)


def _cloud(x: np.ndarray) -> dict:
    return dict(x=np.round(x[:, 0], 3).tolist(), y=np.round(x[:, 1], 3).tolist())


def _state_at(res: dict, t: float) -> int:
    """Index of the run's state nearest to time ``t``."""
    return int(np.abs(res["t"] - t).argmin())


# --------------------------------------------------------------------------- the kernel-free figure
FIG_RUNS = (("sde", 20), ("sde", 200), ("ode", 5), ("ode", 50), ("fm", 5), ("fm", 50))


def figure(dataset: str = "ring8", n: int = 180, n_frames: int = 26, n_paths: int = 15, seed: int = 0,
           runs=FIG_RUNS, grid: int = 36) -> go.Figure:
    """Kernel-free: a slider over time (t = 1 to 0) and buttons over precomputed (process, steps) runs of the
    VP-SDE schedule (flow matching: its straight interpolant), all from the same initial noise. The grey
    heatmap is log p_t of the process shown; each run's legend entry gives the energy distance of its cloud
    to exact samples of p_t at the time shown."""
    if not runs:
        raise ValueError("runs: expected at least one (process, steps) pair")
    times = np.linspace(1.0, 0.0, n_frames)
    results = [compute(dataset, p, "vp", s, "euler" if p == "sde" else "heun", n, seed) for p, s in runs]
    lim = 3.2
    axis = np.round(np.linspace(-lim, lim, grid), 3).tolist()
    families = ("ode", "fm")  # the SDE and the ODE share p_t (the VP-SDE's); flow matching has its own
    fam = [("fm" if p == "fm" else "ode") for p, _ in runs]
    fig = go.Figure()
    for f in families:
        fig.add_trace(go.Heatmap(x=axis, y=axis, colorscale="Greys", showscale=False, hoverinfo="skip",
                                 opacity=0.6, name="log p_t", visible=f == fam[0], showlegend=False))
    for i, ((p, s), res) in enumerate(zip(runs, results)):
        fig.add_trace(go.Scatter(mode="lines", **_paths(res["traj"], n_paths), name=f"{n_paths} paths",
                                 hoverinfo="skip", line=dict(width=0.8, color=COLORS[p]), opacity=0.5,
                                 visible=i == 0, showlegend=False))
        fig.add_trace(go.Scatter(mode="markers", marker=dict(size=4, color=COLORS[p]), visible=i == 0,
                                 legendgroup="cloud"))  # one legend entry at a time (the visible run's)
    moving = [0, 1] + [3 + 2 * i for i in range(len(runs))]  # the heatmaps and the clouds change with time
    steps = []
    for t in times:
        data = dict(z=[], x=[], y=[], name=[])
        for f in families:
            data["z"].append(np.round(density(dataset, f, "vp", t, lim, grid), 2).tolist())
            data["x"].append(axis)
            data["y"].append(axis)
            data["name"].append("log p_t")
        for (p, s), res in zip(runs, results):
            k = _state_at(res, t)
            cloud = _cloud(res["traj"][k])
            data["z"].append(None)
            data["x"].append(cloud["x"])
            data["y"].append(cloud["y"])
            data["name"].append(f"{PROCESSES[p]}, {s} steps: energy distance to p_t "
                                f"{readouts(res, k)['ed']:.3f}")
        steps.append(dict(method="restyle", label=f"{t:.2f}", args=[data, moving]))
    first = steps[0]["args"][0]
    for pos, j in enumerate(moving):  # the figure opens at t = 1
        fig.data[j].update({key: values[pos] for key, values in first.items() if values[pos] is not None})
    buttons = []
    for i, (p, s) in enumerate(runs):
        visible = [f == fam[i] for f in families]
        for j in range(len(runs)):
            visible += [j == i, j == i]
        buttons.append(dict(method="restyle", label=f"{p.upper()} {s}", args=[{"visible": visible}]))
    fig.update_layout(
        title=f"Noise to data on {DATASET_NAMES[dataset]}: SDE, ODE and flow matching from the same noise",
        xaxis=dict(title="x₁", range=[-lim, lim], constrain="domain"),
        yaxis=dict(title="x₂", range=[-lim, lim], scaleanchor="x"),
        height=720, legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0), margin=dict(b=200),
        sliders=[dict(active=0, steps=steps, currentvalue=dict(prefix="time t = "), pad=dict(t=95))],
        updatemenus=[dict(type="buttons", direction="right", buttons=buttons, x=0.0, xanchor="left", y=-0.14,
                          yanchor="top", showactive=True, active=0, pad=dict(t=0))])
    return fig


# --------------------------------------------------------------------------- the live widget
def _live_base(cols: int) -> go.FigureWidget:
    titles = [PROCESSES[p] for p in PROCESSES] if cols == 3 else None
    fig = make_subplots(rows=1, cols=cols, subplot_titles=titles, horizontal_spacing=0.07)
    for j in range(cols):
        fig.add_trace(go.Heatmap(colorscale="Greys", showscale=False, hoverinfo="skip", opacity=0.6,
                                 name="log p_t"), row=1, col=j + 1)
        fig.add_trace(go.Scatter(mode="lines", name="paths", hoverinfo="skip", line=dict(width=0.8), opacity=0.5),
                      row=1, col=j + 1)
        fig.add_trace(go.Scatter(mode="markers", name="particles", marker=dict(size=4)), row=1, col=j + 1)
        suffix = "" if j == 0 else str(j + 1)
        fig.layout["xaxis" + suffix].title.text = "x₁"
        fig.layout["yaxis" + suffix].title.text = "x₂"
        fig.layout["yaxis" + suffix].scaleanchor = "x" + suffix
    fig.update_layout(title="Noise to data", height=560 if cols == 1 else 400, showlegend=False)
    return go.FigureWidget(fig)


def widget(dataset: str = "ring8", n: int = 300, n_paths: int = 30, seed: int = 0, learned: dict | None = None,
           n_frames: int = 31, process: str = "ode") -> Live:
    """Live: data set, process (or all three on the same noise), schedule, step count, integrator, exact or
    learned score (``learned`` as in :func:`compute`), time slider with a play button, paths, density, seed.
    ``process`` is the one shown first: a key of ``PROCESSES`` or ``"compare"``."""
    if process != "compare" and process not in PROCESSES:
        raise ValueError(f"process: expected 'compare' or one of {tuple(PROCESSES)}, got {process!r}")
    style = dict(description_width="initial")
    c = dict(
        dataset=W.Dropdown(options=DATASETS, value=dataset, description="data", style=style),
        schedule=W.Dropdown(options=[(v, k) for k, v in SCHEDULES.items()], value="vp", description="schedule",
                            style=style),
        seed=W.IntText(value=seed, description="seed", style=style, layout=W.Layout(width="140px")),
        process=W.ToggleButtons(options=[(v, k) for k, v in PROCESSES.items()] + [("compare all three", "compare")],
                                value=process, description="process", style=style),
        n_steps=W.SelectionSlider(options=STEPS, value=50, description="steps", style=style),
        integrator=W.ToggleButtons(options=INTEGRATORS, value="heun", description="ODE/FM integrator", style=style),
        source=W.ToggleButtons(options=["exact", "learned"], value="exact", description="score",
                               disabled=not learned, style=style),
        play=W.Play(value=0, min=0, max=n_frames - 1, interval=200),
        frame=W.IntSlider(value=0, min=0, max=n_frames - 1, description="time step (t = 1 → 0)", style=style),
        paths=W.Checkbox(value=True, description="paths"),
        density=W.Checkbox(value=True, description="density p_t"),
    )
    W.jslink((c["play"], "value"), (c["frame"], "value"))
    single, compare = _live_base(1), _live_base(3)
    boxes = dict(single=W.Box([single]), compare=W.Box([compare]))
    info = readout()

    def redraw(_=None):
        mode = c["process"].value
        c["schedule"].disabled = mode == "fm"
        procs = list(PROCESSES) if mode == "compare" else [mode]
        src = learned if c["source"].value == "learned" else None
        results = [compute(c["dataset"].value, p, c["schedule"].value, c["n_steps"].value,
                           "euler" if p == "sde" else c["integrator"].value, n, int(c["seed"].value), src)
                   for p in procs]
        t_show = 1.0 - c["frame"].value / (n_frames - 1)
        fig = compare if mode == "compare" else single
        lines = []
        with fig.batch_update():
            for j, res in enumerate(results):
                p = res["process"]
                k = _state_at(res, t_show)
                t = float(res["t"][k])
                lim = _view(p, res["schedule"], t)
                axis = np.linspace(-lim, lim, 48)
                if c["density"].value:
                    fig.data[3 * j].update(x=axis, y=axis, z=density(res["dataset"], p, res["schedule"], t, lim, 48),
                                           visible=True)
                else:
                    fig.data[3 * j].visible = False
                fig.data[3 * j + 1].update(**(_paths(res["traj"], n_paths, k) if c["paths"].value else
                                              dict(x=[], y=[])), line_color=COLORS[p])
                fig.data[3 * j + 2].update(**_cloud(res["traj"][k]), marker_color=COLORS[p])
                suffix = "" if j == 0 else str(j + 1)
                fig.layout["xaxis" + suffix].range = [-lim, lim]
                fig.layout["yaxis" + suffix].range = [-lim, lim]
                lines.append(f"<b>{PROCESSES[p]}</b> ({res['source']} field): " + _info(readouts(res, k)))
            what = "same initial noise" if mode == "compare" else PROCESSES[mode]
            fig.layout.title.text = f"Noise to data, {what}: {c['n_steps'].value} steps, t = {t_show:.2f}"
        info.value = "<br>".join(lines)
        boxes["single"].layout.display = "none" if mode == "compare" else None
        boxes["compare"].layout.display = None if mode == "compare" else "none"

    for name, ctrl in c.items():
        if name != "play":  # the play button drives the frame slider through jslink
            ctrl.observe(redraw, names="value")
    redraw()
    rows = [W.HBox([c["dataset"], c["schedule"], c["seed"]]), c["process"],
            W.HBox([c["n_steps"], c["integrator"], c["source"]]),
            W.HBox([c["play"], c["frame"], c["paths"], c["density"]])]
    return Live(controls=c, figures=[single, compare], children=[*rows, info, boxes["single"], boxes["compare"]])


def show(dataset: str = "ring8", learned: dict | None = None, **kwargs) -> None:
    """The live widget in a kernel, the static figure on the website."""
    dual(widget(dataset=dataset, learned=learned, **kwargs), figure(dataset=dataset))
