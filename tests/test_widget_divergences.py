"""Widget W7.4 (divergences for shifted copies): closed forms, scipy, and both faces."""
import json
import math

import numpy as np
import plotly.graph_objects as go
import pytest
from scipy.spatial.distance import jensenshannon
from scipy.stats import wasserstein_distance

from lib import plotting
from lib.widgets import divergences


@pytest.mark.parametrize("theta, width", [(0.5, 1.0), (2.0, 0.5), (1.25, 0.2)])
def test_gaussian_closed_forms(theta, width):
    r = divergences.compute(theta, width)
    assert r["kl"] == pytest.approx(theta ** 2 / (2 * width ** 2), rel=2e-3)  # KL of equal-variance Gaussians
    assert r["w1"] == pytest.approx(theta, rel=2e-3)
    assert r["jsd"] == pytest.approx(jensenshannon(r["p"], r["q"]) ** 2, rel=1e-8)
    assert r["w1"] == pytest.approx(wasserstein_distance(r["x"], r["x"], r["p"], r["q"]), rel=1e-6)
    np.testing.assert_allclose(r["d_star"], r["p"] / (r["p"] + r["q"] + 1e-300), atol=1e-12)
    # the critic is 1-Lipschitz and attains W1: E_p f - E_q f = W1
    dx = r["x"][1] - r["x"][0]
    assert np.all(np.abs(np.diff(r["critic"])) <= dx + 1e-12)
    gain = ((r["p"] - r["q"]) * r["critic"]).sum() * dx
    assert gain == pytest.approx(r["w1"], abs=3 * dx)


@pytest.mark.parametrize("theta", [1.0, 2.5, 4.0])
def test_disjoint_supports(theta):
    r = divergences.compute(theta, 0.0)  # point masses
    assert r["jsd"] == pytest.approx(math.log(2), rel=1e-12)
    assert r["kl"] == math.inf
    assert r["w1"] == pytest.approx(theta, abs=0.03)
    assert divergences.compute(0.0, 0.05)["jsd"] == 0.0


def test_static_figure():
    fig = divergences.figure()
    assert isinstance(fig, go.Figure) and plotting.missing_labels(fig) == []
    assert len(plotting.to_html(fig)) < 1_500_000
    json.loads(fig.to_json())
    s_theta, s_width = fig.layout.sliders
    assert len(s_theta.steps) == len(divergences.THETAS) and len(s_width.steps) == len(divergences.WIDTHS)
    assert s_theta.steps[1].args[0]["y"][1] != s_theta.steps[-1].args[0]["y"][1]
    assert s_width.steps[0].args[0]["y"][4] != s_width.steps[-1].args[0]["y"][4]  # JSD curve depends on width


def test_live_widget():
    live = divergences.widget()
    (fig,) = live.figures
    q0 = list(fig.data[1].y)
    live.controls["theta"].value = 3.0
    assert list(fig.data[1].y) != q0 and "θ = 3" in fig.layout.title.text
    jsd0 = list(fig.data[4].y)
    live.controls["width"].value = 1.0
    assert list(fig.data[4].y) != jsd0


@pytest.mark.parametrize("kwargs, msg", [(dict(width=-0.1), "width"), (dict(theta=np.nan), "theta"),
                                         (dict(theta=20.0), "theta"), (dict(x=[0.0, 0.0, 1.0]), "x")])
def test_bad_input(kwargs, msg):
    with pytest.raises(ValueError, match=msg):
        divergences.compute(**kwargs)
