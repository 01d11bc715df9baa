"""Widget W2.5 (memory_capacity): compute against direct lib.memory runs and theory, static figure, live widget."""
import json

import numpy as np
import plotly.graph_objects as go
import pytest
import torch

from lib import memory as mem
from lib import plotting
from lib.widgets import memory_capacity as mc

torch.set_num_threads(1)
MAX_HTML = 1_500_000


def test_compute_linear_curves_follow_theory_and_pinv_threshold():
    res = mc.compute(d=24, key_type="random", memories=("outer", "pinv"), trials=4)
    n, err = res["n"], res["error"]
    assert n[0] == 1 and n[-1] == 4 * 24 and np.all(np.diff(n) > 0)
    np.testing.assert_allclose(res["theory"], np.sqrt((n - 1) / 24))
    big = n >= 12                               # away from tiny n, where single draws are noisy
    np.testing.assert_allclose(err["outer"][big], res["theory"][big], rtol=0.2)
    assert np.all(err["pinv"][n <= 24] < 1e-10) and np.all(err["pinv"][n > 26] > 0.1)
    assert np.all(res["accuracy"]["pinv"][n <= 24] == 1.0)
    # one point by hand, same draws as the widget uses
    k = int(np.flatnonzero(n == 49)[0]) if 49 in n else 10
    errs = []
    for t in range(4):
        A = mem.make_keys(int(n[k]), 24, "random", rho=mc.RHO, seed=1000 * t + int(n[k]))
        B = mem.make_keys(int(n[k]), 24, "random", seed=1000 * t + int(n[k]) + 7919)
        errs.append(mem.recall_error(mem.outer_product_memory(A, B), A, B))
    np.testing.assert_allclose(err["outer"][k], np.mean(errs), rtol=1e-12)


def test_compute_orthonormal_exact_then_undefined():
    res = mc.compute(d=8, key_type="orthonormal", memories=("outer", "pinv"), trials=1)
    ok = res["n"] <= 8
    assert np.all(res["error"]["outer"][ok] < 1e-12) and np.all(np.isnan(res["error"]["outer"][~ok]))


def test_compute_mlp_beats_linear_beyond_d():
    res = mc.compute(d=8, memories=("mlp", "pinv"), trials=1)
    assert list(res["mlp_load"]) == list(mc.MLP_LOADS)
    assert np.all(res["accuracy"]["mlp"] == 1.0)
    assert res["error"]["mlp"][-1] < 0.2 < res["error"]["pinv"][-1]


def test_static_figure_has_slider_over_d():
    fig = mc.figure(ds=(8, 16), memories=("outer", "pinv"), start=8)
    assert isinstance(fig, go.Figure) and plotting.missing_labels(fig) == []
    assert len(plotting.to_html(fig)) < MAX_HTML
    json.loads(fig.to_json())
    steps = fig.layout.sliders[0].steps
    assert [s.label for s in steps] == ["8", "16"]
    xs = [np.array(s.args[0]["x"][1], dtype=float) for s in steps]   # outer-product error trace
    assert len(xs[0]) != len(xs[1]) or not np.allclose(xs[0], xs[1])
    assert all(max(s.args[2]) < len(fig.data) for s in steps)
    assert "d = 8" in fig.layout.title.text


def test_live_widget_updates():
    live = mc.widget(d=8, n=12, memories=("outer",))
    fig = live.figures[0]
    y_before = np.array(fig.data[1].y, dtype=float)
    live.controls["d"].value = 16
    assert live.controls["n"].max == 64 and "d = 16" in fig.layout.title.text
    assert len(fig.data[1].y) != len(y_before) or not np.allclose(np.array(fig.data[1].y, dtype=float), y_before)
    live.controls["n"].value = 40
    assert fig.data[-1].x == (2.5, 2.5) and "n = 40" in live.children[2].value
    live.controls["pinv"].value = True
    assert len(fig.data[3].y) > 0
    live.controls["key_type"].value = "orthonormal"
    assert fig.data[1].y[-1] is None and "no such keys" in live.children[2].value


def test_bad_inputs():
    with pytest.raises(ValueError, match="d"):
        mc.compute(d=1)
    with pytest.raises(ValueError, match="key_type"):
        mc.compute(key_type="gaussian")
    with pytest.raises(ValueError, match="memories"):
        mc.compute(memories=("hopfield",))
    with pytest.raises(ValueError, match="start"):
        mc.figure(ds=(8,), start=16)
    with pytest.raises(ValueError, match="n"):
        mc.at_n(0, 8)
