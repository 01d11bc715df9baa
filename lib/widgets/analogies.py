"""Widget W2.6: word-vector analogies on the synthetic PPMI-SVD embedding of lib.embedding.

"a − b + c = ?" is answered by the word whose vector is most cosine-similar to ``a − b + c``
(unit vectors, the three question words excluded). The plot is a 2-D PCA of the eight word vectors,
with an arrow from b to a and the same relation drawn from c to the answer; the readout lists the
three nearest words.

* ``compute``: the answer, its top-3 neighbours and the 2-D coordinates;
* ``figure``: kernel-free, a slider over a list of analogy questions;
* ``widget``: live, three dropdowns;
* ``show``: both, through :func:`lib.widgets.dual`.
"""
from __future__ import annotations

from functools import lru_cache

import ipywidgets as W
import numpy as np
import plotly.graph_objects as go

from .. import embedding as emb
from .. import plotting
from . import Live, dual, readout, slider

QUESTIONS = [("king", "man", "woman"), ("prince", "boy", "girl"), ("boy", "man", "woman"),
             ("queen", "woman", "man"), ("princess", "girl", "boy"), ("king", "prince", "princess")]


@lru_cache(maxsize=8)
def _space(k: int = 4, seed: int = 0):
    counts, words, _ = emb.attribute_cooccurrence(seed=seed)
    E = emb.svd_embed(emb.ppmi(counts), k)
    Ec = E - E.mean(axis=0)
    _, _, Vt = np.linalg.svd(Ec, full_matrices=False)
    return E, Ec @ Vt[:2].T, tuple(words)


def compute(a: str = "king", b: str = "man", c: str = "woman", k: int = 4) -> dict:
    """``dict(answer, top3 [(word, cosine)], xy (8, 2), words, target_xy)`` for "a − b + c = ?"."""
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 2 <= k <= 8:
        raise ValueError(f"k: expected an integer in [2, 8], got {k!r}")
    E, xy, words = _space(int(k))
    words = list(words)
    for name, w in (("a", a), ("b", b), ("c", c)):
        if w not in words:
            raise ValueError(f"{name}: expected one of {words}, got {w!r}")
    if len({a, b, c}) < 3:
        raise ValueError(f"a, b, c: expected three different words, got {a!r}, {b!r}, {c!r}")
    U = E / np.linalg.norm(E, axis=1, keepdims=True)
    t = U[words.index(a)] - U[words.index(b)] + U[words.index(c)]
    cos = U @ (t / np.linalg.norm(t))
    ranked = [i for i in np.argsort(-cos, kind="stable") if words[i] not in (a, b, c)][:3]
    return dict(answer=words[ranked[0]], top3=[(words[i], float(cos[i])) for i in ranked], xy=xy, words=words)


def _traces(res: dict, a: str, b: str, c: str) -> list[dict]:
    """Updates for the two arrow traces: b → a, and c → answer (the same relation)."""
    p = {w: res["xy"][i] for i, w in enumerate(res["words"])}
    def seg(u, v):
        return dict(x=[float(p[u][0]), float(p[v][0])], y=[float(p[u][1]), float(p[v][1])], text=["", v])
    return [dict(seg(b, a), name=f"{b} → {a}"), dict(seg(c, res["answer"]), name=f"{c} → {res['answer']}")]


def _title(res: dict, a: str, b: str, c: str) -> str:
    near = ", ".join(f"{w} {s:.2f}" for w, s in res["top3"])
    return f"{a} − {b} + {c} = {res['answer']}   (top 3 by cosine: {near})"


def _base(res: dict) -> go.Figure:
    xy = res["xy"]
    fig = go.Figure(go.Scatter(x=xy[:, 0], y=xy[:, 1], mode="markers+text", text=res["words"],
                               textposition="top center", marker=dict(size=10, color=plotting.PALETTE[0]),
                               name="words", hoverinfo="text"))
    for colour in (plotting.PALETTE[3], plotting.PALETTE[2]):
        fig.add_trace(go.Scatter(mode="lines+markers", line=dict(color=colour, width=3),
                                 marker=dict(symbol="arrow", angleref="previous", size=[0, 14])))
    fig.update_layout(xaxis_title="principal component 1", yaxis_title="principal component 2", height=480,
                      legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0), margin=dict(t=110))
    fig.update_yaxes(scaleanchor="x", scaleratio=1)
    return fig


def figure(questions=QUESTIONS) -> go.Figure:
    """Kernel-free: a slider over analogy questions."""
    if not questions:
        raise ValueError("questions: expected at least one (a, b, c) triple")
    results = [(q, compute(*q)) for q in questions]
    fig = _base(results[0][1])
    steps = [(f"{a} − {b} + {c}", _traces(r, a, b, c), {"title.text": _title(r, a, b, c)})
             for (a, b, c), r in results]
    sl = slider(steps, prefix="question: ")
    sl["font"] = dict(size=10)
    for step in sl["steps"]:
        step["args"].append([1, 2])
    for trace, upd in zip(fig.data[1:], steps[0][1]):
        trace.update(upd)
    fig.update_layout(sliders=[sl], title=steps[0][2]["title.text"])
    return fig


def widget(a: str = "king", b: str = "man", c: str = "woman") -> Live:
    """Live: three dropdowns; the arrows and the answer update."""
    res = compute(a, b, c)
    words = res["words"]
    controls = {name: W.Dropdown(options=words, value=v, description=name, layout=W.Layout(width="180px"))
                for name, v in (("a", a), ("b", b), ("c", c))}
    fig = go.FigureWidget(_base(res))
    info = readout()

    def redraw(_=None):
        q = [controls[n].value for n in "abc"]
        if len(set(q)) < 3:
            info.value = "choose three different words"
            return
        r = compute(*q)
        with fig.batch_update():
            for trace, upd in zip(fig.data[1:], _traces(r, *q)):
                trace.update(upd)
            fig.layout.title.text = _title(r, *q)
        info.value = f"{q[0]} − {q[1]} + {q[2]} = <b>{r['answer']}</b>"

    for control in controls.values():
        control.observe(redraw, names="value")
    redraw()
    return Live(controls=controls, figures=[fig],
                children=[W.HBox(list(controls.values())), info, fig])


def show(**kwargs) -> None:
    """The live widget in a kernel, the static figure on the website."""
    dual(widget(**kwargs), figure())
