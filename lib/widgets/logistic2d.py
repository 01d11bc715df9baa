"""Widget W1.2: logistic regression in two dimensions, fitted by gradient ascent.

Two Gaussian blobs (or, with ``separable=True``, two classes split by a line with a gap) are fitted
with ``P(y = 1 | x) = sigmoid(b + w_1 x_1 + w_2 x_2)`` by gradient ascent on the mean log-likelihood
``J / n``. Scrubbing through the iterations shows the probability map sharpen and the 0.5 line turn.
On overlapping blobs ``beta = (b, w_1, w_2)`` settles at the maximum likelihood estimate; on separable
data ``||beta||`` keeps growing (about like ``log t``) while the line stops moving: there is no MLE.

* ``compute``: the data, the whole gradient-ascent path, and ``J``, ``||beta||`` and accuracy along it;
* ``figure``: kernel-free, overlapping and separable data side by side, a slider over iterations;
* ``widget``: live, with blob separation, n, the separable toggle, the step size and the iteration;
* ``show``: both, through :func:`lib.widgets.dual`.
"""
from __future__ import annotations

import ipywidgets as W
import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .. import plotting
from ..data import make_logistic_blobs, make_separable
from ..logistic import fit_logistic_gd, log1pexp, sigmoid
from . import Live, dual, readout, slider

SCHEDULE = (0, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000)  # iterations shown
BOX = 4.0
GRID = np.linspace(-BOX, BOX, 41)


def compute(sep: float = 1.5, n: int = 100, separable: bool = False, eta: float = 1.0,
            steps: int = SCHEDULE[-1], seed: int = 0) -> dict:
    """Gradient ascent on the mean log-likelihood, ``beta <- beta + (eta / n) X^T (y - p)``, from 0.

    The design ``X`` is ``[1, x_1, x_2]``. Blobs come from :func:`lib.data.make_logistic_blobs` with
    separation ``sep``; separable data from :func:`lib.data.make_separable` with margin ``sep / 4``.
    Returns ``dict(X (n, 2), y (n,), path (steps+1, 3), loglik, norm, accuracy)``, the last three of
    shape (steps+1,): ``J / n``, ``||beta||`` and training accuracy at each iterate.
    """
    X2, y = make_separable(n, seed=seed, margin=sep / 4) if separable else make_logistic_blobs(n, sep, seed)
    X = np.column_stack([np.ones(len(y)), X2])
    _, path = fit_logistic_gd(X, y, eta=eta / len(y), steps=steps)
    S = path @ X.T                                            # scores s_i at every iterate, (steps+1, n)
    loglik = np.mean(y * S - log1pexp(S), axis=1)
    accuracy = np.mean((S > 0) == (y == 1), axis=1)
    return dict(X=X2, y=y, path=path, loglik=loglik, norm=np.linalg.norm(path, axis=1), accuracy=accuracy)


# --------------------------------------------------------------------------- drawing helpers
def _prob_map(beta: np.ndarray) -> list:
    """sigmoid(b + w . x) on the grid, rounded: (41, 41) nested lists, rows along x_2."""
    xx, yy = np.meshgrid(GRID, GRID)
    return np.round(sigmoid(beta[0] + beta[1] * xx + beta[2] * yy), 3).tolist()


def _boundary(beta: np.ndarray) -> tuple[list, list]:
    """The line b + w . x = 0, where P = 0.5, as two far-apart points; empty while w = 0."""
    b, w1, w2 = beta
    norm = np.hypot(w1, w2)
    if norm < 1e-12:
        return [], []
    nearest = -b * np.array([w1, w2]) / norm ** 2            # the point of the line nearest the origin
    along = np.array([-w2, w1]) / norm
    ends = nearest + np.array([[-3 * BOX], [3 * BOX]]) * along
    return ends[:, 0].tolist(), ends[:, 1].tolist()


def _norm_curve(res: dict) -> tuple[list, list]:
    """||beta_t|| at about 200 log-spaced iterations t >= 1 (enough for a log axis)."""
    t = np.unique(np.round(np.geomspace(1, len(res["norm"]) - 1, 200)).astype(int))
    return t.tolist(), res["norm"][t].tolist()


