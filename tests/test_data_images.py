"""The Chapter 3 image data in lib.data: sklearn digits and photos, shifted canvases, synthetic shapes."""
import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits, load_sample_image

from lib import data


def test_digits_tensors_match_sklearn():
    X, y = data.digits_tensors()
    d = load_digits()
    assert X.shape == (1797, 1, 8, 8) and X.dtype == torch.float32 and y.dtype == torch.long
    np.testing.assert_allclose(X.reshape(1797, 64).numpy(), d.data / 16, atol=1e-7)
    assert torch.equal(y, torch.tensor(d.target))
    assert 0 <= X.min() and X.max() == 1
    Xf, _ = data.digits_tensors(as_images=False, dtype=torch.float64)
    assert Xf.shape == (1797, 64) and Xf.dtype == torch.float64


def test_shifted_digits_are_exact_translations():
    X, _ = data.digits_tensors(dtype=torch.float64)
    X = X[:200]
    S, shifts = data.shifted_digits(X, max_shift=2, pad=2, seed=3, return_shifts=True)
    assert S.shape == (200, 1, 12, 12)
    assert shifts.abs().max() == 2 and shifts.min() == -2          # the whole range is used
    assert len({tuple(s) for s in shifts.tolist()}) > 15
    for n in range(200):
        dy, dx = shifts[n].tolist()
        window = S[n, 0, 2 + dy:10 + dy, 2 + dx:10 + dx]
        assert torch.equal(window, X[n, 0])                       # the digit, moved intact
        assert S[n].sum() == pytest.approx(X[n].sum())            # nothing else on the canvas
    assert torch.equal(data.shifted_digits(X, seed=3), S)         # seeded
    assert not torch.equal(data.shifted_digits(X, seed=4), S)
    assert torch.equal(data.shifted_digits(X, max_shift=0, pad=1)[:, :, 1:9, 1:9], X)


def test_sample_image_shapes_and_values():
    g = data.sample_image()
    assert g.shape == (128, 192) and g.dtype == np.float64 and 0 <= g.min() and g.max() <= 1
    c = data.sample_image("flower.jpg", gray=False, size=(32, 48))
    assert c.shape == (32, 48, 3)
    full = data.sample_image(gray=False, size=None)
    np.testing.assert_allclose(full, load_sample_image("china.jpg") / 255.0)
    # the area filter keeps the mean brightness
    assert abs(data.sample_image(size=(61, 80)).mean() - data.sample_image(size=None).mean()) < 0.01


def test_bars_and_crosses_classes_are_what_they_say():
    X, y = data.bars_and_crosses(200, size=16, seed=1)
    assert X.shape == (200, 1, 16, 16) and X.dtype == torch.float32 and y.dtype == torch.long
    assert torch.bincount(y).tolist() == [50, 50, 50, 50]
    for img, cls in zip(X[:, 0], y.tolist()):
        rows = (img.sum(1) > 0).sum().item()
        cols = (img.sum(0) > 0).sum().item()
        if cls == 0:
            assert rows == 1 and cols >= 3
        elif cls == 1:
            assert cols == 1 and rows >= 3
        elif cls == 2:   # two bars crossing: one full row and one full column of the bounding box
            assert rows >= 3 and cols >= 3 and img.sum() == rows + cols - 1
        else:            # square outline: 4 (side - 1) pixels
            assert rows == cols and img.sum() == 4 * (rows - 1)
    assert torch.equal(data.bars_and_crosses(20, seed=5)[0], data.bars_and_crosses(20, seed=5)[0])


def test_bad_inputs():
    with pytest.raises(TypeError, match="dtype"):
        data.digits_tensors(dtype=torch.int64)
    X, _ = data.digits_tensors()
    with pytest.raises(ValueError, match="max_shift"):
        data.shifted_digits(X[:5], max_shift=3, pad=2)
    with pytest.raises(ValueError, match="X"):
        data.shifted_digits(X[:5, 0])
    with pytest.raises(ValueError, match="name"):
        data.sample_image("lena.png")
    with pytest.raises(ValueError, match="size"):
        data.sample_image(size=(0, 10))
    with pytest.raises(ValueError, match="size"):
        data.bars_and_crosses(10, size=4)
    with pytest.raises(ValueError, match="n"):
        data.bars_and_crosses(0)
