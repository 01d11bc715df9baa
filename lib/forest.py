"""Random forests: bagged trees with random feature subsets, out-of-bag error and two importances.

A forest averages M trees (9.80)::

    f_M(x) = (1/M) sum_m T_m(x)        (regression; classification takes the majority vote)

Tree m is grown on a bootstrap sample (n draws with replacement), and every split looks at only k
randomly chosen features, ``k = floor(sqrt p)`` for classification and ``floor(p / 3)`` for regression
(9.82). A given point lands in a bootstrap sample with probability ``1 - (1 - 1/n)^n -> 1 - 1/e ~ 0.632``
(9.81, :func:`prob_in_bootstrap`), so each tree leaves about 37% of the data out: its *out-of-bag* (OOB)
points. Predicting each point with only the trees that did not see it gives the OOB prediction and a
free estimate of the test error (9.85-9.86).

Averaging M identically distributed trees with variance sigma^2 and pairwise correlation rho gives::

    Var(f_M(x)) = rho sigma^2 + (1 - rho) sigma^2 / M                             (9.84, :func:`ensemble_variance`)

Bagging attacks the second term; random feature subsets lower rho, the floor that more trees cannot move.

Importances:

* MDI (mean decrease in impurity, 9.87): each tree's normalised impurity decreases per feature,
  averaged over trees and normalised again (scikit-learn's ``feature_importances_``);
* MDA (permutation importance on OOB data, 9.88 with the sign fixed): shuffle column j, recompute the
  OOB error, and report ``Err_OOB^(j) - Err_OOB``, positive for a feature the forest relies on.

The trees are :class:`lib.trees.RegressionTree` and :class:`lib.trees.ClassificationTree`; a bootstrap
sample is passed as integer sample weights on the distinct drawn rows (equivalent to fitting on the
rows with repetition, and what scikit-learn does). Shapes: ``X`` (n, p), ``y`` (n,).
"""
from __future__ import annotations

import math

import numpy as np


