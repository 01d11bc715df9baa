"""Widget W5.2 (attention_temperature): the variance of q.k, entropy with and without 1/sqrt(d_k), figures."""
import json
import math

import numpy as np
import plotly.graph_objects as go
import pytest
import torch

from lib import plotting
from lib.widgets import attention_temperature as at


def test_compute_matches_a_direct_numpy_softmax():
    res = at.compute(d_k=32, scaled=False, n_keys=8, n_queries=50, seed=4)
    gen = torch.Generator().manual_seed(4)
    q = torch.randn(50, 32, generator=gen, dtype=torch.float64).numpy()
    k = torch.randn(8, 32, generator=gen, dtype=torch.float64).numpy()
    s = q @ k.T
    a = np.exp(s - s.max(1, keepdims=True))
    a /= a.sum(1, keepdims=True)
    ent = -(a * np.log(np.where(a > 0, a, 1))).sum(1)
    assert res["entropy"] == pytest.approx(ent.mean(), rel=1e-10)
    np.testing.assert_allclose(res["example"], np.sort(a[0])[::-1], atol=1e-12)
    J = np.stack([np.diag(r) - np.outer(r, r) for r in a])
    assert res["jac_norm"] == pytest.approx(np.linalg.norm(J, axis=(1, 2)).mean(), rel=1e-8)
    assert res["score_std"] == pytest.approx(s.std(ddof=1), rel=1e-10)


@pytest.mark.parametrize("d_k", [4, 64, 512])
def test_score_spread_is_sqrt_d_k_unless_scaled(d_k):
    raw, scaled = at.compute(d_k, False, 32, 400, seed=1), at.compute(d_k, True, 32, 400, seed=1)
    assert raw["score_std"] == pytest.approx(math.sqrt(d_k), rel=0.1)
    assert scaled["score_std"] == pytest.approx(1.0, rel=0.1)


def test_entropy_collapses_without_the_scale():
    cv = at.curve((1, 16, 256, 1024), n_keys=16)
    assert np.ptp(cv[True]) < 0.25                                  # scaled: flat in d_k
    assert np.all(np.diff(cv[False]) < 0) and cv[False][-1] < 0.2   # raw: falls toward 0
    big = at.compute(1024, False)
    assert big["max_weight"] > 0.9 and np.isfinite(big["jac_norm"]) and big["jac_norm"] < 0.1


def test_static_figure():
    fig = at.figure()
    assert isinstance(fig, go.Figure) and not isinstance(fig, go.FigureWidget)
    assert plotting.missing_labels(fig) == []
    assert len(plotting.to_html(fig)) < 1_500_000
    json.loads(fig.to_json())
    steps = fig.layout.sliders[0].steps
    assert len(steps) == len(at.D_KS)
    assert steps[0].args[0]["y"][3] != steps[-1].args[0]["y"][3]   # the raw-logit bars change with d_k
    assert "d_k = 1024" in steps[-1].args[1]["title.text"]


def test_live_widget_updates():
    w = at.widget()
    fig = w.figures[0]
    bars = list(fig.data[4].y)
    w.controls["scaled"].value = False
    assert list(fig.data[4].y) != bars and "raw" in fig.layout.title.text
    curve_before = list(fig.data[1].y)
    w.controls["n_keys"].value = 8
    assert list(fig.data[1].y) != curve_before and len(fig.data[4].y) == 8
    w.controls["d_k"].value = 1024
    assert fig.data[4].y[0] > 0.9


def test_bad_inputs():
    with pytest.raises(ValueError, match="d_k"):
        at.compute(d_k=0)
    with pytest.raises(ValueError, match="n_keys"):
        at.compute(n_keys=1)
    with pytest.raises(TypeError, match="scaled"):
        at.compute(scaled="yes")
