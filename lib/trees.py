"""Decision trees (CART): impurities, exact greedy splits, regression and classification trees, pruning.

A node ``R`` with class proportions ``p_k`` has an impurity ``I(R)``::

    misclassification  1 - max_k p_k                    (9.3)
    Gini               1 - sum_k p_k^2                   (9.4)
    entropy            - sum_k p_k log2 p_k              (9.5)
    squared error      (1/|R|) sum_{i in R} (y_i - ybar_R)^2     (9.9, regression)

A split ``s`` sends ``R`` into ``R_L = {x_j <= s}`` and ``R_R = {x_j > s}`` and decreases the impurity by::

    Delta I(s, R) = I(R) - |R_L|/|R| I(R_L) - |R_R|/|R| I(R_R)                    (9.6)

(weighted: counts become sums of sample weights). :func:`best_split` finds the best ``(j, s)`` exactly
with prefix sums over each sorted feature, ``O(p n log n)`` per node; :func:`best_split_naive` is the
book's Algorithm 6, which recomputes both means for every candidate, ``O(p n^2)``. For squared error

    SSE_L + SSE_R = sum_i y_i^2 - S_L^2 / n_L - S_R^2 / n_R,     S = sum of y on a side,

so the best split maximises ``S_L^2/n_L + S_R^2/n_R`` (the "proxy"), a by-product of two cumulative sums.

:class:`RegressionTree`, :class:`ClassificationTree` and :class:`DecisionStump` grow trees depth-first
and store them as flat arrays (:class:`TreeArrays`, node 0 is the root, children after their parent,
left subtree first), so prediction walks all samples down together. They follow scikit-learn's CART
rules exactly, so their trees equal ``DecisionTreeRegressor``/``DecisionTreeClassifier`` trees:

* ``X`` is stored as float32 (as sklearn does) and thresholds are float64 midpoints
  ``x_k / 2 + x_{k+1} / 2`` between consecutive distinct sorted values; ``x <= threshold`` goes left;
* values closer than ``1e-7`` (compared in the data's precision) count as equal;
* a node is a leaf if it is at ``max_depth``, has fewer than ``min_samples_split`` (or
  ``2 min_samples_leaf``) samples, is pure (impurity <= machine epsilon), has no valid split, or its best
  split's weighted decrease ``(W_node / W_root) Delta I`` is below ``min_impurity_decrease``;
* the best candidate wins on strict ``>``: ties go to the lower feature index, then the lower threshold
  (sklearn breaks exact ties between features by its random feature order instead).

Cost-complexity (weakest-link) pruning minimises ``R(T) + alpha |leaves(T)|`` with
``R(T) = sum_leaves (W_t / W) I(t)``; for a regression tree ``R(T) = SSE / n``, so the book's penalty
``lambda`` in ``SSE + lambda M`` (9.11) is ``lambda = n * alpha`` with ``alpha`` on sklearn's
``ccp_alpha`` scale.
"""
from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import NamedTuple

import numpy as np

FEATURE_THRESHOLD = 1e-7          # sklearn: consecutive values closer than this are one value
EPSILON = np.finfo(np.float64).eps
CLASSIFICATION_CRITERIA = ("gini", "entropy", "error")
CRITERIA = ("squared_error",) + CLASSIFICATION_CRITERIA
LEAF = -1                         # children of a leaf
UNDEFINED = -2                    # feature and threshold of a leaf (sklearn's convention)


# --------------------------------------------------------------------------- input checks
def _int(name: str, value, minimum: int, allow_none: bool = False):
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        extra = " or None" if allow_none else ""
        raise ValueError(f"{name}: expected an integer >= {minimum}{extra}, got {value!r}")
    return int(value)


def _matrix(X, dtype=np.float64) -> np.ndarray:
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[0] < 1 or X.shape[1] < 1:
        raise ValueError(f"X: expected a 2-D array (n_samples, n_features), got shape {X.shape}")
    if not np.issubdtype(X.dtype, np.number) or np.issubdtype(X.dtype, np.complexfloating):
        raise TypeError(f"X: expected real numbers, got dtype {X.dtype}")
    X = X.astype(dtype, copy=False)
    if not np.all(np.isfinite(X)):
        raise ValueError("X: expected finite values (no NaN or inf)")
    return X


def _target(y, n: int, numeric: bool) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim != 1 or y.shape[0] != n:
        raise ValueError(f"y: expected a 1-D array of length {n} (one per row of X), got shape {y.shape}")
    if numeric:
        if not np.issubdtype(y.dtype, np.number) or np.issubdtype(y.dtype, np.complexfloating):
            raise TypeError(f"y: expected real numbers, got dtype {y.dtype}")
        y = y.astype(np.float64)
        if not np.all(np.isfinite(y)):
            raise ValueError("y: expected finite values")
    return y


