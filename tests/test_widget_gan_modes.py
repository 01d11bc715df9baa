"""Widget W7.3 (mode collapse explorer): occupancy vs lib.sample_metrics, both faces, bad input."""
import json

import numpy as np
import plotly.graph_objects as go
import pytest
import torch

from lib import gan, plotting
from lib.gmm import ring_gmm
from lib.sample_metrics import mode_coverage, mode_weights
from lib.widgets import gan_modes

GM = ring_gmm(std=0.05, weights=[0.51] + [0.07] * 7)


def _fake_runs():
    """Synthetic snapshots with known coverage: mode k present iff k < covered."""
    rng = np.random.default_rng(0)
    means = GM.means.numpy()

    def snap(step, covered):
        k = rng.integers(0, covered, 400)
        return dict(step=step, samples=means[k] + 0.05 * rng.normal(size=(400, 2)),
                    grid=rng.random((12, 12)), lim=3.0)

    runs = {"GAN": {s: [snap(1, 1), snap(50, 3), snap(100, 5)] for s in (0, 1)},
            "WGAN-GP": {s: [snap(1, 2), snap(50, 6)] for s in (0, 1)},
            "DDPM": {s: [dict(step=100, samples=GM.sample(600, generator=torch.Generator().manual_seed(s))[0].numpy())]
                     for s in (0, 1)}}
    return runs


def test_compute_matches_sample_metrics():
    runs = _fake_runs()
    stats = gan_modes.compute(runs, GM.means, GM.weights)
    assert stats["GAN"][0]["covered"].tolist() == [1, 3, 5] and stats["WGAN-GP"][1]["covered"].tolist() == [2, 6]
    for m in runs:
        for s in runs[m]:
            for i, snap in enumerate(runs[m][s]):
                np.testing.assert_allclose(stats[m][s]["occupancy"][i], mode_weights(snap["samples"], GM.means),
                                           atol=1e-12)
                assert stats[m][s]["covered"][i] == mode_coverage(snap["samples"], GM.means, GM.weights)


def test_static_figure():
    runs = _fake_runs()
    fig = gan_modes.figure(runs, GM.means, GM.weights)
    assert isinstance(fig, go.Figure) and plotting.missing_labels(fig) == []
    assert len(plotting.to_html(fig)) < 1_500_000
    json.loads(fig.to_json())
    s_gan, s_wgan = fig.layout.sliders
    assert len(s_gan.steps) == 3 and len(s_wgan.steps) == 2
    a, b = s_gan.steps[0].args[0], s_gan.steps[-1].args[0]
    assert a["x"][1] != b["x"][1] and a["y"][2] != b["y"][2] and a["z"][0] != b["z"][0]
    assert "1 of 8" in s_gan.steps[0].args[1]["title.text"]


def test_live_widget():
    live = gan_modes.widget(_fake_runs(), GM.means, GM.weights)
    (fig,) = live.figures
    assert "GAN, seed 0" in fig.layout.title.text
    y0 = list(fig.data[1].y)
    live.controls["step"].value = 0
    assert list(fig.data[1].y) != y0 and "1 of 8" in fig.layout.title.text
    live.controls["method"].value = "WGAN-GP"
    assert "WGAN-GP" in fig.layout.title.text
    ddpm0 = list(fig.data[5].y)
    live.controls["seed"].value = 1
    assert "seed 1" in fig.layout.title.text and list(fig.data[5].y) != ddpm0


def test_real_snapshots_from_train_gan():
    X, _ = GM.sample(2000, generator=torch.Generator().manual_seed(0))
    torch.manual_seed(0)
    snaps = gan.train_gan(gan.MLPGenerator(hidden=16), gan.MLPDiscriminator(hidden=16), X, "ns", steps=20, batch=32,
                          snapshot_every=10, grid_n=8)["snapshots"]
    fig = gan_modes.figure({"GAN": {0: snaps}}, GM.means, GM.weights)
    assert len(fig.layout.sliders[0].steps) == 3


@pytest.mark.parametrize("args, msg", [(({}, GM.means, GM.weights), "runs"),
                                       (({"GAN": {0: []}}, GM.means, GM.weights), "runs"),
                                       (({"GAN": {0: [dict(step=1, samples=np.zeros((3, 2)))]}}, GM.means,
                                         [0.5, 0.5]), "weights")])
def test_bad_input(args, msg):
    with pytest.raises(ValueError, match=msg):
        gan_modes.compute(*args)
