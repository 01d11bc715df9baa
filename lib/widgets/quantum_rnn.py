"""Widget W4.9: a qubit as a complex RNN: free evolution, measure-and-collapse, and the Zeno effect.

The qubit evolves under ``H = (omega / 2) sigma_x`` for a total time T, starting in the first vector of
the measurement basis ``E = rotated_basis(theta)``. Left panel: the Born probability of outcome 0 with
no measurement, and one sampled run that is measured n times at equal intervals (each measurement
collapses the state onto the observed basis vector). Right panel: the probability that all n
measurements return outcome 0, ``|<e_0| U(T/n) |e_0>|^(2n)``, against n (for theta = 0 this is
``cos^(2n)(omega T / 2n)``), with the current n marked.

* ``compute``: the curves and the sampled run;
* ``figure``: kernel-free, a slider over n at omega T = pi;
* ``widget``: live, with omega, T, n, theta and the seed;
* ``show``: both, through :func:`lib.widgets.dual`.
"""
from __future__ import annotations

import math

import ipywidgets as W
import numpy as np
import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from .. import plotting
from .. import quantum as qm
from . import Live, dual, readout, slider

N_VALUES = (1, 2, 3, 5, 10, 20, 50)
N_MAX_CURVE = 50


def survival(omega: float, T: float, n: int, theta: float = 0.0) -> float:
    """Probability that n equally spaced measurements in basis ``rotated_basis(theta)`` all give outcome 0."""
    E = qm.rotated_basis(theta)
    U = torch.linalg.matrix_exp(-1j * qm.qubit_hamiltonian(omega) * (T / n))
    amp = E[:, 0].conj() @ U @ E[:, 0]
    return float(abs(amp.item()) ** (2 * n))


