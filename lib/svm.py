"""A kernel SVM classifier built on the course's kernels and solvers (sklearn-like interface).

``KernelSVM(C, kernel, gamma, degree, coef0, solver, tol).fit(X, y)`` solves the soft-margin dual

    max  sum alpha - 1/2 c^T K c     s.t.  0 <= alpha <= C,  (sum alpha y = 0 for solver="smo")

with ``c = alpha * y`` and predicts with ``f(x) = sum_i c_i k(x_i, x) + b``.

* ``solver="smo"`` (:func:`lib.svm_solvers.smo`): the free bias b of the primal, libsvm's rule for b;
* ``solver="dca"`` (:func:`lib.svm_solvers.dual_coordinate_ascent`): the b = 0 form on ``K + 1``, i.e. a
  constant feature whose weight is a *regularised* bias ``b = sum c``.

``kernel`` is ``"linear"``, ``"poly"``, ``"rbf"``, ``"sigmoid"`` or ``"precomputed"`` (then ``fit`` takes
the (n, n) Gram matrix and ``decision_function`` the (m, n) matrix ``k(x_new, x_train)``).

Fitted attributes (sklearn's conventions where they exist): ``support_`` (indices with alpha > 1e-8),
``dual_coef_`` (``alpha * y`` on the support, shape (1, n_SV)), ``intercept_`` (b, shape (1,)),
``alpha_`` (n,), ``sv_type_`` (0 = not a SV, 1 = free ``0 < alpha < C``, 2 = at C), ``margin_width_``
(``2 / ||w||`` for the linear kernel, else None), ``rkhs_norm_`` (``||f||_H = sqrt(c^T K c)``, without b),
``n_iter_``, ``dual_objective_``.
"""
from __future__ import annotations

import math

import numpy as np

from . import kernels, svm_dual, svm_solvers

SV_EPS = 1e-8


class KernelSVM:
    """Soft-margin kernel SVM for labels in {-1, +1} (see the module docstring)."""

    def __init__(self, C: float = 1.0, kernel: str = "rbf", gamma: float = 1.0, degree: int = 3,
                 coef0: float = 1.0, solver: str = "smo", tol: float = 1e-6, max_iter: int = 100_000):
        svm_dual._C(C)
        if kernel not in (*kernels.KERNELS, "precomputed"):
            raise ValueError(f"kernel: expected one of {(*kernels.KERNELS, 'precomputed')}, got {kernel!r}")
        if solver not in ("smo", "dca"):
            raise ValueError(f"solver: expected 'smo' or 'dca', got {solver!r}")
        if not tol > 0:
            raise ValueError(f"tol: expected a positive number, got {tol!r}")
        self.C, self.kernel, self.gamma, self.degree, self.coef0 = C, kernel, gamma, degree, coef0
        self.solver, self.tol, self.max_iter = solver, tol, max_iter

    # ------------------------------------------------------------------ kernel
    def _k(self, A, B):
        if self.kernel == "linear":
            return kernels.linear_kernel(A, B)
        if self.kernel == "poly":
            return kernels.poly_kernel(A, B, degree=self.degree, gamma=self.gamma, coef0=self.coef0)
        if self.kernel == "rbf":
            return kernels.rbf_kernel(A, B, gamma=self.gamma)
        return kernels.sigmoid_kernel(A, B, kappa=self.gamma, c=self.coef0)

    # ------------------------------------------------------------------ fit / predict
    def fit(self, X, y) -> "KernelSVM":
        y = svm_dual._labels(y)
        X = np.asarray(X, dtype=float)
        if self.kernel == "precomputed":
            if X.shape != (y.size, y.size):
                raise ValueError(f"X: expected the ({y.size}, {y.size}) Gram matrix, got shape {X.shape}")
            K = X
        else:
            if X.ndim != 2 or X.shape[0] != y.size:
                raise ValueError(f"X: expected shape ({y.size}, p), got {X.shape}")
            K = self._k(X, X)
        if self.solver == "smo":
            res = svm_solvers.smo(K, y, self.C, tol=self.tol, max_iter=self.max_iter)
            alpha, b, self.n_iter_ = res.alpha, res.b, res.n_iter
        else:
            res = svm_solvers.dual_coordinate_ascent(K + 1.0, y, self.C, tol=self.tol, max_sweeps=self.max_iter,
                                                     random_state=0)
            alpha, self.n_iter_ = res.alpha, res.n_sweeps
            b = float(alpha @ y)  # the constant feature's weight
        self.alpha_, self.y_ = alpha, y
        self.support_ = np.flatnonzero(alpha > SV_EPS * max(1.0, min(self.C, 1e12)))
        self.dual_coef_ = (alpha * y)[self.support_][None, :]
        self.intercept_ = np.array([b])
        self.X_fit_ = None if self.kernel == "precomputed" else X
        c = alpha * y
        at_C = alpha >= self.C - SV_EPS * max(1.0, self.C) if math.isfinite(self.C) else np.zeros(y.size, bool)
        self.sv_type_ = np.where(alpha <= SV_EPS * max(1.0, min(self.C, 1e12)), 0, np.where(at_C, 2, 1))
        self.rkhs_norm_ = float(math.sqrt(max(c @ K @ c, 0.0)))
        self.margin_width_ = 2.0 / self.rkhs_norm_ if self.kernel == "linear" and self.rkhs_norm_ > 0 else None
        self.coef_ = svm_dual.w_from_alpha(alpha, X, y)[None, :] if self.kernel == "linear" else None
        self.dual_objective_ = svm_dual.dual_objective(alpha, y, K)
        self.K_fit_ = K
        return self

    def decision_function(self, X) -> np.ndarray:
        """``f(x) = sum_{i in SV} alpha_i y_i k(x_i, x) + b``, shape (m,)."""
        if not hasattr(self, "alpha_"):
            raise ValueError("KernelSVM: call fit before decision_function")
        X = np.asarray(X, dtype=float)
        if self.kernel == "precomputed":
            if X.ndim != 2 or X.shape[1] != self.y_.size:
                raise ValueError(f"X: expected a (m, {self.y_.size}) kernel matrix, got shape {X.shape}")
            Ks = X[:, self.support_]
        else:
            if X.ndim != 2 or X.shape[1] != self.X_fit_.shape[1]:
                raise ValueError(f"X: expected shape (m, {self.X_fit_.shape[1]}), got {X.shape}")
            Ks = self._k(X, self.X_fit_[self.support_])
        return Ks @ self.dual_coef_[0] + self.intercept_[0]

    def predict(self, X) -> np.ndarray:
        """Labels in {-1, +1} (``+1`` where ``f(x) > 0``)."""
        return np.where(self.decision_function(X) > 0, 1, -1)
