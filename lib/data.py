"""Offline datasets: small real tables shipped with the course, and seeded synthetic generators.

Nothing here downloads anything. The real tables live in ``lib/datafiles/`` (see its README for
their sources); everything else is generated from an explicit seed, so every notebook is repeatable.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

DATA_DIR = Path(__file__).resolve().parent / "datafiles"


def _check_positive_int(name: str, value, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name}: expected an integer >= {minimum}, got {value!r}")
    return int(value)


def _check_nonnegative(name: str, value) -> float:
    if not np.isscalar(value) or not np.isfinite(value) or value < 0:
        raise ValueError(f"{name}: expected a finite number >= 0, got {value!r}")
    return float(value)


# --------------------------------------------------------------------------- Galton and Pearson-Lee
def galton_families() -> pd.DataFrame:
    """Galton's 934 adult children in 205 families (heights in inches), plus a 0/1 ``male`` column."""
    df = pd.read_csv(DATA_DIR / "galton_families.csv", dtype={"family": str})
    df["male"] = (df["gender"] == "male").astype(int)
    return df


def galton_sons() -> tuple[np.ndarray, np.ndarray]:
    """(father, son) heights in inches for the 481 sons in Galton's families."""
    df = galton_families()
    sons = df[df["male"] == 1]
    return sons["father"].to_numpy(float), sons["childHeight"].to_numpy(float)


def pearson_lee_father_son() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pearson and Lee's binned father-son heights: (father, son, frequency); frequencies sum to 1078."""
    df = pd.read_csv(DATA_DIR / "pearson_lee_father_son.csv")
    return df["father"].to_numpy(float), df["son"].to_numpy(float), df["frequency"].to_numpy(float)


