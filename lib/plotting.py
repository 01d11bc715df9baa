"""Figures: the course's plotly template and ``show``, which works in every place a reader may be.

``show(fig)`` emits one output with two representations:

* ``application/vnd.plotly.v1+json`` for JupyterLab (and VS Code), which render it natively;
* ``text/html``: a ``<div>`` plus a script that calls the page's ``Plotly`` global. The book loads
  ``plotly.min.js`` once per page from its own ``_static/`` folder, so the website needs no kernel
  and no CDN. The book's configuration tells myst-nb to prefer this representation.

Colab renders neither bundle type from a plain kernel output, so there ``show`` falls back to plotly's
own ``colab`` renderer. Every figure must have a title and labelled axes; ``show`` refuses one without.
"""
from __future__ import annotations

import json
import sys

import plotly.graph_objects as go
import plotly.io as pio

# Okabe & Ito's palette: distinguishable with the common forms of colour blindness.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]
# Sequential and diverging scales that stay readable in grey scale and for colour-blind readers.
SEQUENTIAL = "Viridis"
DIVERGING = "RdBu_r"

_GRID = "rgba(128,128,128,0.25)"
_AXIS = dict(gridcolor=_GRID, zerolinecolor="rgba(128,128,128,0.5)", linecolor="rgba(128,128,128,0.6)",
             ticks="outside", tickcolor="rgba(128,128,128,0.6)", title=dict(standoff=8))

# Transparent backgrounds and mid-grey lines read on light and dark pages alike; the website's
# theme script switches the font colour when the reader toggles dark mode.
TEMPLATE = go.layout.Template(
    layout=dict(
        colorway=PALETTE,
        font=dict(family="system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif", size=13, color="#333"),
        paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="rgba(0,0,0,0)",
        xaxis=_AXIS,
        yaxis=_AXIS,
        colorscale=dict(sequential=SEQUENTIAL, diverging=DIVERGING),
        legend=dict(bgcolor="rgba(0,0,0,0)"),
        margin=dict(l=60, r=20, t=60, b=55),
        hoverlabel=dict(namelength=-1),
        title=dict(x=0.02, xanchor="left"),
    )
)
pio.templates["course"] = TEMPLATE
pio.templates.default = "plotly_white+course"

CONFIG = {"responsive": True, "displaylogo": False, "modeBarButtonsToRemove": ["lasso2d", "select2d"]}

# trace types drawn on cartesian x/y axes, whose axes must be labelled
_CARTESIAN = {"scatter", "scattergl", "bar", "histogram", "heatmap", "contour", "box", "violin",
              "histogram2d", "histogram2dcontour"}


def missing_labels(fig: go.Figure) -> list[str]:
    """What a figure lacks among: a title, and a title on every cartesian axis that carries a trace."""
    missing = [] if fig.layout.title.text else ["the figure title (fig.update_layout(title=...))"]
    used = set()
    for trace in fig.data:
        if trace.type in _CARTESIAN:
            used.add(("xaxis" + (trace.xaxis or "x")[1:], "yaxis" + (trace.yaxis or "y")[1:]))
    for xname, yname in sorted(used):
        for name in (xname, yname):
            axis = fig.layout[name]
            if axis is None or not (axis.title.text or axis.visible is False):
                missing.append(f"the title of {name}")
    return missing


def _in_colab() -> bool:
    return "google.colab" in sys.modules


def to_html(fig: go.Figure) -> str:
    """The figure as a ``<div>`` drawn by the page's ``Plotly`` global (no plotly.js inside)."""
    height = fig.layout.height or 450
    return pio.to_html(fig, full_html=False, include_plotlyjs=False, config=CONFIG,
                       default_height=f"{height}px", default_width="100%", validate=False)


def mimebundle(fig: go.Figure) -> dict:
    """Both representations of ``fig``: plotly JSON for JupyterLab, HTML for the static website."""
    return {
        "application/vnd.plotly.v1+json": json.loads(pio.to_json(fig, validate=False)),
        "text/html": to_html(fig),
        "text/plain": f"<plotly figure: {fig.layout.title.text}>",
    }


def show(fig: go.Figure) -> None:
    """Display ``fig`` in a notebook, on the website and on Colab; refuse an unlabelled figure."""
    if not isinstance(fig, go.Figure):
        raise TypeError(f"fig: expected a plotly.graph_objects.Figure, got {type(fig).__name__}")
    missing = missing_labels(fig)
    if missing:
        raise ValueError("fig: every course figure needs a title and axis labels; missing " + ", ".join(missing))
    if _in_colab():
        fig.show(renderer="colab", config=CONFIG)
        return
    from IPython.display import display
    display(mimebundle(fig), raw=True)
