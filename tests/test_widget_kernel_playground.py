"""Widget W3.1 (kernel_playground): compute against scipy's correlate2d, the static figure, the live widget."""
import json

import numpy as np
import plotly.graph_objects as go
import pytest
import scipy.ndimage
import scipy.signal

from lib import plotting
from lib.widgets import kernel_playground as kp

MAX_HTML = 1_000_000


@pytest.mark.parametrize("name", list(kp.KERNELS) + ["random"])
def test_compute_matches_scipy_correlate2d(name):
    rng = np.random.default_rng(hash(name) % 1000)
    img = rng.random((13, 17))
    k = kp.kernel(name, seed=3)
    same = scipy.signal.correlate2d(img, k, mode="same", boundary="fill")
    wrap = scipy.signal.correlate2d(img, k, mode="same", boundary="wrap")
    valid = scipy.signal.correlate2d(img, k, mode="valid")
    np.testing.assert_allclose(kp.compute(img, k)["out"], same, atol=1e-12)
    np.testing.assert_allclose(kp.compute(img, k, padding="circular")["out"], wrap, atol=1e-12)
    np.testing.assert_allclose(kp.compute(img, k, padding="none")["out"], valid, atol=1e-12)
    for s in (2, 3):
        np.testing.assert_allclose(kp.compute(img, k, stride=s)["out"], same[::s, ::s], atol=1e-12)
    np.testing.assert_allclose(kp.compute(img, k, relu=True)["out"], np.maximum(same, 0), atol=1e-12)


def test_presets_do_what_their_names_say():
    img = kp.image("photo", size=(40, 60))
    assert np.array_equal(kp.compute(img, kp.kernel("identity"))["out"], img)
    # blurs keep a constant image's interior; derivative kernels kill it
    flat = np.full((9, 9), 0.7)
    for name in ("box blur", "Gaussian", "sharpen"):
        np.testing.assert_allclose(kp.compute(flat, kp.kernel(name))["out"][1:-1, 1:-1], 0.7, atol=1e-12)
    for name in ("Sobel x", "Sobel y", "Laplacian"):
        np.testing.assert_allclose(kp.compute(flat, kp.kernel(name))["out"][1:-1, 1:-1], 0.0, atol=1e-12)
    # Sobel x answers a ramp in x, not one in y; the Gaussian is scipy's [1 2 1]/4 separable smoother
    ramp = np.tile(np.arange(9.0), (9, 1))
    assert np.allclose(kp.compute(ramp, kp.kernel("Sobel x"))["out"][1:-1, 1:-1], 8.0)
    assert np.allclose(kp.compute(ramp.T, kp.kernel("Sobel x"))["out"][1:-1, 1:-1], 0.0)
    smooth = scipy.ndimage.correlate1d(scipy.ndimage.correlate1d(img, [0.25, 0.5, 0.25], 0, mode="constant"),
                                       [0.25, 0.5, 0.25], 1, mode="constant")
    np.testing.assert_allclose(kp.compute(img, kp.kernel("Gaussian"))["out"], smooth, atol=1e-12)


def test_images():
    assert kp.image("photo").shape == (128, 192)
    assert kp.image("digit").shape == (8, 8)
    shapes = kp.image("shapes")
    assert shapes.shape == (32, 32) and set(np.unique(shapes)) == {0.0, 1.0}


def test_static_figure_slider_changes_output_and_stays_small():
    fig = kp.figure()
    assert isinstance(fig, go.Figure) and not isinstance(fig, go.FigureWidget)
    assert plotting.missing_labels(fig) == []
    assert len(fig.to_json()) < MAX_HTML and len(plotting.to_html(fig)) < MAX_HTML
    json.loads(fig.to_json())
    steps = fig.layout.sliders[0].steps
    assert [s.label for s in steps] == list(kp.KERNELS)
    zs = [np.array(s.args[0]["z"][0], dtype=float) for s in steps]
    assert all(z.shape == (64, 96) for z in zs)
    assert all(not np.allclose(zs[0], z) for z in zs[1:])
    assert all(list(s.args[2]) == [1] for s in steps)
    assert "Sobel x" in steps[3].args[1]["title.text"]


def test_live_widget_reacts_to_every_control():
    live = kp.widget(image_name="shapes", preset="identity")
    fig = live.figures[0]
    z0 = np.array(fig.data[1].z, dtype=float)
    np.testing.assert_allclose(z0, kp.image("shapes"), atol=1e-4)
    live.controls["preset"].value = "Laplacian"
    z1 = np.array(fig.data[1].z, dtype=float)
    assert not np.allclose(z0, z1) and live.controls["k11"].value == -4
    live.controls["relu"].value = True
    assert np.array(fig.data[1].z, dtype=float).min() >= 0
    live.controls["stride"].value = 2
    assert np.array(fig.data[1].z, dtype=float).shape == (16, 16) and "output 16×16" in fig.layout.title.text
    live.controls["padding"].value = "none"
    assert np.array(fig.data[1].z, dtype=float).shape == (15, 15)
    before = np.array(fig.data[1].z, dtype=float)
    live.controls["k00"].value = 3.0                 # editing one entry of the grid
    assert not np.allclose(before, np.array(fig.data[1].z, dtype=float))
    live.controls["image"].value = "digit"
    assert np.array(fig.data[0].z, dtype=float).shape == (8, 8)
    live.controls["preset"].value = "random"
    assert "random" in fig.layout.title.text


@pytest.mark.parametrize("call, exc, msg", [
    (lambda: kp.kernel("emboss"), ValueError, "name"),
    (lambda: kp.image("lena"), ValueError, "name"),
    (lambda: kp.compute(np.ones(5), np.ones((3, 3))), ValueError, "img"),
    (lambda: kp.compute(np.ones((5, 5)), np.ones((2, 2))), ValueError, "kernel"),
    (lambda: kp.compute(np.ones((5, 5)), np.ones((3, 3)), stride=0), ValueError, "stride"),
    (lambda: kp.compute(np.ones((5, 5)), np.ones((3, 3)), padding="reflect"), ValueError, "padding"),
    (lambda: kp.compute(np.full((5, 5), np.nan), np.ones((3, 3))), ValueError, "finite"),
    (lambda: kp.widget(image_name="x"), ValueError, "image_name"),
    (lambda: kp.widget(preset="x"), ValueError, "preset"),
])
def test_bad_input(call, exc, msg):
    with pytest.raises(exc, match=msg):
        call()