def compute(omega: float = math.pi, T: float = 1.0, n: int = 5, theta: float = 0.0, seed: int = 0,
            steps: int = 200) -> dict:
    """Returns ``dict(t, p_free, t_run, p_run, outcome_t, outcomes, ns, surv, surv_n)``."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 1 <= n <= 200:
        raise ValueError(f"n: expected an integer in [1, 200], got {n!r}")
    if not T > 0:
        raise ValueError(f"T: expected a positive time, got {T!r}")
    n = int(n)
    H, E = qm.qubit_hamiltonian(float(omega)), qm.rotated_basis(float(theta))
    t = np.linspace(0, T, steps + 1)
    p_free = qm.born(qm.evolve(H, E[:, 0], t), E)[:, 0].numpy()
    per = max(1, steps // n)
    run = qm.measurement_rnn(H, E, E[:, 0], T / (n * per), n * per, measure_every=per, seed=int(seed))
    ns = np.arange(1, N_MAX_CURVE + 1)
    surv = np.array([survival(omega, T, int(k), theta) for k in ns])
    return dict(t=t, p_free=p_free, t_run=run["ts"].numpy(), p_run=run["probs"][:, 0].numpy(),
                outcome_t=[run["ts"][s].item() for s, _ in run["outcomes"]],
                outcomes=[k for _, k in run["outcomes"]], ns=ns, surv=surv,
                surv_n=survival(omega, T, n, theta))


def _base() -> go.Figure:
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.12,
                        subplot_titles=("probability of outcome 0", "all n measurements give outcome 0"))
    fig.add_trace(go.Scatter(mode="lines", name="no measurement", line=dict(color=plotting.PALETTE[0])), row=1, col=1)
    fig.add_trace(go.Scatter(mode="lines", name="measured run", line=dict(color=plotting.PALETTE[3])), row=1, col=1)
    fig.add_trace(go.Scatter(mode="markers", name="outcome (1 = found 0)", marker=dict(color="black", size=8)),
                  row=1, col=1)
    fig.add_trace(go.Scatter(mode="lines", name="survival vs n", line=dict(color=plotting.PALETTE[2])), row=1, col=2)
    fig.add_trace(go.Scatter(mode="markers", name="current n", marker=dict(color=plotting.PALETTE[1], size=12)),
                  row=1, col=2)
    fig.update_xaxes(title_text="time t", row=1, col=1)
    fig.update_yaxes(title_text="Born probability", range=[-0.05, 1.05], row=1, col=1)
    fig.update_xaxes(title_text="number of measurements n", type="log", row=1, col=2)
    fig.update_yaxes(title_text="survival probability", range=[-0.05, 1.05], row=1, col=2)
    fig.update_layout(height=460, margin=dict(t=110), legend=dict(orientation="h", yanchor="bottom", y=1.08, x=0))
    return fig


def _traces(res: dict, n: int) -> list[dict]:
    r = lambda a: np.round(np.asarray(a, dtype=float), 5).tolist()  # noqa: E731
    return [dict(x=r(res["t"]), y=r(res["p_free"])), dict(x=r(res["t_run"]), y=r(res["p_run"])),
            dict(x=r(res["outcome_t"]), y=[1 - k for k in res["outcomes"]]),
            dict(x=res["ns"].tolist(), y=r(res["surv"])), dict(x=[n], y=[round(res["surv_n"], 5)])]


def _title(n: int, res: dict, omega: float, T: float) -> str:
    return f"Qubit as an RNN, ΩT = {omega * T:.2f}: n = {n} measurements, survival {res['surv_n']:.3f}"


def figure(omega: float = math.pi, T: float = 1.0, theta: float = 0.0, seed: int = 0, ns=N_VALUES) -> go.Figure:
    """Kernel-free: a slider over the number of measurements n."""
    fig = _base()
    steps = []
    for n in ns:
        res = compute(omega, T, int(n), theta, seed)
        steps.append((str(n), _traces(res, int(n)), {"title.text": _title(int(n), res, omega, T)}))
    start = list(ns).index(5) if 5 in ns else 0
    sl = slider(steps, prefix="measurements n = ", active=start)
    for trace, upd in zip(fig.data, steps[start][1]):
        trace.update(upd)
    fig.update_layout(title=steps[start][2]["title.text"], sliders=[sl], height=540)
    return fig


def widget(omega: float = math.pi, T: float = 1.0, n: int = 5, theta: float = 0.0, seed: int = 0) -> Live:
    """Live: Omega, total time, n, basis angle and seed."""
    style = dict(description_width="initial")
    controls = dict(
        omega=W.FloatSlider(value=omega, min=0.5, max=10.0, step=0.05, description="Ω", style=style),
        T=W.FloatSlider(value=T, min=0.2, max=4.0, step=0.05, description="total time T", style=style),
        n=W.IntSlider(value=n, min=1, max=50, description="measurements n", style=style),
        theta=W.FloatSlider(value=theta, min=0.0, max=float(np.pi), step=0.05, description="basis angle θ", style=style),
        seed=W.IntSlider(value=seed, min=0, max=20, description="seed", style=style),
    )
    fig = go.FigureWidget(_base())
    info = readout()

    def redraw(_=None):
        c = {k: v.value for k, v in controls.items()}
        res = compute(c["omega"], c["T"], c["n"], c["theta"], c["seed"])
        with fig.batch_update():
            for trace, upd in zip(fig.data, _traces(res, c["n"])):
                trace.update(**upd)
            fig.layout.title.text = _title(c["n"], res, c["omega"], c["T"])
        info.value = (f"outcomes of this run: {res['outcomes']}; probability that all are 0: {res['surv_n']:.4f}")

    for control in controls.values():
        control.observe(redraw, names="value")
    redraw()
    return Live(controls=controls, figures=[fig],
                children=[W.HBox(list(controls.values()), layout=W.Layout(flex_flow="row wrap")), info, fig])


def show(**kwargs) -> None:
    """The live widget in a kernel, the static figure on the website."""
    static = {k: v for k, v in kwargs.items() if k in {"omega", "T", "theta", "seed"}}
    dual(widget(**kwargs), figure(**static))
