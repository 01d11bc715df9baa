"""Widget W5.2: why attention divides by sqrt(d_k): the entropy of the weights with and without it.

Queries and keys have independent unit-variance components, so ``q^T k`` has variance ``d_k``. Without
the scale the logits grow like ``sqrt(d_k)`` and the softmax saturates: one key takes almost all the
weight, the entropy falls toward 0, and the softmax Jacobian ``diag(a) - a a^T`` (the factor every
gradient through the weights passes) shrinks toward 0. Dividing by ``sqrt(d_k)`` keeps the logits at
unit variance whatever ``d_k`` is, so the entropy stays put. The weights come from
:func:`lib.attention.attention_weights` (with ``temperature = 1/sqrt(d_k)`` to undo the scale).

* ``compute``: score spread, mean entropy, mean largest weight, mean Jacobian norm and one example row;
* ``curve``: the mean entropy for a list of ``d_k``, with and without the scale;
* ``figure``: kernel-free, a slider over ``d_k`` (both settings drawn together);
* ``widget``: live, with ``d_k``, the scale toggle and the number of keys;
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
from ..attention import attention_weights, softmax_entropy
from . import Live, dual, readout, slider

D_KS = tuple(2 ** i for i in range(11))       # 1 ... 1024
MODES = {True: "divide by √d_k", False: "raw q·k"}


def compute(d_k: int = 64, scaled: bool = True, n_keys: int = 16, n_queries: int = 256, seed: int = 0) -> dict:
    """Attention of ``n_queries`` random queries over ``n_keys`` random keys in R^{d_k}.

    Returns ``dict(score_std, entropy, max_entropy = log n_keys, max_weight, jac_norm, example)``: the
    standard deviation of the logits, the mean entropy (nats) and mean largest weight of a row, the mean
    Frobenius norm of the softmax Jacobian ``diag(a) - a a^T``, and the sorted weights (n_keys,) of the
    first query.
    """
    for name, value, low in (("d_k", d_k, 1), ("n_keys", n_keys, 2), ("n_queries", n_queries, 1)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise ValueError(f"{name}: expected an integer >= {low}, got {value!r}")
    if not isinstance(scaled, (bool, np.bool_)):
        raise TypeError(f"scaled: expected True or False, got {scaled!r}")
    gen = torch.Generator().manual_seed(seed)
    q = torch.randn(int(n_queries), int(d_k), generator=gen, dtype=torch.float64)
    k = torch.randn(int(n_keys), int(d_k), generator=gen, dtype=torch.float64)
    # attention_weights always divides by sqrt(d_k); a temperature of 1/sqrt(d_k) undoes it
    a = attention_weights(q, k, temperature=1.0 if scaled else 1.0 / math.sqrt(d_k))
    logits = q @ k.T / (math.sqrt(d_k) if scaled else 1.0)
    sq = (a ** 2).sum(-1)
    jac = torch.sqrt((sq - 2 * (a ** 3).sum(-1) + sq ** 2).clamp_min(0))  # ||diag(a) - a a^T||_F, expanded
    return dict(score_std=float(logits.std()), entropy=float(softmax_entropy(a).mean()),
                max_entropy=math.log(n_keys), max_weight=float(a.max(-1).values.mean()),
                jac_norm=float(jac.mean()), example=np.sort(a[0].numpy())[::-1].copy())


def curve(d_ks=D_KS, n_keys: int = 16, n_queries: int = 256, seed: int = 0) -> dict:
    """``{True: entropies, False: entropies}`` (len(d_ks),): mean entropy with and without the scale."""
    return {s: np.array([compute(d, s, n_keys, n_queries, seed)["entropy"] for d in d_ks]) for s in (True, False)}


# --------------------------------------------------------------------------- drawing helpers
COLOURS = {True: plotting.PALETTE[0], False: plotting.PALETTE[3]}


def _base(d_ks, n_keys: int, curves: dict, modes=(True, False)) -> go.Figure:
    """Traces: 0-1 entropy curves, 2 the uniform bound, then per mode a marker on its curve and its bars."""
    fig = make_subplots(rows=1, cols=2, column_widths=[0.55, 0.45], horizontal_spacing=0.1,
                        subplot_titles=("mean entropy of a row of weights", "weights of one query, sorted"))
    for s in (True, False):
        fig.add_trace(go.Scatter(x=list(d_ks), y=np.round(curves[s], 4).tolist(), mode="lines+markers",
                                 line=dict(color=COLOURS[s]), marker=dict(size=5), name=MODES[s]), row=1, col=1)
    fig.add_trace(go.Scatter(x=[d_ks[0], d_ks[-1]], y=[math.log(n_keys)] * 2, mode="lines",
                             line=dict(color="#999999", dash="dash"), name=f"uniform: log {n_keys}"), row=1, col=1)
    for s in modes:
        fig.add_trace(go.Scatter(mode="markers", marker=dict(size=14, color=COLOURS[s], line=dict(color="black", width=1)),
                                 showlegend=False, name=f"{MODES[s]} at this d_k"), row=1, col=1)
        fig.add_trace(go.Bar(marker_color=COLOURS[s], name=MODES[s], showlegend=False), row=1, col=2)
    fig.update_xaxes(title_text="key dimension d_k (log scale)", type="log", row=1, col=1)
    fig.update_yaxes(title_text="entropy (nats)", range=[0, math.log(n_keys) * 1.08], row=1, col=1)
    fig.update_xaxes(title_text="key, by rank", row=1, col=2)
    fig.update_yaxes(title_text="weight α", range=[0, 1.02], row=1, col=2)
    fig.update_layout(height=500, margin=dict(t=110), barmode="group",
                      legend=dict(orientation="h", yanchor="bottom", y=1.08, x=0))
    return fig


def _mode_traces(res: dict, d_k: int) -> list[dict]:
    ranks = list(range(1, len(res["example"]) + 1))
    return [dict(x=[d_k], y=[round(res["entropy"], 4)]), dict(x=ranks, y=np.round(res["example"], 4).tolist())]


# --------------------------------------------------------------------------- static figure
def figure(n_keys: int = 16, d_ks=D_KS, n_queries: int = 256, seed: int = 0) -> go.Figure:
    """Kernel-free: a slider over ``d_k``; both the scaled and the raw logits are drawn."""
    d_ks = list(d_ks)
    curves = curve(d_ks, n_keys, n_queries, seed)
    fig = _base(d_ks, n_keys, curves)
    moving = [3, 4, 5, 6]
    steps = []
    for d in d_ks:
        res = {s: compute(d, s, n_keys, n_queries, seed) for s in (True, False)}
        traces = _mode_traces(res[True], d) + _mode_traces(res[False], d)
        title = (f"Why divide by √d_k: d_k = {d}; logit std {res[True]['score_std']:.2f} (scaled) vs "
                 f"{res[False]['score_std']:.1f} (raw); softmax Jacobian norm {res[True]['jac_norm']:.2f} vs "
                 f"{res[False]['jac_norm']:.3f}")
        steps.append((str(d), traces, {"title.text": title}))
    start = d_ks.index(64) if 64 in d_ks else 0
    sl = slider(steps, prefix="key dimension d_k = ", active=start)
    for step in sl["steps"]:
        step["args"].append(moving)
    for i, upd in zip(moving, steps[start][1]):
        fig.data[i].update(upd)
    fig.update_layout(sliders=[sl], title=steps[start][2]["title.text"], height=580)
    return fig


# --------------------------------------------------------------------------- live widget
def widget(d_k: int = 64, scaled: bool = True, n_keys: int = 16, n_queries: int = 256, seed: int = 0) -> Live:
    """Live: ``d_k`` (powers of two), the scale toggle and the number of keys."""
    style = dict(description_width="initial")
    controls = dict(
        d_k=W.SelectionSlider(options=list(D_KS), value=d_k, description="key dimension d_k", style=style),
        scaled=W.ToggleButtons(options=[(MODES[True], True), (MODES[False], False)], value=scaled,
                               description="logits", style=style),
        n_keys=W.IntSlider(value=n_keys, min=2, max=64, description="number of keys", style=style),
    )
    fig = go.FigureWidget(_base(D_KS, n_keys, curve(D_KS, n_keys, n_queries, seed), modes=(True,)))
    info = readout()
    state = {"n_keys": n_keys}

    def redraw(_=None):
        c = controls
        n, s, d = c["n_keys"].value, c["scaled"].value, c["d_k"].value
        res = compute(d, s, n, n_queries, seed)
        with fig.batch_update():
            if state["n_keys"] != n:  # the curves depend on the number of keys, not on d_k
                state["n_keys"] = n
                cv = curve(D_KS, n, n_queries, seed)
                fig.data[0].y, fig.data[1].y = cv[True].tolist(), cv[False].tolist()
                fig.data[2].y = [math.log(n)] * 2
                fig.data[2].name = f"uniform: log {n}"
                fig.layout.yaxis.range = [0, math.log(n) * 1.08]
            marker, bars = _mode_traces(res, d)
            fig.data[3].update(**marker)
            fig.data[3].marker.color = COLOURS[s]
            fig.data[4].update(**bars)
            fig.data[4].marker.color = COLOURS[s]
            fig.layout.title.text = f"Attention weights with {MODES[s]}, d_k = {d}, {n} keys"
        info.value = (f"logit std {res['score_std']:.2f}; mean entropy {res['entropy']:.3f} of at most "
                      f"{res['max_entropy']:.3f} nats; mean largest weight {res['max_weight']:.3f}; "
                      f"softmax Jacobian norm {res['jac_norm']:.4f}")

    for control in controls.values():
        control.observe(redraw, names="value")
    redraw()
    return Live(controls=controls, figures=[fig],
                children=[W.HBox([controls["d_k"], controls["n_keys"]]), controls["scaled"], info, fig])


def show(**kwargs) -> None:
    """The live widget in a kernel, the static figure on the website."""
    static = {k: v for k, v in kwargs.items() if k in {"n_keys", "n_queries", "seed"}}
    dual(widget(**kwargs), figure(**static))
