"""Associative memory: store pairs (key a_i, value b_i) in a matrix or a small network, then recall.

Keys are the columns of ``A`` (d, n) and values the columns of ``B`` (m, n). Linear memories (book
section 2.11.6)::

    outer product:  W = sum_i b_i a_i^T = B A^T        recall W a_k = b_k + sum_{i != k} b_i (a_i^T a_k)
    pseudo-inverse: W = B A^+                          recall exact whenever the keys are independent (n <= d)

The outer product recalls exactly when the keys form an orthonormal *set* (n <= d). For random unit keys
and unit values the crosstalk term has ``E ||W a_k - b_k||^2 = (n - 1) / d`` (each ``a_i^T a_k`` has
variance 1/d), so its relative error is about ``sqrt((n - 1) / d)`` (:func:`crosstalk_theory`).
A ReLU network (:func:`mlp_memory`, section 2.11.7) can store more pairs than d; its capacity grows
with its hidden width.

:class:`TiedAssocModel` is the tied-weight next-word model of section 2.11 (``h1 = W_e x``,
``h2 = W_a h1``, ``s = W_e^T h2``) with the corrected gradients, for the error ``e = y - p``::

    dJ/dh2 = W_e e,   dJ/dW_a = (W_e e) h1^T,   dJ/dW_e = (W_a^T W_e e) x^T + h2 e^T.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

KEY_TYPES = ("orthonormal", "random", "correlated")


# --------------------------------------------------------------------------- input checks
def _check_matrix(name: str, M) -> np.ndarray:
    M = np.asarray(M)
    if not np.issubdtype(M.dtype, np.number):
        raise TypeError(f"{name}: expected a numeric array, got dtype {M.dtype}")
    if M.ndim != 2 or min(M.shape) == 0:
        raise ValueError(f"{name}: expected a non-empty 2-D array (dim, n_pairs), got shape {M.shape}")
    M = M.astype(np.float64)
    if not np.all(np.isfinite(M)):
        raise ValueError(f"{name}: expected finite values, found NaN or inf")
    return M


def _check_pairs(A, B) -> tuple[np.ndarray, np.ndarray]:
    A, B = _check_matrix("A", A), _check_matrix("B", B)
    if A.shape[1] != B.shape[1]:
        raise ValueError(f"B: expected {A.shape[1]} columns, one value per key in A, got {B.shape[1]}")
    return A, B


def _check_int(name: str, value, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name}: expected an integer >= {minimum}, got {value!r}")
    return int(value)


def _check_positive(name: str, value) -> float:
    if isinstance(value, bool) or not np.isscalar(value) or not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name}: expected a positive finite number, got {value!r}")
    return float(value)


# --------------------------------------------------------------------------- keys and values
def make_keys(n: int, d: int, kind: str = "random", rho: float = 0.5, seed: int = 0) -> np.ndarray:
    """``n`` unit keys in R^d as the columns of a (d, n) array.

    ``kind``: "orthonormal" (n <= d, from a QR factorisation), "random" (independent uniform directions)
    or "correlated" (a shared direction with weight ``rho`` plus independent noise, then normalised:
    pairwise cosines about ``rho^2``).
    """
    n, d = _check_int("n", n, 1), _check_int("d", d, 1)
    if kind not in KEY_TYPES:
        raise ValueError(f"kind: expected one of {KEY_TYPES}, got {kind!r}")
    if not 0 <= rho < 1:
        raise ValueError(f"rho: expected a number in [0, 1), got {rho!r}")
    rng = np.random.default_rng(seed)
    G = rng.standard_normal((d, n))
    if kind == "orthonormal":
        if n > d:
            raise ValueError(f"n: orthonormal keys need n <= d = {d}, got n = {n}")
        Q, R = np.linalg.qr(G)
        return Q * np.sign(np.diag(R))
    G /= np.linalg.norm(G, axis=0)
    if kind == "correlated":
        u = rng.standard_normal((d, 1))
        G = rho * u / np.linalg.norm(u) + np.sqrt(1 - rho**2) * G
    return G / np.linalg.norm(G, axis=0)


# --------------------------------------------------------------------------- linear memories
def outer_product_memory(A, B) -> np.ndarray:
    """``W = B A^T = sum_i b_i a_i^T``: A (d, n) keys, B (m, n) values -> W (m, d)."""
    A, B = _check_pairs(A, B)
    return B @ A.T


def pinv_memory(A, B) -> np.ndarray:
    """``W = B A^+`` (Moore-Penrose): the least-squares memory, min ||W A - B||_F with min ||W||_F. (m, d)."""
    A, B = _check_pairs(A, B)
    return B @ np.linalg.pinv(A)


def recall(W, A) -> np.ndarray:
    """Recalled values (m, n): ``W A`` for a matrix memory, ``model(A^T)^T`` for a torch module."""
    if isinstance(W, nn.Module):
        A = _check_matrix("A", A)
        p = next(W.parameters())
        with torch.no_grad():
            out = W(torch.as_tensor(A.T, dtype=p.dtype, device=p.device))
        return out.cpu().double().numpy().T
    W, A = _check_matrix("W", W), _check_matrix("A", A)
    if W.shape[1] != A.shape[0]:
        raise ValueError(f"A: expected keys of dimension {W.shape[1]} (rows), got shape {A.shape}")
    return W @ A


def recall_error(W, A, B) -> float:
    """Relative recall error ``||recall(W, A) - B||_F / ||B||_F``."""
    A, B = _check_pairs(A, B)
    return float(np.linalg.norm(recall(W, A) - B) / np.linalg.norm(B))


def nearest_value_accuracy(B_hat, B) -> float:
    """Fraction of recalled columns whose most cosine-similar stored value is the right one."""
    B_hat, B = _check_pairs(B_hat, B)
    if B_hat.shape != B.shape:
        raise ValueError(f"B_hat: expected shape {B.shape}, got {B_hat.shape}")
    Bn = B / np.linalg.norm(B, axis=0)
    cos = (B_hat / np.maximum(np.linalg.norm(B_hat, axis=0), 1e-300)).T @ Bn  # (n, n)
    return float(np.mean(np.argmax(cos, axis=1) == np.arange(B.shape[1])))


def crosstalk_theory(n, d):
    """Predicted relative error ``sqrt((n - 1) / d)`` of the outer-product memory, random unit keys/values."""
    n, d = np.asarray(n, dtype=float), np.asarray(d, dtype=float)
    if np.any(n < 1) or np.any(d <= 0):
        raise ValueError(f"n, d: expected n >= 1 and d > 0, got n = {n}, d = {d}")
    return np.sqrt((n - 1) / d)


# --------------------------------------------------------------------------- a nonlinear memory
def mlp_memory(A, B, hidden: int = 256, steps: int = 1000, lr: float = 3e-3, seed: int = 0,
               device=None, dtype=torch.float32) -> nn.Sequential:
    """A ReLU network ``d -> hidden -> m`` fitted by full-batch Adam to map each key to its value (MSE).

    Use :func:`recall` with the returned model to read the memory.
    """
    A, B = _check_pairs(A, B)
    hidden, steps = _check_int("hidden", hidden, 1), _check_int("steps", steps, 1)
    lr = _check_positive("lr", lr)
    device = torch.device(device or "cpu")
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(A.shape[0], hidden), nn.ReLU(), nn.Linear(hidden, B.shape[0]))
    model = model.to(device=device, dtype=dtype)
    X = torch.as_tensor(A.T, dtype=dtype, device=device)
    Y = torch.as_tensor(B.T, dtype=dtype, device=device)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    for _ in range(steps):
        loss = ((model(X) - Y) ** 2).sum(dim=1).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model.eval()


# --------------------------------------------------------------------------- the tied-weight model
class TiedAssocModel:
    """Next-word model with tied embeddings: ``h1 = W_e[:, x]``, ``h2 = W_a h1``, ``s = W_e^T h2``.

    ``W_e`` (d, V) embeds and (transposed) unembeds; ``W_a`` (d, d) is the associative memory.
    ``backward`` returns the gradients of the mean log-likelihood ``J = mean_b log p(y_b | x_b)``.
    """

    def __init__(self, V: int, d: int = 8, scale: float = 0.3, seed: int = 0):
        V, d = _check_int("V", V, 2), _check_int("d", d, 1)
        rng = np.random.default_rng(seed)
        self.We = rng.normal(scale=_check_positive("scale", scale), size=(d, V))
        self.Wa = rng.normal(scale=scale, size=(d, d))

    def _idx(self, name: str, idx) -> np.ndarray:
        idx = np.atleast_1d(np.asarray(idx))
        if idx.ndim != 1 or idx.size == 0 or not np.issubdtype(idx.dtype, np.integer):
            raise TypeError(f"{name}: expected a non-empty 1-D array of integer word indices, got {idx.dtype}")
        if idx.min() < 0 or idx.max() >= self.We.shape[1]:
            raise ValueError(f"{name}: expected indices in [0, {self.We.shape[1]}), got [{idx.min()}, {idx.max()}]")
        return idx

    def forward(self, idx) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Indices (B,) -> ``(h1 (B, d), h2 (B, d), s (B, V), p (B, V))``, one row per example."""
        idx = self._idx("idx", idx)
        h1 = self.We[:, idx].T
        h2 = h1 @ self.Wa.T
        s = h2 @ self.We
        z = np.exp(s - s.max(axis=1, keepdims=True))
        return h1, h2, s, z / z.sum(axis=1, keepdims=True)

    def loglik(self, idx, y_idx) -> float:
        y_idx = self._idx("y_idx", y_idx)
        p = self.forward(idx)[3]
        return float(np.mean(np.log(p[np.arange(len(y_idx)), y_idx])))

    def backward(self, idx, y_idx) -> dict[str, np.ndarray]:
        """Gradients of the mean J: ``{"We": (d, V), "Wa": (d, d), "h2": (B, d)}`` (the corrected 2.123-2.127)."""
        idx, y_idx = self._idx("idx", idx), self._idx("y_idx", y_idx)
        if len(idx) != len(y_idx):
            raise ValueError(f"y_idx: expected {len(idx)} indices like idx, got {len(y_idx)}")
        h1, h2, _, p = self.forward(idx)
        B = len(idx)
        e = -p
        e[np.arange(B), y_idx] += 1.0           # rows e_b = y_b - p_b
        dh2 = e @ self.We.T                     # rows (W_e e_b)^T
        dWa = dh2.T @ h1 / B                    # sum_b (W_e e_b) h1_b^T / B
        dWe = h2.T @ e / B                      # the unembedding path: sum_b h2_b e_b^T / B
        np.add.at(dWe.T, idx, dh2 @ self.Wa / B)  # the embedding path: (W_a^T W_e e_b) into column x_b
        return {"We": dWe, "Wa": dWa, "h2": dh2}


