"""Boosting with regularized trees: the Newton (XGBoost) tree builder, least-squares and Newton boosting.

One round of Newton boosting for a twice-differentiable loss ``l(y, f)`` computes, at the current margin,
``g_i = dl/df`` and ``h_i = d2l/df2`` and fits a tree whose leaf j holds

    c_j = -G_j / (H_j + lambda),      G_j = sum_{i in leaf j} g_i,  H_j = sum_{i in leaf j} h_i      (9.34)

A split of a node with sums (G, H) into (G_L, H_L) and (G_R, H_R) has the *loss change*

    loss_chg = G_L^2/(H_L + lambda) + G_R^2/(H_R + lambda) - G^2/(H + lambda)                     (9.35 bracket)

The objective ``sum_i [g_i c + h_i c^2 / 2] + lambda/2 sum_j c_j^2 + gamma J`` drops by ``loss_chg / 2 - gamma``
for that split ("paper" convention). xgboost compares the un-halved ``loss_chg`` with its ``gamma``
("xgboost" convention), so xgboost's gamma is twice the paper's. With squared loss, h = 1 and g = -r, and
``loss_chg - gamma`` is the book's least-squares gain (9.19).

The builder follows xgboost's ``tree_method="exact"`` so that margins agree to ~1e-6:

1. X is float32; candidate thresholds are ``float32((x_k + x_{k+1}) * 0.5)`` between consecutive distinct
   sorted values of a feature, and a sample goes left when ``x < threshold``;
2. a candidate is valid when both children have Hessian sum >= ``min_child_weight``; the largest loss_chg
   wins (ties: the smaller feature index, then the smaller threshold); a node splits when its best loss_chg
   exceeds 1e-6 and its depth is below ``max_depth``;
3. after growing, nodes whose two children are leaves are collapsed **bottom-up** while their loss_chg is
   below gamma (top-down stopping gives different trees: a weak split can enable strong ones);
4. leaf value = ``learning_rate * (-G / (H + lambda))``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import sparse, special

from .margin_losses import LogisticLoss, SquaredLoss, get_loss

RT_EPS = 1e-6  # xgboost's kRtEps: the smallest loss change that counts as a split


# ---- validation ---------------------------------------------------------------------------------------

def _check_X(X, name: str = "X") -> np.ndarray:
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"{name}: expected a non-empty 2-D array (n_samples, n_features), got shape {X.shape}")
    if not np.issubdtype(X.dtype, np.number):
        raise TypeError(f"{name}: expected numbers, got dtype {X.dtype}")
    X = X.astype(np.float32)
    if not np.isfinite(X).all():
        raise ValueError(f"{name}: contains NaN or infinite values (missing values are not supported)")
    return X


def _check_vec(v, n: int, name: str) -> np.ndarray:
    v = np.asarray(v, dtype=np.float64)
    if v.shape != (n,):
        raise ValueError(f"{name}: expected shape ({n},), got {v.shape}")
    if not np.isfinite(v).all():
        raise ValueError(f"{name}: contains NaN or infinite values")
    return v


def _check_int(name: str, v, lo: int) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo:
        raise ValueError(f"{name}: expected an integer >= {lo}, got {v!r}")
    return int(v)


def _check_nonneg(name: str, v, positive: bool = False) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)) or not np.isfinite(v) \
            or v < 0 or (positive and v == 0):
        raise ValueError(f"{name}: expected a {'positive' if positive else 'non-negative'} number, got {v!r}")
    return float(v)


# ---- the two formulas -----------------------------------------------------------------------------------

def leaf_weight(G, H, reg_lambda: float = 1.0):
    """Newton leaf value ``-G / (H + lambda)`` (9.34); with h = 1 and G = -sum r: the ridge mean (9.17)."""
    return -np.asarray(G, dtype=np.float64) / (np.asarray(H, dtype=np.float64) + reg_lambda)


def split_loss_change(GL, HL, GR, HR, reg_lambda: float = 1.0):
    """``GL^2/(HL+l) + GR^2/(HR+l) - (GL+GR)^2/(HL+HR+l)``: the bracket of (9.35), without the 1/2."""
    GL, HL, GR, HR = (np.asarray(a, dtype=np.float64) for a in (GL, HL, GR, HR))
    return GL ** 2 / (HL + reg_lambda) + GR ** 2 / (HR + reg_lambda) - (GL + GR) ** 2 / (HL + HR + reg_lambda)


# ---- one tree ----------------------------------------------------------------------------------------

@dataclass
class TreeArrays:
    """A binary tree as parallel arrays over nodes (node 0 is the root; leaves have ``left == -1``).

    feature, threshold (float32; left when ``x < threshold``), left, right, value (the shrunk leaf value,
    0 for internal nodes), loss_chg (of the node's split, 0 for leaves), G, H (gradient and Hessian sums),
    depth.
    """
    feature: np.ndarray
    threshold: np.ndarray
    left: np.ndarray
    right: np.ndarray
    value: np.ndarray
    loss_chg: np.ndarray
    G: np.ndarray
    H: np.ndarray
    depth: np.ndarray
    leaves: np.ndarray = field(init=False)

    def __post_init__(self):
        self.leaves = np.flatnonzero(self.left < 0)

    @property
    def n_leaves(self) -> int:
        return len(self.leaves)

    def apply(self, X) -> np.ndarray:
        """Leaf node id of each row of X (float32 comparisons, ``x < threshold`` goes left)."""
        X = _check_X(X)
        node = np.zeros(len(X), dtype=np.int64)
        while True:
            inner = self.left[node] >= 0
            if not inner.any():
                return node
            nd = node[inner]
            go_left = X[np.flatnonzero(inner), self.feature[nd]] < self.threshold[nd]
            node[inner] = np.where(go_left, self.left[nd], self.right[nd])

    def predict(self, X) -> np.ndarray:
        return self.value[self.apply(X)]


def _best_split(Xn: np.ndarray, gn: np.ndarray, hn: np.ndarray, reg_lambda: float, min_child_weight: float):
    """Best (loss_chg, feature, threshold) over all features for one node, by prefix sums over sorted values."""
    n, p = Xn.shape
    if n < 2:
        return -np.inf, -1, np.float32(0)
    order = np.argsort(Xn, axis=0, kind="stable")
    xs = np.take_along_axis(Xn, order, axis=0)
    GL = np.cumsum(gn[order], axis=0)[:-1]
    HL = np.cumsum(hn[order], axis=0)[:-1]
    G, H = gn.sum(), hn.sum()
    GR, HR = G - GL, H - HL
    ok = (xs[1:] != xs[:-1]) & (HL >= min_child_weight) & (HR >= min_child_weight)
    if not ok.any():
        return -np.inf, -1, np.float32(0)
    chg = np.where(ok, GL ** 2 / (HL + reg_lambda) + GR ** 2 / (HR + reg_lambda) - G ** 2 / (H + reg_lambda), -np.inf)
    flat = chg.T.ravel()  # feature-major: ties go to the smaller feature, then the smaller threshold
    best = int(np.argmax(flat))
    j, k = divmod(best, n - 1)
    thr = (xs[k, j] + xs[k + 1, j]) * np.float32(0.5)  # float32 arithmetic, as in xgboost
    return float(flat[best]), j, np.float32(thr)


def fit_newton_tree(X, g, h, *, max_depth: int = 6, reg_lambda: float = 1.0, gamma: float = 0.0,
                    min_child_weight: float = 1.0, learning_rate: float = 0.3,
                    gamma_convention: str = "xgboost") -> TreeArrays:
    """Grow one regularized tree on gradients ``g`` (n,) and Hessians ``h`` (n,) of X (n, p); see the module doc.

    ``gamma_convention="xgboost"`` collapses a split when ``loss_chg < gamma``; ``"paper"`` when
    ``loss_chg / 2 < gamma`` (the objective ``sum g c + h c^2/2 + lambda/2 c^2 + gamma J`` exactly).
    """
    X = _check_X(X)
    n = len(X)
    g = _check_vec(g, n, "g")
    h = _check_vec(h, n, "h")
    if (h < 0).any():
        raise ValueError("h: Hessians must be non-negative")
    max_depth = _check_int("max_depth", max_depth, 0)
    reg_lambda = _check_nonneg("reg_lambda", reg_lambda)
    gamma = _check_nonneg("gamma", gamma)
    min_child_weight = _check_nonneg("min_child_weight", min_child_weight)
    learning_rate = _check_nonneg("learning_rate", learning_rate, positive=True)
    if gamma_convention not in ("xgboost", "paper"):
        raise ValueError(f"gamma_convention: expected 'xgboost' or 'paper', got {gamma_convention!r}")
    if reg_lambda == 0 and min_child_weight == 0 and (h == 0).any():
        raise ValueError("h: zero Hessians need reg_lambda > 0 or min_child_weight > 0 (leaf value -G/0)")

    feat, thr, left, right, chg, Gs, Hs, depth, members = [], [], [], [], [], [], [], [], []

    def new_node(idx, d):
        feat.append(-1), thr.append(np.float32(0)), left.append(-1), right.append(-1), chg.append(0.0)
        Gs.append(float(g[idx].sum())), Hs.append(float(h[idx].sum())), depth.append(d), members.append(idx)
        return len(feat) - 1

    new_node(np.arange(n), 0)
    frontier = [0]
    while frontier:  # depth-wise growth
        nxt = []
        for node in frontier:
            if depth[node] >= max_depth:
                continue
            idx = members[node]
            best, j, t = _best_split(X[idx], g[idx], h[idx], reg_lambda, min_child_weight)
            if not best > RT_EPS:
                continue
            go_left = X[idx, j] < t
            feat[node], thr[node], chg[node] = j, t, best
            left[node] = new_node(idx[go_left], depth[node] + 1)
            right[node] = new_node(idx[~go_left], depth[node] + 1)
            nxt += [left[node], right[node]]
        frontier = nxt

    # bottom-up pruning: collapse a node whose children are both leaves while its split is not worth gamma
    scale = 1.0 if gamma_convention == "xgboost" else 0.5
    changed = True
    while changed:
        changed = False
        for node in range(len(feat) - 1, -1, -1):
            L, R = left[node], right[node]
            if L >= 0 and left[L] < 0 and left[R] < 0 and scale * chg[node] < gamma:
                left[node] = right[node] = feat[node] = -1
                chg[node] = 0.0
                changed = True

    # compact: keep the nodes reachable from the root, in breadth-first order
    keep, q = [], [0]
    while q:
        node = q.pop(0)
        keep.append(node)
        if left[node] >= 0:
            q += [left[node], right[node]]
    pos = {old: new for new, old in enumerate(keep)}
    L = np.array([pos[left[o]] if left[o] >= 0 else -1 for o in keep], dtype=np.int64)
    R = np.array([pos[right[o]] if right[o] >= 0 else -1 for o in keep], dtype=np.int64)
    G = np.array([Gs[o] for o in keep])
    H = np.array([Hs[o] for o in keep])
    value = np.where(L < 0, learning_rate * leaf_weight(G, H, reg_lambda) if len(G) else 0.0, 0.0)
    return TreeArrays(feature=np.array([feat[o] for o in keep], dtype=np.int64),
                      threshold=np.array([thr[o] for o in keep], dtype=np.float32), left=L, right=R,
                      value=value, loss_chg=np.array([chg[o] for o in keep]), G=G, H=H,
                      depth=np.array([depth[o] for o in keep], dtype=np.int64))


# ---- ensembles ---------------------------------------------------------------------------------------

class _TreeEnsemble:
    """Shared by both boosters: ``trees_``, ``init_``, staged margins, leaf indices and one-hot leaf features."""

    def _check_fitted(self):
        if not hasattr(self, "trees_"):
            raise ValueError("model: call fit(X, y) first")

    def _margin(self, X):
        self._check_fitted()
        X = _check_X(X)
        if X.shape[1] != self.n_features_in_:
            raise ValueError(f"X: expected {self.n_features_in_} features, got {X.shape[1]}")
        return X

    def staged_decision_function(self, X):
        """Yield the margin after 0, 1, ..., M rounds (M + 1 arrays of shape (n,))."""
        X = self._margin(X)
        f = np.full(len(X), self.init_, dtype=np.float64)
        yield f.copy()
        for tree in self.trees_:
            f += tree.predict(X)
            yield f.copy()

    def decision_function(self, X) -> np.ndarray:
        X = self._margin(X)
        f = np.full(len(X), self.init_, dtype=np.float64)
        for tree in self.trees_:
            f += tree.predict(X)
        return f

    def apply(self, X) -> np.ndarray:
        """Leaf node ids, shape (n, n_trees)."""
        X = self._margin(X)
        return np.stack([t.apply(X) for t in self.trees_], axis=1) if self.trees_ else np.zeros((len(X), 0), int)

    def leaf_features(self, X) -> sparse.csr_matrix:
        """One-hot leaf membership, shape (n, total leaves): column blocks per tree, leaves in node order.

        The boosted margin is ``init_ + leaf_features(X) @ leaf_values()``.
        """
        ids = self.apply(X)
        n = len(ids)
        cols, offset = [], 0
        for m, tree in enumerate(self.trees_):
            lookup = np.full(len(tree.left), -1)
            lookup[tree.leaves] = np.arange(tree.n_leaves)
            cols.append(offset + lookup[ids[:, m]])
            offset += tree.n_leaves
        if not cols:
            return sparse.csr_matrix((n, 0))
        c = np.stack(cols, axis=1).ravel()
        r = np.repeat(np.arange(n), len(self.trees_))
        return sparse.csr_matrix((np.ones(len(c)), (r, c)), shape=(n, offset))

    def leaf_values(self) -> np.ndarray:
        """Shrunk leaf values in the column order of :meth:`leaf_features`."""
        self._check_fitted()
        return np.concatenate([t.value[t.leaves] for t in self.trees_]) if self.trees_ else np.zeros(0)


class NewtonBoost(_TreeEnsemble):
    """Second-order (XGBoost-style) boosting: each round fits :func:`fit_newton_tree` to (g, h) at the margin.

    ``loss``: "logistic" (y in {0,1}), "squared", "exponential" (y in {-1,+1}) or a loss object with
    ``grad``/``hess`` (and ``value`` for the history). ``base_score`` as in xgboost: a probability for
    "logistic" (initial margin logit(base_score)), a raw margin otherwise; None uses the loss's best constant.

    After ``fit``: ``trees_`` (list of :class:`TreeArrays`), ``init_``, ``history_`` (dict of per-round lists
    ``train_loss``, ``n_leaves``, ``sum_abs_g``, ``sum_h`` and, with ``eval_set``, ``valid_loss``; losses are
    means, entry 0 is before the first tree).
    """

    def __init__(self, loss="logistic", n_estimators: int = 100, learning_rate: float = 0.3, max_depth: int = 6,
                 reg_lambda: float = 1.0, gamma: float = 0.0, min_child_weight: float = 1.0,
                 base_score: float | None = 0.5, gamma_convention: str = "xgboost"):
        self.loss = get_loss(loss)
        self.n_estimators = _check_int("n_estimators", n_estimators, 0)
        self.learning_rate = _check_nonneg("learning_rate", learning_rate, positive=True)
        self.max_depth = _check_int("max_depth", max_depth, 0)
        self.reg_lambda = _check_nonneg("reg_lambda", reg_lambda)
        self.gamma = _check_nonneg("gamma", gamma)
        self.min_child_weight = _check_nonneg("min_child_weight", min_child_weight)
        if gamma_convention not in ("xgboost", "paper"):
            raise ValueError(f"gamma_convention: expected 'xgboost' or 'paper', got {gamma_convention!r}")
        self.gamma_convention = gamma_convention
        if base_score is not None:
            _check_nonneg("base_score", abs(base_score)) if not isinstance(base_score, bool) else None
            if isinstance(self.loss, LogisticLoss) and not 0 < base_score < 1:
                raise ValueError(f"base_score: expected a probability in (0, 1) for the logistic loss, got {base_score!r}")
        self.base_score = base_score

    def _init_margin(self, y) -> float:
        if self.base_score is None:
            return self.loss.init_margin(y)
        if isinstance(self.loss, LogisticLoss):
            return float(special.logit(self.base_score))
        return float(self.base_score)

    def _mean_loss(self, y, f):
        return float(np.mean(self.loss.value(y, f))) if hasattr(self.loss, "value") else float("nan")

    def fit(self, X, y, eval_set=None):
        """Fit on X (n, p) and y (n,); ``eval_set=(X_val, y_val)`` records the validation loss per round."""
        X = _check_X(X)
        y = _check_vec(y, len(X), "y")
        self.loss.grad(y, np.zeros_like(y))  # validates the labels for the loss
        self.n_features_in_ = X.shape[1]
        self.init_ = self._init_margin(y)
        self.trees_ = []
        f = np.full(len(y), self.init_)
        hist = dict(train_loss=[self._mean_loss(y, f)], n_leaves=[], sum_abs_g=[], sum_h=[])
        if eval_set is not None:
            Xv, yv = _check_X(eval_set[0], "eval_set[0]"), eval_set[1]
            yv = _check_vec(yv, len(Xv), "eval_set[1]")
            fv = np.full(len(yv), self.init_)
            hist["valid_loss"] = [self._mean_loss(yv, fv)]
        for _ in range(self.n_estimators):
            g = self.loss.grad(y, f).astype(np.float32).astype(np.float64)  # xgboost stores g, h in float32
            h = self.loss.hess(y, f).astype(np.float32).astype(np.float64)
            tree = fit_newton_tree(X, g, h, max_depth=self.max_depth, reg_lambda=self.reg_lambda, gamma=self.gamma,
                                   min_child_weight=self.min_child_weight, learning_rate=self.learning_rate,
                                   gamma_convention=self.gamma_convention)
            self.trees_.append(tree)
            f = f + tree.predict(X)
            hist["train_loss"].append(self._mean_loss(y, f))
            hist["n_leaves"].append(tree.n_leaves)
            hist["sum_abs_g"].append(float(np.abs(g).sum()))
            hist["sum_h"].append(float(h.sum()))
            if eval_set is not None:
                fv = fv + tree.predict(Xv)
                hist["valid_loss"].append(self._mean_loss(yv, fv))
        self.history_ = hist
        return self

    def predict_proba(self, X) -> np.ndarray:
        """P(y = positive class) through the loss's link, shape (n,)."""
        if isinstance(self.loss, SquaredLoss):
            raise ValueError("loss: predict_proba needs a classification loss")
        return self.loss.link(self.decision_function(X))

    def predict(self, X) -> np.ndarray:
        """Labels in the loss's coding ({0,1} logistic, {-1,+1} exponential) or the margin (squared)."""
        f = self.decision_function(X)
        if isinstance(self.loss, SquaredLoss):
            return f
        if isinstance(self.loss, LogisticLoss):
            return (f > 0).astype(np.int64)
        return np.where(f > 0, 1, -1)

    def to_xgb_params(self) -> dict:
        """The same settings for ``xgboost.train`` (exact trees, one thread); gamma in xgboost's convention.

        For a loss without a built-in xgboost objective, pass it as a custom ``obj`` (no "objective" key).
        """
        objective = {"logistic": "binary:logistic", "squared": "reg:squarederror"}.get(getattr(self.loss, "name", ""))
        params = dict(tree_method="exact", max_depth=self.max_depth, eta=self.learning_rate,
                      reg_lambda=self.reg_lambda, reg_alpha=0.0,
                      gamma=self.gamma * (2.0 if self.gamma_convention == "paper" else 1.0),
                      min_child_weight=self.min_child_weight, nthread=1, max_bin=256)
        params.pop("max_bin")
        if objective:
            params["objective"] = objective
        else:
            params["disable_default_eval_metric"] = 1
        if self.base_score is not None:
            params["base_score"] = self.base_score
        return params


class LSBoost(_TreeEnsemble):
    """Least-squares boosting with ridge leaves and a per-leaf cost (Algorithm 7 plus a learning rate).

    Round m: residuals ``r = y - f_{m-1}``; a tree minimising ``sum_i w_i (r_i - h(x_i))^2 + lambda sum_j c_j^2
    + gamma J`` (gain (9.19)/(9.23): ``loss_chg - gamma``, the book's convention), with leaf values
    ``sum w r / (sum w + lambda)``; then ``f_m = f_{m-1} + learning_rate * h_m``. Built by
    :func:`fit_newton_tree` with ``g = -w r`` and ``h = w``; ``min_samples_leaf`` bounds the weight per leaf.

    After ``fit``: ``trees_``, ``init_`` (weighted mean of y, or 0 with ``init="zero"``), ``train_loss_``
    (mean squared error, entry 0 before the first tree), ``step_norms_`` (``||eta h_m||_n``) and
    ``residual_norms_`` (``||r_m||_n``), with ``||v||_n = sqrt(mean v^2)``.
    """

    def __init__(self, n_estimators: int = 100, learning_rate: float = 0.1, max_depth: int = 3,
                 reg_lambda: float = 0.0, gamma: float = 0.0, min_samples_leaf: float = 1, init: str = "mean"):
        self.n_estimators = _check_int("n_estimators", n_estimators, 0)
        self.learning_rate = _check_nonneg("learning_rate", learning_rate, positive=True)
        self.max_depth = _check_int("max_depth", max_depth, 0)
        self.reg_lambda = _check_nonneg("reg_lambda", reg_lambda)
        self.gamma = _check_nonneg("gamma", gamma)
        self.min_samples_leaf = _check_nonneg("min_samples_leaf", min_samples_leaf)
        if init not in ("mean", "zero"):
            raise ValueError(f"init: expected 'mean' or 'zero', got {init!r}")
        self.init = init

    def fit(self, X, y, sample_weight=None):
        X = _check_X(X)
        y = _check_vec(y, len(X), "y")
        w = np.ones(len(y)) if sample_weight is None else _check_vec(sample_weight, len(y), "sample_weight")
        if (w < 0).any() or w.sum() == 0:
            raise ValueError("sample_weight: expected non-negative weights with a positive sum")
        self.n_features_in_ = X.shape[1]
        self.init_ = float(np.average(y, weights=w)) if self.init == "mean" else 0.0
        f = np.full(len(y), self.init_)
        self.trees_, self.step_norms_, self.residual_norms_ = [], [], []
        self.train_loss_ = [float(np.average((y - f) ** 2, weights=w))]
        for _ in range(self.n_estimators):
            r = y - f
            tree = fit_newton_tree(X, -w * r, w, max_depth=self.max_depth, reg_lambda=self.reg_lambda,
                                   gamma=self.gamma, min_child_weight=self.min_samples_leaf,
                                   learning_rate=self.learning_rate, gamma_convention="xgboost")
            step = tree.predict(X)
            self.trees_.append(tree)
            self.residual_norms_.append(float(np.sqrt(np.mean(r ** 2))))
            self.step_norms_.append(float(np.sqrt(np.mean(step ** 2))))
            f = f + step
            self.train_loss_.append(float(np.average((y - f) ** 2, weights=w)))
        return self

    def predict(self, X) -> np.ndarray:
        return self.decision_function(X)

    def staged_predict(self, X):
        """Yield the prediction after 0, 1, ..., M rounds."""
        yield from self.staged_decision_function(X)


# ---- Newton for linear logistic regression and for the intercept ----------------------------------------

def irls_logistic(X, y, n_iter: int = 50, tol: float = 1e-10, ridge: float = 0.0, fit_intercept: bool = True):
    """Logistic regression by Newton's method written as iteratively reweighted least squares (9.36-9.38).

    Each step solves ``min_beta sum_i w_i (z_i - x_i beta)^2 + ridge |beta_x|^2`` with ``w_i = p_i (1 - p_i)``
    and working response ``z_i = x_i beta + (y_i - p_i) / w_i``. Returns ``(beta, history)``: ``beta`` has
    the intercept first when ``fit_intercept``; ``history`` has ``loss`` (mean NLL per iterate) and
    ``step`` (max |change| per step). Stops when the step is below ``tol``.
    """
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] == 0:
        raise ValueError(f"X: expected a non-empty 2-D array, got shape {X.shape}")
    y = _check_vec(y, len(X), "y")
    if not np.isin(y, (0.0, 1.0)).all():
        raise ValueError("y: expected labels in {0, 1}")
    n_iter = _check_int("n_iter", n_iter, 1)
    tol = _check_nonneg("tol", tol)
    ridge = _check_nonneg("ridge", ridge)
    A = np.column_stack([np.ones(len(X)), X]) if fit_intercept else X
    P = np.eye(A.shape[1]) * ridge
    if fit_intercept:
        P[0, 0] = 0.0
    beta = np.zeros(A.shape[1])
    loss = LogisticLoss()
    hist = dict(loss=[float(np.mean(loss.value(y, A @ beta)))], step=[])
    for _ in range(n_iter):
        eta = A @ beta
        p = special.expit(eta)
        w = np.maximum(p * (1 - p), 1e-300)
        z = eta + (y - p) / w
        new = np.linalg.solve(A.T @ (w[:, None] * A) + P, A.T @ (w * z))
        step = float(np.max(np.abs(new - beta)))
        beta = new
        hist["loss"].append(float(np.mean(loss.value(y, A @ beta))))
        hist["step"].append(step)
        if step < tol:
            break
    return beta, hist


def newton_intercept_path(y, n_steps: int, reg_lambda: float = 0.0, f0: float = 0.0) -> np.ndarray:
    """Logistic Newton iterates on a constant margin: ``f_{k+1} = f_k - G / (H + lambda)`` (length n_steps + 1).

    This is Newton boosting with single-leaf trees and learning rate 1; with lambda = 0 it converges to
    logit(mean y).
    """
    y = np.asarray(y, dtype=np.float64)
    if y.ndim != 1 or not np.isin(y, (0.0, 1.0)).all():
        raise ValueError("y: expected a 1-D array of labels in {0, 1}")
    n_steps = _check_int("n_steps", n_steps, 0)
    reg_lambda = _check_nonneg("reg_lambda", reg_lambda)
    loss = LogisticLoss()
    f = [float(f0)]
    for _ in range(n_steps):
        fk = np.full(len(y), f[-1])
        f.append(f[-1] + float(leaf_weight(loss.grad(y, fk).sum(), loss.hess(y, fk).sum(), reg_lambda)))
    return np.array(f)
