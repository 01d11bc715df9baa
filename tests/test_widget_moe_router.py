"""Widget W6 (moe_router): compute against the MoE itself, the static figure, the live widget (untrained model)."""
import json

import numpy as np
import plotly.graph_objects as go
import pytest
import torch

from lib import plotting
from lib.moe import MoE
from lib.widgets import moe_router


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    m = MoE(1, n_experts=3, k=1, d_ff=4, d_out=1, router_bias=True)
    with torch.no_grad():
        m.router.proj.weight.copy_(torch.tensor([[-3.0], [0.0], [3.0]]))  # three regions along x
        m.router.proj.bias.copy_(torch.tensor([0.0, 2.0, 0.0]))  # expert 1 wins for |x| < 2/3
    return m


def test_compute(model):
    x = np.linspace(-2, 2, 41)
    res = moe_router.compute(model, x, k=1)
    with torch.no_grad():
        y = model(torch.tensor(x, dtype=torch.float32)[:, None])[:, 0].numpy()
    np.testing.assert_allclose(res["y"], y, atol=1e-6)
    assert res["top1"][0] == 0 and res["top1"][20] == 1 and res["top1"][-1] == 2
    assert ((res["gates"] > 0).sum(1) == 1).all() and (res["probs"] > 0).all()
    assert res["load"].sum() == pytest.approx(1.0)
    res2 = moe_router.compute(model, x, k=3)
    np.testing.assert_allclose(res2["gates"].sum(1), 1.0, atol=1e-6)
    sharp = moe_router.compute(model, x, k=1, temperature=0.1)
    assert sharp["gates"].max(1).mean() > res["gates"].max(1).mean()


def test_static_figure(model):
    x = np.linspace(-2, 2, 50)
    fig = moe_router.figure(model, x, np.sin(x), n_grid=60)
    assert isinstance(fig, go.Figure) and not isinstance(fig, go.FigureWidget)
    assert plotting.missing_labels(fig) == []
    assert len(plotting.to_html(fig)) < 1_500_000
    json.loads(fig.to_json())
    steps = fig.layout.sliders[0].steps
    assert len(steps) == 3 * len(moe_router.TEMPERATURES)
    assert steps[0].args[0]["y"][0] != steps[-1].args[0]["y"][0]


def test_live_widget_updates(model):
    x = np.linspace(-2, 2, 50)
    w = moe_router.widget(model, x, np.sin(x), n_grid=60)
    fig = w.figures[0]
    before = list(fig.data[1].y)
    w.controls["k"].value = 2
    assert list(fig.data[1].y) != before    # the middle expert now has a gate on both sides
    assert "k = 2" in fig.layout.title.text
    before = list(fig.data[0].y)
    w.controls["view"].value = "probs"
    assert list(fig.data[0].y) != before
    w.controls["temperature"].value = 5.0
    assert "temperature 5" in fig.layout.title.text


def test_bad_inputs(model):
    with pytest.raises(TypeError, match="model"):
        moe_router.compute(torch.nn.Linear(1, 1), [0.0])
    with pytest.raises(ValueError, match="model"):
        moe_router.compute(MoE(2, d_out=1), [0.0])
    with pytest.raises(ValueError, match="x"):
        moe_router.compute(model, np.zeros((2, 2)))