# --------------------------------------------------------------------------- closed forms
def prob_in_bootstrap(n: int) -> float:
    """``1 - (1 - 1/n)^n``: the chance that a given point is drawn at least once in n draws (9.81)."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n: expected an integer >= 1, got {n!r}")
    return float(-np.expm1(n * np.log1p(-1.0 / n))) if n > 1 else 1.0


def ensemble_variance(sigma2, rho, M):
    """``rho sigma2 + (1 - rho) sigma2 / M`` (9.84): the variance of an average of M identically
    distributed variables with variance ``sigma2`` and pairwise correlation ``rho``. Broadcasts over arrays."""
    sigma2, rho, M = (np.asarray(v, dtype=np.float64) for v in (sigma2, rho, M))
    if np.any(~np.isfinite(sigma2)) or np.any(sigma2 < 0):
        raise ValueError("sigma2: expected finite values >= 0")
    if np.any(~np.isfinite(rho)) or np.any(rho < -1) or np.any(rho > 1):
        raise ValueError("rho: expected values in [-1, 1]")
    if np.any(M < 1) or np.any(M != np.floor(M)):
        raise ValueError("M: expected integers >= 1")
    out = rho * sigma2 + (1.0 - rho) * sigma2 / M
    return float(out) if out.ndim == 0 else out


# --------------------------------------------------------------------------- input checks
def _check_X(X, p: int | None = None) -> np.ndarray:
    X = np.asarray(X)
    if X.dtype.kind in "biu":
        X = X.astype(np.float64)
    if X.dtype.kind != "f":
        raise TypeError(f"X: expected a real-valued array, got dtype {X.dtype}")
    if X.ndim != 2 or X.shape[0] == 0:
        raise ValueError(f"X: expected a non-empty 2-D array (n, p), got shape {X.shape}")
    if not np.all(np.isfinite(X)):
        raise ValueError("X: expected finite values (no nan or inf)")
    if p is not None and X.shape[1] != p:
        raise ValueError(f"X: expected {p} columns as in fit, got {X.shape[1]}")
    return X


def _count(name: str, value, low: int = 1, allow_none: bool = False):
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"{name}: expected an integer >= {low}{' or None' if allow_none else ''}, got {value!r}")
    return int(value)


def resolve_max_features(max_features, p: int, task: str) -> int:
    """The number k of features tried per split: "auto" is the book's rule (9.82), floor(sqrt p) for
    classification and floor(p / 3) for regression; also "sqrt", "third", an int, a fraction in (0, 1]
    or None (all p). Always at least 1."""
    if max_features == "auto":
        max_features = "sqrt" if task == "classification" else "third"
    if max_features is None:
        return p
    if max_features == "sqrt":
        return max(1, int(math.isqrt(p)))
    if max_features == "third":
        return max(1, p // 3)
    if isinstance(max_features, (int, np.integer)) and not isinstance(max_features, bool):
        if not 1 <= max_features <= p:
            raise ValueError(f"max_features: expected an integer in [1, {p}], got {max_features}")
        return int(max_features)
    if isinstance(max_features, (float, np.floating)) and 0 < max_features <= 1:
        return max(1, int(max_features * p))
    raise ValueError("max_features: expected 'auto', 'sqrt', 'third', an int in [1, p], a float in (0, 1] "
                     f"or None, got {max_features!r}")


# --------------------------------------------------------------------------- the forest
class RandomForest:
    """Breiman's random forest (Algorithm 11) for regression or classification.

    Parameters
    ----------
    task : "regression" (mean of the trees, MSE) or "classification" (majority vote, misclassification).
    n_estimators : number of trees M.
    max_features : features tried per split, see :func:`resolve_max_features` ("auto" = the book's rule).
    min_samples_leaf, max_depth : passed to each tree.
    bootstrap : draw a bootstrap sample per tree (False: every tree sees all rows, so there is no OOB data).
    random_state : seed of the one generator that draws every bootstrap sample and every tree's seed.

    Attributes after ``fit``
    ------------------------
    trees_ : M fitted trees.  inbag_ : (M, n) bool, point i was drawn for tree m.
    counts_ : (M, n) int, how often.  max_features_ : the resolved k.  classes_ : labels (classification).
    oob_prediction_ : (n,) OOB prediction (nan where no tree left the point out).
    oob_error_ : OOB MSE or misclassification rate over the points that have one.  oob_score_ : R^2 or accuracy.
    feature_importances_ : (p,) MDI (9.87), sums to 1.
    """

    def __init__(self, task: str = "regression", n_estimators: int = 100, max_features="auto",
                 min_samples_leaf: int = 1, max_depth: int | None = None, bootstrap: bool = True,
                 random_state: int | None = None):
        if task not in ("regression", "classification"):
            raise ValueError(f"task: expected 'regression' or 'classification', got {task!r}")
        if not isinstance(bootstrap, bool):
            raise TypeError(f"bootstrap: expected True or False, got {bootstrap!r}")
        self.task = task
        self.n_estimators = _count("n_estimators", n_estimators)
        self.max_features = max_features
        self.min_samples_leaf = _count("min_samples_leaf", min_samples_leaf)
        self.max_depth = _count("max_depth", max_depth, allow_none=True)
        self.bootstrap = bootstrap
        self.random_state = random_state

    # ------------------------------------------------------------------ fitting
    def fit(self, X, y) -> "RandomForest":
        from .trees import ClassificationTree, RegressionTree
        X = _check_X(X)
        n, p = X.shape
        y = np.asarray(y)
        if y.shape != (n,):
            raise ValueError(f"y: expected shape ({n},) to match X, got {y.shape}")
        if self.task == "regression":
            y = y.astype(np.float64)
            if not np.all(np.isfinite(y)):
                raise ValueError("y: expected finite values")
            Tree = RegressionTree
        else:
            self.classes_ = np.unique(y)
            if len(self.classes_) < 2:
                raise ValueError("y: expected at least two classes")
            Tree = ClassificationTree
        k = resolve_max_features(self.max_features, p, self.task)
        rng = np.random.default_rng(self.random_state)
        M = self.n_estimators
        self.trees_, self.counts_ = [], np.zeros((M, n), dtype=np.int64)
        for m in range(M):
            if self.bootstrap:
                self.counts_[m] = np.bincount(rng.integers(0, n, size=n), minlength=n)
            else:
                self.counts_[m] = 1
            seed = int(rng.integers(2**31 - 1))
            rows = np.flatnonzero(self.counts_[m])
            tree = Tree(max_depth=self.max_depth, min_samples_leaf=self.min_samples_leaf, max_features=k,
                        random_state=seed)
            tree.fit(X[rows], y[rows], sample_weight=self.counts_[m, rows].astype(np.float64))
            self.trees_.append(tree)
        self.inbag_ = self.counts_ > 0
        self.max_features_ = k
        self.n_features_in_ = p
        self.X_, self.y_ = X, y
        self._train_pred = self.predict_all(X)                   # (M, n), reused by every OOB quantity
        self.oob_prediction_, self.oob_error_, self.oob_score_ = self._oob(self._train_pred)
        return self

    # ------------------------------------------------------------------ prediction
    def _check_fitted(self, X) -> np.ndarray:
        if not hasattr(self, "trees_"):
            raise RuntimeError("RandomForest: call fit(X, y) first")
        return _check_X(X, self.n_features_in_)

    def predict_all(self, X) -> np.ndarray:
        """Per-tree predictions, shape (M, n): values (regression) or labels (classification)."""
        X = self._check_fitted(X)
        return np.stack([np.asarray(t.predict(X)) for t in self.trees_])

    def _votes(self, P: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
        """Class vote counts, shape (n, K), from per-tree labels P (M, n), counting trees where mask is True."""
        idx = np.searchsorted(self.classes_, P)
        onehot = idx[..., None] == np.arange(len(self.classes_))
        if mask is not None:
            onehot = onehot & mask[..., None]
        return onehot.sum(axis=0)

    def predict(self, X) -> np.ndarray:
        """The forest's prediction (9.80): mean over trees, or the majority label (ties: the smaller label)."""
        P = self.predict_all(X)
        if self.task == "regression":
            return P.mean(axis=0)
        return self.classes_[np.argmax(self._votes(P), axis=1)]

    # ------------------------------------------------------------------ out-of-bag
    def _oob(self, P: np.ndarray):
        """OOB prediction, error and score from per-tree training predictions P (M, n)."""
        oob = ~self.inbag_
        has = oob.any(axis=0)
        if not has.any():
            raise ValueError("bootstrap: no point is out of bag (bootstrap=False or too few trees); "
                             "OOB quantities are undefined")
        y = self.y_
        if self.task == "regression":
            with np.errstate(invalid="ignore", divide="ignore"):
                pred = (P * oob).sum(axis=0) / oob.sum(axis=0)
            err = float(np.mean((y[has] - pred[has]) ** 2))
            score = 1.0 - err / float(np.var(y[has]))
            return np.where(has, pred, np.nan), err, score
        pred = self.classes_[np.argmax(self._votes(P, oob), axis=1)].astype(object)
        err = float(np.mean(pred[has] != y[has]))
        pred[~has] = None
        return pred, err, 1.0 - err

    def staged_oob_error(self) -> np.ndarray:
        """OOB error of the forest of the first m trees, m = 1..M, shape (M,). Each entry averages over the
        points that at least one of those m trees left out (about 37% for m = 1, nearly all soon after)."""
        if not hasattr(self, "trees_"):
            raise RuntimeError("RandomForest: call fit(X, y) first")
        oob = ~self.inbag_
        n_oob = np.cumsum(oob, axis=0)                           # (M, n)
        has = n_oob > 0
        y = self.y_
        if self.task == "regression":
            with np.errstate(invalid="ignore", divide="ignore"):
                pred = np.cumsum(self._train_pred * oob, axis=0) / n_oob
            sq = np.where(has, (pred - y) ** 2, 0.0)
            return sq.sum(axis=1) / has.sum(axis=1)
        idx = np.searchsorted(self.classes_, self._train_pred)
        onehot = (idx[..., None] == np.arange(len(self.classes_))) & oob[..., None]
        votes = np.cumsum(onehot, axis=0)                        # (M, n, K)
        wrong = (self.classes_[np.argmax(votes, axis=2)] != y) & has
        return wrong.sum(axis=1) / has.sum(axis=1)

    def oob_permutation_importance(self, n_repeats: int = 5, random_state=None) -> tuple[np.ndarray, np.ndarray]:
        """MDA (9.88, corrected sign): ``Err_OOB^(j) - Err_OOB`` for each feature j.

        For j = 0..p-1 and then for each of ``n_repeats`` repeats, column j of the training data is shuffled
        with ``rng.permutation(n)`` (``rng = np.random.default_rng(random_state)``), every tree predicts the
        shuffled data, and the OOB error is recomputed from those predictions with the same in-bag masks.
        Returns the mean and the standard deviation over repeats, each of shape (p,). A feature the forest
        does not use scores about 0; a useful one scores clearly above 0.
        """
        if not hasattr(self, "trees_"):
            raise RuntimeError("RandomForest: call fit(X, y) first")
        n_repeats = _count("n_repeats", n_repeats)
        rng = np.random.default_rng(random_state)
        n, p = self.X_.shape
        drops = np.zeros((p, n_repeats))
        for j in range(p):
            for r in range(n_repeats):
                Xp = self.X_.copy()
                Xp[:, j] = self.X_[rng.permutation(n), j]
                drops[j, r] = self._oob(self.predict_all(Xp))[1] - self.oob_error_
        return drops.mean(axis=1), drops.std(axis=1)

    # ------------------------------------------------------------------ importances and diversity
    @property
    def feature_importances_(self) -> np.ndarray:
        """MDI (9.87): the mean of the trees' normalised impurity-decrease importances (trees without a
        split are skipped, as in scikit-learn), normalised to sum to 1."""
        if not hasattr(self, "trees_"):
            raise RuntimeError("RandomForest: call fit(X, y) first")
        imps = [np.asarray(t.feature_importances_, dtype=np.float64) for t in self.trees_]
        imps = [v for v in imps if v.sum() > 0]
        if not imps:
            return np.zeros(self.n_features_in_)
        mean = np.mean(imps, axis=0)
        return mean / mean.sum()

    def tree_correlation(self, X) -> float:
        """Mean pairwise Pearson correlation between the trees' predictions across the rows of X.

        A descriptive measure of how alike the fitted trees are (it falls as k falls). It is *not* the rho
        of (9.84), which is a correlation over repeated training sets at a fixed x; regression only.
        """
        if self.task != "regression":
            raise ValueError("task: tree_correlation is defined for regression forests")
        P = self.predict_all(X)
        if len(P) < 2:
            raise ValueError("n_estimators: need at least two trees for a correlation")
        C = np.corrcoef(P)
        off = ~np.eye(len(P), dtype=bool)
        return float(np.nanmean(C[off]))
