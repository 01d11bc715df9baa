"""Widget (required): Monte Carlo Tree Search on tic-tac-toe, simulation by simulation.

For a position, a search with ``c_puct`` and an evaluator (random rollout, uniform prior + zero value,
the exact value oracle, or a trained policy-value net) is recorded after several numbers of
simulations. For each legal move it shows ``N, Q, P, U = c P sqrt(sum N) / (1 + N)`` and the PUCT
score ``Q + U`` next to the exact negamax value, the tree as an icicle (width = visits, colour = Q from
the perspective of the player who chose the edge), and the move the search plays (most visited).

* ``compute``: the search snapshots (per-move table, tree rows, chosen move) at given simulation counts;
* ``figure``: kernel-free: a slider over the number of simulations and buttons over the preset positions;
* ``widget``: live: presets, editing the board by clicking cells, simulations, c, evaluator, depth,
  seed, "play the move", and a step-through of one simulation (selection, expansion, evaluation, backup);
* ``show``: both, through :func:`lib.widgets.dual`.
"""
from __future__ import annotations

import ipywidgets as W
import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .. import plotting
from ..rl import mcts as M
from ..rl.games import Negamax, TicTacToe
from . import Live, dual, readout

GAME = TicTacToe()
SOLVER = Negamax(GAME)
X, O, E = 1, -1, 0
# preset positions (row-major cells); the notebook's tests check each label with the solver
PRESETS = {
    "X has a fork": (X, O, E,
                     E, X, E,
                     E, E, O),
    "X wins in 1": (X, X, E,
                    O, O, E,
                    E, E, E),
    "O must block": (X, E, O,
                     E, X, E,
                     E, E, E),
    "corner opening": (X, E, E,
                       E, E, E,
                       E, E, E),
    "empty board": (E,) * 9,
}
SIMS = (0, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)
EVALUATORS = ("random rollout", "uniform prior, zero value", "exact value oracle")
SYM = {X: "X", O: "O"}


def make_evaluator(name: str, seed: int = 0, net=None):
    """The evaluator called ``name`` (one of EVALUATORS, or "policy-value net" with ``net``)."""
    if name == "random rollout":
        return M.RolloutEvaluator(np.random.default_rng(seed))
    if name == "uniform prior, zero value":
        return M.UniformEvaluator()
    if name == "exact value oracle":
        return M.OracleEvaluator(SOLVER)
    if name == "policy-value net" and net is not None:
        return M.NetEvaluator(net)
    raise ValueError(f"evaluator: expected one of {EVALUATORS + ('policy-value net',)}, got {name!r}")


def snapshot(search: M.MCTS, root: M.Node, max_depth: int = 3) -> dict:
    """Per-move table, tree rows and the chosen move of a search tree as it is now."""
    t = search.puct(root)
    legal = np.flatnonzero(root.legal)
    exact = SOLVER.action_values(root.state)
    table = dict(action=legal, N=t["N"][legal], Q=t["Q"][legal], P=t["P"][legal], U=t["U"][legal],
                 score=t["score"][legal], exact=np.array([exact[int(a)] for a in legal]))
    return dict(n=root.visits, table=table, rows=M.tree_table(GAME, root, max_depth),
                best=M.best_action(root), next=int(legal[np.argmax(t["score"][legal])]))


def compute(state=PRESETS["X has a fork"], evaluator: str = "random rollout", c: float = 2.0,
            sims=SIMS, seed: int = 0, max_depth: int = 3, net=None) -> list[dict]:
    """Snapshots (see :func:`snapshot`) after each number of simulations in ``sims`` (increasing) of one
    search from ``state``; the search with k simulations is the first k simulations of the longest one."""
    s = GAME.check_state(state)
    if GAME.is_terminal(s):
        raise ValueError("state: expected a position where the game is not over")
    sims = [int(k) for k in sims]
    if not sims or any(k < 0 for k in sims) or sims != sorted(sims):
        raise ValueError(f"sims: expected increasing non-negative simulation counts, got {sims}")
    if not np.isfinite(c) or c <= 0:
        raise ValueError(f"c: expected a positive number, got {c!r}")
    search = M.MCTS(GAME, make_evaluator(evaluator, seed, net), M.MCTSConfig(c_puct=float(c), seed=seed))
    root = search.new_root(s)
    wanted, out = set(sims), []
    if 0 in wanted:
        out.append(snapshot(search, root, max_depth))
    search.run(root, sims[-1], callback=lambda k, r, rec: out.append(snapshot(search, r, max_depth))
               if k in wanted else None)
    return out


