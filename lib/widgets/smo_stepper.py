"""Widget W10.5: SMO step by step (working pair, the two-variable box, objective and KKT gap).

A recorded run of :func:`lib.svm_solvers.smo` (RBF kernel) on a small two-moons sample. At iteration k:

* left: the data, support vectors sized by alpha, and the working pair (i, j) of step k highlighted;
* middle: the (alpha_i, alpha_j) plane with the box [0, C]^2, the feasible segment of the line
  ``alpha_i y_i + alpha_j y_j = const`` (alpha_j in [L, H]), the start point, the unclipped optimum and
  the clipped new point;
* right: the distance to the optimal dual value ``D* - D(alpha)`` and the KKT gap (the stopping
  quantity) against the iteration, on a log scale, with the current iteration marked.

* ``compute(n, C, gamma, rule, seed)``: the recorded run and per-step snapshots of alpha;
* ``figure()``: kernel-free, a slider over the iterations;
* ``widget()``: live, with "step", "×10", "run" and "reset" buttons and C, gamma and the selection rule;
* ``show()``: both, through :func:`lib.widgets.dual`.
"""
from __future__ import annotations

import ipywidgets as W
import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots
from sklearn.datasets import make_moons

from .. import plotting, svm_dual
from ..kernels import rbf_kernel
from ..svm_solvers import smo
from . import Live, dual, readout, slider


