"""Procedural "mini-chairs": small rendered shapes with a known structured code (book 7.2).

Dosovitskiy et al.'s chair generator maps a code (chair type as a one-hot vector, plus the viewing
pose) to an image and is trained by plain regression on labelled pairs. The same experiment at toy
scale: three shape types (square, plus, triangle) rotated in the plane, rendered anti-aliased onto a
``size x size`` grid, with the code ``[one-hot type (K), cos theta, sin theta]``.

``ShapeDecoder`` is the supervised generator ``G(code) -> image``, trained by :func:`train_decoder`
on ``min E |x - G(z)|^2`` (7.2.3); crossfading the type block or turning the angle then interpolates
between shapes and poses (7.2.4).
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

KINDS = ("square", "plus", "triangle")
SUPERSAMPLE = 4
# the triangle's edges: outward normals at 270, 30 and 150 degrees, at distance R_IN from the centre
_TRI_NORMALS = np.array([[np.cos(a), np.sin(a)] for a in np.deg2rad([270.0, 30.0, 150.0])])
_TRI_R_IN = 0.34


def _inside(kind: int, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Membership of canonical-frame points (u, v) in the unrotated shape of the given kind."""
    if kind == 0:
        return np.maximum(np.abs(u), np.abs(v)) <= 0.5
    if kind == 1:
        return ((np.abs(u) <= 0.62) & (np.abs(v) <= 0.2)) | ((np.abs(u) <= 0.2) & (np.abs(v) <= 0.62))
    return np.all(u[..., None] * _TRI_NORMALS[:, 0] + v[..., None] * _TRI_NORMALS[:, 1] <= _TRI_R_IN, axis=-1)


def _grid(size: int) -> tuple[np.ndarray, np.ndarray]:
    """Sub-pixel sample points in [-1, 1]^2 (image rows go from top to bottom)."""
    s = size * SUPERSAMPLE
    t = (np.arange(s) + 0.5) / s * 2 - 1
    X, Y = np.meshgrid(t, -t)
    return X.ravel(), Y.ravel()


def _render(kinds: np.ndarray, angles: np.ndarray, scales: np.ndarray, size: int) -> np.ndarray:
    X, Y = _grid(size)
    c, s = np.cos(angles)[:, None], np.sin(angles)[:, None]
    u, v = (c * X + s * Y) / scales[:, None], (-s * X + c * Y) / scales[:, None]   # rotate points by -theta
    out = np.zeros(u.shape, dtype=bool)
    for k in range(len(KINDS)):
        rows = kinds == k
        if rows.any():
            out[rows] = _inside(k, u[rows], v[rows])
    out = out.reshape(len(kinds), size, SUPERSAMPLE, size, SUPERSAMPLE)
    return out.mean((2, 4)).astype(np.float32)


def render_shape(kind: int, angle: float, scale: float = 1.0, size: int = 16) -> np.ndarray:
    """One anti-aliased image [size, size] in [0, 1] of shape ``kind`` (0 square, 1 plus, 2 triangle)
    rotated counter-clockwise by ``angle`` radians."""
    if isinstance(kind, bool) or not isinstance(kind, (int, np.integer)) or not 0 <= kind < len(KINDS):
        raise ValueError(f"kind: expected an integer in [0, {len(KINDS) - 1}], got {kind!r}")
    if not np.isfinite(angle):
        raise ValueError(f"angle: expected a finite number, got {angle!r}")
    if not (np.isfinite(scale) and 0 < scale <= 1.5):
        raise ValueError(f"scale: expected a number in (0, 1.5], got {scale!r}")
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 4:
        raise ValueError(f"size: expected an integer >= 4, got {size!r}")
    return _render(np.array([kind]), np.array([float(angle)]), np.array([float(scale)]), int(size))[0]


def make_code(type_weights, angle) -> np.ndarray:
    """Codes ``[type weights (K), cos theta, sin theta]``: type_weights [K] or [n, K], angle scalar or [n]."""
    w = np.atleast_2d(np.asarray(type_weights, dtype=np.float64))
    a = np.broadcast_to(np.asarray(angle, dtype=np.float64), (w.shape[0],))
    return np.concatenate([w, np.cos(a)[:, None], np.sin(a)[:, None]], axis=1).astype(np.float32)


def make_shapes(n: int, size: int = 16, kinds: int = 3, generator=None):
    """n random shapes: ``(images [n, size*size], codes [n, kinds + 2], kinds [n], angles [n])``.

    Types are uniform over the first ``kinds`` shapes, angles uniform in [0, 2 pi).
    ``generator``: a numpy Generator or an int seed.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n: expected a positive integer, got {n!r}")
    if isinstance(kinds, bool) or not isinstance(kinds, (int, np.integer)) or not 1 <= kinds <= len(KINDS):
        raise ValueError(f"kinds: expected an integer in [1, {len(KINDS)}], got {kinds!r}")
    render_shape(0, 0.0, size=size)                          # validates size
    rng = generator if isinstance(generator, np.random.Generator) else np.random.default_rng(generator)
    k = rng.integers(0, kinds, n)
    theta = rng.uniform(0, 2 * np.pi, n)
    images = np.concatenate([_render(k[i:i + 500], theta[i:i + 500], np.ones(len(k[i:i + 500])), size)
                             for i in range(0, n, 500)]).reshape(n, size * size)
    return images, make_code(np.eye(kinds)[k], theta), k, theta


class ShapeDecoder(nn.Module):
    """The supervised generator: code [n, code_dim] -> image [n, size*size] in (0, 1).

    An MLP stands in for the book's stack of stride-2 transposed convolutions: at 16 x 16 it learns
    the same map faster. The sigmoid plays the role of the book's final tanh (images here live in [0, 1]).
    """

    def __init__(self, code_dim: int = 5, hidden: int = 256, size: int = 16):
        super().__init__()
        self.size = size
        self.net = nn.Sequential(nn.Linear(code_dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                                 nn.Linear(hidden, size * size), nn.Sigmoid())

    def forward(self, codes):
        return self.net(codes)


def train_decoder(decoder: nn.Module, codes, images, steps: int = 3000, batch: int = 128, lr: float = 2e-3,
                  generator: torch.Generator | None = None) -> list[float]:
    """Adam on the pixel MSE ``mean |x - G(z)|^2`` over random minibatches; returns the loss per step."""
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps: expected a positive integer, got {steps!r}")
    p = next(decoder.parameters())
    Z = torch.as_tensor(np.asarray(codes), dtype=p.dtype, device=p.device)
    X = torch.as_tensor(np.asarray(images), dtype=p.dtype, device=p.device)
    X = X.reshape(len(X), -1)
    if len(X) != len(Z):
        raise ValueError(f"images: expected {len(Z)} rows to match codes, got {len(X)}")
    opt = torch.optim.Adam(decoder.parameters(), lr=lr)
    losses = []
    for _ in range(steps):
        idx = torch.randint(len(Z), (batch,), generator=generator).to(p.device)
        loss = ((decoder(Z[idx]) - X[idx]) ** 2).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    return losses
