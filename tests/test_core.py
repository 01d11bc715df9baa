"""lib core: device and seeding, the plotting helpers, the dual-mode widget helpers, and the data."""
from __future__ import annotations

import json
import random

import numpy as np
import plotly.graph_objects as go
import pytest
import torch

import lib
from lib import data, plotting
from lib.widgets import Dual, Live, slider


# --------------------------------------------------------------------------- device
def test_get_device_honours_environment(monkeypatch):
    monkeypatch.setenv("COURSE_DEVICE", "cpu")
    assert lib.get_device() == torch.device("cpu")
    monkeypatch.delenv("COURSE_DEVICE")
    expected = "cuda" if torch.cuda.is_available() else "mps" if torch.backends.mps.is_available() else "cpu"
    assert lib.get_device().type == expected


def test_get_device_rejects_bad_names(monkeypatch):
    with pytest.raises(ValueError, match="device: expected one of"):
        lib.get_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="not available"):
            lib.get_device("cuda")


def test_setup_seeds_everything_and_sets_threads(monkeypatch):
    monkeypatch.setenv("COURSE_THREADS", "1")
    lib.setup(seed=7)
    a = (random.random(), np.random.rand(), torch.rand(1).item())
    lib.setup(seed=7)
    b = (random.random(), np.random.rand(), torch.rand(1).item())
    assert a == b
    assert torch.get_num_threads() == 1
    lib.setup(seed=0, threads=2)
    assert torch.get_num_threads() == 2


@pytest.mark.parametrize("bad", [dict(seed=-1), dict(seed=1.5), dict(threads=0)])
def test_setup_rejects_bad_arguments(bad):
    with pytest.raises(ValueError):
        lib.setup(**bad)


# --------------------------------------------------------------------------- plotting
def labelled() -> go.Figure:
    fig = go.Figure(go.Scatter(x=[0, 1], y=[1, 2]))
    fig.update_layout(title="t", xaxis_title="x", yaxis_title="y")
    return fig


def test_mimebundle_has_both_faces():
    bundle = plotting.mimebundle(labelled())
    assert bundle["application/vnd.plotly.v1+json"]["data"][0]["y"] == [1, 2]
    html = bundle["text/html"]
    assert "Plotly.newPlot" in html and "<script" in html
    assert "cdn.plot.ly" not in html and len(html) < 20_000, "the HTML face must not embed or fetch plotly.js"
    json.dumps(bundle)


def test_show_refuses_unlabelled_figures():
    fig = go.Figure(go.Scatter(x=[0, 1], y=[1, 2]))
    with pytest.raises(ValueError, match="title"):
        plotting.show(fig)
    fig.update_layout(title="t", xaxis_title="x")
    with pytest.raises(ValueError, match="yaxis"):
        plotting.show(fig)
    with pytest.raises(TypeError):
        plotting.show({"data": []})


def test_missing_labels_covers_subplots():
    from plotly.subplots import make_subplots
    fig = make_subplots(rows=1, cols=2)
    fig.add_trace(go.Scatter(x=[0], y=[0]), 1, 1)
    fig.add_trace(go.Bar(x=[0], y=[0]), 1, 2)
    fig.update_layout(title="two panels", xaxis_title="a", yaxis_title="b")
    assert plotting.missing_labels(fig) == ["the title of xaxis2", "the title of yaxis2"]


def test_template_is_default_and_colour_blind_safe():
    fig = go.Figure()
    assert "course" in str(plotting.pio.templates.default)
    assert list(plotting.TEMPLATE.layout.colorway) == plotting.PALETTE
    assert fig.layout.template is not None


# --------------------------------------------------------------------------- widgets helpers
def test_slider_builds_update_steps():
    s = slider([("a", [{"y": [1]}, {"y": [2]}], None), ("b", [{"y": [3]}, {"y": [4]}], {"title": "b"})], "k: ")
    assert [st["label"] for st in s["steps"]] == ["a", "b"]
    assert s["steps"][1]["args"] == [{"y": [[3], [4]]}, {"title": "b"}]
    with pytest.raises(ValueError):
        slider([], "k")


def test_dual_bundle_has_widget_and_static_faces():
    import ipywidgets as W
    live = Live(controls={"k": W.IntSlider()}, figures=[go.FigureWidget()])
    bundle = Dual(live, labelled())._repr_mimebundle_()
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == live.model_id
    assert "Plotly.newPlot" in bundle["text/html"]
    with pytest.raises(ValueError):
        Dual(live, go.Figure())


# --------------------------------------------------------------------------- data
def test_galton_tables_match_their_documented_sizes():
    df = data.galton_families()
    assert len(df) == 934 and df["family"].nunique() == 205
    assert df["male"].sum() == 481
    father, son = data.galton_sons()
    assert father.shape == son.shape == (481,)
    x, y, w = data.pearson_lee_father_son()
    assert w.sum() == 1078 and len(x) == len(y) == len(w)


def test_galton_like_matches_galton_moments():
    x, y = data.galton_like(n=200_000, seed=1)
    assert abs(np.corrcoef(x, y)[0, 1] - 0.392) < 0.01
    assert abs(x.mean() - 69.1) < 0.02 and abs(y.std() - 2.62) < 0.02


@pytest.mark.parametrize("design", ["grid", "jitter", "uniform"])
def test_make_1d_regression_designs(design):
    x, y, f = data.make_1d_regression(n=30, design=design, sigma=0.0, seed=3)
    assert x.shape == y.shape == (30,) and np.all(np.diff(x) > 0)
    assert np.all((x > -1) & (x < 1)) and np.allclose(y, f(x))
    if design != "uniform":  # at most one point per grid cell
        assert np.array_equal(np.floor((x + 1) / 2 * 30), np.arange(30))


def test_teacher_and_classification_data():
    d = data.make_relu_teacher(n=50, d=4, sigma=0.0, seed=2)
    assert abs(np.linalg.norm(d["w_star"]) - 1) < 1e-12
    assert np.allclose(d["y"], np.maximum(d["X"] @ d["w_star"], 0))
    X, y = data.make_separable(n=60, seed=4, margin=0.3)
    s = (X @ np.ones(2)) / np.sqrt(2)
    assert np.all(np.where(y == 1, s, -s) >= 0.3 - 1e-12)
    X, y = data.make_logistic_blobs(n=100, sep=3, seed=0)
    assert X.shape == (100, 2) and set(np.unique(y)) == {0, 1}


@pytest.mark.parametrize("call, match", [
    (lambda: data.make_1d_regression(n=1), "n: expected"),
    (lambda: data.make_1d_regression(design="random"), "design: expected"),
    (lambda: data.make_1d_regression(f="tan"), "f: expected"),
    (lambda: data.make_1d_regression(sigma=-1), "sigma: expected"),
    (lambda: data.make_relu_teacher(n=10, d=0, sigma=0.1), "d: expected"),
    (lambda: data.galton_like(n=True), "n: expected"),
])
def test_data_rejects_bad_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()
