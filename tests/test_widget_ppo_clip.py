"""Widget W8 (PPO clip): the surface against torch autograd, both faces."""
import json

import numpy as np
import plotly.graph_objects as go
import pytest
import torch

from lib import plotting, rlhf
from lib.widgets import ppo_clip


@pytest.mark.parametrize("eps, adv", [(0.2, 1.0), (0.1, -2.0), (0.3, 0.5)])
def test_compute_matches_autograd(eps, adv):
    res = ppo_clip.compute(eps, adv)
    rho = torch.tensor(res["rho"][1:], dtype=torch.float64)  # log rho finite
    logp = torch.log(rho).requires_grad_(True)
    A = torch.full_like(rho, adv)
    val = rlhf.ppo_clip_objective(logp, torch.zeros_like(rho), A, eps, reduce=False)
    np.testing.assert_allclose(res["clipped"][1:], val.detach().numpy(), atol=1e-12)
    val.sum().backward()
    # d/d rho = (d/d log rho) / rho
    np.testing.assert_allclose(res["grad"][1:], (logp.grad / rho).numpy(), atol=1e-12)
    lo, hi = res["zero_grad"]
    inside = (res["rho"] > lo) & (res["rho"] < hi)
    assert np.all(res["grad"][inside] == 0) and np.all(res["grad"][~((res["rho"] >= lo) & (res["rho"] <= hi))] == adv)
    assert np.all(res["clipped"] <= res["unclipped"] + 1e-15)  # a pessimistic (lower) bound


def test_static_figure():
    fig = ppo_clip.figure()
    assert isinstance(fig, go.Figure) and plotting.missing_labels(fig) == []
    assert len(plotting.to_html(fig)) < 1_500_000
    json.loads(fig.to_json())
    s_eps, s_adv = fig.layout.sliders
    assert len(s_eps.steps) == len(ppo_clip.EPSILONS) and len(s_adv.steps) == len(ppo_clip.ADVANTAGES)
    assert s_eps.steps[0].args[0]["y"][2] != s_eps.steps[-1].args[0]["y"][2]
    assert s_adv.steps[0].args[0]["x"][0] != s_adv.steps[-1].args[0]["x"][0]  # shading flips side


def test_live_widget():
    runs = {0.2: dict(rho_max=np.array([1.1, 1.3]), rho_min=np.array([0.9, 0.7]))}
    live = ppo_clip.widget(bandit_runs=runs)
    fig, band = live.figures
    y0 = list(fig.data[2].y)
    live.controls["eps"].value = 0.4
    assert list(fig.data[2].y) != y0 and "0.4" in fig.layout.title.text
    x_shade = list(fig.data[0].x)
    live.controls["adv"].value = -1.0
    assert list(fig.data[0].x) != x_shade
    assert list(band.data[0].y) == [1.1, 1.3]


@pytest.mark.parametrize("kwargs, msg", [(dict(eps=0.0), "eps"), (dict(eps=1.5), "eps"),
                                         (dict(adv=np.nan), "adv"), (dict(rho=[-1.0, 1.0]), "rho")])
def test_bad_input(kwargs, msg):
    with pytest.raises(ValueError, match=msg):
        ppo_clip.compute(**kwargs)
