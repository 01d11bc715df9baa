"""Widget W7.1 (VAE latent walk): the path and images against the model, both faces."""
import json

import numpy as np
import plotly.graph_objects as go
import pytest
import torch

from lib import plotting
from lib import vae as V
from lib.data import digits_tensors
from lib.widgets import vae_latent


@pytest.fixture(scope="module")
def setup():
    X, y = digits_tensors(as_images=False)
    X, y = X[:300], y[:300]
    torch.manual_seed(0)
    vae = V.VAE(V.GaussianEncoder(64, 32, 2), V.BernoulliDecoder(2, 32, 64))
    V.train_vae(vae, X, steps=100, batch=64, generator=torch.Generator().manual_seed(0))
    return vae, X, y.numpy()


def test_compute_matches_the_model(setup):
    vae, X, y = setup
    res = vae_latent.compute(vae, X, 3, 7, lambdas=[0.0, 0.5, 1.0])
    with torch.no_grad():
        mu = vae.encode(X)[0]
        torch.testing.assert_close(torch.tensor(res["latent"][0].ravel()), vae.decode(mu[3:4])[0])
    np.testing.assert_allclose(res["mu"], mu.numpy())
    np.testing.assert_allclose(res["z"][1], 0.5 * (res["z"][0] + res["z"][2]), atol=1e-6)
    np.testing.assert_allclose(res["pixel"][0].ravel(), X[3].numpy())
    np.testing.assert_allclose(res["pixel"][2].ravel(), X[7].numpy())
    sl = vae_latent.compute(vae, X, 3, 7, lambdas=np.linspace(0, 1, 5), mode="slerp")
    np.testing.assert_allclose(sl["z"][[0, -1]], res["z"][[0, -1]], atol=1e-6)
    grid = vae_latent.manifold(vae, n=5)
    assert grid.shape == (40, 40) and 0 <= grid.min() and grid.max() <= 1


def test_static_figure(setup):
    vae, X, y = setup
    fig = vae_latent.figure(vae, X, y, 3, 7)
    assert isinstance(fig, go.Figure) and plotting.missing_labels(fig) == []
    assert len(plotting.to_html(fig)) < 1_500_000
    json.loads(fig.to_json())
    steps = fig.layout.sliders[0].steps
    assert len(steps) == len(vae_latent.LAMBDAS)
    assert not np.allclose(np.asarray(steps[0].args[0]["z"][0]), np.asarray(steps[-1].args[0]["z"][0]))
    assert steps[0].args[1]["shapes"][0]["x0"] != steps[-1].args[1]["shapes"][0]["x0"]


def test_live_widget(setup):
    vae, X, y = setup
    live = vae_latent.widget(vae, X, y, 3, 7)
    fig = live.figures[0]
    z0 = np.array(fig.data[11].z)
    live.controls["lam"].value = 0.9
    assert not np.allclose(np.array(fig.data[11].z), z0)
    live.controls["mode"].value = "pixel"
    np.testing.assert_allclose(np.array(fig.data[11].z), np.array(fig.data[12].z))
    title = fig.layout.title.text
    live.controls["class_b"].value = (int(y[7]) + 1) % 10
    assert fig.layout.title.text != title
    live.controls["random"].click()
    assert "VAE latent walk" in fig.layout.title.text


@pytest.mark.parametrize("kwargs, exc, msg", [
    (dict(ia=-1), ValueError, "ia"), (dict(ib=10_000), ValueError, "ib"),
    (dict(mode="cubic"), ValueError, "mode"), (dict(lambdas=[1.5]), ValueError, "lambdas"),
])
def test_bad_input(setup, kwargs, exc, msg):
    vae, X, y = setup
    args = dict(ia=0, ib=1) | kwargs
    with pytest.raises(exc, match=msg):
        vae_latent.compute(vae, X, **args)
    with pytest.raises(TypeError, match="X"):
        vae_latent.compute(vae, X.numpy(), 0, 1)