def _weights(sample_weight, n: int) -> np.ndarray:
    if sample_weight is None:
        return np.ones(n)
    w = np.asarray(sample_weight, dtype=np.float64)
    if w.shape != (n,):
        raise ValueError(f"sample_weight: expected shape ({n},), got {w.shape}")
    if not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
        raise ValueError("sample_weight: expected finite non-negative weights with a positive sum")
    return w


def _proportions(p) -> np.ndarray:
    p = np.asarray(p, dtype=np.float64)
    if p.ndim == 0:
        raise ValueError("p: expected proportions of shape (..., K); for two classes pass [p, 1 - p]")
    if np.any(p < -1e-12) or not np.allclose(p.sum(-1), 1.0, atol=1e-9):
        raise ValueError("p: expected non-negative proportions summing to 1 along the last axis")
    return np.clip(p, 0.0, 1.0)


# --------------------------------------------------------------------------- impurities (9.3-9.6)
def gini(p) -> np.ndarray:
    """Gini impurity ``1 - sum_k p_k^2`` of proportions ``p`` (..., K) -> (...)  (9.4)."""
    p = _proportions(p)
    return 1.0 - np.sum(p * p, axis=-1)


def entropy(p, base: float = 2.0) -> np.ndarray:
    """Entropy ``-sum_k p_k log_base p_k`` with ``0 log 0 = 0``; ``p`` (..., K) -> (...)  (9.5)."""
    if not np.isscalar(base) or not base > 0 or base == 1:
        raise ValueError(f"base: expected a positive number other than 1, got {base!r}")
    p = _proportions(p)
    logs = np.log(np.where(p > 0, p, 1.0)) / np.log(base)
    return -np.sum(p * logs, axis=-1) + 0.0          # + 0.0 turns -0.0 into 0.0


def misclassification(p) -> np.ndarray:
    """Misclassification impurity ``1 - max_k p_k``; ``p`` (..., K) -> (...)  (9.3)."""
    return 1.0 - np.max(_proportions(p), axis=-1)


IMPURITIES = {"gini": gini, "entropy": entropy, "error": misclassification}


def impurity_decrease(y, left_mask, criterion: str = "gini", sample_weight=None) -> float:
    """``Delta I = I(R) - W_L/W I(R_L) - W_R/W I(R_R)`` for the split ``left_mask``  (9.6, weighted).

    ``y``: (n,) labels (classification criteria) or numbers (``"squared_error"``); ``left_mask``: (n,) bool.
    An empty side contributes nothing (its weight is zero).
    """
    if criterion not in CRITERIA:
        raise ValueError(f"criterion: expected one of {CRITERIA}, got {criterion!r}")
    y = np.asarray(y)
    if y.ndim != 1 or y.size < 1:
        raise ValueError(f"y: expected a non-empty 1-D array, got shape {y.shape}")
    mask = np.asarray(left_mask)
    if mask.dtype != bool or mask.shape != y.shape:
        raise ValueError(f"left_mask: expected a boolean array of shape {y.shape}, got {mask.dtype} {mask.shape}")
    y = _target(y, y.size, numeric=criterion == "squared_error")
    w = _weights(sample_weight, y.size)
    classes = None if criterion == "squared_error" else np.unique(y)

    def node_impurity(sel):
        ws = w[sel]
        if ws.sum() == 0:
            return 0.0, 0.0
        if classes is None:
            mean = np.sum(ws * y[sel]) / ws.sum()
            return ws.sum(), float(np.sum(ws * (y[sel] - mean) ** 2) / ws.sum())
        counts = np.array([ws[y[sel] == c].sum() for c in classes])
        return ws.sum(), float(IMPURITIES[criterion](counts / counts.sum()))

    W, I = node_impurity(np.ones(y.size, bool))
    WL, IL = node_impurity(mask)
    WR, IR = node_impurity(~mask)
    return I - WL / W * IL - WR / W * IR


# --------------------------------------------------------------------------- split search
class Split(NamedTuple):
    """The best split of a node: ``x[:, feature] <= threshold`` goes left.

    ``gain`` is the impurity decrease ``Delta I`` (9.6) at the node (not weighted by the node's share
    of the data); ``n_left`` counts the node's samples that go left.
    """
    feature: int
    threshold: float
    gain: float
    n_left: int


def _impurity_from_sums(sums: np.ndarray, criterion: str) -> np.ndarray:
    """Impurity of nodes from their summed statistics ``sums`` (..., C) -> (...) (sklearn's formulas)."""
    W = sums[..., 0]
    if criterion == "squared_error":
        return sums[..., 2] / W - (sums[..., 1] / W) ** 2.0
    counts = sums[..., 1:]
    if criterion == "gini":
        return 1.0 - np.sum(counts * counts, axis=-1) / (W * W)
    if criterion == "entropy":
        q = counts / W[..., None]
        return -np.sum(np.where(q > 0, q * np.log2(np.where(q > 0, q, 1.0)), 0.0), axis=-1)
    return 1.0 - np.max(counts, axis=-1) / W


