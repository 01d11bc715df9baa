"""Dual-mode interactive figures.

Every widget is one module here with three public functions:

* ``compute(...)``: the pure computation (numpy in, numbers out), unit-tested on its own;
* ``figure(...)``: a plain plotly figure whose sliders or animation frames are precomputed, so it
  stays interactive on the static website where no kernel runs;
* ``widget(...)``: the live version (ipywidgets controls driving a ``go.FigureWidget``) with more
  controls, for JupyterLab, Binder and Colab. It returns a :class:`Live` box whose ``controls``
  dict and ``figures`` list let tests drive it headlessly.

and ``show(...)``, which displays both at once through :func:`dual`: a live kernel renders the widget,
the website renders the static figure. The helpers shared by all widgets live in this file.
"""
from __future__ import annotations

from typing import Iterable, Sequence

import ipywidgets as W
import plotly.graph_objects as go

from .. import plotting

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


class Live(W.VBox):
    """A live widget: a box of controls and figures, with both reachable by name for tests."""

    def __init__(self, controls: dict[str, W.Widget], figures: Sequence[go.FigureWidget],
                 children: Sequence[W.Widget] | None = None, **kwargs):
        self.controls = dict(controls)
        self.figures = list(figures)
        if children is None:
            children = [W.HBox(list(self.controls.values()), layout=W.Layout(flex_flow="row wrap")),
                        *self.figures]
        super().__init__(children=list(children), **kwargs)


class Dual:
    """One output with two faces: the live widget for a kernel, the static figure for the website.

    The website's configuration ranks ``text/html`` above the widget view, so the book shows the
    kernel-free figure; JupyterLab and Colab rank the widget view first and show the live widget.
    """

    def __init__(self, live: W.Widget, static: go.Figure):
        missing = plotting.missing_labels(static)
        if missing:
            raise ValueError("static: the figure needs a title and axis labels; missing " + ", ".join(missing))
        self.live, self.static = live, static

    def _repr_mimebundle_(self, include=None, exclude=None):
        bundle = self.live._repr_mimebundle_() or {}
        return {WIDGET_MIME: bundle[WIDGET_MIME],
                "text/html": plotting.to_html(self.static),
                "text/plain": f"<interactive figure: {self.static.layout.title.text}>"}


def dual(live: W.Widget, static: go.Figure) -> None:
    """Display ``live`` in a kernel and ``static`` on the website, from one cell."""
    if plotting._in_colab():  # Colab's widget manager renders the live one; the static one is redundant
        from IPython.display import display
        display(live)
        return
    from IPython.display import display
    display(Dual(live, static))


def slider(steps: Iterable[tuple[str, list[dict], dict | None]], prefix: str, active: int = 0) -> dict:
    """A plotly slider whose steps restyle the figure without a kernel.

    ``steps`` yields ``(label, trace_updates, layout_update)``: ``trace_updates`` is a list with one
    dict per trace (the same keys in each, e.g. ``{"x": ..., "y": ...}``), applied with plotly's
    ``update`` method; ``layout_update`` may be None.
    """
    out = []
    for label, traces, layout in steps:
        keys = sorted({k for t in traces for k in t})
        data = {k: [t.get(k) for t in traces] for k in keys}
        out.append(dict(method="update", label=label, args=[data, layout or {}]))
    if not out:
        raise ValueError("steps: expected at least one slider step")
    return dict(active=active, steps=out, currentvalue=dict(prefix=prefix), pad=dict(t=45))


def readout(text: str = "") -> W.HTML:
    """A small HTML line under a live figure for numbers that update with the controls."""
    return W.HTML(value=text, layout=W.Layout(margin="0 0 0 8px"))
