"""Widget: the PUCT score of each action, and where the preferred action flips as c grows.

For actions with statistics ``(Q_i, N_i, P_i)``::

    U_i = c P_i sqrt(max(sum_b N_b, 1)) / (1 + N_i),      score_i = Q_i + U_i          (8.54)

Each score is linear in ``c``, so two actions swap order at ``c* = (Q_j - Q_i) / (u_i - u_j)`` with
``u = U / c``. The book's late example (Q, N, P) = (0.3, 50, 0.8), (0.6, 20, 0.2) flips at c* = 5.82.

* ``compute``: the table Q, U, score and the pairwise crossovers;
* ``figure``: kernel-free: a slider over c for the book's late example (bars of Q, U, Q + U, and the score
  lines against c with the current c marked);
* ``widget``: live sliders for Q, N, P of two or three actions and c;
* ``show``: both.
"""
from __future__ import annotations

import ipywidgets as W
import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .. import plotting
from ..rl.mcts import puct_scores
from . import Live, dual, readout, slider

LATE = dict(Q=(0.3, 0.6), N=(50, 20), P=(0.8, 0.2))
EARLY = dict(Q=(0.0, 0.0), N=(1, 1), P=(0.8, 0.2))
C_GRID = np.round(np.linspace(0.0, 10.0, 101), 2)
C_STEPS = (0.5, 1.0, 2.0, 3.0, 4.0, 5.0, 5.5, 6.0, 7.0, 8.0, 10.0)


def compute(Q=LATE["Q"], N=LATE["N"], P=LATE["P"], c: float = 1.0) -> dict:
    """``dict(Q, N, P, U, score, best, crossovers)``; ``crossovers[(i, j)]`` is the c where actions i and j
    tie (None if their scores never meet for c > 0)."""
    t = puct_scores(Q, N, P, c)
    u = puct_scores(Q, N, P, 1.0)["U"]
    cross = {}
    for i in range(len(u)):
        for j in range(i + 1, len(u)):
            du = u[i] - u[j]
            cs = (t["Q"][j] - t["Q"][i]) / du if du != 0 else None
            cross[(i, j)] = cs if cs is not None and cs > 0 else None
    return dict(**t, best=int(np.argmax(t["score"])), crossovers=cross)


def _names(n: int) -> list[str]:
    return [f"action {i + 1}" for i in range(n)]


def _base(n: int) -> go.Figure:
    fig = make_subplots(rows=1, cols=2, column_widths=[0.45, 0.55], subplot_titles=("Q, U and Q + U", "score against c"))
    names = _names(n)
    for k, (label, color) in enumerate((("Q", plotting.PALETTE[0]), ("U", plotting.PALETTE[1]), ("Q + U", plotting.PALETTE[3]))):
        fig.add_trace(go.Bar(x=names, name=label, marker_color=color), 1, 1)
    for i in range(n):
        fig.add_trace(go.Scatter(x=C_GRID, mode="lines", name=f"score of {names[i]}", line=dict(color=plotting.PALETTE[4 + i])), 1, 2)
    fig.add_trace(go.Scatter(mode="lines", line=dict(color="gray", dash="dot"), name="current c"), 1, 2)
    fig.update_xaxes(title_text="action", row=1, col=1)
    fig.update_yaxes(title_text="value", row=1, col=1)
    fig.update_xaxes(title_text="exploration constant c", row=1, col=2)
    fig.update_yaxes(title_text="Q + U", row=1, col=2)
    fig.update_layout(barmode="group", height=430, legend=dict(orientation="h", y=1.12, yanchor="bottom", x=0))
    return fig


def _traces(Q, N, P, c) -> list[dict]:
    r = compute(Q, N, P, c)
    lines = [puct_scores(Q, N, P, 1.0)["U"][i] * C_GRID + r["Q"][i] for i in range(len(r["Q"]))]
    lo = min(float(min(l.min() for l in lines)), 0.0)
    hi = float(max(l.max() for l in lines))
    return ([dict(y=np.round(r[k], 4).tolist()) for k in ("Q", "U", "score")]
            + [dict(y=np.round(l, 4).tolist()) for l in lines] + [dict(x=[c, c], y=[lo, hi])])


def _title(Q, N, P, c) -> str:
    r = compute(Q, N, P, c)
    cs = r["crossovers"].get((0, 1))
    flip = f"; actions 1 and 2 swap at c* = {cs:.2f}" if cs else ""
    return f"PUCT at c = {c:g}: action {r['best'] + 1} is selected{flip}"


def figure(Q=LATE["Q"], N=LATE["N"], P=LATE["P"], cs=C_STEPS, c: float = 1.0) -> go.Figure:
    """Kernel-free: a slider over c for fixed statistics (default: the book's late example)."""
    fig = _base(len(Q))
    steps = [(f"{v:g}", _traces(Q, N, P, v), {"title.text": _title(Q, N, P, v)}) for v in cs]
    start = list(cs).index(c)
    for trace, upd in zip(fig.data, steps[start][1]):
        trace.update(upd)
    fig.update_layout(title=_title(Q, N, P, c), sliders=[slider(steps, prefix="c = ", active=start)], height=520)
    return fig


def widget(n_actions: int = 2, preset: str = "late") -> Live:
    """Live: Q, N, P for each action and c. ``preset`` is "late" or "early" (the book's examples)."""
    if n_actions not in (2, 3):
        raise ValueError(f"n_actions: expected 2 or 3, got {n_actions!r}")
    ex = dict(late=LATE, early=EARLY).get(preset)
    if ex is None:
        raise ValueError(f"preset: expected 'late' or 'early', got {preset!r}")
    vals = {k: list(v) + [v[-1]] * (n_actions - 2) for k, v in ex.items()}
    style = dict(description_width="initial")
    controls = {"c": W.FloatSlider(value=1.0, min=0.0, max=10.0, step=0.1, description="c", style=style)}
    for i in range(n_actions):
        controls[f"Q{i}"] = W.FloatSlider(value=vals["Q"][i], min=-1, max=1, step=0.05, description=f"Q{i + 1}", style=style)
        controls[f"N{i}"] = W.IntSlider(value=vals["N"][i], min=0, max=200, description=f"N{i + 1}", style=style)
        controls[f"P{i}"] = W.FloatSlider(value=vals["P"][i], min=0, max=1, step=0.05, description=f"P{i + 1}", style=style)
    fig = go.FigureWidget(_base(n_actions))
    info = readout()

    def redraw(_=None):
        Q = [controls[f"Q{i}"].value for i in range(n_actions)]
        N = [controls[f"N{i}"].value for i in range(n_actions)]
        P = [controls[f"P{i}"].value for i in range(n_actions)]
        c = controls["c"].value
        with fig.batch_update():
            for trace, upd in zip(fig.data, _traces(Q, N, P, c)):
                trace.update(**upd)
            fig.layout.title.text = _title(Q, N, P, c)
        r = compute(Q, N, P, c)
        info.value = "scores: " + ", ".join(f"{s:.3f}" for s in r["score"])

    for w in controls.values():
        w.observe(redraw, names="value")
    redraw()
    return Live(controls=controls, figures=[fig], children=[W.HBox(list(controls.values()), layout=W.Layout(flex_flow="row wrap")), info, fig])


def show(**kwargs) -> None:
    """The live calculator in a kernel, the kernel-free figure on the website."""
    dual(widget(**kwargs), figure())