# --------------------------------------------------------------------------- the SVD view (Chapter 5, section 5.4)
# Any matrix is a memory of orthonormal pairs: W = sum_i lambda_i b_i a_i^T (its SVD), so that
# W a_k = lambda_k b_k and W (a_k / lambda_k) = b_k. Dropping small lambda_i "cleans" the memory
# (the best rank-r approximation, Eckart-Young); a rank-one update changes a single answer.
def make_associative_memory(d_in: int, d_out: int, n_pairs: int, lambdas=None, seed: int = 0) -> dict:
    """``W = B diag(lambdas) A^T`` from orthonormal keys A (d_in, n) and orthonormal values B (d_out, n).

    ``lambdas`` defaults to ``n, n-1, ..., 1``. Returns ``dict(W (d_out, d_in), A, B, lambdas)``.
    """
    d_in, d_out = _check_int("d_in", d_in, 1), _check_int("d_out", d_out, 1)
    n = _check_int("n_pairs", n_pairs, 1)
    if n > min(d_in, d_out):
        raise ValueError(f"n_pairs: orthonormal keys and values need n_pairs <= min(d_in, d_out) = "
                         f"{min(d_in, d_out)}, got {n}")
    lam = np.arange(n, 0, -1, dtype=float) if lambdas is None else np.asarray(lambdas, dtype=float)
    if lam.shape != (n,) or not np.all(np.isfinite(lam)) or np.any(lam <= 0):
        raise ValueError(f"lambdas: expected {n} positive finite numbers, got {lambdas!r}")
    A = make_keys(n, d_in, "orthonormal", seed=seed)
    B = make_keys(n, d_out, "orthonormal", seed=seed + 1)
    return dict(W=(B * lam) @ A.T, A=A, B=B, lambdas=lam)


