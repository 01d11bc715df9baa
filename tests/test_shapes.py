"""lib.shapes: rendered areas against geometry, exact rotation equivariance, codes, decoder training."""
import numpy as np
import pytest
import torch

from lib import shapes

# areas as a fraction of the [-1, 1]^2 canvas: square side 1; plus two 1.24 x 0.4 bars; triangle 3 sqrt(3) r^2
AREAS = {0: 1.0 / 4, 1: (2 * 1.24 * 0.4 - 0.16) / 4, 2: 3 * np.sqrt(3) * shapes._TRI_R_IN ** 2 / 4}


@pytest.mark.parametrize("kind", [0, 1, 2])
def test_area_matches_geometry_at_any_angle(kind):
    for angle in np.random.default_rng(kind).uniform(0, 2 * np.pi, 5):
        img = shapes.render_shape(kind, angle, size=32)
        assert img.min() >= 0 and img.max() <= 1
        assert img.mean() == pytest.approx(AREAS[kind], rel=0.03)


@pytest.mark.parametrize("kind", [0, 1, 2])
def test_quarter_turn_is_exact_rot90(kind):
    a = 0.37
    np.testing.assert_array_equal(shapes.render_shape(kind, a + np.pi / 2), np.rot90(shapes.render_shape(kind, a)))


def test_symmetries_and_scale():
    np.testing.assert_array_equal(shapes.render_shape(0, 0.0), shapes.render_shape(0, np.pi / 2))
    assert not np.array_equal(shapes.render_shape(2, 0.0), shapes.render_shape(2, np.pi / 2))
    assert shapes.render_shape(0, 0.3, scale=0.5, size=32).mean() == pytest.approx(AREAS[0] / 4, rel=0.05)


def test_make_shapes_codes_and_determinism():
    im, codes, kinds, angles = shapes.make_shapes(200, size=12, generator=3)
    assert im.shape == (200, 144) and codes.shape == (200, 5)
    np.testing.assert_array_equal(codes[:, :3].argmax(1), kinds)
    np.testing.assert_allclose(codes[:, :3].sum(1), 1.0)
    np.testing.assert_allclose(np.arctan2(codes[:, 4], codes[:, 3]) % (2 * np.pi), angles, atol=1e-5)
    np.testing.assert_array_equal(im[7].reshape(12, 12), shapes.render_shape(int(kinds[7]), angles[7], size=12))
    np.testing.assert_array_equal(shapes.make_shapes(200, size=12, generator=3)[0], im)
    assert set(np.unique(shapes.make_shapes(100, kinds=2, generator=0)[2])) == {0, 1}


def test_decoder_learns_the_code_to_image_map():
    im, codes, _, _ = shapes.make_shapes(600, size=12, generator=0)
    torch.manual_seed(0)
    dec = shapes.ShapeDecoder(hidden=64, size=12)
    losses = shapes.train_decoder(dec, codes, im, steps=800, lr=3e-3, generator=torch.Generator().manual_seed(0))
    baseline = float(((im - im.mean(0)) ** 2).mean())          # predicting the mean image
    assert np.mean(losses[-30:]) < 0.5 * baseline
    code = shapes.make_code([0.5, 0.5, 0.0], 0.3)
    assert code.shape == (1, 5) and dec(torch.tensor(code)).shape == (1, 144)


@pytest.mark.parametrize("call, msg", [
    (lambda: shapes.render_shape(3, 0.0), "kind"),
    (lambda: shapes.render_shape(0, np.nan), "angle"),
    (lambda: shapes.render_shape(0, 0.0, scale=0.0), "scale"),
    (lambda: shapes.render_shape(0, 0.0, size=2), "size"),
    (lambda: shapes.make_shapes(0), "n"),
    (lambda: shapes.make_shapes(5, kinds=4), "kinds"),
    (lambda: shapes.train_decoder(shapes.ShapeDecoder(), np.zeros((4, 5)), np.zeros((3, 256))), "images"),
])
def test_bad_input(call, msg):
    with pytest.raises(ValueError, match=msg):
        call()
