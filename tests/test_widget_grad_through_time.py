"""Widget W4.1 (grad_through_time): compute against lib.rnn, the static figure, and the live widget headlessly."""
import json

import numpy as np
import plotly.graph_objects as go
import pytest
import torch

from lib import plotting, rnn
from lib.sequences import delayed_recall_batch
from lib.widgets import WIDGET_MIME, Dual
from lib.widgets import grad_through_time as G



def test_compute_matches_state_grad_norms_and_shows_the_three_regimes():
    res = G.compute(T=30, cell="lstm", rec_scale=0.8, input_gain=0.7, forget_bias=1.5, H=16, batch=8, seed=2)
    x, y = delayed_recall_batch(8, 30, 4, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    p = rnn.init_params("lstm", 4, 16, 4, rec_scale=0.8, input_gain=0.7, forget_bias=1.5, seed=2, dtype=torch.float64)
    np.testing.assert_allclose(res["log10"], np.log10(rnn.state_grad_norms(p, x, y, "lstm").numpy()), rtol=1e-12)
    assert res["t"] == list(range(1, 31)) and res["ratio"] == pytest.approx(10 ** (res["log10"][0] - res["log10"][-1]))
    van = G.compute(T=40, cell="vanilla", H=16, batch=8)
    np.testing.assert_array_equal(van["log10"], van["baseline"])
    assert van["ratio"] < 1e-4                                     # vanishing
    stream = G.compute(T=40, cell="stream", H=16, batch=8)
    np.testing.assert_allclose(stream["baseline"], van["log10"])   # the baseline is the tanh RNN
    assert stream["ratio"] > 1                                     # the stream's gradient grows backward
    lstm5 = G.compute(T=40, cell="lstm", forget_bias=5.0, H=16, batch=8)
    lstm0 = G.compute(T=40, cell="lstm", forget_bias=0.0, H=16, batch=8)
    assert lstm5["ratio"] > 1e3 * lstm0["ratio"]
    assert G.compute(T=10, cell="stream", baseline=False)["baseline"] is None
    for kwargs, msg in [(dict(cell="gru"), "cell: expected one of"), (dict(T=1), r"T: expected an integer in \[2, 500\]"),
                        (dict(rec_scale=-1.0), "rec_scale: expected a number"), (dict(input_gain="1"), "input_gain")]:
        with pytest.raises(ValueError, match=msg):
            G.compute(**kwargs)
    assert "shrinks" in G._readout(van) and "grows" in G._readout(stream)


def test_static_figure_has_a_slider_over_the_recurrent_scale():
    fig = G.figure(T=20, H=16, batch=8)
    assert isinstance(fig, go.Figure) and not isinstance(fig, go.FigureWidget)
    assert plotting.missing_labels(fig) == []
    assert len(plotting.to_html(fig)) < 1_500_000
    json.loads(fig.to_json())
    steps = fig.layout.sliders[0].steps
    assert [s.label for s in steps] == [f"{s:g}" for s in G.STATIC_SCALES]
    assert len(fig.data) == 4 and all(len(s.args[0]["y"]) == 4 for s in steps)
    y = {s.label: s.args[0]["y"] for s in steps}
    # the tanh RNN's gradient at t = 1 grows with the scale; every step has its own title
    assert y["0.3"][0][0] < y["1"][0][0] < y["1.5"][0][0]
    assert len({s.args[1]["title.text"] for s in steps}) == len(steps)
    assert fig.layout.sliders[0].active == G.STATIC_SCALES.index(1.0) and list(fig.data[0].y) == y["1"][0]
    assert "forget bias 3" in fig.data[3].name


def test_live_widget_updates_in_place():
    live = G.widget(T=20)
    fig = live.figures[0]
    assert isinstance(fig, go.FigureWidget) and live.controls["forget_bias"].layout.display == "none"
    before = np.array(fig.data[0].y)
    live.controls["cell"].value = "vanilla"
    after = np.array(fig.data[0].y)
    assert after[0] < before[0] - 2 and np.allclose(after, fig.data[1].y)
    live.controls["cell"].value = "lstm"
    assert live.controls["forget_bias"].layout.display is None
    low = fig.data[0].y[0]
    live.controls["forget_bias"].value = 4.0
    assert fig.data[0].y[0] > low + 2 and "forget bias 4" in fig.layout.title.text
    live.controls["T"].value = 35
    assert len(fig.data[0].x) == 35 and len(fig.data[1].y) == 35
    live.controls["rec_scale"].value = 0.5
    live.controls["input_gain"].value = 2.0
    live.controls["seed"].value = 3
    assert "recurrent scale 0.50" in fig.layout.title.text and "LSTM" in live.children[2].value


def test_show_bundles_live_and_static(monkeypatch):
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj, **kw: shown.append(obj))
    monkeypatch.setattr(G, "figure", lambda: G._layout(go.Figure(), "small static"))
    G.show(T=10)
    (dual,) = shown
    assert isinstance(dual, Dual)
    bundle = dual._repr_mimebundle_()
    assert WIDGET_MIME in bundle and "small static" in bundle["text/plain"]