def compute(n: int = 40, C: float = 1.0, gamma: float = 1.0, rule: str = "wss3", seed: int = 0,
            tol: float = 1e-6) -> dict:
    """Run SMO with ``record=True``. Returns ``dict(X, y, K, C, steps, objective, gap, alphas (T+1, n),
    d_star, n_iter, b, kkt)``; ``alphas[k]`` is alpha before step k (``alphas[0] = 0``)."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 4 <= n <= 400:
        raise ValueError(f"n: expected an integer in [4, 400], got {n!r}")
    X, y = make_moons(n, noise=0.25, random_state=seed)
    y = 2.0 * y - 1.0
    K = rbf_kernel(X, gamma=gamma)
    res = smo(K, y, C, tol=tol, rule=rule, record=True)
    alphas = [np.zeros(n)]
    for st in res.history["steps"]:
        a = alphas[-1].copy()
        a[st["i"]], a[st["j"]] = st["new"]
        alphas.append(a)
    d_star = svm_dual.dual_objective(res.alpha, y, K)
    kkt = svm_dual.kkt_report(res.alpha, res.b, y, K, C)
    return dict(X=X, y=y, K=K, C=float(C), steps=res.history["steps"], objective=np.array(res.history["objective"]),
                gap=np.array(res.history["gap"]), alphas=np.array(alphas), d_star=d_star, n_iter=res.n_iter,
                b=res.b, kkt=kkt, converged=res.converged)


def _pair_view(res: dict, k: int) -> list[dict]:
    """Trace updates for step k: the pair on the data, the segment, start, unclipped and clipped points."""
    st = res["steps"][k]
    i, j, C = st["i"], st["j"], res["C"]
    ai0, aj0 = st["old"]
    s = st["yi"] * st["yj"]
    ai_of = lambda aj: ai0 + s * (aj0 - aj)  # noqa: E731  (the equality constraint)
    lim = (-0.6 * C, 1.6 * C)
    raw = float(np.clip(st["unclipped_j"], *lim))
    ai_raw = float(np.clip(ai_of(st["unclipped_j"]), *lim))
    X = res["X"]
    r = lambda v: round(float(v), 5)  # noqa: E731
    return [dict(x=[r(X[i, 0]), r(X[j, 0])], y=[r(X[i, 1]), r(X[j, 1])]),
            dict(x=[r(ai_of(st["L"])), r(ai_of(st["H"]))], y=[r(st["L"]), r(st["H"])]),
            dict(x=[r(ai0)], y=[r(aj0)]),
            dict(x=[ai_raw], y=[raw]),
            dict(x=[r(st["new"][0])], y=[r(st["new"][1])])]


def _sizes(alpha, C):
    return np.round(5 + 12 * alpha / C, 2).tolist()


def _base(res: dict) -> go.Figure:
    X, y, C = res["X"], res["y"], res["C"]
    fig = make_subplots(rows=1, cols=3, horizontal_spacing=0.08, column_widths=[0.36, 0.3, 0.34],
                        subplot_titles=("data, working pair (i, j)", "the pair's box and constraint line",
                                        "convergence"))
    for lab, col in ((-1, plotting.PALETTE[3]), (1, plotting.PALETTE[0])):
        fig.add_trace(go.Scatter(x=X[y == lab, 0], y=X[y == lab, 1], mode="markers", name=f"class {lab:+d} (size ∝ α)",
                                 marker=dict(color=col, size=5)), row=1, col=1)
    fig.add_trace(go.Scatter(mode="markers", name="pair (i, j)",
                             marker=dict(size=16, color="rgba(0,0,0,0)", line=dict(width=2.5, color="black"))), row=1, col=1)
    fig.add_trace(go.Scatter(x=[0, C, C, 0, 0], y=[0, 0, C, C, 0], mode="lines", name="box [0, C]²",
                             line=dict(color="#888888")), row=1, col=2)
    fig.add_trace(go.Scatter(mode="lines", name="feasible segment (α_j ∈ [L, H])",
                             line=dict(color=plotting.PALETTE[2], width=4)), row=1, col=2)
    fig.add_trace(go.Scatter(mode="markers", name="start", marker=dict(size=10, color="#555555")), row=1, col=2)
    fig.add_trace(go.Scatter(mode="markers", name="unclipped optimum",
                             marker=dict(size=11, symbol="x", color=plotting.PALETTE[3])), row=1, col=2)
    fig.add_trace(go.Scatter(mode="markers", name="clipped new point",
                             marker=dict(size=12, symbol="star", color=plotting.PALETTE[1])), row=1, col=2)
    it = np.arange(1, len(res["gap"]) + 1)
    dist = np.maximum(res["d_star"] - res["objective"], 1e-16)
    fig.add_trace(go.Scatter(x=it, y=dist, mode="lines", name="D* − D(α)", line=dict(color=plotting.PALETTE[0])),
                  row=1, col=3)
    fig.add_trace(go.Scatter(x=it, y=np.maximum(res["gap"], 1e-16), mode="lines", name="KKT gap",
                             line=dict(color=plotting.PALETTE[4])), row=1, col=3)
    fig.add_trace(go.Scatter(mode="markers", name="current step", marker=dict(size=10, color="black"),
                             showlegend=False), row=1, col=3)
    fig.update_xaxes(title_text="x₁", row=1, col=1)
    fig.update_yaxes(title_text="x₂", row=1, col=1)
    fig.update_xaxes(title_text="α_i", range=[-0.6 * C, 1.6 * C], row=1, col=2)
    fig.update_yaxes(title_text="α_j", range=[-0.6 * C, 1.6 * C], row=1, col=2)
    fig.update_xaxes(title_text="iteration", row=1, col=3)
    fig.update_yaxes(title_text="value (log scale)", type="log", row=1, col=3)
    fig.update_layout(height=520, margin=dict(t=120), legend=dict(orientation="h", yanchor="bottom", y=1.1, x=0))
    return fig


def _step_updates(res: dict, k: int) -> list[dict]:
    """Updates (x, y, marker size) for the moving traces (indices in ``MOVING``) at step k."""
    y, X, a, C = res["y"], res["X"], res["alphas"][k + 1], res["C"]
    pv = _pair_view(res, k)
    dist = max(res["d_star"] - res["objective"][k], 1e-16)
    r = lambda v: np.round(v, 4).tolist()  # noqa: E731
    out = [dict(x=r(X[y < 0, 0]), y=r(X[y < 0, 1]), size=_sizes(a[y < 0], C)),
           dict(x=r(X[y > 0, 0]), y=r(X[y > 0, 1]), size=_sizes(a[y > 0], C))]
    for upd, size in zip(pv, (16, 6, 10, 11, 12)):
        out.append(dict(upd, size=size))
    out.append(dict(x=[k + 1], y=[dist], size=10))
    return out


def _static(upd: dict) -> dict:
    return {"x": upd["x"], "y": upd["y"], "marker.size": upd["size"]}


MOVING = [0, 1, 2, 4, 5, 6, 7, 10]


def _title(res: dict, k: int) -> str:
    st = res["steps"][k]
    return (f"SMO step {k + 1} of {res['n_iter']}: pair ({st['i']}, {st['j']}), η = {st['eta']:.3f}, "
            f"α_j ∈ [{st['L']:.3f}, {st['H']:.3f}]; KKT gap before the step {res['gap'][k]:.2e}")


def figure(n: int = 40, C: float = 1.0, gamma: float = 1.0, max_steps: int = 60) -> go.Figure:
    """Kernel-free: a slider over the first ``max_steps`` iterations of a recorded run."""
    res = compute(n, C, gamma)
    fig = _base(res)
    T = min(max_steps, res["n_iter"])
    steps = []
    for k in range(T):
        steps.append((str(k + 1), [_static(u) for u in _step_updates(res, k)], {"title.text": _title(res, k)}))
    sl = slider(steps, prefix="iteration ")
    for step in sl["steps"]:
        step["args"].append(MOVING)
    for idx, upd in zip(MOVING, _step_updates(res, 0)):
        fig.data[idx].update(x=upd["x"], y=upd["y"], marker_size=upd["size"])
    fig.update_layout(title=steps[0][2]["title.text"], sliders=[sl], height=600)
    return fig


def widget(n: int = 40, C: float = 1.0, gamma: float = 1.0) -> Live:
    """Live: step through the run with buttons; C, gamma and the rule restart it."""
    style = dict(description_width="initial")
    controls = dict(
        step=W.Button(description="step"), ten=W.Button(description="×10"), run=W.Button(description="run"),
        reset=W.Button(description="reset"),
        log2C=W.FloatSlider(value=float(np.log2(C)), min=-3, max=6, step=0.5, description="log₂ C", style=style),
        log2gamma=W.FloatSlider(value=float(np.log2(gamma)), min=-3, max=3, step=0.5, description="log₂ γ", style=style),
        rule=W.ToggleButtons(options=["wss3", "mvp"], value="wss3", description="working set", style=style),
    )
    state = dict(res=compute(n, C, gamma), k=0)
    fig = go.FigureWidget(_base(state["res"]))
    info = readout()

    def draw():
        res, k = state["res"], state["k"]
        with fig.batch_update():
            for idx, upd in zip(MOVING, _step_updates(res, k)):
                fig.data[idx].update(x=upd["x"], y=upd["y"], marker_size=upd["size"])
            fig.layout.title.text = _title(res, k)
        rep = res["kkt"]
        info.value = (f"run: {res['n_iter']} iterations, final dual objective {res['d_star']:.6f}, b = {res['b']:.4f}; "
                      f"{rep['n_free']} free and {rep['n_bound']} bounded SVs; max KKT violation {rep['max_violation']:.1e}")

    def restart(_=None):
        res = compute(n, 2.0 ** controls["log2C"].value, 2.0 ** controls["log2gamma"].value, controls["rule"].value)
        state.update(res=res, k=0)
        new = _base(res)
        with fig.batch_update():
            for old, tr in zip(fig.data, new.data):
                old.update(x=tr.x, y=tr.y)
            fig.layout.update(xaxis2=new.layout.xaxis2, yaxis2=new.layout.yaxis2)
        draw()

    def advance(m):
        def go_(_=None):
            state["k"] = min(state["k"] + m, state["res"]["n_iter"] - 1) if m > 0 else state["res"]["n_iter"] - 1
            draw()
        return go_

    controls["step"].on_click(advance(1))
    controls["ten"].on_click(advance(10))
    controls["run"].on_click(advance(0))
    controls["reset"].on_click(lambda _: (state.update(k=0), draw()))
    for key in ("log2C", "log2gamma", "rule"):
        controls[key].observe(restart, names="value")
    draw()
    return Live(controls=controls, figures=[fig],
                children=[W.HBox([controls[k] for k in ("step", "ten", "run", "reset")]),
                          W.HBox([controls["log2C"], controls["log2gamma"], controls["rule"]]), info, fig])


def show(**kwargs) -> None:
    """The live widget in a kernel, the static figure on the website."""
    dual(widget(**kwargs), figure(**kwargs))
