"""Widget W2.4 (init_signal): compute against lib.init, the static figure, and the live widget headlessly."""
import json

import numpy as np
import plotly.graph_objects as go
import pytest

from lib import plotting
from lib.init import signal_propagation
from lib.widgets import WIDGET_MIME, Dual
from lib.widgets import init_signal as I



def test_compute_wraps_signal_propagation_and_readouts():
    res = I.compute(depth=8, width=64, act="relu", scheme="normal", sigma2_n=3.0, n_samples=200, seed=1)
    ref = signal_propagation(8, 64, "normal", "relu", 200, sigma_mult=3.0, seed=1)
    np.testing.assert_array_equal(res["second_moment"], ref["second_moment"])
    assert res["multiplier"] == pytest.approx(1.5)
    np.testing.assert_allclose(res["prediction"], ref["second_moment"][0] * 1.5 ** np.arange(9), rtol=1e-12)
    assert res["measured_factor"] == pytest.approx((ref["second_moment"][8] / ref["second_moment"][0]) ** (1 / 8))
    assert res["identical"] is False and 0 <= res["dead_percent"] < 50
    # sigma2_n only matters for the "normal" scheme
    he_a, he_b = I.compute(5, 32, scheme="he", sigma2_n=0.5), I.compute(5, 32, scheme="he", sigma2_n=4.0)
    np.testing.assert_array_equal(he_a["second_moment"], he_b["second_moment"])
    zero = I.compute(5, 32, scheme="zero")
    assert zero["identical"] is True and zero["dead_percent"] == 100.0 and zero["measured_factor"] == 0.0
    assert "all units identical: yes" in I._readout(zero) and "identical: no" in I._readout(he_a)
    with pytest.raises(ValueError, match="scheme: expected one of"):
        I.compute(scheme="orthogonal")


def test_static_figure_has_slider_steps_that_change_the_curves():
    fig = I.figure(depth=12, width=64, n_samples=100)
    assert isinstance(fig, go.Figure) and not isinstance(fig, go.FigureWidget)
    assert plotting.missing_labels(fig) == []
    assert len(plotting.to_html(fig)) < 1_500_000
    json.loads(fig.to_json())
    steps = fig.layout.sliders[0].steps
    assert [s.label for s in steps] == [label for label, *_ in I.STATIC_STEPS]
    n_traces = len(I.ACTIVATIONS) * len(I.QUANTITIES)
    assert len(fig.data) == n_traces and all(len(s.args[0]["y"]) == n_traces for s in steps)
    y = {s.label: s.args[0]["y"][0] for s in steps}  # ReLU's E[h^2] at each step
    assert y["zero"][1:] == [None] * 12  # zero init: nothing to draw on a log axis after the input
    assert y["4"][-1] > 1e3 * y["2 (He)"][-1] > 1e6 * y["0.5"][-1]
    # the He step is shown first, and the buttons switch between activations
    assert fig.layout.sliders[0].active == 6 and list(fig.data[0].y) == y["2 (He)"]
    buttons = fig.layout.updatemenus[0].buttons
    assert [b.label for b in buttons] == ["ReLU", "tanh", "identity"]
    assert sum(buttons[1].args[0]["visible"]) == len(I.QUANTITIES) and buttons[1].args[0]["visible"][4]
    assert "He" in steps[6].label and "×1" in steps[6].args[1]["title.text"]


def test_live_widget_updates_in_place():
    live = I.widget(depth=10, width=64, n_samples=200)
    fig = live.figures[0]
    assert isinstance(fig, go.FigureWidget) and live.controls["sigma2_n"].disabled
    before = np.array(fig.data[0].y, dtype=float)
    live.controls["scheme"].value = "normal"
    assert not live.controls["sigma2_n"].disabled
    live.controls["sigma2_n"].value = 1.0
    after = np.array(fig.data[0].y, dtype=float)
    assert after.shape == before.shape == (11,) and after[-1] < 1e-2 * before[-1]
    assert "σ²·n_in = 1.00" in fig.layout.title.text
    live.controls["depth"].value = 25
    assert len(fig.data[0].x) == 26 and len(fig.data[2].y) == 26
    live.controls["act"].value = "identity"
    assert fig.data[3].y[-1] == pytest.approx(fig.data[3].y[0], rel=1e-3)  # identity, sigma^2 n = 1: factor 1
    live.controls["scheme"].value = "zero"
    info = live.children[2].value
    assert "all units identical: yes" in info and fig.data[0].y[1] is None
    live.controls["seed"].value = 3
    live.controls["width"].value = 128
    live.controls["n_samples"].value = 300
    assert "width 128" in fig.layout.title.text


def test_show_bundles_live_and_static(monkeypatch):
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj, **kw: shown.append(obj))
    monkeypatch.setattr(I, "figure", lambda: I.__dict__["_base"](3, ["relu"], "small static"))
    I.show(depth=3, width=16, n_samples=100)
    (dual,) = shown
    assert isinstance(dual, Dual)
    bundle = dual._repr_mimebundle_()
    assert WIDGET_MIME in bundle and "small static" in bundle["text/plain"]
