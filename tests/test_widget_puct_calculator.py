"""PUCT calculator: the book's examples, the crossover, both faces."""
import json

import numpy as np
import plotly.graph_objects as go
import pytest

from lib import plotting
from lib.widgets import puct_calculator as pc


def test_book_examples_and_crossover():
    early = pc.compute(**pc.EARLY, c=1.0)
    np.testing.assert_allclose(early["score"], [0.8 * np.sqrt(2) / 2, 0.2 * np.sqrt(2) / 2])
    late = pc.compute(**pc.LATE, c=1.0)
    assert late["best"] == 1 and np.allclose(late["score"], [0.4312, 0.6797], atol=1e-4)
    cs = late["crossovers"][(0, 1)]
    assert abs(cs - 5.82) < 0.01
    assert pc.compute(**pc.LATE, c=cs - 1e-6)["best"] == 1 and pc.compute(**pc.LATE, c=cs + 1e-6)["best"] == 0
    # identical statistics never cross
    assert pc.compute(Q=(0.1, 0.1), N=(3, 3), P=(0.5, 0.5), c=1.0)["crossovers"][(0, 1)] is None


def test_static_figure():
    fig = pc.figure()
    assert isinstance(fig, go.Figure) and plotting.missing_labels(fig) == []
    assert len(plotting.to_html(fig)) < 1_500_000
    json.loads(fig.to_json())
    steps = fig.layout.sliders[0].steps
    assert steps[0].args[0]["y"][1] != steps[-1].args[0]["y"][1]        # U changes with c
    assert "action 2" in steps[0].args[1]["title.text"] and "action 1" in steps[-1].args[1]["title.text"]


def test_live_widget():
    live = pc.widget(n_actions=3)
    fig = live.figures[0]
    u = list(fig.data[1].y)
    live.controls["c"].value = 7.0
    assert list(fig.data[1].y) != u and "action 1" in fig.layout.title.text
    score = list(fig.data[2].y)
    live.controls["N0"].value = 5
    assert list(fig.data[2].y) != score


@pytest.mark.parametrize("kwargs, msg", [(dict(Q=(0, 0), N=(1,), P=(0.5, 0.5)), "Q, N, P"), (dict(c=-1.0), "c"),
                                         (dict(N=(-1, 2)), "N, P")])
def test_bad_input(kwargs, msg):
    with pytest.raises(ValueError, match=msg):
        pc.compute(**kwargs)
    with pytest.raises(ValueError, match="n_actions"):
        pc.widget(n_actions=5)
