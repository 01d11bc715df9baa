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


# The book's content column is about 690 px wide: long titles are wrapped to fit it, and the top margin
# grows to hold the title, a legend placed above the plot and subplot titles without overlaps.
TITLE_CHARS = 70      # characters per title line at the template's title size
_PAGE_PLOT_WIDTH = 600  # px between the default side margins


def wrap(text: str, width: int = TITLE_CHARS) -> str:
    """``text`` with ``<br>`` between words so that no line is longer than ``width`` characters."""
    if not text:
        return text
    lines = []
    for part in text.split("<br>"):
        line = ""
        for word in part.split(" "):
            if line and len(line) + 1 + len(word) > width:
                lines.append(line)
                line = word
            else:
                line = f"{line} {word}" if line else word
        lines.append(line)
    return "<br>".join(lines)


def _title_texts(fig: go.Figure) -> list[str]:
    """The figure's title and every title a slider step or a button sets."""
    texts = [fig.layout.title.text or ""]
    for control in list(fig.layout.sliders or []) + list(fig.layout.updatemenus or []):
        for step in list(getattr(control, "steps", None) or []) + list(getattr(control, "buttons", None) or []):
            for arg in step.args or []:
                if isinstance(arg, dict):
                    texts += [v for k, v in arg.items() if k in ("title.text", "title") and isinstance(v, str)]
    return texts


def _wrap_titles(fig: go.Figure) -> int:
    """Wrap the title everywhere it is set; returns the largest number of lines."""
    fig.layout.title.text = wrap(fig.layout.title.text or "")
    for control in list(fig.layout.sliders or []) + list(fig.layout.updatemenus or []):
        for step in list(getattr(control, "steps", None) or []) + list(getattr(control, "buttons", None) or []):
            args = list(step.args or [])
            for i, arg in enumerate(args):
                if isinstance(arg, dict) and any(k in ("title.text", "title") for k in arg):
                    args[i] = {k: wrap(v) if k in ("title.text", "title") and isinstance(v, str) else v
                               for k, v in arg.items()}
            step.args = args
    return max(t.count("<br>") + 1 for t in _title_texts(fig))


def _legend_rows(fig: go.Figure) -> int:
    names, seen = [], set()
    for trace in fig.data:
        group = trace.legendgroup or trace.name
        if trace.showlegend is False or not trace.name or group in seen:
            continue
        seen.add(group)
        names.append(trace.name)
    width = sum(45 + 7 * len(n) for n in names)
    return max(1, -(-width // _PAGE_PLOT_WIDTH)) if names else 0


def fit_page(fig: go.Figure) -> go.Figure:
    """A copy of ``fig`` laid out for the book's column: wrapped titles and a top margin that holds the
    title, a horizontal legend above the plot and the subplot titles, each in its own band."""
    fig = go.Figure(fig)
    lines = _wrap_titles(fig)
    height = fig.layout.height or 450
    top = fig.layout.margin.t if fig.layout.margin.t is not None else 60
    # plotly lifts a title of several lines by about 12 px above its anchor: leave room for it
    title_top = 8 + (12 if lines > 1 else 0)
    band_title = title_top + 21 * lines + 8 if fig.layout.title.text else 10
    band_sub = 24 if any(a.yref == "paper" and (a.y or 0) >= 0.99 and a.yanchor == "bottom"
                         for a in fig.layout.annotations or []) else 0
    legend = fig.layout.legend
    above = (fig.layout.showlegend is not False and legend.orientation == "h" and legend.y is not None
             and legend.y > 1)
    band_legend = 20 * _legend_rows(fig) + 6 if above else 0
    need = band_title + band_legend + band_sub + 6
    if need > top:
        height += need - top
        top = need
        fig.update_layout(height=height, margin_t=top)
    fig.update_layout(title_y=1 - title_top / height, title_yanchor="top", title_yref="container")
    if above:
        plot_h = height - top - (fig.layout.margin.b if fig.layout.margin.b is not None else 55)
        fig.update_layout(legend_y=1 + (band_sub + 4) / max(plot_h, 100), legend_yanchor="bottom")
    return fig


def to_html(fig: go.Figure) -> str:
    """The figure as a ``<div>`` drawn by the page's ``Plotly`` global (no plotly.js inside), laid out for
    the book's column (:func:`fit_page`)."""
    fig = fit_page(fig)
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
