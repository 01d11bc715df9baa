"""Widget W2.2 (softmax): compute against scipy/torch, shift invariance, temperature limits, both faces."""
import json

import numpy as np
import plotly.graph_objects as go
import pytest
import scipy.special as sp
import torch
from torch.nn import functional as F

from lib import plotting
from lib.widgets import softmax as smw


@pytest.mark.parametrize("T, y", [(0.3, 0), (1.0, 2), (7.0, 3)])
def test_compute_matches_scipy_and_torch(T, y):
    s = np.array([1.3, -0.4, 2.2, 0.0])
    res = smw.compute(s, T, y)
    np.testing.assert_allclose(res["p"], sp.softmax(s / T), rtol=1e-12)
    z = torch.tensor(s / T, requires_grad=True)
    loss = F.cross_entropy(z[None], torch.tensor([y]))
    loss.backward()
    np.testing.assert_allclose(res["loss"], loss.item(), rtol=1e-12)
    np.testing.assert_allclose(res["grad"], z.grad.numpy(), rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(res["entropy"], -(sp.softmax(s / T) * sp.log_softmax(s / T)).sum(), rtol=1e-12)
    np.testing.assert_allclose(res["lse"], sp.logsumexp(s / T), rtol=1e-14)


def test_shift_invariance_and_temperature_limits():
    s = np.array([2.0, 1.0, 0.2, -1.0])
    base = smw.compute(s, 1.0, 1)
    shifted = smw.compute(s, 1.0, 1, shift=1000.0)
    np.testing.assert_allclose(shifted["p"], base["p"], rtol=1e-12)
    np.testing.assert_allclose(shifted["lse"], base["lse"] + 1000.0, rtol=1e-14)
    np.testing.assert_allclose(smw.compute(s, 1e-4)["p"], smw.compute(s)["hard"], atol=1e-12)
    np.testing.assert_allclose(smw.compute(s, 1e6)["p"], 0.25, atol=1e-5)
    assert np.isclose(smw.compute(s, 1e6)["entropy"], np.log(4), rtol=1e-5)


def test_static_figure():
    fig = smw.figure()
    assert isinstance(fig, go.Figure) and not isinstance(fig, go.FigureWidget)
    assert plotting.missing_labels(fig) == [] and len(plotting.to_html(fig)) < 1_500_000
    json.loads(fig.to_json())
    steps = fig.layout.sliders[0].steps
    assert len(steps) == len(smw.TEMPERATURES)
    p_cold, p_hot = steps[0].args[0]["y"][0], steps[-1].args[0]["y"][0]
    assert max(p_cold) > 0.99 and max(p_hot) < 0.35
    assert steps[0].args[0]["y"][1] == [1.0, 0.0, 0.0, 0.0]  # the hardmax does not depend on T


def test_live_widget():
    live = smw.widget()
    fig = live.figures[0]
    p0 = list(fig.data[0].y)
    live.controls["shift"].value = 500.0
    np.testing.assert_allclose(fig.data[0].y, p0, atol=1e-5)  # shift invariance, visible
    live.controls["s4"].value = 4.0
    assert list(fig.data[0].y) != p0 and list(fig.data[1].y) == [0.0, 0.0, 0.0, 1.0]
    g0 = list(fig.data[2].y)
    live.controls["true_class"].value = 3
    assert list(fig.data[2].y) != g0 and "p_4" in fig.layout.title.text
    live.controls["T"].value = 10.0
    assert max(fig.data[0].y) < 0.5


@pytest.mark.parametrize("kwargs, msg", [(dict(logits=[1.0]), "logits"), (dict(T=0.0), "T"),
                                         (dict(true_class=4), "true_class"), (dict(shift=np.inf), "shift")])
def test_bad_input(kwargs, msg):
    with pytest.raises(ValueError, match=msg):
        smw.compute(**kwargs)
