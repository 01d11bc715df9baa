"""Widget W6.2 (single denoising step): Gaussian closed forms, Tweedie against the grid posterior, both faces."""
import json

import numpy as np
import plotly.graph_objects as go
import pytest

from lib import plotting
from lib.widgets import denoise_step as W


@pytest.mark.parametrize("sigma", [0.3, 0.7])
def test_gaussian_case_matches_closed_forms(sigma):
    res = W.compute(sigma, "unimodal", y=1.0, n=200_000)
    s2 = sigma ** 2
    # exact posterior N(y / (1 + s2), s2 / (1 + s2)); Tweedie's mean is exact
    assert res["tweedie_mean"] == pytest.approx(1.0 / (1 + s2), rel=1e-12)
    assert res["exact_mean"] == pytest.approx(1.0 / (1 + s2), abs=1e-6)
    v = res["variances"]
    assert v["full"] == pytest.approx(1 / (1 + s2), rel=0.015)
    assert v["half"] == pytest.approx(1 + s2 ** 2 / (4 * (1 + s2)), rel=0.015)
    assert v["stochastic"] == pytest.approx(1 / (1 + s2) + s2, rel=0.015)   # the book's variance s2 overshoots


def test_bimodal_tweedie_is_the_grid_posterior_mean_and_the_approximation_is_normalised():
    for y in (-2.0, 0.3, 1.7):
        res = W.compute(0.8, "bimodal", y=y, n=1000)
        assert res["tweedie_mean"] == pytest.approx(res["exact_mean"], abs=1e-6)
        h = res["grid"][1] - res["grid"][0]
        assert res["approx"].sum() * h == pytest.approx(1.0, abs=1e-4)     # the grid cuts a thin tail
        assert res["posterior"].sum() * h == pytest.approx(1.0, abs=1e-12)


def test_static_figure():
    fig = W.figure()
    assert isinstance(fig, go.Figure) and plotting.missing_labels(fig) == []
    assert len(plotting.to_html(fig)) < 1_500_000
    json.loads(fig.to_json())
    steps = fig.layout.sliders[0].steps
    assert len(steps) == len(W.SIGMAS)
    assert steps[0].args[0]["y"][1] != steps[-1].args[0]["y"][1]


def test_live_widget():
    live = W.widget()
    fig = live.figures[0]
    y0 = list(fig.data[1].y)
    live.controls["sigma"].value = 1.2
    assert list(fig.data[1].y) != y0 and "1.2" in fig.layout.title.text
    p0 = list(fig.data[4].y)
    live.controls["y"].value = -2.0
    assert list(fig.data[4].y) != p0
    live.controls["shape"].value = "unimodal"
    assert list(fig.data[0].y) != p0


@pytest.mark.parametrize("kwargs, msg", [(dict(sigma=0.0), "sigma"), (dict(shape="trimodal"), "shape"),
                                         (dict(y=np.nan), "y")])
def test_bad_input(kwargs, msg):
    with pytest.raises(ValueError, match=msg):
        W.compute(**kwargs)
