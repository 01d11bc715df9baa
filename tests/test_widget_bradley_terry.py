"""Widget W9 (Bradley-Terry / Elo): the league fit converges, Elo arithmetic, both faces."""
import json
import math

import numpy as np
import plotly.graph_objects as go
import pytest

from lib import plotting
from lib.widgets import bradley_terry as bt


def test_compute_converges_with_more_games():
    few, many = bt.compute(2), bt.compute(400)
    assert many["max_error"] < 0.25 < few["max_error"]
    assert np.all(np.diff(many["fitted"]) > 0)  # ranking of the increasing strengths recovered
    assert abs(many["fitted"].mean()) < 1e-9 and math.isclose(many["elo"].mean(), 1500)
    assert np.allclose(many["elo"] - 1500, many["fitted"] * 400 / math.log(10))


def test_static_figure():
    fig = bt.figure(games=(2, 50))
    assert isinstance(fig, go.Figure) and plotting.missing_labels(fig) == []
    assert len(plotting.to_html(fig)) < 1_500_000
    json.loads(fig.to_json())
    steps = fig.layout.sliders[0].steps
    assert len(steps) == 2 and steps[0].args[0]["y"][1] != steps[1].args[0]["y"][1]
    assert list(steps[0].args[2]) == [0, 1]


def test_live_widget():
    live = bt.widget()
    fig = live.figures[0]
    y0 = list(fig.data[1].y)
    live.controls["games"].value = 200
    assert list(fig.data[1].y) != y0
    live.controls["elo"].value = 400
    assert math.isclose(fig.data[3].y[0], 10 / 11, rel_tol=1e-9)


@pytest.mark.parametrize("kwargs, msg", [(dict(n_games=0), "n_games"), (dict(strengths=[1.0]), "strengths")])
def test_bad_input(kwargs, msg):
    with pytest.raises(ValueError, match=msg):
        bt.compute(**kwargs)