def _proxy(left: np.ndarray, right: np.ndarray, criterion: str) -> np.ndarray:
    """A quantity that orders candidate splits like ``Delta I`` (larger is better), as sklearn computes it."""
    if criterion == "squared_error":
        return left[..., 1] ** 2 / left[..., 0] + right[..., 1] ** 2 / right[..., 0]
    return (-right[..., 0] * _impurity_from_sums(right, criterion)
            - left[..., 0] * _impurity_from_sums(left, criterion))


def _scan(Xn: np.ndarray, stats: np.ndarray, criterion: str, min_samples_leaf: int, feature_threshold: float):
    """Best split of one node over the columns of ``Xn``: ``(proxy, column, threshold, n_left)`` or None.

    ``Xn`` (m, f) the node's values of the features to try, in the order they are tried; ``stats``
    (m, C) the node's per-sample statistics. All columns are sorted and scanned at once: the left
    side of the candidate at sorted position ``p`` holds the first ``p`` samples, so its statistics are
    prefix sums. Ties go to the earlier column, then to the smaller threshold.
    """
    m = Xn.shape[0]
    order = np.argsort(Xn, axis=0, kind="stable")                       # (m, f)
    xs = np.take_along_axis(Xn, order, axis=0)
    thr = xs.dtype.type(feature_threshold)              # compare in the data's own precision, as sklearn
    # p (1 <= p < m) is a candidate if x[p] differs from x[p-1] and both sides keep min_samples_leaf
    valid = xs[1:] > xs[:-1] + thr                                      # (m-1, f), row p-1 <-> position p
    n_left = np.arange(1, m)
    valid &= ((n_left >= min_samples_leaf) & (m - n_left >= min_samples_leaf))[:, None]
    if not valid.any():
        return None
    cum = np.cumsum(stats[order], axis=0)                               # (m, f, C) prefix sums
    left = cum[:-1]
    right = cum[-1] - left
    proxy = _proxy(left, right, criterion)                              # (m-1, f)
    proxy = np.where(valid & ~np.isnan(proxy), proxy, -np.inf)
    flat = int(np.argmax(proxy.T))                                      # column-major: first column wins ties
    col, row = divmod(flat, m - 1)
    p = row + 1
    threshold = float(xs[p - 1, col]) / 2.0 + float(xs[p, col]) / 2.0
    return float(proxy[row, col]), col, threshold, p


def _stats_matrix(y, w, criterion, n_classes=None) -> np.ndarray:
    """Per-sample statistics whose sums over a node give its impurity: (n, C).

    squared_error: columns ``(w, w y, w y^2)``; classification (``y`` class codes): ``(w, w 1[y = k])``.
    """
    if criterion == "squared_error":
        return np.column_stack([w, w * y, w * y * y])
    onehot = np.zeros((y.size, n_classes))
    onehot[np.arange(y.size), y] = w
    return np.column_stack([w, onehot])


def _gain_from_proxy(proxy: float, total: np.ndarray, criterion: str) -> float:
    W = total[0]
    if criterion == "squared_error":
        return (proxy - total[1] ** 2 / W) / W
    return float(_impurity_from_sums(total, criterion)) + proxy / W


def best_split(X, y, idx=None, *, sample_weight=None, criterion: str = "squared_error",
               min_samples_leaf: int = 1, features=None, feature_threshold: float = FEATURE_THRESHOLD):
    """Exact greedy split of the node ``idx`` (all rows by default) with prefix sums; a :class:`Split` or None.

    ``X`` (n, p), ``y`` (n,) numbers for ``"squared_error"`` or labels for ``"gini"``/``"entropy"``/``"error"``.
    For every feature (or those in ``features``) the node's values are sorted once and the impurities of
    all ``n - 1`` candidate splits come from two cumulative sums, ``O(p n log n)``. Candidate thresholds
    are midpoints ``x_k/2 + x_{k+1}/2`` of consecutive values that differ by more than ``feature_threshold``;
    both children need ``min_samples_leaf`` samples. Ties go to the lower feature, then lower threshold.
    Returns None when no candidate exists (constant features, or nodes too small).
    """
    if criterion not in CRITERIA:
        raise ValueError(f"criterion: expected one of {CRITERIA}, got {criterion!r}")
    X = np.asarray(X)
    X = _matrix(X, X.dtype if X.dtype in (np.float32, np.float64) else np.float64)
    n, p_features = X.shape
    y = _target(y, n, numeric=criterion == "squared_error")
    w = _weights(sample_weight, n)
    min_samples_leaf = _int("min_samples_leaf", min_samples_leaf, 1)
    idx = np.arange(n) if idx is None else np.asarray(idx)
    if idx.ndim != 1 or idx.size == 0 or not np.issubdtype(idx.dtype, np.integer) or idx.min() < 0 or idx.max() >= n:
        raise ValueError(f"idx: expected a non-empty 1-D array of row indices in [0, {n})")
    feats = list(range(p_features)) if features is None else [int(j) for j in np.atleast_1d(features)]
    if any(j < 0 or j >= p_features for j in feats):
        raise ValueError(f"features: expected indices in [0, {p_features}), got {features!r}")
    if criterion == "squared_error":
        stats = _stats_matrix(y[idx], w[idx], criterion)
    else:
        classes, codes = np.unique(y[idx], return_inverse=True)
        stats = _stats_matrix(codes, w[idx], criterion, classes.size)
    feats = np.asarray(feats, dtype=np.intp)
    with np.errstate(divide="ignore", invalid="ignore"):
        best = _scan(X[np.ix_(idx, feats)], stats, criterion, min_samples_leaf, feature_threshold)
        if best is None:
            return None
        proxy, col, threshold, n_left = best
        return Split(int(feats[col]), threshold, float(_gain_from_proxy(proxy, stats.sum(0), criterion)), n_left)