def _moving(res: dict, t: int) -> list[dict]:
    """What changes with the iteration: probability map, 0.5 line and the marker on the norm curve."""
    beta = res["path"][t]
    bx, by = _boundary(beta)
    return [dict(z=_prob_map(beta), x=GRID.tolist(), y=GRID.tolist()),
            dict(x=bx, y=by, z=None),
            dict(x=[max(t, 1)], y=[float(res["norm"][t])], z=None)]


def _readout(name: str, res: dict, t: int) -> str:
    return (f"{name}<br>||β|| = {res['norm'][t]:.2f}, J/n = {res['loglik'][t]:.4f}, "
            f"accuracy {100 * res['accuracy'][t]:.0f}%")


def _base(panels: list[tuple[str, dict]]) -> tuple[go.Figure, list[int]]:
    """One data panel per ``(name, result)`` and a last panel with ||beta|| against t.

    Returns the figure and the indices of the moving traces, three per panel in :func:`_moving`'s order.
    """
    k = len(panels)
    fig = make_subplots(rows=1, cols=k + 1, horizontal_spacing=0.08,
                        subplot_titles=[name for name, _ in panels] + ["||β|| along gradient ascent"])
    moving = []
    for i, (name, res) in enumerate(panels, start=1):
        colour = plotting.PALETTE[[2, 4][(i - 1) % 2]]
        moving.append(len(fig.data))
        fig.add_trace(go.Heatmap(x=GRID, y=GRID, z=_prob_map(res["path"][0]), zmin=0, zmax=1,
                                 colorscale=plotting.DIVERGING, zsmooth="best", showscale=i == 1, name="P(y = 1 | x)",
                                 colorbar=dict(title=dict(text="P(y=1)"), len=0.75, thickness=12, x=1.02),
                                 hovertemplate="x₁ %{x:.2f}, x₂ %{y:.2f}: P = %{z:.3f}<extra></extra>"),
                      row=1, col=i)
        moving.append(len(fig.data))
        fig.add_trace(go.Scatter(mode="lines", line=dict(color="black", width=2), name="P = 0.5 line",
                                 showlegend=i == 1), row=1, col=i)
        for label, c, symbol in ((0, plotting.PALETTE[0], "circle"), (1, plotting.PALETTE[3], "diamond")):
            pts = res["X"][res["y"] == label]
            fig.add_trace(go.Scatter(x=pts[:, 0], y=pts[:, 1], mode="markers", name=f"y = {label}",
                                     showlegend=i == 1, marker=dict(color=c, symbol=symbol, size=6,
                                                                    line=dict(color="white", width=0.5))),
                          row=1, col=i)
        tx, ny = _norm_curve(res)
        fig.add_trace(go.Scatter(x=tx, y=ny, mode="lines", line=dict(color=colour), name=f"||β||: {name}"),
                      row=1, col=k + 1)
        moving.append(len(fig.data))
        fig.add_trace(go.Scatter(x=[1], y=[0], mode="markers", marker=dict(size=10, color=colour),
                                 name=f"now: {name}", showlegend=False), row=1, col=k + 1)
        fig.update_xaxes(title_text="x₁", range=[-BOX, BOX], constrain="domain", row=1, col=i)
        fig.update_yaxes(title_text="x₂", range=[-BOX, BOX], scaleanchor="x" if i == 1 else f"x{i}", row=1, col=i)
    fig.update_xaxes(title_text="iteration t (log scale)", type="log", row=1, col=k + 1)
    fig.update_yaxes(title_text="||β||", rangemode="tozero", row=1, col=k + 1)
    fig.update_annotations(font_size=12)
    fig.update_layout(height=460, margin=dict(t=130),
                      legend=dict(orientation="h", yanchor="bottom", y=1.12, x=0))
    return fig, moving


def _apply(fig: go.Figure, moving: list[int], updates: list[dict]) -> None:
    """Set the moving traces of ``fig`` in place (skipping keys a trace does not have)."""
    for i, upd in zip(moving, updates):
        fig.data[i].update({k: v for k, v in upd.items() if v is not None})


