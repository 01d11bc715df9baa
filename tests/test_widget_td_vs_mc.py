"""Widget: TD vs MC on the random walk: curves from lib.rl.tabular, targets checked by hand."""
import json

import numpy as np
import plotly.graph_objects as go
import pytest

from lib import plotting
from lib.rl import tabular
from lib.widgets import td_vs_mc as w


@pytest.fixture(scope="module")
def episodes():
    return w.sample(n_runs=40, n_episodes=30, seed=1)


def test_compute(episodes):
    res = w.compute(alpha=0.1, n=2, lam=0.5, episode=3, episodes=episodes)
    assert set(res["rms"]) == {"TD(0)", "MC", "2-step TD", "TD(λ = 0.5)"}
    for mean, std in res["rms"].values():
        assert mean.shape == (31,) and abs(mean[0] - np.sqrt(((0.5 - w.TRUE) ** 2).mean())) < 1e-12
    # MC targets are returns (0 or 1 here); TD targets are r + V(s') with V from the TD(0) run before episode 3
    assert set(np.unique(res["targets"]["MC"])) <= {0.0, 1.0}
    V = tabular.td0(episodes, 7, 0.1, v0=0.5, n_runs=40)[1][3]
    assert np.all((res["targets"]["TD(0)"] >= V[:, 1:6].min() - 1e-12) & (res["targets"]["TD(0)"] <= 1.0))
    for k in ("TD(0)", "MC"):
        t = res["targets"][k]
        assert abs(res["var"][k] - t.var()) < 1e-12 and abs(res["bias2"][k] - (t.mean() - 1 / 3) ** 2) < 1e-12
    first = w.compute(episode=0, episodes=episodes)
    assert first["var"]["TD(0)"] == 0.0 and abs(first["bias2"]["TD(0)"] - (0.5 - 1 / 3) ** 2) < 1e-12


def test_static_figure(episodes):
    fig = w.figure(episodes=episodes)
    assert isinstance(fig, go.Figure) and plotting.missing_labels(fig) == []
    assert len(plotting.to_html(fig)) < 1_500_000
    json.loads(fig.to_json())
    steps = fig.layout.sliders[0].steps
    assert len(steps) == len(w.ALPHAS) and steps[0].args[0]["y"][1] != steps[-1].args[0]["y"][1]


def test_live_widget(episodes):
    live = w.widget(episodes=episodes)
    fig = live.figures[0]
    y0 = list(fig.data[1].y)
    live.controls["alpha"].value = 0.3
    assert list(fig.data[1].y) != y0
    live.controls["n"].value = 5
    assert fig.data[5].name == "5-step TD"
    x0 = list(fig.data[8].x)
    live.controls["episode"].value = 20
    assert list(fig.data[8].x) != x0


@pytest.mark.parametrize("kwargs, msg", [(dict(alpha=0.0), "alpha"), (dict(episode=500), "episode")])
def test_bad_input(episodes, kwargs, msg):
    with pytest.raises(ValueError, match=msg):
        w.compute(episodes=episodes, **kwargs)
    with pytest.raises(ValueError, match="n_runs"):
        w.sample(n_runs=1)
