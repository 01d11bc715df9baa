"""Widget W2.1 (relu_folds): compute against lib.nn / torch and brute force, static figures, live widget."""
import json
from math import comb

import numpy as np
import plotly.graph_objects as go
import pytest
import torch

from lib import nn as libnn
from lib import plotting
from lib.widgets import relu_folds as rf

torch.set_num_threads(1)
MAX_HTML = 1_500_000


def _model_1d(u):
    m = libnn.make_mlp([1, len(u["w"]), 1], dtype=torch.float64)
    with torch.no_grad():
        m[0].weight.copy_(torch.tensor(u["w"])[:, None])
        m[0].bias.copy_(torch.tensor(u["b"]))
        m[2].weight.copy_(torch.tensor(u["a"])[None, :])
        m[2].bias.fill_(u["c"])
    return m


@pytest.mark.parametrize("seed", range(4))
def test_compute_1d_equals_the_torch_network(seed):
    u = rf.random_units_1d(7, seed)
    u["c"] = 0.3
    res = rf.compute_1d(**u)
    m = _model_1d(u)
    f_ref = m(torch.tensor(res["x"])[:, None]).detach().numpy()[:, 0]
    np.testing.assert_allclose(res["f"], f_ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(res["parts"].sum(0) + 0.3, res["f"], rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(res["kinks"], libnn.kinks_1d(m), rtol=1e-14)
    assert res["bound"] == 8 and 1 <= res["pieces"] <= 8


@pytest.mark.parametrize("seed", range(5))
def test_count_pieces_against_slope_changes_on_a_fine_grid(seed):
    u = rf.random_units_1d(6, seed)
    x = np.linspace(-3, 3, 600_001)
    f = rf.compute_1d(**u, n=x.size)["f"]
    slopes = np.diff(f) / np.diff(x)
    changes = np.abs(np.diff(slopes)) > 1e-6
    bends = np.count_nonzero(changes & ~np.roll(changes, 1))  # a kink between grid points shows up twice
    assert rf.count_pieces(u["w"], u["b"], u["a"]) == 1 + bends


def test_count_pieces_merges_shared_kinks_and_ignores_dead_units():
    # two units with a kink at x = 1 whose slope changes cancel, plus a unit with a = 0
    w, b, a = np.array([1.0, -1.0, 2.0]), np.array([-1.0, 1.0, 0.0]), np.array([1.0, -1.0, 0.0])
    # ReLU(x - 1) - ReLU(1 - x) = x - 1: a straight line
    assert rf.count_pieces(w, b, a) == 1
    assert rf.count_pieces(w, b, np.array([1.0, 1.0, 0.0])) == 2  # |x - 1|: one bend
    assert rf.count_pieces(np.array([0.0]), np.array([1.0]), np.array([1.0])) == 1  # w = 0: constant


@pytest.mark.parametrize("K", [1, 3, 6])
def test_compute_2d_regions_equal_lib_nn_and_the_formula(K):
    theta = np.pi * (np.arange(K) + 0.3) / K  # tangents to the unit circle: general position
    W = np.column_stack([np.cos(theta), np.sin(theta)])
    b = -np.ones(K) * 0.4  # tangents to the circle of radius 0.4: every crossing inside [-2, 2]^2
    res = rf.compute_2d(W, b, np.ones(K), res=500)
    assert res["regions"] == res["bound"] == 1 + K + comb(K, 2)
    m = libnn.make_mlp([2, K, 1], dtype=torch.float64)
    with torch.no_grad():
        m[0].weight.copy_(torch.tensor(W))
        m[0].bias.copy_(torch.tensor(b))
    assert libnn.count_regions_2d(m, box=(-2, 2, -2, 2), res=500) == res["regions"]
    assert len(res["lines"]) == K and all(len(xs) == 2 for xs, _ in res["lines"])
    # each drawn segment lies on its line and ends on the box
    for (xs, ys), wk, bk in zip(res["lines"], W, b):
        np.testing.assert_allclose(wk[0] * np.array(xs) + wk[1] * np.array(ys) + bk, 0, atol=1e-12)
        assert all(np.isclose(max(abs(px), abs(py)), 2.0) for px, py in zip(xs, ys))


def test_compute_2d_function_and_switches():
    u = rf.random_units_2d(5, seed=3)
    res = rf.compute_2d(u["W"], u["b"], u["a"], grid=21)
    X = np.stack(np.meshgrid(res["g"], res["g"]), axis=-1).reshape(-1, 2)
    f_ref = (np.maximum(X @ u["W"].T + u["b"], 0) @ u["a"]).reshape(21, 21)
    np.testing.assert_allclose(res["f"], f_ref, rtol=1e-13, atol=1e-13)
    off = rf.compute_2d(u["W"], u["b"], u["a"], active=[True, False, True, True, False])
    assert off["bound"] == 1 + 3 + 3 and off["regions"] <= off["bound"] and len(off["lines"]) == 3
    none = rf.compute_2d(u["W"], u["b"], u["a"], active=[False] * 5)
    assert none["regions"] == 1 and np.all(none["f"] == 0)


def test_train_snapshots_fit_the_data():
    s = rf.train_snapshots(K=6, target="steps", steps=300, every=50, lr=0.02, seed=1)
    assert list(s["step"]) == [0, 50, 100, 150, 200, 250, 300] and len(s["units"]) == 7
    assert s["loss"][-1] < 0.25 * s["loss"][0]
    u = s["units"][-1]
    f = rf.compute_1d(**u, x_range=(s["x"].min(), s["x"].max()), n=2)["f"]  # ends of the data range
    m = _model_1d(u)
    np.testing.assert_allclose(f, m(torch.tensor([[s["x"].min()], [s["x"].max()]])).detach().numpy()[:, 0],
                               rtol=1e-12)


def _check_static(fig, n_steps):
    assert isinstance(fig, go.Figure) and not isinstance(fig, go.FigureWidget)
    assert plotting.missing_labels(fig) == []
    assert len(plotting.to_html(fig)) < MAX_HTML
    json.loads(fig.to_json())
    steps = fig.layout.sliders[0].steps
    assert len(steps) == n_steps
    for step in steps:
        assert all(len(v) == len(step.args[2]) for v in step.args[0].values())
    return steps


def test_static_1d_figure_moves_with_training():
    fig = rf.figure("1d")
    steps = _check_static(fig, 41)
    first, last = steps[0].args[0]["y"][0], steps[-1].args[0]["y"][0]
    assert first != last
    assert "Adam step 400" in steps[-1].args[1]["title.text"] and "pieces" in steps[0].args[1]["title.text"]


def test_static_2d_figure_slider_over_K():
    fig = rf.figure("2d")
    steps = _check_static(fig, rf.MAX_K_2D)
    titles = [s.args[1]["title.text"] for s in steps]
    assert "K = 1: 2 regions" in titles[0]
    counts = [int(t.split(": ")[1].split(" ")[0]) for t in titles]
    bounds = [1 + K + comb(K, 2) for K in range(1, rf.MAX_K_2D + 1)]
    assert all(c <= bd for c, bd in zip(counts, bounds)) and counts == sorted(counts)


def test_live_widget_1d_tab():
    live = rf.widget(K=4, seed=0)
    fig = live.figures[0]
    f_before = list(fig.data[0].y)
    live.controls["w"].value = -live.controls["w"].value  # flip the first unit to face the other way
    assert list(fig.data[0].y) != f_before
    live.controls["K"].value = 9
    assert "at most K + 1 = 10" in fig.layout.title.text and len(fig.data[9].x) > 0
    assert list(live.controls["unit"].options) == list(range(1, 10))
    live.controls["unit"].value = 3
    before = list(fig.data[3].y)
    live.controls["a"].value = 2.5
    assert list(fig.data[3].y) != before
    live.controls["mode"].value = "trained"
    assert live.controls["w"].disabled and len(fig.data[-1].x) == 40
    y0 = list(fig.data[0].y)
    live.controls["t"].value = 200
    assert list(fig.data[0].y) != y0 and "Adam step 200" in fig.layout.title.text


def test_live_widget_2d_tab():
    live = rf.widget(K2=4, seed2=1)
    fig = live.figures[1]
    z0 = np.array(fig.data[2].z, dtype=float)
    live.controls["on2"].value = False
    assert not np.allclose(z0, np.array(fig.data[2].z, dtype=float))
    assert "K = 3" in fig.layout.title.text
    live.controls["K2"].value = 7
    assert "K = 6" in fig.layout.title.text and not live.controls["on7"].disabled and live.controls["on8"].disabled


@pytest.mark.parametrize("call, msg", [
    (lambda: rf.random_units_1d(0), "K"),
    (lambda: rf.random_units_2d(9), "K"),
    (lambda: rf.compute_1d([1.0, 2.0], [0.0], [1.0, 1.0]), "b: expected 2"),
    (lambda: rf.compute_1d([], [], []), "w"),
    (lambda: rf.compute_2d(np.ones((3, 3)), np.zeros(3), np.zeros(3)), "W"),
    (lambda: rf.compute_2d(np.ones((3, 2)), np.zeros(3), np.zeros(3), active=[True]), "active"),
    (lambda: rf.target_data("cubic"), "target"),
    (lambda: rf.compute("3d"), "tab"),
    (lambda: rf.figure("3d"), "tab"),
])
def test_bad_input(call, msg):
    with pytest.raises(ValueError, match=msg):
        call()
