"""Widget W4.4 (lstm_gates): compute against lib.rnn.lstm_cell, the static figure, and the live widget headlessly."""
import json
import math

import numpy as np
import plotly.graph_objects as go
import pytest
import torch

from lib import plotting, rnn
from lib.widgets import WIDGET_MIME, Dual
from lib.widgets import lstm_gates as L


def _logit(p):
    return math.inf if p == 1 else -math.inf if p == 0 else math.log(p / (1 - p))


def test_compute_matches_lstm_cell_with_constant_gates():
    f, i, o, pulses = 0.8, 0.6, 0.7, (1, 4, 5, 12)
    res = L.compute(f, i, o, pulses)
    # an LSTM cell with zero weights except the candidate's input weight, and biases set to the gate logits
    p = {f"W_{g}": torch.zeros(1, 2, dtype=torch.float64) for g in rnn.GATES}
    p["W_c"][0, 1] = L.GAIN
    p.update(b_f=torch.tensor([_logit(f)], dtype=torch.float64), b_i=torch.tensor([_logit(i)], dtype=torch.float64),
             b_o=torch.tensor([_logit(o)], dtype=torch.float64), b_c=torch.zeros(1, dtype=torch.float64))
    x = torch.tensor(res["x"], dtype=torch.float64)[:, None]
    hs, cs, _ = rnn.lstm_forward(x, p)
    np.testing.assert_allclose(res["c"], cs[1:, 0].numpy(), atol=1e-12)
    np.testing.assert_allclose(res["h"], hs[1:, 0].numpy(), atol=1e-12)
    assert res["retained"] == pytest.approx(0.8 ** 19)


def test_stream_accumulates_and_leak_decays_and_bad_input():
    stream = L.compute(1.0, 1.0, 1.0, (2, 3, 10))
    assert stream["c"][-1] == pytest.approx(3 * math.tanh(2.0)) and np.all(np.diff(stream["c"]) >= 0)
    leaky = L.compute(0.5, 1.0, 1.0, (1,))
    np.testing.assert_allclose(leaky["c"], math.tanh(2.0) * 0.5 ** np.arange(20))
    assert L.compute(1.0, 1.0, 0.0, (3,))["h"] == [0.0] * 20
    assert L.compute(pulses=())["c"] == [0.0] * 20
    with pytest.raises(ValueError, match=r"f: expected a gate value in \[0, 1\]"):
        L.compute(f=1.5)
    with pytest.raises(ValueError, match=r"pulses: expected steps in \[1, 20\]"):
        L.compute(pulses=(0,))
    with pytest.raises(ValueError, match="steps: expected an integer"):
        L.compute(steps=0)
    assert "memory stream" in L._title(stream) and "left at t = 20" in L._title(leaky)


def test_static_figure_slider_over_forget_gate():
    fig = L.figure()
    assert isinstance(fig, go.Figure) and plotting.missing_labels(fig) == []
    assert len(plotting.to_html(fig)) < 1_500_000
    json.loads(fig.to_json())
    steps = fig.layout.sliders[0].steps
    assert [s.label for s in steps] == [f"{f:g}" for f in L.STATIC_F]
    c_last = [s.args[0]["y"][1][-1] for s in steps]
    assert c_last == sorted(c_last) and c_last[0] < c_last[-1]     # more forgetting, less left at the end
    assert fig.layout.sliders[0].active == len(L.STATIC_F) - 1 and list(fig.data[1].y) == steps[-1].args[0]["y"][1]


def test_live_widget_updates_in_place(monkeypatch):
    live = L.widget()
    fig = live.figures[0]
    before = list(fig.data[1].y)
    live.controls["f"].value = 0.5
    assert fig.data[1].y[-1] < before[-1] and "f = 0.5" in fig.layout.title.text
    live.controls["x15"].value = True
    assert fig.data[0].y[14] == 1 and fig.data[1].y[14] > fig.data[1].y[13]
    live.controls["preset"].value = "closed output (o = 0.2)"
    assert live.controls["o"].value == 0.2 and max(fig.data[2].y) <= 0.2
    live.controls["preset"].value = "memory stream (f = i = 1)"
    assert live.controls["f"].value == 1.0 and "memory stream" in fig.layout.title.text
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj, **kw: shown.append(obj))
    L.show()
    assert isinstance(shown[0], Dual) and WIDGET_MIME in shown[0]._repr_mimebundle_()