# ------------------------------------------------------------------------------------------------
# drawing
# ------------------------------------------------------------------------------------------------
def _board(state, snap) -> dict:
    """Heatmap data: visit share on empty cells; text = stone or the move's N, Q, P."""
    tab = snap["table"]
    tot = max(tab["N"].sum(), 1)
    z = np.full(9, np.nan)
    text = [SYM.get(v, "") for v in state]
    for a, n, q, p, u in zip(tab["action"], tab["N"], tab["Q"], tab["P"], tab["U"]):
        z[a] = n / tot
        text[a] = f"N={int(n)}<br>Q={q:+.2f}<br>P={p:.2f}<br>U={u:.2f}"
    return dict(z=np.round(z.reshape(3, 3), 3).tolist(), text=np.array(text).reshape(3, 3).tolist(),
                x=[0, 1, 2], y=[0, 1, 2])


def _marker(snap) -> dict:
    a = snap["best"]
    return dict(x=[a % 3], y=[a // 3])


def _icicle(snap) -> dict:
    rows = snap["rows"]
    hover = [f"{r['label']}  N={r['N']}  Q={r['Q']:+.2f}  P={r['P']:.2f}<br>" + r["board"].replace("\n", "<br>")
             if r["depth"] else f"root: {r['N']} simulations" for r in rows]
    return {"ids": [r["id"] for r in rows], "parents": [r["parent"] for r in rows],
            "labels": [r["label"] for r in rows], "values": [r["N"] for r in rows],
            "marker.colors": [0.0 if r["depth"] == 0 else round(r["Q"], 3) for r in rows],
            "hovertext": hover}


def _cells(snap) -> dict:
    t = snap["table"]
    star = lambda a, e: GAME.action_label(int(a)) + (" ✔" if a == snap["best"] else "")
    cols = [[star(a, e) for a, e in zip(t["action"], t["exact"])], [int(n) for n in t["N"]],
            [f"{q:+.3f}" for q in t["Q"]], [f"{p:.3f}" for p in t["P"]], [f"{u:.3f}" for u in t["U"]],
            [f"{s:.3f}" for s in t["score"]], [f"{e + 0.0:+.0f}" for e in t["exact"]]]  # + 0.0 turns -0.0 into +0
    return {"cells.values": cols}


HEADER = ["move", "N", "Q", "P", "U", "Q+U", "exact"]


def _title(name: str, snap: dict, evaluator: str, c: float) -> str:
    return (f"MCTS on '{name}', {snap['n']} simulations ({evaluator}, c = {c:g}): "
            f"plays {GAME.action_label(snap['best'])}")


def _base(names, state_for) -> go.Figure:
    fig = make_subplots(rows=2, cols=2, column_widths=[0.42, 0.58], row_heights=[0.55, 0.45],
                        specs=[[{"type": "xy"}, {"type": "domain"}], [{"type": "domain", "colspan": 2}, None]],
                        horizontal_spacing=0.04, vertical_spacing=0.06)
    for i, name in enumerate(names):
        vis = i == 0
        fig.add_trace(go.Heatmap(z=[[0] * 3] * 3, zmin=0, zmax=1, colorscale="Blues", showscale=False,
                                 texttemplate="%{text}", textfont=dict(size=10), hoverinfo="skip",
                                 xgap=2, ygap=2, visible=vis, name=name), row=1, col=1)
        fig.add_trace(go.Scatter(mode="markers", marker=dict(symbol="square-open", size=70, color=plotting.PALETTE[2],
                                                             line=dict(width=4)),
                                 hoverinfo="skip", showlegend=False, visible=vis, name="played move"), row=1, col=1)
        fig.add_trace(go.Icicle(branchvalues="total", marker=dict(colorscale="RdBu", cmin=-1, cmax=1, cmid=0,
                                                                  showscale=False),
                                hoverinfo="text", tiling=dict(orientation="v"), maxdepth=4, visible=vis,
                                textinfo="label"), row=1, col=2)
        fig.add_trace(go.Table(header=dict(values=HEADER, align="center"), columnwidth=[1.4, 1, 1, 1, 1, 1, 1],
                               visible=vis), row=2, col=1)
    fig.update_xaxes(visible=False, range=[-0.5, 2.5], row=1, col=1)
    fig.update_yaxes(visible=False, range=[2.5, -0.5], scaleanchor="x", row=1, col=1)
    fig.update_layout(height=640, margin=dict(l=10, r=10, t=70, b=10))
    return fig


def _trace_updates(snap, state) -> list[dict]:
    return [_board(state, snap), _marker(snap), _icicle(snap), _cells(snap)]


def figure(presets=("X has a fork", "X wins in 1", "O must block", "corner opening"), evaluator="random rollout",
           c: float = 2.0, sims=SIMS, seed: int = 0, max_depth: int = 3) -> go.Figure:
    """Kernel-free: a slider over the number of simulations (it updates every preset's traces) and one
    button per preset (it shows that preset's traces)."""
    names = list(presets)
    runs = {n: compute(PRESETS[n], evaluator, c, sims, seed, max_depth) for n in names}
    fig = _base(names, PRESETS)
    steps = []
    for j, k in enumerate(sims):
        upd = [u for n in names for u in _trace_updates(runs[n][j], PRESETS[n])]
        keys = sorted({key for u in upd for key in u})
        data = {key: [u.get(key) for u in upd] for key in keys}
        steps.append(dict(method="restyle", label=str(k), args=[data]))
    start = len(sims) - 3
    for i, u in enumerate(upd_start := [u for n in names for u in _trace_updates(runs[n][start], PRESETS[n])]):
        fig.data[i].update({key.replace(".", "_"): v for key, v in u.items()})
    buttons = []
    for i, n in enumerate(names):
        vis = [j // 4 == i for j in range(4 * len(names))]
        buttons.append(dict(method="update", label=n, args=[{"visible": vis},
                                                            {"title.text": f"MCTS explorer: '{n}' ({evaluator}, c = {c:g})"}]))
    fig.update_layout(title=f"MCTS explorer: '{names[0]}' ({evaluator}, c = {c:g})",
                      sliders=[dict(active=start, steps=steps, currentvalue=dict(prefix="simulations: "),
                                    pad=dict(t=10), y=0, yanchor="top")],
                      updatemenus=[dict(type="buttons", direction="right", buttons=buttons, x=0, y=1.0,
                                        xanchor="left", yanchor="bottom", showactive=True, font=dict(size=11))],
                      height=720, margin=dict(t=110, b=80))
    return fig


# ------------------------------------------------------------------------------------------------
# live widget
# ------------------------------------------------------------------------------------------------
def _phase_text(search, root, rec: M.SimRecord, root_table: dict) -> str:
    """HTML describing one simulation's four phases."""
    g = GAME
    a0 = rec.actions[0] if rec.actions else None
    sel = "<b>1 Selection</b>: "
    if a0 is not None:
        legal = np.flatnonzero(root.legal)
        parts = [f"{g.action_label(int(a))}: {root_table['Q'][a]:+.2f}+{root_table['U'][a]:.2f}" for a in legal]
        sel += ("at the root Q+U = " + ", ".join(parts) + f" → {g.action_label(a0)}; path "
                + " → ".join(g.action_label(a) for a in rec.actions))
    mover = SYM[g.to_play(rec.leaf)]
    if rec.expanded:
        exp = f"<b>2 Expansion</b>: new node ({mover} to move) with {int(np.sum(g.legal_mask(rec.leaf)))} edges, N = W = 0"
    else:
        exp = "<b>2 Expansion</b>: none, the leaf is a finished game"
    ev = f"<b>3 Evaluation</b>: v = {rec.leaf_value:+.2f} for {mover}, the player to move at the leaf"
    back = "<b>4 Backup</b>: W += " + ", ".join(f"{v:+.2f}" for v in rec.edge_values) + " (root edge first: the sign flips every ply)"
    return "<br>".join([sel, exp, ev, back])


def widget(preset: str = "X has a fork", evaluator: str = "random rollout", c: float = 2.0, n_sims: int = 200,
           seed: int = 0, max_depth: int = 3, net=None) -> Live:
    """Live explorer. ``net`` (a :class:`lib.rl.alphazero.PolicyValueNet`) adds the "policy-value net"
    evaluator. Click a cell in "edit" mode to cycle it empty → X → O."""
    style = dict(description_width="initial")
    evals = EVALUATORS + (("policy-value net",) if net is not None else ())
    controls = dict(
        preset=W.Dropdown(options=list(PRESETS), value=preset, description="position", style=style),
        evaluator=W.Dropdown(options=evals, value=evaluator, description="evaluator", style=style),
        c=W.FloatLogSlider(value=c, base=10, min=-1, max=1, step=0.05, description="c_puct", style=style),
        sims=W.IntSlider(value=n_sims, min=0, max=2000, step=1, description="simulations",
                         continuous_update=False, style=style),
        depth=W.IntSlider(value=max_depth, min=1, max=5, description="tree depth", style=style),
        seed=W.IntText(value=seed, description="seed", style=style, layout=W.Layout(width="130px")),
        edit=W.ToggleButton(value=False, description="edit board"),
        step=W.Button(description="+1 simulation (phases)"),
        play=W.Button(description="play the chosen move"),
    )
    cells = [W.Button(description="", layout=W.Layout(width="38px", height="38px")) for _ in range(9)]
    fig = go.FigureWidget(_base(["live"], None))
    info, phases = readout(), readout()
    st = dict(state=PRESETS[preset], search=None, root=None)

    def fresh_search():
        search = M.MCTS(GAME, make_evaluator(controls["evaluator"].value, controls["seed"].value, net),
                        M.MCTSConfig(c_puct=float(controls["c"].value), seed=controls["seed"].value))
        return search, search.new_root(st["state"])

    def draw():
        search, root = st["search"], st["root"]
        for i, b in enumerate(cells):
            b.description = SYM.get(st["state"][i], "")
        if root is None:
            info.value = "the game is over in this position: edit the board or pick a preset"
            return
        snap = snapshot(search, root, controls["depth"].value)
        upd = _trace_updates(snap, st["state"])
        with fig.batch_update():
            for trace, u in zip(fig.data, upd):
                trace.update({key.replace(".", "_"): v for key, v in u.items()})
            fig.layout.title.text = _title(controls["preset"].value, snap, controls["evaluator"].value,
                                           controls["c"].value)
        exact = SOLVER.action_values(st["state"])
        best = max(exact.values())
        info.value = (f"{snap['n']} simulations; plays {GAME.action_label(snap['best'])} "
                      f"(exact value {exact[snap['best']] + 0.0:+.0f}; optimal: "
                      + ", ".join(GAME.action_label(a) for a, v in exact.items() if v == best)
                      + f"); the next simulation selects {GAME.action_label(snap['next'])} at the root")

    def research(_=None):
        if GAME.is_terminal(st["state"]):
            st["search"] = st["root"] = None
        else:
            st["search"], st["root"] = fresh_search()
            st["search"].run(st["root"], controls["sims"].value)
        phases.value = ""
        draw()

    def set_state(s):
        st["state"] = s
        research()

    def on_preset(_):
        set_state(PRESETS[controls["preset"].value])

    def on_step(_):
        if st["root"] is None:
            return
        table = st["search"].puct(st["root"])
        rec = st["search"].simulate(st["root"])
        phases.value = _phase_text(st["search"], st["root"], rec, table)
        controls["sims"].unobserve(research, names="value")
        controls["sims"].value = st["root"].visits
        controls["sims"].observe(research, names="value")
        draw()

    def on_play(_):
        if st["root"] is not None:
            set_state(GAME.next_state(st["state"], M.best_action(st["root"])))

    def on_cell(i):
        def click(_):
            if not controls["edit"].value:
                return
            s = list(st["state"])
            s[i] = {E: X, X: O, O: E}[s[i]]
            try:
                GAME.check_state(s)
            except ValueError as err:
                info.value = f"not a legal position: {err}"
                st["state"] = tuple(s)
                for j, b in enumerate(cells):
                    b.description = SYM.get(st["state"][j], "")
                return
            set_state(tuple(s))
        return click

    controls["preset"].observe(on_preset, names="value")
    for key in ("evaluator", "c", "sims", "seed"):
        controls[key].observe(research, names="value")
    controls["depth"].observe(lambda _: draw() if st["root"] is not None else None, names="value")
    controls["step"].on_click(on_step)
    controls["play"].on_click(on_play)
    for i, b in enumerate(cells):
        b.on_click(on_cell(i))
    research()
    grid = W.GridBox(cells, layout=W.Layout(grid_template_columns="repeat(3, 40px)"))
    left = W.VBox([controls[k] for k in ("preset", "evaluator", "c", "sims", "depth", "seed")])
    buttons = W.VBox([controls["edit"], grid, controls["step"], controls["play"]])
    return Live(controls=controls, figures=[fig], children=[W.HBox([left, buttons]), info, fig, phases])


def show(**kwargs) -> None:
    """The live explorer in a kernel, the kernel-free figure on the website."""
    dual(widget(**kwargs), figure())