def svd_memory(W) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(B, lambdas, A)`` with ``W = B diag(lambdas) A^T``: values (m, r), strengths (r,) descending, keys (d, r)."""
    W = _check_matrix("W", W)
    U, s, Vt = np.linalg.svd(W, full_matrices=False)
    return U, s, Vt.T


def truncate_svd(W, *, rank: int | None = None, eps: float | None = None) -> np.ndarray:
    """The cleaned memory: keep the ``rank`` largest terms, or every term with ``lambda_i > eps``."""
    if (rank is None) == (eps is None):
        raise ValueError("rank, eps: expected exactly one of them")
    B, lam, A = svd_memory(W)
    if rank is not None:
        keep = np.arange(lam.size) < _check_int("rank", rank, 0)
    else:
        if isinstance(eps, bool) or not np.isscalar(eps) or not np.isfinite(eps) or eps < 0:
            raise ValueError(f"eps: expected a number >= 0, got {eps!r}")
        keep = lam > eps
    return (B[:, keep] * lam[keep]) @ A[:, keep].T


def rank_one_edit(W, a_k, lambda_k: float, delta_b) -> np.ndarray:
    """``W + lambda_k delta_b a_k^T``: the answer to key a_k moves from ``lambda_k b_k`` by ``lambda_k delta_b``.

    Keys orthogonal to ``a_k`` (the other stored keys when ``a_k`` is one of W's singular vectors) recall
    exactly what they did before.
    """
    W = _check_matrix("W", W)
    a_k = _check_matrix("a_k", np.reshape(a_k, (-1, 1)))[:, 0]
    delta_b = _check_matrix("delta_b", np.reshape(delta_b, (-1, 1)))[:, 0]
    if a_k.size != W.shape[1] or delta_b.size != W.shape[0]:
        raise ValueError(f"a_k, delta_b: expected sizes {W.shape[1]} and {W.shape[0]} for W of shape {W.shape}, "
                         f"got {a_k.size} and {delta_b.size}")
    lambda_k = _check_positive("lambda_k", lambda_k)
    return W + lambda_k * np.outer(delta_b, a_k)