def best_split_naive(X, y, idx=None) -> Split | None:
    """The book's Algorithm 6, literally: every feature, every midpoint, both means recomputed; ``O(p n^2)``.

    Squared error only, unit weights, exact equality for "distinct" values. Same tie rule and
    return value as :func:`best_split` (``gain`` = decrease in mean squared error at the node).
    """
    X = _matrix(X)
    y = _target(y, X.shape[0], numeric=True)
    idx = np.arange(X.shape[0]) if idx is None else np.asarray(idx)
    Xn, yn = X[idx], y[idx]
    m = yn.size
    best_sse, best = np.inf, None
    for j in range(Xn.shape[1]):
        values = np.unique(Xn[:, j])                                 # sorted distinct values
        for a, b in zip(values[:-1], values[1:]):
            s = a / 2.0 + b / 2.0
            left = Xn[:, j] <= s
            yl, yr = yn[left], yn[~left]
            sse = np.sum((yl - yl.mean()) ** 2) + np.sum((yr - yr.mean()) ** 2)
            if sse < best_sse:
                best_sse, best = sse, (j, float(s), int(left.sum()))
    if best is None:
        return None
    parent_sse = np.sum((yn - yn.mean()) ** 2)
    return Split(best[0], best[1], float((parent_sse - best_sse) / m), best[2])


# --------------------------------------------------------------------------- the tree arrays
@dataclass
class TreeArrays:
    """A fitted tree as parallel arrays indexed by node id (root 0; children after their parent).

    ``feature``/``threshold``: the split (``-2`` at leaves); ``left``/``right``: child ids (``-1`` at
    leaves); ``value``: the prediction, (n_nodes,) means for regression or (n_nodes, K) class
    proportions; ``n_node_samples``/``weighted_n``: counts and weight sums; ``impurity``: ``I(node)``;
    ``gain``: the weighted decrease ``(W_node / W_root) Delta I`` of the node's split (0 at leaves);
    ``depth``: the root has depth 0.
    """
    feature: np.ndarray
    threshold: np.ndarray
    left: np.ndarray
    right: np.ndarray
    value: np.ndarray
    n_node_samples: np.ndarray
    weighted_n: np.ndarray
    impurity: np.ndarray
    gain: np.ndarray
    depth: np.ndarray

    @property
    def node_count(self) -> int:
        return int(self.feature.size)

    @property
    def is_leaf(self) -> np.ndarray:
        return self.left == LEAF

    def apply(self, X: np.ndarray) -> np.ndarray:
        """Leaf id of every row of ``X`` (n, p): all rows walk down together, one level per step."""
        node = np.zeros(X.shape[0], dtype=np.intp)
        active = np.flatnonzero(self.left[node] != LEAF)
        while active.size:
            cur = node[active]
            go_left = X[active, self.feature[cur]] <= self.threshold[cur]
            node[active] = np.where(go_left, self.left[cur], self.right[cur])
            active = active[self.left[node[active]] != LEAF]
        return node


MAX_FEATURES_HELP = "'sqrt', 'third', 'log2', an int >= 1, a float in (0, 1], or None"


