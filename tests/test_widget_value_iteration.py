"""Widget: value-iteration stepper, against the linear solve and the contraction bound."""
import json

import numpy as np
import plotly.graph_objects as go
import pytest

from lib import plotting
from lib.rl import mdp
from lib.widgets import value_iteration as vi


@pytest.mark.parametrize("name", list(vi.MAPS))
def test_compute_converges_to_linear_solve(name):
    res = vi.compute(name, gamma=0.9, slip=0.2, k_max=500)
    m = vi.build(name, 0.9, 0.2)
    pi, v, _ = mdp.policy_iteration(m)
    np.testing.assert_allclose(res["V"][-1].ravel(), v, atol=1e-8)
    np.testing.assert_allclose(res["v_star"].ravel(), v, atol=1e-8)
    assert np.all(res["error"] <= res["bound"] + 1e-9)          # the gamma^k envelope
    assert res["pi_iterations"] < res["vi_iterations"]
    terminal = np.array([c in "GH" for c in "".join(m.layout)])
    assert np.all(res["arrows"][-1].ravel()[terminal] == "")


def test_frozenlake_matches_gymnasium_value():
    res = vi.compute("FrozenLake 4x4", gamma=0.99, slip=2 / 3, k_max=1000)
    assert abs(res["v_star"][0, 0] - 0.5420) < 1e-4


def test_static_figure():
    fig = vi.figure()
    assert isinstance(fig, go.Figure) and plotting.missing_labels(fig) == []
    assert len(plotting.to_html(fig)) < 1_500_000
    json.loads(fig.to_json())
    steps = fig.layout.sliders[0].steps
    assert steps[0].args[0]["z"][0] != steps[-1].args[0]["z"][0]


def test_live_widget():
    live = vi.widget()
    fig = live.figures[0]
    z0 = [list(r) for r in fig.data[0].z]
    live.controls["k"].value = 4
    assert [list(r) for r in fig.data[0].z] != z0 and "k = 4" in fig.layout.title.text
    live.controls["name"].value = "CliffWalking"
    assert len(fig.data[0].z[0]) == 12
    e0 = list(fig.data[1].y)
    live.controls["gamma"].value = 0.5
    assert list(fig.data[1].y) != e0


@pytest.mark.parametrize("kwargs, msg", [(dict(gamma=1.0), "gamma"), (dict(name="Go"), "name"),
                                         (dict(k_max=0), "k_max"), (dict(slip=2.0), "slip")])
def test_bad_input(kwargs, msg):
    with pytest.raises(ValueError, match=msg):
        vi.compute(**kwargs)