# --------------------------------------------------------------------------- static figure
def figure(sep: float = 1.5, n: int = 100, eta: float = 1.0, seed: int = 0) -> go.Figure:
    """Kernel-free: overlapping and separable classes side by side, a slider over the iteration t."""
    panels = [("overlapping classes", compute(sep, n, False, eta, seed=seed)),
              ("separable classes", compute(sep, n, True, eta, seed=seed))]
    fig, moving = _base(panels)
    steps = []
    for t in SCHEDULE:
        updates = [u for _, res in panels for u in _moving(res, t)]
        layout = {"title.text": f"Logistic regression by gradient ascent: iteration t = {t}"}
        layout.update({f"annotations[{i}].text": _readout(name, res, t) for i, (name, res) in enumerate(panels)})
        steps.append((str(t), updates, layout))
    start = SCHEDULE.index(200)
    sl = slider(steps, prefix="iteration t = ", active=start)
    for step in sl["steps"]:  # restyle only the moving traces: the third argument of plotly's update
        step["args"].append(moving)
    _apply(fig, moving, steps[start][1])
    fig.update_layout(sliders=[sl], title=steps[start][2]["title.text"], height=540)
    for i, (name, res) in enumerate(panels):
        fig.layout.annotations[i].text = _readout(name, res, SCHEDULE[start])
    return fig


# --------------------------------------------------------------------------- live widget
def widget(sep: float = 1.5, n: int = 100, separable: bool = False, eta: float = 1.0, seed: int = 0) -> Live:
    """Live: the data controls re-run gradient ascent; the iteration slider scrubs through its path."""
    style = dict(description_width="initial")
    controls = dict(
        sep=W.FloatSlider(value=sep, min=0.0, max=4.0, step=0.1, description="separation", style=style),
        n=W.IntSlider(value=n, min=20, max=400, step=20, description="n", style=style),
        separable=W.Checkbox(value=separable, description="separable data"),
        eta=W.FloatSlider(value=eta, min=0.1, max=5.0, step=0.1, description="step η (on J/n)", style=style),
        t=W.SelectionSlider(options=list(SCHEDULE), value=200, description="iteration t", style=style),
    )
    state = {"res": compute(sep, n, separable, eta, seed=seed)}

    def name() -> str:
        return "separable classes" if controls["separable"].value else "overlapping classes"

    base, moving = _base([(name(), state["res"])])
    fig = go.FigureWidget(base)
    info = readout()

    def render(_=None):
        res, t = state["res"], controls["t"].value
        with fig.batch_update():
            _apply(fig, moving, _moving(res, t))
            fig.layout.title.text = f"Logistic regression by gradient ascent: iteration t = {t}"
            fig.layout.annotations[0].text = _readout(name(), res, t)
        info.value = _readout(name(), res, t).replace("<br>", ": ") + (
            " (no maximum: ||β|| keeps growing)" if controls["separable"].value else "")

    def refit(_=None):
        c = controls
        state["res"] = res = compute(c["sep"].value, c["n"].value, c["separable"].value, c["eta"].value, seed=seed)
        with fig.batch_update():
            for trace, label in zip(fig.data[2:4], (0, 1)):
                pts = res["X"][res["y"] == label]
                trace.update(x=pts[:, 0], y=pts[:, 1])
            fig.data[4].update(dict(zip(("x", "y"), _norm_curve(res))), name=f"||β||: {name()}")
        render()

    for key in ("sep", "n", "separable", "eta"):
        controls[key].observe(refit, names="value")
    controls["t"].observe(render, names="value")
    render()
    return Live(controls=controls, figures=[fig],
                children=[W.HBox([controls["separable"], controls["sep"], controls["n"]]),
                          W.HBox([controls["eta"], controls["t"]]), info, fig])


def show(**kwargs) -> None:
    """The live widget in a kernel, the static figure on the website."""
    static_keys = {"sep", "n", "eta", "seed"}
    dual(widget(**kwargs), figure(**{k: v for k, v in kwargs.items() if k in static_keys}))
