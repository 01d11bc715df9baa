"""Widget W5.1 (attention_hull): weights against torch's attention, the hull property, static and live figures."""
import json

import numpy as np
import plotly.graph_objects as go
import pytest
import torch
import torch.nn.functional as F
from scipy.spatial import Delaunay

from lib import plotting
from lib.widgets import attention_hull as ah


@pytest.mark.parametrize("angle, T, n, m", [(0.0, 1.0, 6, 0), (200.0, 0.05, 10, 3), (95.0, 5.0, 4, 1)])
def test_compute_matches_torch_sdpa(angle, T, n, m):
    res = ah.compute(angle, T, n, m)
    V = torch.tensor(res["values"])
    q = torch.tensor(res["query"])[None]
    allowed = torch.tensor(res["allowed"])[None]
    # torch scales by 1/sqrt(d_k) = 1/sqrt(2); the extra 1/T goes into its `scale`
    out = F.scaled_dot_product_attention(q, V, V, attn_mask=allowed, scale=1 / (np.sqrt(2) * T))
    np.testing.assert_allclose(res["output"], out[0].numpy(), atol=1e-12)
    assert np.all(res["weights"][~res["allowed"]] == 0) and res["weights"].sum() == pytest.approx(1.0)
    assert 0 <= res["entropy"] <= res["max_entropy"] + 1e-12 and res["max_entropy"] == pytest.approx(np.log(n - m))


def test_output_stays_in_hull_for_many_settings():
    rng = np.random.default_rng(5)
    for _ in range(40):
        n = int(rng.integers(3, 11))
        m = int(rng.integers(0, n - 2))
        res = ah.compute(float(rng.uniform(0, 360)), float(np.exp(rng.uniform(np.log(0.05), np.log(5)))), n, m)
        allowed = res["values"][res["allowed"]]
        assert Delaunay(allowed).find_simplex(res["output"]) >= 0          # scipy's point location
        assert ah.in_hull(res["output"], res["hull"])
        assert all(ah.in_hull(p, res["hull"]) for p in res["path"])


def test_temperature_limits_vertex_and_centroid():
    res = ah.compute(30.0, 1.0, 7)
    cold, hot = res["path"][0], res["path"][-1]          # T = 0.02 and T = 50
    best = res["values"][np.argmax(res["scores"])]
    assert np.linalg.norm(cold - best) < 1e-3                # one-hot on the best-aligned value, a hull vertex
    assert any(np.allclose(best, h) for h in res["hull"])
    np.testing.assert_allclose(hot, res["values"].mean(axis=0), atol=0.05)


def test_in_hull_rejects_outside_points_and_handles_segments():
    square = np.array([[0, 0], [1, 0], [1, 1], [0, 1]], dtype=float)
    assert ah.in_hull([0.5, 0.5], square) and not ah.in_hull([1.2, 0.5], square)
    seg = np.array([[0, 0], [2, 2]], dtype=float)
    assert ah.in_hull([1, 1], seg) and not ah.in_hull([1, 1.1], seg) and not ah.in_hull([3, 3], seg)


def test_static_figure_has_angle_and_temperature_sliders():
    fig = ah.figure()
    assert isinstance(fig, go.Figure) and not isinstance(fig, go.FigureWidget)
    assert plotting.missing_labels(fig) == []
    assert len(plotting.to_html(fig)) < 1_500_000
    json.loads(fig.to_json())
    angle, temp = fig.layout.sliders
    assert len(angle.steps) == len(ah.ANGLES) and len(temp.steps) == len(ah.TEMPERATURES)
    first, last = angle.steps[0].args[0], angle.steps[6].args[0]
    assert first["x"][0] != last["x"][0]                      # the query direction moves
    assert first["x"][2] != last["x"][2]                      # and so does the output star
    vis = [s.args[0]["visible"] for s in temp.steps]
    assert vis[0] != vis[-1] and all(sum(v) == 2 for v in vis)  # one star and one bar chart per temperature


def test_static_mask_figure_moves_the_output_into_the_smaller_hull():
    fig = ah.figure_mask(angle=60.0, temperature=1.0, n_values=6)
    assert plotting.missing_labels(fig) == []
    (sl,) = fig.layout.sliders
    assert len(sl.steps) == 6 and list(sl.steps[0].args[2]) == [1, 4, 5, 6, 7]
    for m, step in enumerate(sl.steps):
        data = step.args[0]
        hull, path, star, bars, blocked = ({k: data[k][i] for k in data} for i in range(5))
        weights = np.array(bars["y"])
        assert np.allclose(weights[6 - m:], 0) and abs(weights.sum() - 1) < 1e-3   # blocked keys get no weight
        assert len(blocked["x"]) == m
        allowed_hull = np.c_[hull["x"], hull["y"]][:-1]                             # closed polygon: drop the repeat
        assert ah.in_hull([star["x"][0], star["y"][0]], allowed_hull, tol=1e-3)
    assert sl.steps[0].args[0]["x"][2] != sl.steps[4].args[0]["x"][2]              # the output moves


def test_show_puts_both_static_figures_on_the_website(monkeypatch):
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj, raw=False: shown.append(obj))
    ah.show()
    (bundle,) = shown
    html = bundle["text/html"]
    assert html.count("Plotly.newPlot") == 2 and "masked keys m = " in html and "query angle" in html


def test_live_widget_updates_and_clamps_the_mask():
    w = ah.widget()
    fig = w.figures[0]
    star, bars = list(fig.data[5].x), list(fig.data[6].y)
    w.controls["angle"].value = 250
    assert list(fig.data[5].x) != star
    w.controls["temperature"].value = 0.05
    assert max(fig.data[6].y) > 0.99 and list(fig.data[6].y) != bars
    w.controls["mask_last"].value = 4
    assert list(fig.data[6].y)[-4:] == [0.0] * 4 and len(fig.data[7].x) == 4
    w.controls["n_values"].value = 3
    assert w.controls["mask_last"].value == 2 and "1 of 3 keys" in fig.layout.title.text


def test_bad_inputs():
    with pytest.raises(ValueError, match="temperature"):
        ah.compute(temperature=0.0)
    with pytest.raises(ValueError, match="n_values"):
        ah.compute(n_values=1)
    with pytest.raises(ValueError, match="mask_last"):
        ah.compute(n_values=4, mask_last=4)
    with pytest.raises(ValueError, match="angle"):
        ah.compute(angle=float("nan"))
