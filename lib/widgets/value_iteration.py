"""Widget: value iteration on a grid world, one Bellman optimality sweep at a time.

Starting from ``Q_0 = 0``, each sweep applies ``Q_{k+1} = T* Q_k`` (:func:`lib.rl.mdp.bellman_optimality`).
The left panel shows ``V_k(s) = max_a Q_k(s, a)`` on the grid with the greedy action drawn as an arrow; the
right panel shows the sup-norm error ``||V_k - V*||_inf`` against the contraction bound
``gamma^k ||V_0 - V*||_inf`` on a log scale.

* ``compute``: the iterates, greedy arrows, errors and bound, and the number of policy-iteration steps;
* ``figure``: kernel-free, one slider over the sweep k (for one map, gamma and slip);
* ``widget``: live, a map dropdown and sliders for gamma, slip and k;
* ``show``: both, through :func:`lib.widgets.dual`.
"""
from __future__ import annotations

import ipywidgets as W
import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .. import plotting
from ..rl import mdp as M
from . import Live, dual, readout, slider

MAPS = {
    "4x4 gridworld": (["S...", ".#..", "..#.", "...G"], dict(step_reward=-1.0, goal_reward=0.0)),
    "FrozenLake 4x4": (["SFFF", "FHFH", "FFFH", "HFFG"], dict(step_reward=0.0, goal_reward=1.0)),
    "CliffWalking": (["............"] * 3 + ["SCCCCCCCCCCG"], dict(step_reward=-1.0, goal_reward=0.0)),
}
ARROWS = "←↓→↑"   # GRID_MOVES order: left, down, right, up


def build(name: str, gamma: float, slip: float) -> M.TabularMDP:
    """The named map as a :class:`lib.rl.mdp.TabularMDP`."""
    if name not in MAPS:
        raise ValueError(f"name: expected one of {sorted(MAPS)}, got {name!r}")
    layout, kw = MAPS[name]
    return M.gridworld(layout, slip=slip, gamma=gamma, **kw)


def compute(name: str = "FrozenLake 4x4", gamma: float = 0.9, slip: float = 2 / 3, k_max: int = 40) -> dict:
    """``dict(V (K+1, rows, cols), arrows (K+1, rows, cols) str, error (K+1,), bound (K+1,), v_star, layout,
    vi_iterations, pi_iterations)``; ``K = min(k_max, sweeps to converge)``."""
    if not 0 < gamma < 1:
        raise ValueError(f"gamma: expected a number in (0, 1), got {gamma!r}")
    if isinstance(k_max, bool) or not isinstance(k_max, (int, np.integer)) or k_max < 1:
        raise ValueError(f"k_max: expected a positive integer, got {k_max!r}")
    m = build(name, gamma, slip)
    Q, info = M.value_iteration(m, tol=1e-10, history=True)
    v_star = Q.max(1)
    Qs = info["Q"][: k_max + 1]
    rows, cols = m.shape
    V = Qs.max(2)
    wall = np.array([c == "#" for c in "".join(m.layout)])
    arrows = np.array([[("" if m.terminal[s] or wall[s] or np.ptp(q[s]) < 1e-12 else ARROWS[q[s].argmax()])
                        for s in range(m.n_states)] for q in Qs])
    error = np.abs(V - v_star).max(1)
    bound = gamma ** np.arange(len(V)) * error[0]
    _, _, n_pi = M.policy_iteration(m)
    return dict(V=V.reshape(-1, rows, cols), arrows=arrows.reshape(-1, rows, cols), error=error, bound=bound,
                v_star=v_star.reshape(rows, cols), layout=m.layout, vi_iterations=info["iterations"],
                pi_iterations=n_pi)


def _cell_text(res: dict, k: int) -> list[list[str]]:
    V, A = res["V"][k], res["arrows"][k]
    return [[(f"{c}<br>" if c in "SGHC#" and c != "." else "") + (f"{V[i, j]:.2f} {A[i, j]}" if c != "#" else "")
             for j, c in enumerate(row)] for i, row in enumerate(res["layout"])]


def _traces(res: dict, k: int) -> list[dict]:
    ks = np.arange(len(res["error"]))
    return [dict(z=np.round(res["V"][k], 4).tolist(), text=_cell_text(res, k)),
            dict(x=ks.tolist(), y=np.maximum(res["error"], 1e-12).tolist()),
            dict(x=ks.tolist(), y=np.maximum(res["bound"], 1e-12).tolist()),
            dict(x=[k], y=[max(float(res["error"][k]), 1e-12)])]


def _title(name: str, gamma: float, slip: float, k: int, res: dict) -> str:
    return (f"{name}, γ = {gamma:g}, slip = {slip:.2g}: sweep k = {k} "
            f"(VI converges in {res['vi_iterations']} sweeps, policy iteration in {res['pi_iterations']})")


