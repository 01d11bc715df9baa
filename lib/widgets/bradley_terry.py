"""Widget W9: Bradley-Terry and Elo. A league of 8 teams with known strengths plays every pairing
``n`` times; the maximum-likelihood scores (:func:`lib.rlhf.fit_bt_scores`) approach the truth as
``n`` grows. A second panel shows ``P(win) = sigmoid(ds)`` against the Elo difference
(``ds = dElo ln 10 / 400``).

* ``compute``: simulate the league and fit it (seeded);
* ``figure``: kernel-free, a slider over the number of games per pairing (precomputed fits);
* ``widget``: live, the same slider plus an Elo-difference slider that moves a point on the curve;
* ``show``: both, through :func:`lib.widgets.dual`.
"""
from __future__ import annotations

import math

import ipywidgets as W
import numpy as np
import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from .. import plotting, rlhf
from . import Live, dual, readout, slider

STRENGTHS = (-1.2, -0.8, -0.5, -0.1, 0.1, 0.4, 0.9, 1.2)
GAMES = (2, 5, 10, 20, 50, 200)
ELO = np.arange(-800, 801, 25)


def compute(n_games: int = 20, strengths=STRENGTHS, seed: int = 0) -> dict:
    """Every ordered pairing (i, j), i < j, plays ``n_games`` Bradley-Terry games. Returns
    ``dict(true, fitted, elo, max_error)``: centred true and fitted scores (K,), the fitted scores on
    the Elo scale (mean 1500) and the largest absolute score error."""
    if isinstance(n_games, bool) or not isinstance(n_games, (int, np.integer)) or n_games < 1:
        raise ValueError(f"n_games: expected a positive integer, got {n_games!r}")
    s = np.asarray(strengths, dtype=np.float64)
    if s.ndim != 1 or s.size < 2 or not np.all(np.isfinite(s)):
        raise ValueError(f"strengths: expected at least two finite numbers, got {strengths!r}")
    rng = np.random.default_rng(seed)
    i, j = np.triu_indices(s.size, k=1)
    i, j = np.repeat(i, n_games), np.repeat(j, n_games)
    i_wins = rng.random(i.size) < 1.0 / (1.0 + np.exp(-(s[i] - s[j])))
    winners, losers = np.where(i_wins, i, j), np.where(i_wins, j, i)
    fitted = rlhf.fit_bt_scores(s.size, torch.tensor(winners), torch.tensor(losers)).numpy()
    true = s - s.mean()
    return dict(true=true, fitted=fitted, elo=1500 + fitted * 400 / math.log(10),
                max_error=float(np.abs(fitted - true).max()))


def _teams(k: int) -> list[str]:
    return [f"team {c + 1}" for c in range(k)]


def _base(k: int) -> go.Figure:
    fig = make_subplots(rows=1, cols=2, column_widths=[0.55, 0.45], horizontal_spacing=0.12,
                        subplot_titles=("true and fitted scores", "P(win) = σ(Δs), Δs = ΔElo · ln10 / 400"))
    fig.add_trace(go.Bar(name="true strength", marker_color="rgba(0,0,0,0.35)"), row=1, col=1)
    fig.add_trace(go.Bar(name="fitted score", marker_color=plotting.PALETTE[0]), row=1, col=1)
    p = 1 / (1 + 10 ** (-ELO / 400))
    fig.add_trace(go.Scatter(x=ELO.tolist(), y=np.round(p, 5).tolist(), mode="lines", name="P(win)",
                             line=dict(color=plotting.PALETTE[3])), row=1, col=2)
    fig.add_trace(go.Scatter(x=[0], y=[0.5], mode="markers", marker=dict(size=12, color=plotting.PALETTE[3]),
                             name="chosen ΔElo"), row=1, col=2)
    fig.update_xaxes(title_text="team", row=1, col=1)
    fig.update_yaxes(title_text="score (centred)", row=1, col=1)
    fig.update_xaxes(title_text="Elo difference", row=1, col=2)
    fig.update_yaxes(title_text="probability that the stronger side wins", range=[0, 1], row=1, col=2)
    fig.update_layout(barmode="group", height=460, legend=dict(orientation="h", yanchor="bottom", y=1.1, x=0),
                      margin=dict(t=120))
    return fig


def _title(res: dict, n: int) -> str:
    return f"Bradley-Terry fit of an 8-team league, {n} games per pairing: largest score error {res['max_error']:.2f}"


def figure(games=GAMES, strengths=STRENGTHS, seed: int = 0) -> go.Figure:
    """Kernel-free: a slider over the number of games per pairing."""
    fig = _base(len(strengths))
    steps = []
    for n in games:
        res = compute(n, strengths, seed)
        t = _teams(len(strengths))
        steps.append((str(n), [dict(x=t, y=np.round(res["true"], 4).tolist()),
                               dict(x=t, y=np.round(res["fitted"], 4).tolist())], {"title.text": _title(res, n)}))
    # only the two bar traces change: restyle them by index
    sl = slider(steps, prefix="games per pairing: ", active=len(games) // 2)
    for st in sl["steps"]:
        st["args"].append([0, 1])
    for trace, upd in zip(fig.data, steps[len(games) // 2][1]):
        trace.update(upd)
    fig.update_layout(sliders=[sl], title=steps[len(games) // 2][2]["title.text"], height=560)
    return fig


def widget(n_games: int = 20, strengths=STRENGTHS, seed: int = 0) -> Live:
    """Live: games per pairing (refits, about 10 ms) and an Elo difference with its win probability."""
    style = dict(description_width="initial")
    controls = dict(games=W.SelectionSlider(options=list(GAMES), value=n_games if n_games in GAMES else GAMES[3],
                                            description="games per pairing", style=style),
                    elo=W.IntSlider(value=200, min=-800, max=800, step=25, description="Elo difference", style=style))
    fig = go.FigureWidget(_base(len(strengths)))
    info = readout()

    def redraw(_=None):
        n = controls["games"].value
        res = compute(n, strengths, seed)
        d_elo = controls["elo"].value
        ds = rlhf.elo_to_logit(float(d_elo))
        p = 1 / (1 + math.exp(-ds))
        t = _teams(len(strengths))
        with fig.batch_update():
            fig.data[0].update(x=t, y=res["true"].tolist())
            fig.data[1].update(x=t, y=res["fitted"].tolist())
            fig.data[3].update(x=[d_elo], y=[p])
            fig.layout.title.text = _title(res, n)
        info.value = f"ΔElo = {d_elo} ⇒ Δs = {ds:.3f} ⇒ P(win) = {p:.3f}"

    for c in controls.values():
        c.observe(redraw, names="value")
    redraw()
    return Live(controls=controls, figures=[fig], children=[W.HBox(list(controls.values())), info, fig])


def show(**kwargs) -> None:
    """The live widget in a kernel, the static figure on the website."""
    dual(widget(**kwargs), figure(**{k: v for k, v in kwargs.items() if k in ("strengths", "seed")}))
