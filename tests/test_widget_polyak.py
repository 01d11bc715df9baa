"""Widget: target tracking, checked against the closed-form EMA and the (1 - tau)^k identity."""
import json

import numpy as np
import plotly.graph_objects as go
import pytest
import torch

from lib import plotting
from lib.rl import dqn
from lib.widgets import polyak


def test_compute_is_an_ema_and_a_sample_and_hold():
    res = polyak.compute(tau=0.1, C=7, T=120)
    x, tau = res["online"], 0.1
    k = np.arange(120)
    ema = np.array([(tau * (1 - tau) ** (i - k[: i + 1]) * x[: i + 1]).sum() for i in range(120)])   # closed form from 0
    np.testing.assert_allclose(res["polyak"], ema, atol=1e-12)
    np.testing.assert_array_equal(res["hard"], x[(k // 7) * 7])
    full = polyak.compute(tau=1.0, C=1, T=120)
    np.testing.assert_array_equal(full["polyak"], full["online"])
    np.testing.assert_array_equal(full["hard"], full["online"])


def test_smoothing_vs_lag_tradeoff():
    slow, fast = polyak.compute(tau=0.02), polyak.compute(tau=0.5)
    assert slow["rough"]["polyak"] < fast["rough"]["polyak"] and slow["lag"]["polyak"] > fast["lag"]["polyak"]
    assert polyak.compute(C=50)["lag"]["hard"] > polyak.compute(C=5)["lag"]["hard"]


def test_identity_with_lib_polyak_update():
    a, b = torch.nn.Linear(2, 2).double(), torch.nn.Linear(2, 2).double()
    gap = [(p - q).detach().clone() for p, q in zip(a.parameters(), b.parameters())]
    for _ in range(12):
        dqn.polyak_update(a, b, 0.3)
    for p, q, g in zip(a.parameters(), b.parameters(), gap):
        assert torch.allclose(p - q, 0.7 ** 12 * g, atol=1e-12)


def test_static_figure():
    fig = polyak.figure()
    assert isinstance(fig, go.Figure) and plotting.missing_labels(fig) == []
    assert len(plotting.to_html(fig)) < 1_500_000
    json.loads(fig.to_json())
    s_tau, s_c = fig.layout.sliders
    assert s_tau.steps[0].args[0]["y"][0] != s_tau.steps[-1].args[0]["y"][0] and list(s_tau.steps[0].args[1]) == [1]
    assert s_c.steps[0].args[0]["y"][0] != s_c.steps[-1].args[0]["y"][0] and list(s_c.steps[0].args[1]) == [2]


def test_live_widget():
    live = polyak.widget()
    fig = live.figures[0]
    y1, y2 = list(fig.data[1].y), list(fig.data[2].y)
    live.controls["tau"].value = 0.5
    assert list(fig.data[1].y) != y1 and list(fig.data[2].y) == y2
    live.controls["C"].value = 100
    assert list(fig.data[2].y) != y2 and "every 100" in fig.layout.title.text


@pytest.mark.parametrize("kwargs, msg", [(dict(tau=0.0), "tau"), (dict(tau=1.5), "tau"), (dict(C=0), "C")])
def test_bad_input(kwargs, msg):
    with pytest.raises(ValueError, match=msg):
        polyak.compute(**kwargs)