def galton_like(n: int = 500, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Synthetic father/son heights: bivariate normal with Galton's means, SDs and r = 0.392."""
    n = _check_positive_int("n", n, 2)
    mean = np.array([69.1, 69.2])
    sd = np.array([2.30, 2.62])
    r = 0.392
    cov = np.array([[sd[0] ** 2, r * sd[0] * sd[1]], [r * sd[0] * sd[1], sd[1] ** 2]])
    xy = np.random.default_rng(seed).multivariate_normal(mean, cov, size=n)
    return xy[:, 0], xy[:, 1]


# --------------------------------------------------------------------------- synthetic regression
TARGETS = {
    "sin": lambda x: np.sin(np.pi * x),
    "step": lambda x: np.where(x < 0.0, -0.5, 0.5),
    "bump": lambda x: np.exp(-8.0 * x ** 2),
    "cubic": lambda x: x ** 3 - 0.5 * x,
}


def make_1d_regression(n: int = 20, f: str = "sin", sigma: float = 0.1, design: str = "jitter",
                       seed: int = 0, jitter: float = 0.4):
    """Noisy samples ``y = f(x) + sigma * noise`` with ``x`` in [-1, 1]; returns ``(x, y, f)``.

    ``design`` places the inputs: ``"grid"`` at cell centres ``-1 + (i + 1/2) 2/n``; ``"jitter"`` the
    same moved by ``U(-jitter, jitter)`` cell widths (quasi-uniform, never two points in one cell);
    ``"uniform"`` i.i.d. uniform (close pairs happen). ``x`` is returned sorted.
    """
    n = _check_positive_int("n", n, 2)
    sigma = _check_nonnegative("sigma", sigma)
    if f not in TARGETS:
        raise ValueError(f"f: expected one of {sorted(TARGETS)}, got {f!r}")
    if not 0 <= jitter < 0.5:
        raise ValueError(f"jitter: expected a number in [0, 0.5), got {jitter!r}")
    rng = np.random.default_rng(seed)
    centres = np.arange(n) + 0.5
    if design == "grid":
        x = -1 + centres * 2 / n
    elif design == "jitter":
        x = -1 + (centres + rng.uniform(-jitter, jitter, n)) * 2 / n
    elif design == "uniform":
        x = np.sort(rng.uniform(-1, 1, n))
    else:
        raise ValueError(f"design: expected 'grid', 'jitter' or 'uniform', got {design!r}")
    fn = TARGETS[f]
    y = fn(x) + sigma * rng.standard_normal(n)
    return x, y, fn


def make_relu_teacher(n: int, d: int, sigma: float, seed: int = 0, n_test: int = 500) -> dict:
    """A one-neuron teacher ``y = max(0, w* . x) + sigma * noise`` with ``x ~ N(0, I_d)``, ``|w*| = 1``.

    Returns ``dict(X, y, Xt, yt, w_star)``; the test targets ``yt`` are noiseless.
    """
    n = _check_positive_int("n", n)
    d = _check_positive_int("d", d)
    n_test = _check_positive_int("n_test", n_test)
    sigma = _check_nonnegative("sigma", sigma)
    rng = np.random.default_rng(seed)
    w = rng.standard_normal(d)
    w /= np.linalg.norm(w)
    X, Xt = rng.standard_normal((n, d)), rng.standard_normal((n_test, d))
    y = np.maximum(X @ w, 0) + sigma * rng.standard_normal(n)
    return dict(X=X, y=y, Xt=Xt, yt=np.maximum(Xt @ w, 0), w_star=w)


def make_logistic_blobs(n: int = 200, sep: float = 2.0, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two Gaussian blobs in 2-D with unit covariance, centres ``(+-sep/2, +-sep/2)/sqrt(2)``; labels 0/1."""
    n = _check_positive_int("n", n, 2)
    sep = _check_nonnegative("sep", sep)
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    centre = sep / 2 / np.sqrt(2) * np.array([1.0, 1.0])
    X = rng.standard_normal((n, 2)) + np.where(y[:, None] == 1, centre, -centre)
    return X, y


def make_separable(n: int = 40, seed: int = 0, margin: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """Linearly separable 2-D data: labels from the sign of ``x1 + x2``, with a gap of ``2 * margin``."""
    n = _check_positive_int("n", n, 2)
    margin = _check_nonnegative("margin", margin)
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    X = rng.standard_normal((n, 2))
    normal = np.array([1.0, 1.0]) / np.sqrt(2)
    # move every point so that its signed distance to the line x1 + x2 = 0 is at least `margin`
    dist = X @ normal
    want = np.where(y == 1, 1.0, -1.0) * (margin + np.abs(dist))
    X = X + (want - dist)[:, None] * normal
    return X, y


# =========================================================================== Chapter 3: images
# Image data for the convolution chapter, all offline: sklearn's bundled 8x8 digits and sample photos,
# and a seeded synthetic shape task. Images come back as torch tensors of shape (N, 1, H, W).
import torch  # noqa: E402  (only this section needs torch)

SHAPE_CLASSES = ("horizontal bar", "vertical bar", "cross", "square outline")


def digits_tensors(as_images: bool = True, dtype: torch.dtype = torch.float32):
    """sklearn's 1,797 handwritten digits scaled to [0, 1]: ``X`` (1797, 1, 8, 8) or (1797, 64), ``y`` (1797,) int64."""
    from sklearn.datasets import load_digits
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise TypeError(f"dtype: expected a floating torch.dtype, got {dtype!r}")
    d = load_digits()
    X = torch.tensor(d.data / 16.0, dtype=dtype)
    if as_images:
        X = X.reshape(-1, 1, 8, 8)
    return X, torch.tensor(d.target, dtype=torch.long)


def shifted_digits(X, max_shift: int = 2, pad: int = 2, seed: int = 0, return_shifts: bool = False):
    """Place every image on a canvas with ``pad`` zeros per side and move it by a random (dy, dx).

    ``X`` (N, 1, h, w) -> (N, 1, h + 2 pad, w + 2 pad); the shifts are independent uniform integers in
    ``[-max_shift, max_shift]`` (seeded), and ``max_shift <= pad`` so no ink wraps around the canvas.
    With ``return_shifts`` also returns the (N, 2) int64 tensor of (dy, dx).
    """
    if not isinstance(X, torch.Tensor) or X.ndim != 4:
        raise ValueError(f"X: expected a tensor of shape (N, C, h, w), got {getattr(X, 'shape', type(X).__name__)}")
    pad = int(_check_positive_int("pad", pad, 0))
    max_shift = int(_check_positive_int("max_shift", max_shift, 0))
    if max_shift > pad:
        raise ValueError(f"max_shift: expected at most pad = {pad} so nothing wraps around, got {max_shift}")
    canvas = torch.nn.functional.pad(X, (pad, pad, pad, pad))
    shifts = torch.tensor(np.random.default_rng(seed).integers(-max_shift, max_shift + 1, (X.shape[0], 2)))
    out = torch.empty_like(canvas)
    for n, (dy, dx) in enumerate(shifts.tolist()):
        out[n] = torch.roll(canvas[n], shifts=(dy, dx), dims=(1, 2))
    return (out, shifts) if return_shifts else out


def sample_image(name: str = "china.jpg", gray: bool = True, size=(128, 192)) -> np.ndarray:
    """One of sklearn's bundled photos ("china.jpg", "flower.jpg") as floats in [0, 1].

    Resized to ``size = (H, W)`` (None keeps 427 x 640) with Pillow's area filter; ``gray`` converts
    with the luma weights 0.299 R + 0.587 G + 0.114 B. Returns (H, W) if gray else (H, W, 3), numpy layout.
    """
    from PIL import Image
    from sklearn.datasets import load_sample_image
    if name not in ("china.jpg", "flower.jpg"):
        raise ValueError(f"name: expected 'china.jpg' or 'flower.jpg', got {name!r}")
    img = load_sample_image(name)                                    # (427, 640, 3) uint8
    if size is not None:
        if (not isinstance(size, (tuple, list)) or len(size) != 2
                or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= 1 for v in size)):
            raise ValueError(f"size: expected None or a pair of positive ints (H, W), got {size!r}")
        img = np.asarray(Image.fromarray(img).resize((int(size[1]), int(size[0])), Image.Resampling.BOX))
    img = img.astype(np.float64) / 255.0
    if gray:
        img = img @ np.array([0.299, 0.587, 0.114])
    return img


def bars_and_crosses(n: int, size: int = 16, seed: int = 0):
    """A synthetic 4-class image task, the classes of ``SHAPE_CLASSES`` at random positions and sizes.

    Horizontal bar, vertical bar, cross (both bars through one point) and a square outline, drawn with
    value 1 on a zero background, one pixel thick. Classes are balanced (``y = i mod 4``, then shuffled).
    Returns ``X`` (n, 1, size, size) float32 and ``y`` (n,) int64.
    """
    n = _check_positive_int("n", n)
    size = _check_positive_int("size", size, 8)
    rng = np.random.default_rng(seed)
    y = rng.permutation(np.arange(n) % 4)
    X = np.zeros((n, 1, size, size), dtype=np.float32)
    for i, cls in enumerate(y):
        img = X[i, 0]
        length = int(rng.integers(max(3, size // 3), size - 1))
        r0, c0 = (int(v) for v in rng.integers(0, size - length + 1, 2))   # top-left of the shape's box
        r_mid, c_mid = (int(v) for v in rng.integers(1, length - 1, 2))    # a cross crosses inside
        if cls == 0:
            img[r0 + r_mid, c0:c0 + length] = 1
        elif cls == 1:
            img[r0:r0 + length, c0 + c_mid] = 1
        elif cls == 2:
            img[r0 + r_mid, c0:c0 + length] = 1
            img[r0:r0 + length, c0 + c_mid] = 1
        else:
            side = max(4, length // 2 + 2)
            r0, c0 = (int(v) for v in rng.integers(0, size - side + 1, 2))
            img[r0, c0:c0 + side] = img[r0 + side - 1, c0:c0 + side] = 1
            img[r0:r0 + side, c0] = img[r0:r0 + side, c0 + side - 1] = 1
    return torch.from_numpy(X), torch.from_numpy(y.astype(np.int64))


# =========================================================================== Chapter 9: trees and boosting
# Seeded synthetic data for the trees/boosting chapter. Every generator takes an integer ``seed`` and
# returns numpy arrays; labels are int64.
def _check_seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed: expected a non-negative integer, got {seed!r}")
    return int(seed)


def make_height_weight(n: int = 400, seed: int = 0, means=((165.0, 62.0), (178.0, 80.0)),
                       sds=((7.0, 9.0), (7.0, 11.0)), corr: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """SYNTHETIC (height cm, weight kg) pairs from a two-Gaussian mixture, for the split examples.

    Not measured data: class ``k`` (0 or 1, balanced: ``n // 2`` and ``n - n // 2`` points, shuffled)
    is bivariate normal with mean ``means[k]``, standard deviations ``sds[k]`` and within-class
    correlation ``corr``. Returns ``X`` (n, 2) float64 with columns (height, weight) and ``y`` (n,) int64.
    """
    n = _check_positive_int("n", n, 2)
    seed = _check_seed(seed)
    means, sds = np.asarray(means, dtype=float), np.asarray(sds, dtype=float)
    if means.shape != (2, 2) or not np.all(np.isfinite(means)):
        raise ValueError(f"means: expected two finite (height, weight) pairs, got {means.tolist()!r}")
    if sds.shape != (2, 2) or not np.all(np.isfinite(sds)) or np.any(sds <= 0):
        raise ValueError(f"sds: expected two pairs of positive standard deviations, got {sds.tolist()!r}")
    if not np.isscalar(corr) or not -1 < corr < 1:
        raise ValueError(f"corr: expected a number in (-1, 1), got {corr!r}")
    rng = np.random.default_rng(seed)
    y = rng.permutation(np.arange(n) % 2)
    z = rng.standard_normal((n, 2))
    z[:, 1] = corr * z[:, 0] + np.sqrt(1 - corr ** 2) * z[:, 1]      # correlated standard normals
    X = means[y] + sds[y] * z
    return X, y.astype(np.int64)


def make_xor(n: int = 400, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """XOR labels on uniform points of the square [-1, 1]^2: ``y = 1`` iff ``x1 > 0`` xor ``x2 > 0``.

    No single axis-aligned split separates the classes (each half-plane is about half ones), so a
    greedy tree sees almost no gain at the root while two levels of splits classify perfectly.
    Returns ``X`` (n, 2) float64 and ``y`` (n,) int64 in {0, 1}.
    """
    n = _check_positive_int("n", n, 4)
    rng = np.random.default_rng(_check_seed(seed))
    X = rng.uniform(-1.0, 1.0, (n, 2))
    y = ((X[:, 0] > 0) ^ (X[:, 1] > 0)).astype(np.int64)
    return X, y


SIGNALS = {
    "sin": lambda x: np.sin(2 * np.pi * x),
    "two_freq": lambda x: np.sin(2 * np.pi * x) + 0.3 * np.sin(20 * np.pi * x),
}


def make_1d_signal(n: int = 200, seed: int = 0, kind: str = "sin", noise: float = 0.3):
    """Noisy 1-D regression data ``y = f(x) + noise * N(0, 1)`` with ``x ~ U(0, 1)``, returned sorted.

    ``kind="sin"``: ``f(x) = sin(2 pi x)``. ``kind="two_freq"``: ``f(x) = sin(2 pi x) + 0.3 sin(20 pi x)``,
    a slow wave plus a fast ripple (the book's ``sin t + 0.3 sin 10t`` with ``t = 2 pi x``).
    Returns ``(x, y, f)``: ``x`` (n,), ``y`` (n,) and the noiseless target function ``f``.
    """
    n = _check_positive_int("n", n, 2)
    seed = _check_seed(seed)
    noise = _check_nonnegative("noise", noise)
    if kind not in SIGNALS:
        raise ValueError(f"kind: expected one of {sorted(SIGNALS)}, got {kind!r}")
    rng = np.random.default_rng(seed)
    x = np.sort(rng.uniform(0.0, 1.0, n))
    f = SIGNALS[kind]
    return x, f(x) + noise * rng.standard_normal(n), f


def flip_labels(y, frac: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Corrupt exactly ``round(frac * n)`` labels, chosen without replacement.

    Binary labels (two distinct values, e.g. {0, 1} or {-1, +1}) are swapped; with more classes a
    flipped label becomes one of the other classes, uniformly. Returns ``(y_noisy, flipped_mask)``;
    ``y`` itself is not modified.
    """
    y = np.asarray(y)
    if y.ndim != 1 or y.size < 2:
        raise ValueError(f"y: expected a 1-D array of at least 2 labels, got shape {y.shape}")
    if not np.isscalar(frac) or not 0 <= frac <= 1:
        raise ValueError(f"frac: expected a number in [0, 1], got {frac!r}")
    rng = np.random.default_rng(_check_seed(seed))
    classes = np.unique(y)
    if classes.size < 2:
        raise ValueError("y: expected at least two distinct labels to flip between")
    idx = rng.choice(y.size, size=int(round(frac * y.size)), replace=False)
    mask = np.zeros(y.size, dtype=bool)
    mask[idx] = True
    y_noisy = y.copy()
    if classes.size == 2:
        y_noisy[idx] = np.where(y[idx] == classes[0], classes[1], classes[0])
    else:
        pos = np.searchsorted(classes, y[idx])                         # each label's class index
        shift = rng.integers(1, classes.size, idx.size)                 # never 0, so always a new class
        y_noisy[idx] = classes[(pos + shift) % classes.size]
    return y_noisy, mask