def _base(res: dict) -> go.Figure:
    fig = make_subplots(rows=1, cols=2, column_widths=[0.55, 0.45], horizontal_spacing=0.17,
                        subplot_titles=("V_k and greedy actions", "distance to V*"))
    lo, hi = float(res["v_star"].min()), float(res["v_star"].max())
    fig.add_trace(go.Heatmap(colorscale=plotting.SEQUENTIAL, zmin=min(lo, 0.0), zmax=max(hi, 0.0), texttemplate="%{text}",
                             showscale=False, hovertemplate="row %{y}, col %{x}: V = %{z:.3f}<extra></extra>"), 1, 1)
    fig.add_trace(go.Scatter(mode="lines", name="‖V_k − V*‖∞", line=dict(color=plotting.PALETTE[0])), 1, 2)
    fig.add_trace(go.Scatter(mode="lines", name="γ^k ‖V_0 − V*‖∞", line=dict(color=plotting.PALETTE[3], dash="dash")), 1, 2)
    fig.add_trace(go.Scatter(mode="markers", name="current k", marker=dict(size=11, color=plotting.PALETTE[1])), 1, 2)
    fig.update_yaxes(autorange="reversed", title_text="row", dtick=1, row=1, col=1)
    fig.update_xaxes(title_text="column", dtick=1, row=1, col=1)
    fig.update_yaxes(type="log", title_text="sup-norm error", row=1, col=2)
    fig.update_xaxes(title_text="sweep k", row=1, col=2)
    fig.update_layout(height=480, legend=dict(orientation="h", yanchor="bottom", y=1.08, x=0))
    return fig


def figure(name: str = "FrozenLake 4x4", gamma: float = 0.9, slip: float = 2 / 3, k_max: int = 40) -> go.Figure:
    """Kernel-free: one slider over the sweep k."""
    res = compute(name, gamma, slip, k_max)
    fig = _base(res)
    K = len(res["error"]) - 1
    ks = sorted(set(np.unique(np.round(np.geomspace(1, K + 1, 25)).astype(int) - 1).tolist()) | {0, K})
    steps = [(str(k), _traces(res, k), {"title.text": _title(name, gamma, slip, k, res)}) for k in ks]
    for trace, upd in zip(fig.data, steps[0][1]):
        trace.update(upd)
    fig.update_layout(sliders=[slider(steps, prefix="sweep k = ")], title=_title(name, gamma, slip, 0, res),
                      height=560)
    return fig


def widget(name: str = "FrozenLake 4x4", gamma: float = 0.9, slip: float = 2 / 3, k_max: int = 60) -> Live:
    """Live: map, gamma, slip and sweep k."""
    style = dict(description_width="initial")
    controls = dict(name=W.Dropdown(options=list(MAPS), value=name, description="map"),
                    gamma=W.SelectionSlider(options=[0.5, 0.7, 0.9, 0.95, 0.99], value=gamma, description="γ", style=style),
                    slip=W.FloatSlider(value=slip, min=0.0, max=0.8, step=0.05, description="slip", style=style),
                    k=W.IntSlider(value=0, min=0, max=k_max, description="sweep k", style=style))
    state = dict(res=compute(name, gamma, slip, k_max))
    fig = go.FigureWidget(_base(state["res"]))
    info = readout()

    def recompute(_=None):
        state["res"] = compute(controls["name"].value, controls["gamma"].value, controls["slip"].value, k_max)
        res = state["res"]
        lo, hi = float(res["v_star"].min()), float(res["v_star"].max())
        fig.data[0].update(zmin=min(lo, 0.0), zmax=max(hi, 0.0), textfont_size=12 if res["V"].shape[2] <= 6 else 8)
        controls["k"].max = len(res["error"]) - 1
        redraw()

    def redraw(_=None):
        res, k = state["res"], min(controls["k"].value, len(state["res"]["error"]) - 1)
        with fig.batch_update():
            for trace, upd in zip(fig.data, _traces(res, k)):
                trace.update(**upd)
            fig.layout.title.text = _title(controls["name"].value, controls["gamma"].value, controls["slip"].value, k, res)
        info.value = (f"‖V_k − V*‖∞ = {res['error'][k]:.3g} ≤ γ^k ‖V_0 − V*‖∞ = {res['bound'][k]:.3g}")

    for key in ("name", "gamma", "slip"):
        controls[key].observe(recompute, names="value")
    controls["k"].observe(redraw, names="value")
    redraw()
    return Live(controls=controls, figures=[fig], children=[W.HBox(list(controls.values())), info, fig])


def show(**kwargs) -> None:
    """The live widget in a kernel, the static figure on the website."""
    dual(widget(**kwargs), figure(**kwargs))