def _resolve_max_features(max_features, p: int) -> int:
    """Number of features tried per split: 'sqrt' -> floor(sqrt p), 'third' -> floor(p / 3) (>= 1), ..."""
    if max_features is None:
        return p
    if isinstance(max_features, str):
        if max_features == "sqrt":
            return max(1, int(np.sqrt(p)))
        if max_features == "third":
            return max(1, p // 3)
        if max_features == "log2":
            return max(1, int(np.log2(p)))
        raise ValueError(f"max_features: expected {MAX_FEATURES_HELP}, got {max_features!r}")
    if isinstance(max_features, bool):
        raise ValueError(f"max_features: expected {MAX_FEATURES_HELP}, got {max_features!r}")
    if isinstance(max_features, (int, np.integer)):
        if max_features < 1:
            raise ValueError(f"max_features: expected {MAX_FEATURES_HELP}, got {max_features!r}")
        return min(int(max_features), p)
    if isinstance(max_features, (float, np.floating)) and 0 < max_features <= 1:
        return max(1, int(max_features * p))
    raise ValueError(f"max_features: expected {MAX_FEATURES_HELP}, got {max_features!r}")


# --------------------------------------------------------------------------- trees
class _BaseTree:
    """Shared growing, prediction, importance and pruning code; see the module docstring for the rules."""

    _criterion = "squared_error"

    def __init__(self, max_depth=None, min_samples_split=2, min_samples_leaf=1, min_impurity_decrease=0.0,
                 max_features=None, random_state=None):
        self.max_depth = _int("max_depth", max_depth, 0, allow_none=True)
        self.min_samples_split = _int("min_samples_split", min_samples_split, 2)
        self.min_samples_leaf = _int("min_samples_leaf", min_samples_leaf, 1)
        if not np.isscalar(min_impurity_decrease) or not np.isfinite(min_impurity_decrease) \
                or min_impurity_decrease < 0:
            raise ValueError(f"min_impurity_decrease: expected a number >= 0, got {min_impurity_decrease!r}")
        self.min_impurity_decrease = float(min_impurity_decrease)
        _resolve_max_features(max_features, 10)                      # validates the spelling now
        self.max_features = max_features
        if random_state is not None and not isinstance(random_state, np.random.Generator):
            _int("random_state", random_state, 0)
        self.random_state = random_state
        self.tree_: TreeArrays | None = None

    # ---------------------------------------------------------------- growing
    def _grow(self, X32: np.ndarray, stats: np.ndarray) -> None:
        n, p = X32.shape
        self.n_features_in_ = p
        k = _resolve_max_features(self.max_features, p)
        rng = (self.random_state if isinstance(self.random_state, np.random.Generator)
               else np.random.default_rng(self.random_state))
        max_depth = np.inf if self.max_depth is None else self.max_depth
        min_split = max(self.min_samples_split, 2 * self.min_samples_leaf)
        W_root = stats[:, 0].sum()
        nodes = {f.name: [] for f in fields(TreeArrays)}
        # depth-first, left subtree first: node ids in sklearn's order
        stack = [(np.arange(n), 0, -1, False)]
        with np.errstate(divide="ignore", invalid="ignore"):
            self._grow_loop(X32, stats, stack, nodes, k, rng, max_depth, min_split, W_root)
        self.tree_ = TreeArrays(**{
            name: np.asarray(vals, dtype=np.intp if name in ("feature", "left", "right", "n_node_samples", "depth")
                             else np.float64)
            for name, vals in nodes.items()})

    def _grow_loop(self, X32, stats, stack, nodes, k, rng, max_depth, min_split, W_root):
        crit = self._criterion
        while stack:
            idx, depth, parent, is_left = stack.pop()
            total = stats[idx].sum(0)
            impurity = float(_impurity_from_sums(total, crit))
            node_id = len(nodes["feature"])
            if parent >= 0:
                nodes["left" if is_left else "right"][parent] = node_id
            split = None
            if not (depth >= max_depth or idx.size < min_split or impurity <= EPSILON):
                split = self._find_split(X32[idx], stats[idx], total, k, rng)
            gain = 0.0
            if split is not None:
                gain = total[0] / W_root * split[1]
                if gain + EPSILON < self.min_impurity_decrease:
                    split, gain = None, 0.0
            nodes["feature"].append(UNDEFINED if split is None else split[0])
            nodes["threshold"].append(float(UNDEFINED) if split is None else split[2])
            nodes["left"].append(LEAF)
            nodes["right"].append(LEAF)
            nodes["value"].append(self._node_value(total))
            nodes["n_node_samples"].append(idx.size)
            nodes["weighted_n"].append(total[0])
            nodes["impurity"].append(impurity)
            nodes["gain"].append(gain)
            nodes["depth"].append(depth)
            if split is not None:
                go_left = X32[idx, split[0]] <= split[2]
                stack.append((idx[~go_left], depth + 1, node_id, False))
                stack.append((idx[go_left], depth + 1, node_id, True))    # popped first

    def _find_split(self, Xn, stats, total, k, rng):
        """(feature, Delta I, threshold) of the node's best split among ``k`` sampled features, or None."""
        p = Xn.shape[1]
        if k >= p:
            feats = np.arange(p)
        else:
            # as sklearn: draw features in random order and look at k of them, more if all of those
            # are constant in this node (a constant feature offers no split)
            perm = rng.permutation(p)
            Xp = Xn[:, perm]
            n_const = np.cumsum(Xp.max(0) <= Xp.min(0) + Xn.dtype.type(FEATURE_THRESHOLD))
            visited = np.arange(1, p + 1)
            enough = np.flatnonzero((visited >= k) & (visited > n_const))
            feats = perm[:enough[0] + 1] if enough.size else perm
        found = _scan(Xn[:, feats], stats, self._criterion, self.min_samples_leaf, FEATURE_THRESHOLD)
        if found is None:
            return None
        proxy, col, threshold, _ = found
        return int(feats[col]), float(_gain_from_proxy(proxy, total, self._criterion)), threshold

    # ---------------------------------------------------------------- using a fitted tree
    def _check_fitted(self):
        if self.tree_ is None:
            raise RuntimeError(f"{type(self).__name__}: call fit(X, y) first")

    def _X(self, X) -> np.ndarray:
        self._check_fitted()
        X = _matrix(X, np.float32)
        if X.shape[1] != self.n_features_in_:
            raise ValueError(f"X: expected {self.n_features_in_} features (as in fit), got {X.shape[1]}")
        return X

    def apply(self, X) -> np.ndarray:
        """Leaf id (a node index of ``tree_``) of every row of ``X`` (n, p) -> (n,)."""
        X = self._X(X)
        return self.tree_.apply(X)

    @property
    def n_leaves_(self) -> int:
        self._check_fitted()
        return int(self.tree_.is_leaf.sum())

    def get_depth(self) -> int:
        """Depth of the deepest leaf (a single leaf has depth 0)."""
        self._check_fitted()
        return int(self.tree_.depth.max())

    @property
    def feature_importances_(self) -> np.ndarray:
        """Mean decrease in impurity (MDI) per feature, normalised to sum 1 (all zeros for a single leaf).

        For every split node ``t`` on feature ``j``: ``W_t I(t) - W_L I(L) - W_R I(R)``, summed per feature.
        """
        self._check_fitted()
        t = self.tree_
        imp = np.zeros(self.n_features_in_)
        internal = np.flatnonzero(~t.is_leaf)
        for node in internal:                      # node order, as sklearn accumulates
            l, r = t.left[node], t.right[node]
            imp[t.feature[node]] += (t.weighted_n[node] * t.impurity[node] - t.weighted_n[l] * t.impurity[l]
                                     - t.weighted_n[r] * t.impurity[r])
        imp /= t.weighted_n[0]
        total = imp.sum()
        return imp / total if total > 0 else imp

    # ---------------------------------------------------------------- cost-complexity pruning
    def _prune_sequence(self):
        """Weakest-link pruning of the fitted tree, sklearn's algorithm.

        Returns ``(alphas, impurities, masks)``: after step ``i`` the subtree ``masks[i]`` (bool over
        nodes, True = kept) has total leaf impurity ``impurities[i] = sum_leaves W_t I(t) / W`` and is
        optimal for ``alpha`` in ``[alphas[i], alphas[i + 1])``.
        """
        self._check_fitted()
        t = self.tree_
        m = t.node_count
        r_node = t.weighted_n * t.impurity / t.weighted_n[0]
        parent = np.full(m, -1)
        internal = ~t.is_leaf
        parent[t.left[internal]] = np.flatnonzero(internal)
        parent[t.right[internal]] = np.flatnonzero(internal)
        r_branch = np.zeros(m)
        n_leaves = np.zeros(m, dtype=np.intp)
        for leaf in np.flatnonzero(t.is_leaf):      # bubble every leaf's risk up to its ancestors
            r_branch[leaf] = r_node[leaf]
            node = leaf
            while node != 0:
                node = parent[node]
                r_branch[node] += r_node[leaf]
                n_leaves[node] += 1
        kept = np.ones(m, dtype=bool)
        candidate = internal.copy()
        alphas, impurities, masks = [0.0], [r_branch[0]], [kept.copy()]
        while candidate[0]:
            cand = np.flatnonzero(candidate)
            link = (r_node[cand] - r_branch[cand]) / (n_leaves[cand] - 1)
            i = int(np.argmin(link))                # first minimum, as sklearn's strict "<" scan
            alpha, node = float(link[i]), int(cand[i])
            sub = self._descendants(node)
            kept[sub] = False
            candidate[sub] = False
            candidate[node] = False
            kept[node] = True
            n_pruned = n_leaves[node] - 1
            n_leaves[node] = 0
            r_diff = r_node[node] - r_branch[node]
            r_branch[node] = r_node[node]
            a = parent[node]
            while a != -1:
                n_leaves[a] -= n_pruned
                r_branch[a] += r_diff
                a = parent[a]
            alphas.append(alpha)
            impurities.append(r_branch[0])
            masks.append(kept.copy())
        return np.array(alphas), np.array(impurities), masks

    def _descendants(self, node: int) -> list[int]:
        t, out = self.tree_, []
        stack = [int(t.left[node]), int(t.right[node])] if t.left[node] != LEAF else []
        while stack:
            v = stack.pop()
            out.append(v)
            if t.left[v] != LEAF:
                stack += [int(t.left[v]), int(t.right[v])]
        return out

    def cost_complexity_pruning_path(self, X, y, sample_weight=None):
        """Fit a tree with these settings on ``(X, y)`` and return its pruning path ``(alphas, impurities)``.

        Like ``sklearn``'s method of the same name: ``alphas[i]`` is the smallest ``ccp_alpha`` at which the
        ``i``-th subtree is chosen and ``impurities[i]`` its total leaf impurity ``sum_t W_t I(t) / W``
        (for regression ``SSE / n``, so the book's ``lambda = n * alpha``).
        """
        tree = self._clone().fit(X, y, sample_weight=sample_weight)
        alphas, impurities, _ = tree._prune_sequence()
        return alphas, impurities

    def pruning_sequence(self):
        """All subtrees of the weakest-link sequence of this fitted tree: ``(alphas, subtrees)``.

        ``subtrees[i]`` is the optimal subtree for ``ccp_alpha`` in ``[alphas[i], alphas[i + 1])``; the first
        is the whole tree, the last a single leaf. Cheaper than calling :meth:`pruned` for every alpha.
        """
        alphas, _, masks = self._prune_sequence()
        return alphas, [self._subtree(m) for m in masks]

    def pruned(self, alpha: float):
        """A copy of this fitted tree pruned for ``ccp_alpha = alpha`` (minimises R(T) + alpha |leaves|).

        Weakest links are cut while their effective alpha is ``<= alpha``, as sklearn's ``ccp_alpha``.
        """
        if not np.isscalar(alpha) or not np.isfinite(alpha) or alpha < 0:
            raise ValueError(f"alpha: expected a finite number >= 0, got {alpha!r}")
        alphas, _, masks = self._prune_sequence()
        above = np.flatnonzero(alphas[1:] > alpha)       # sklearn stops at the first weakest link above alpha
        step = int(above[0]) if above.size else len(alphas) - 1
        return self._subtree(masks[step])

    def _subtree(self, keep: np.ndarray):
        """A copy of this tree keeping the nodes in the bool mask ``keep`` (from :meth:`_prune_sequence`)."""
        t = self.tree_
        # renumber the kept nodes in depth-first order (left first), turning cut nodes into leaves
        new_id, order, stack = {}, [], [0]
        while stack:
            v = stack.pop()
            new_id[v] = len(order)
            order.append(v)
            if t.left[v] != LEAF and keep[t.left[v]]:
                stack += [int(t.right[v]), int(t.left[v])]
        order = np.array(order)
        cut = np.array([t.left[v] == LEAF or not keep[t.left[v]] for v in order])
        arrays = {f.name: getattr(t, f.name)[order].copy() for f in fields(TreeArrays)}
        arrays["left"] = np.array([LEAF if c else new_id[int(t.left[v])] for v, c in zip(order, cut)], dtype=np.intp)
        arrays["right"] = np.array([LEAF if c else new_id[int(t.right[v])] for v, c in zip(order, cut)], dtype=np.intp)
        arrays["feature"][cut] = UNDEFINED
        arrays["threshold"][cut] = UNDEFINED
        arrays["gain"][cut] = 0.0
        out = self._clone()
        for name in ("n_features_in_", "classes_", "n_classes_"):
            if hasattr(self, name):
                setattr(out, name, getattr(self, name))
        out.tree_ = replace(t, **arrays)
        return out

    def _clone(self):
        params = dict(max_depth=self.max_depth, min_samples_split=self.min_samples_split,
                      min_samples_leaf=self.min_samples_leaf, min_impurity_decrease=self.min_impurity_decrease,
                      max_features=self.max_features, random_state=self.random_state)
        if isinstance(self, ClassificationTree):
            params["criterion"] = self.criterion
        return type(self)(**params)

    def __repr__(self):
        return (f"{type(self).__name__}(max_depth={self.max_depth}, min_samples_leaf={self.min_samples_leaf}, "
                f"max_features={self.max_features!r})")


class RegressionTree(_BaseTree):
    """CART regression tree: leaves predict the (weighted) mean, splits minimise the summed squared error.

    Equal to ``sklearn.tree.DecisionTreeRegressor`` with the same settings (see the module docstring).
    ``max_features`` ('sqrt', 'third' = floor(p/3) for regression forests, 'log2', int, float or None)
    is the number of features drawn at random (``random_state``) at every split.
    """

    _criterion = "squared_error"

    def fit(self, X, y, sample_weight=None):
        """Grow the tree on ``X`` (n, p) and ``y`` (n,), optionally weighted; returns ``self``."""
        X32 = _matrix(X, np.float32)
        y = _target(y, X32.shape[0], numeric=True)
        w = _weights(sample_weight, X32.shape[0])
        self._grow(X32, _stats_matrix(y, w, "squared_error"))
        return self

    def _node_value(self, total):
        return total[1] / total[0]

    def predict(self, X) -> np.ndarray:
        """Leaf means for the rows of ``X`` (n, p) -> (n,)."""
        leaves = self.apply(X)
        return self.tree_.value[leaves]


class ClassificationTree(_BaseTree):
    """CART classification tree with ``criterion`` "gini", "entropy" (log2) or "error" (misclassification).

    Leaves hold (weighted) class proportions. With "gini"/"entropy" it equals
    ``sklearn.tree.DecisionTreeClassifier``; "error" is the book's (9.3), not offered by sklearn.
    """

    def __init__(self, criterion: str = "gini", max_depth=None, min_samples_split=2, min_samples_leaf=1,
                 min_impurity_decrease=0.0, max_features=None, random_state=None):
        if criterion not in CLASSIFICATION_CRITERIA:
            raise ValueError(f"criterion: expected one of {CLASSIFICATION_CRITERIA}, got {criterion!r}")
        self.criterion = criterion
        self._criterion = criterion
        super().__init__(max_depth, min_samples_split, min_samples_leaf, min_impurity_decrease,
                         max_features, random_state)

    def fit(self, X, y, sample_weight=None, classes=None):
        """Grow the tree on ``X`` (n, p) and labels ``y`` (n,); ``classes`` fixes the label set (sorted)."""
        X32 = _matrix(X, np.float32)
        y = _target(y, X32.shape[0], numeric=False)
        w = _weights(sample_weight, X32.shape[0])
        if classes is None:
            self.classes_, codes = np.unique(y, return_inverse=True)
        else:
            self.classes_ = np.unique(np.asarray(classes))
            if not np.all(np.isin(y, self.classes_)):
                raise ValueError(f"y: found labels outside classes={self.classes_.tolist()}")
            codes = np.searchsorted(self.classes_, y)
        self.n_classes_ = self.classes_.size
        self._grow(X32, _stats_matrix(codes, w, self.criterion, self.n_classes_))
        return self

    def _node_value(self, total):
        return total[1:] / total[0]

    def predict_proba(self, X) -> np.ndarray:
        """Class proportions of the leaf of every row: (n, K), columns in the order of ``classes_``."""
        leaves = self.apply(X)
        return self.tree_.value[leaves]

    def predict(self, X) -> np.ndarray:
        """Most frequent (weighted) class of each row's leaf (ties: the smaller class)."""
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


class DecisionStump:
    """A depth-1 classification tree for labels in {-1, +1}: the base learner of AdaBoost.

    ``criterion="gini"`` picks the split sklearn's ``DecisionTreeClassifier(max_depth=1)`` picks (sklearn's
    AdaBoost uses it); ``"error"`` minimises the weighted misclassification error, as the book's AdaBoost
    derivation asks. After ``fit``: ``feature_``, ``threshold_`` (``x[:, feature_] <= threshold_`` is the
    left side), ``left_label_``, ``right_label_`` (weighted majorities, ties -> -1). If no split is possible
    or useful (one class only, or all features constant) the stump is constant: ``feature_ = 0``,
    ``threshold_ = inf`` and both labels the majority.
    """

    def __init__(self, criterion: str = "gini"):
        if criterion not in ("gini", "error"):
            raise ValueError(f"criterion: expected 'gini' or 'error', got {criterion!r}")
        self.criterion = criterion

    def fit(self, X, y, sample_weight=None):
        y = np.asarray(y)
        if y.ndim != 1 or not np.all(np.isin(y, (-1, 1))):
            raise ValueError("y: expected a 1-D array of labels in {-1, +1}")
        tree = ClassificationTree(self.criterion, max_depth=1).fit(X, y, sample_weight, classes=(-1, 1))
        t = tree.tree_
        labels = np.array([-1, 1])
        self.tree_ = tree
        if t.node_count == 1:
            self.feature_, self.threshold_ = 0, np.inf
            self.left_label_ = self.right_label_ = int(labels[np.argmax(t.value[0])])
        else:
            self.feature_, self.threshold_ = int(t.feature[0]), float(t.threshold[0])
            self.left_label_ = int(labels[np.argmax(t.value[t.left[0]])])
            self.right_label_ = int(labels[np.argmax(t.value[t.right[0]])])
        return self

    def predict(self, X) -> np.ndarray:
        """+-1 for every row of ``X`` (n, p) -> (n,) int."""
        if not hasattr(self, "feature_"):
            raise RuntimeError("DecisionStump: call fit(X, y) first")
        X = self.tree_._X(X)
        return np.where(X[:, self.feature_] <= self.threshold_, self.left_label_, self.right_label_)

    def __repr__(self):
        if not hasattr(self, "feature_"):
            return f"DecisionStump(criterion={self.criterion!r})"
        return (f"DecisionStump(x{self.feature_} <= {self.threshold_:.4g} -> {self.left_label_:+d} "
                f"else {self.right_label_:+d})")
