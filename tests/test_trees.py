"""lib.trees against scikit-learn's CART, brute force and closed forms."""
import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes, make_classification, make_friedman1, make_moons
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from lib import trees
from lib.data import make_1d_signal


# --------------------------------------------------------------------------- impurities
def test_impurities_closed_forms_and_concavity():
    p = np.linspace(0, 1, 101)
    P = np.stack([p, 1 - p], -1)
    np.testing.assert_allclose(trees.gini(P), 2 * p * (1 - p), atol=1e-15)
    with np.errstate(divide="ignore", invalid="ignore"):
        h = -(p * np.log2(p) + (1 - p) * np.log2(1 - p))
    np.testing.assert_allclose(trees.entropy(P), np.nan_to_num(h), atol=1e-15)
    np.testing.assert_allclose(trees.misclassification(P), np.minimum(p, 1 - p), atol=1e-15)
    np.testing.assert_allclose(trees.entropy(P, base=np.e), np.nan_to_num(h) * np.log(2), atol=1e-15)
    for f in (trees.gini, trees.entropy, trees.misclassification):
        v = f(P)
        assert v[0] == v[-1] == 0 and np.argmax(v) == 50
        # concave: the midpoint value is at least the chord's midpoint, for random pairs of K=4 proportions
        rng = np.random.default_rng(1)
        a, b = rng.dirichlet(np.ones(4), 200), rng.dirichlet(np.ones(4), 200)
        assert np.all(f((a + b) / 2) >= (f(a) + f(b)) / 2 - 1e-12)
    assert trees.gini(np.full(5, 0.2)) == pytest.approx(0.8)


def test_impurity_decrease_weighted_and_regression():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 50)
    mask = rng.random(50) < 0.4
    w = rng.random(50)

    def prop(sel):
        c = np.array([w[sel][y[sel] == k].sum() for k in range(3)])
        return c / c.sum()
    want = trees.gini(prop(np.ones(50, bool))) - w[mask].sum() / w.sum() * trees.gini(prop(mask)) \
        - w[~mask].sum() / w.sum() * trees.gini(prop(~mask))
    assert trees.impurity_decrease(y, mask, "gini", sample_weight=w) == pytest.approx(want, abs=1e-14)
    yr = rng.standard_normal(50)
    sse = lambda v: np.sum((v - v.mean()) ** 2)
    want = (sse(yr) - sse(yr[mask]) - sse(yr[~mask])) / 50
    assert trees.impurity_decrease(yr, mask, "squared_error") == pytest.approx(want, abs=1e-14)


def test_zero_misclassification_gain_with_positive_gini_gain():
    # parent 70 zeros / 30 ones; left 40/5 and right 30/25 both keep class 0 as the majority,
    # so 30 points stay misclassified, while the children are purer on average
    y = np.array([0] * 70 + [1] * 30)
    mask = np.r_[np.ones(40, bool), np.zeros(30, bool), np.ones(5, bool), np.zeros(25, bool)]
    assert trees.impurity_decrease(y, mask, "error") == pytest.approx(0.0, abs=1e-15)
    assert trees.impurity_decrease(y, mask, "gini") > 0.01
    assert trees.impurity_decrease(y, mask, "entropy") > 0.01


# --------------------------------------------------------------------------- split search
@pytest.mark.parametrize("seed", range(6))
def test_fast_split_equals_naive_algorithm(seed):
    rng = np.random.default_rng(seed)
    n, p = 60, 4
    X = rng.standard_normal((n, p))
    X[:, 2] = np.round(X[:, 2], 1)                       # repeated values
    y = np.sin(X[:, 0]) + rng.standard_normal(n) * 0.3 + (X[:, 2] > 0)
    idx = rng.choice(n, 45, replace=False)
    fast = trees.best_split(X, y, idx)
    slow = trees.best_split_naive(X, y, idx)
    assert (fast.feature, fast.n_left) == (slow.feature, slow.n_left)
    assert fast.threshold == slow.threshold
    assert fast.gain == pytest.approx(slow.gain, rel=1e-10)
    left = X[idx, fast.feature] <= fast.threshold
    assert fast.gain == pytest.approx(trees.impurity_decrease(y[idx], left, "squared_error"), rel=1e-10)


def test_best_split_classification_is_the_argmax_of_the_decrease():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((80, 3))
    y = (X[:, 1] + 0.5 * rng.standard_normal(80) > 0).astype(int)
    for crit in ("gini", "entropy", "error"):
        s = trees.best_split(X, y, criterion=crit)
        best = max(trees.impurity_decrease(y, X[:, j] <= t, crit)
                   for j in range(3) for t in np.unique(X[:, j])[:-1])
        assert s.gain == pytest.approx(best, abs=1e-12)
        assert s.gain == pytest.approx(trees.impurity_decrease(y, X[:, s.feature] <= s.threshold, crit), abs=1e-12)
    s = trees.best_split(X, y, criterion="gini", min_samples_leaf=30)
    assert 30 <= s.n_left <= 50
    assert trees.best_split(np.ones((5, 2)), np.arange(5.0)) is None


# --------------------------------------------------------------------------- trees vs sklearn
def _structure_equal(a, b):
    t, s = a.tree_, b.tree_
    assert t.node_count == s.node_count
    assert np.array_equal(t.feature, s.feature)
    np.testing.assert_array_equal(t.threshold, s.threshold)
    assert np.array_equal(t.left, s.children_left) and np.array_equal(t.right, s.children_right)
    assert np.array_equal(t.n_node_samples, s.n_node_samples)


def test_regression_tree_matches_sklearn_on_friedman1():
    X, y = make_friedman1(400, random_state=0)
    Xt, _ = make_friedman1(300, random_state=1)
    X = X.astype(np.float32)
    ours = trees.RegressionTree(max_depth=4, min_samples_leaf=5).fit(X, y)
    ref = DecisionTreeRegressor(max_depth=4, min_samples_leaf=5, random_state=0).fit(X, y)
    _structure_equal(ours, ref)
    np.testing.assert_allclose(ours.predict(X), ref.predict(X), atol=1e-10)
    np.testing.assert_allclose(ours.predict(Xt), ref.predict(Xt), atol=1e-10)
    np.testing.assert_allclose(ours.feature_importances_, ref.feature_importances_, atol=1e-10)
    np.testing.assert_allclose(ours.tree_.impurity, ref.tree_.impurity, atol=1e-10)
    assert np.array_equal(ours.apply(Xt), ref.apply(Xt))
    assert ours.n_leaves_ == ref.get_n_leaves() and ours.get_depth() == ref.get_depth() == 4
    # deep trees: sklearn breaks exact ties by a random feature order; the training fit is unaffected
    deep = trees.RegressionTree(max_depth=8).fit(X, y)
    ref = DecisionTreeRegressor(max_depth=8, random_state=0).fit(X, y)
    np.testing.assert_allclose(deep.predict(X), ref.predict(X), atol=1e-10)
    assert deep.n_leaves_ == ref.get_n_leaves()


def test_regression_tree_matches_sklearn_on_diabetes_and_random_data():
    X, y = load_diabetes(return_X_y=True)
    # integer targets and discrete features make exact gain ties between different partitions likely
    # in small nodes, which sklearn breaks at random; the upper levels have none
    for depth in (1, 3):
        ours = trees.RegressionTree(max_depth=depth, min_samples_leaf=3).fit(X, y)
        ref = DecisionTreeRegressor(max_depth=depth, min_samples_leaf=3, random_state=0).fit(X, y)
        _structure_equal(ours, ref)
        np.testing.assert_allclose(ours.predict(X), ref.predict(X), atol=1e-9)
        np.testing.assert_allclose(ours.feature_importances_, ref.feature_importances_, atol=1e-12)
    rng = np.random.default_rng(7)
    X = rng.standard_normal((200, 5))
    y = X[:, 0] * X[:, 1] + rng.standard_normal(200)
    w = rng.uniform(0.5, 2.0, 200)
    Xt = rng.standard_normal((100, 5))
    ours = trees.RegressionTree(max_depth=5, min_samples_leaf=5).fit(X, y, sample_weight=w)
    ref = DecisionTreeRegressor(max_depth=5, min_samples_leaf=5, random_state=0).fit(X, y, sample_weight=w)
    _structure_equal(ours, ref)
    np.testing.assert_allclose(ours.predict(Xt), ref.predict(Xt), atol=1e-10)
    np.testing.assert_allclose(ours.feature_importances_, ref.feature_importances_, atol=1e-10)
    # grown out: small nodes may be cut equally well by several features; the training fit is the same
    ours = trees.RegressionTree(min_samples_split=6).fit(X, y, sample_weight=w)
    ref = DecisionTreeRegressor(min_samples_split=6, random_state=0).fit(X, y, sample_weight=w)
    np.testing.assert_allclose(ours.predict(X), ref.predict(X), atol=1e-10)


def test_min_impurity_decrease_matches_sklearn():
    X, y = make_friedman1(300, random_state=2)
    X = X.astype(np.float32)
    for mid in (0.05, 0.3):
        ours = trees.RegressionTree(min_impurity_decrease=mid).fit(X, y)
        ref = DecisionTreeRegressor(min_impurity_decrease=mid, random_state=0).fit(X, y)
        # tiny nodes can be split equally well by several features (same partition), so compare fits
        np.testing.assert_allclose(ours.predict(X), ref.predict(X), atol=1e-10)
        assert ours.n_leaves_ == ref.get_n_leaves()
        assert np.all(ours.tree_.gain[~ours.tree_.is_leaf] >= mid)


def test_integer_weights_equal_replicated_rows():
    rng = np.random.default_rng(4)
    X = rng.standard_normal((40, 3))
    y = X[:, 0] + rng.standard_normal(40)
    w = rng.integers(1, 4, 40)
    a = trees.RegressionTree(max_depth=3).fit(X, y, sample_weight=w)
    b = trees.RegressionTree(max_depth=3).fit(np.repeat(X, w, 0), np.repeat(y, w))
    np.testing.assert_allclose(a.predict(X), b.predict(X), atol=1e-12)


def test_classification_tree_matches_sklearn():
    X, y = make_classification(300, 6, n_informative=4, n_classes=3, random_state=0)
    Xt, _ = make_classification(200, 6, n_informative=4, n_classes=3, random_state=1)
    # counts make exact gain ties common (sklearn breaks them at random); continuous weights remove them
    w = np.random.default_rng(0).uniform(0.5, 2.0, 300)
    for crit in ("gini", "entropy"):
        ours = trees.ClassificationTree(crit, max_depth=4, min_samples_leaf=10).fit(X, y, sample_weight=w)
        ref = DecisionTreeClassifier(criterion=crit, max_depth=4, min_samples_leaf=10, random_state=0)
        ref.fit(X, y, sample_weight=w)
        _structure_equal(ours, ref)
        np.testing.assert_allclose(ours.predict_proba(Xt), ref.predict_proba(Xt), atol=1e-12)
        assert np.array_equal(ours.predict(Xt), ref.predict(Xt))
        np.testing.assert_allclose(ours.feature_importances_, ref.feature_importances_, atol=1e-10)
        # grown out (sklearn may also split nodes that rounding leaves a hair impure; same fit)
        deep = trees.ClassificationTree(crit, min_samples_leaf=2).fit(X, y, sample_weight=w)
        ref = DecisionTreeClassifier(criterion=crit, min_samples_leaf=2, random_state=0).fit(X, y, sample_weight=w)
        np.testing.assert_allclose(deep.predict_proba(X), ref.predict_proba(X), atol=1e-12)
    labels = np.array(["a", "b", "c"])[y]
    t = trees.ClassificationTree("error", max_depth=3).fit(X, labels)
    assert list(t.classes_) == ["a", "b", "c"] and set(t.predict(Xt)) <= {"a", "b", "c"}
    np.testing.assert_allclose(t.predict_proba(Xt).sum(1), 1.0)
    root = trees.best_split(X.astype(np.float32), labels, criterion="error")
    assert (t.tree_.feature[0], t.tree_.threshold[0]) == (root.feature, root.threshold)


# --------------------------------------------------------------------------- pruning
def test_pruning_path_matches_sklearn_and_lambda_is_n_alpha():
    x, y, _ = make_1d_signal(150, seed=3, kind="two_freq", noise=0.3)
    X = x[:, None]
    tree = trees.RegressionTree(min_samples_leaf=2)
    alphas, imps = tree.cost_complexity_pruning_path(X, y)
    ref = DecisionTreeRegressor(min_samples_leaf=2, random_state=0).cost_complexity_pruning_path(X, y)
    np.testing.assert_allclose(alphas, ref.ccp_alphas, atol=1e-12)
    np.testing.assert_allclose(imps, ref.impurities, atol=1e-12)
    full = trees.RegressionTree(min_samples_leaf=2).fit(X, y)
    grid = np.linspace(-0.2, 0.2, 401)[:, None] + 0.5
    n = len(y)
    sizes, sses = [], []
    for k in range(1, len(alphas)):
        alpha = (alphas[k - 1] + alphas[k]) / 2
        ours = full.pruned(alpha)
        ref = DecisionTreeRegressor(min_samples_leaf=2, random_state=0, ccp_alpha=alpha).fit(X, y)
        assert ours.n_leaves_ == ref.get_n_leaves()
        np.testing.assert_allclose(ours.predict(grid), ref.predict(grid), atol=1e-12)
        sses.append(np.sum((y - ours.predict(X)) ** 2))
        sizes.append(ours.n_leaves_)
        assert sses[-1] / n == pytest.approx(imps[k - 1], abs=1e-10)
    # each pruned tree minimises SSE + lambda * leaves over the path's subtrees, with lambda = n * alpha
    sizes, sses = np.array(sizes), np.array(sses)
    for k in range(1, len(alphas)):
        lam = n * (alphas[k - 1] + alphas[k]) / 2
        assert np.argmin(sses + lam * sizes) == k - 1
    assert full.pruned(alphas[-1] * 2).n_leaves_ == 1
    assert full.pruned(0.0).n_leaves_ == full.n_leaves_


def test_xor_needs_pruning_not_greedy_stopping():
    from lib.data import make_xor
    X, y = make_xor(400, seed=0)
    yf = y.astype(float)
    n = len(y)
    lam = 5.0                                                     # SSE penalty per leaf
    greedy = trees.RegressionTree(min_impurity_decrease=lam / n).fit(X, yf)
    grown = trees.RegressionTree(max_depth=2).fit(X, yf)
    pruned = grown.pruned(lam / n)
    assert greedy.n_leaves_ == 1 and pruned.n_leaves_ == 4
    cost = lambda t: np.sum((yf - t.predict(X)) ** 2) + lam * t.n_leaves_
    assert cost(pruned) < cost(greedy) / 5


# --------------------------------------------------------------------------- stumps
def test_gini_stumps_match_sklearn_with_sample_weights():
    data = [make_moons(300, noise=0.3, random_state=0)]
    Xb, yb = load_breast_cancer(return_X_y=True)
    data.append((Xb.astype(np.float32), yb))
    rng = np.random.default_rng(0)
    for X, y in data:
        y = 2 * y - 1
        for _ in range(8):
            w = rng.exponential(size=y.size)
            w /= w.sum()
            s = trees.DecisionStump("gini").fit(X, y, sample_weight=w)
            ref = DecisionTreeClassifier(max_depth=1, random_state=0).fit(X, y, sample_weight=w)
            assert s.feature_ == ref.tree_.feature[0] and s.threshold_ == ref.tree_.threshold[0]
            assert np.array_equal(s.predict(X), ref.predict(X))
            assert s.left_label_ == ref.predict(X[X[:, s.feature_] <= s.threshold_][:1])[0]


def test_error_stump_minimises_weighted_error():
    X, y = make_moons(200, noise=0.35, random_state=1)
    X = X.astype(np.float32).astype(np.float64)              # the stump works in float32, as sklearn
    y = 2 * y - 1
    rng = np.random.default_rng(2)
    for _ in range(5):
        w = rng.exponential(size=200)
        err = trees.DecisionStump("error").fit(X, y, w)
        gin = trees.DecisionStump("gini").fit(X, y, w)
        e = lambda s: np.sum(w * (s.predict(X) != y)) / w.sum()
        brute = min(min(np.sum(w * (np.where(X[:, j] <= t, lab, -lab) != y)) for lab in (-1, 1))
                    for j in range(2) for t in np.unique(X[:, j])) / w.sum()
        assert e(err) == pytest.approx(brute, abs=1e-12)
        assert e(err) <= e(gin) + 1e-12
    const = trees.DecisionStump().fit(X, np.ones(200, int))
    assert np.all(const.predict(X) == 1) and const.threshold_ == np.inf


# --------------------------------------------------------------------------- feature sampling
def test_max_features_sampling():
    X, y = make_friedman1(300, random_state=0)
    assert trees._resolve_max_features("third", 10) == 3
    assert trees._resolve_max_features("sqrt", 10) == 3
    assert trees._resolve_max_features(0.5, 10) == 5 and trees._resolve_max_features(20, 10) == 10
    a = trees.RegressionTree(max_features="third", random_state=5).fit(X, y)
    b = trees.RegressionTree(max_features="third", random_state=5).fit(X, y)
    assert np.array_equal(a.tree_.feature, b.tree_.feature)               # seeded
    roots = {trees.RegressionTree(max_depth=1, max_features=1, random_state=s).fit(X, y).tree_.feature[0]
             for s in range(30)}
    assert len(roots) >= 6                                                  # one random feature per split
    # only the drawn feature is used: with one feature drawn, the root split is that feature's best split
    t = trees.RegressionTree(max_depth=1, max_features=1, random_state=0).fit(X, y)
    j = t.tree_.feature[0]
    assert t.tree_.threshold[0] == trees.best_split(X.astype(np.float32), y, features=[j]).threshold
    # constant features are skipped when drawing, as sklearn
    Xc = np.column_stack([np.zeros(300), np.zeros(300), X[:, 0]])
    t = trees.RegressionTree(max_depth=1, max_features=1, random_state=0).fit(Xc, y)
    assert t.tree_.feature[0] == 2
    full = trees.RegressionTree(max_features=None).fit(X, y)
    ref = DecisionTreeRegressor(random_state=0).fit(X.astype(np.float32), y)
    np.testing.assert_allclose(full.predict(X), ref.predict(X), atol=1e-10)


# --------------------------------------------------------------------------- bad inputs
def test_bad_inputs():
    X = np.random.default_rng(0).standard_normal((20, 2))
    y = X[:, 0]
    with pytest.raises(ValueError, match="max_depth"):
        trees.RegressionTree(max_depth=-1)
    with pytest.raises(ValueError, match="min_samples_split"):
        trees.RegressionTree(min_samples_split=1)
    with pytest.raises(ValueError, match="min_samples_leaf"):
        trees.RegressionTree(min_samples_leaf=0)
    with pytest.raises(ValueError, match="min_impurity_decrease"):
        trees.RegressionTree(min_impurity_decrease=-0.1)
    with pytest.raises(ValueError, match="max_features"):
        trees.RegressionTree(max_features="half")
    with pytest.raises(ValueError, match="max_features"):
        trees.RegressionTree(max_features=1.5)
    with pytest.raises(ValueError, match="random_state"):
        trees.RegressionTree(random_state=-3)
    with pytest.raises(ValueError, match="criterion"):
        trees.ClassificationTree("mse")
    with pytest.raises(ValueError, match="criterion"):
        trees.DecisionStump("entropy")
    with pytest.raises(ValueError, match="X"):
        trees.RegressionTree().fit(X[:, 0], y)
    with pytest.raises(ValueError, match="X"):
        trees.RegressionTree().fit(np.where(X > 1, np.nan, X), y)
    with pytest.raises(ValueError, match="y"):
        trees.RegressionTree().fit(X, y[:-1])
    with pytest.raises(ValueError, match="sample_weight"):
        trees.RegressionTree().fit(X, y, sample_weight=-np.ones(20))
    with pytest.raises(ValueError, match="y"):
        trees.DecisionStump().fit(X, (y > 0).astype(int))
    with pytest.raises(RuntimeError, match="fit"):
        trees.RegressionTree().predict(X)
    fitted = trees.RegressionTree(max_depth=2).fit(X, y)
    with pytest.raises(ValueError, match="features"):
        fitted.predict(X[:, :1])
    with pytest.raises(ValueError, match="alpha"):
        fitted.pruned(-1.0)
    with pytest.raises(ValueError, match="p"):
        trees.gini([0.5, 0.6])
    with pytest.raises(ValueError, match="left_mask"):
        trees.impurity_decrease(y, np.ones(19, bool))
    with pytest.raises(ValueError, match="criterion"):
        trees.best_split(X, y, criterion="mae")
    with pytest.raises(ValueError, match="idx"):
        trees.best_split(X, y, idx=np.array([0, 25]))


def test_pruning_sequence_equals_pruned():
    x, y, _ = make_1d_signal(80, seed=5, noise=0.3)
    full = trees.RegressionTree().fit(x[:, None], y)
    alphas, subtrees = full.pruning_sequence()
    assert len(subtrees) == len(alphas) and subtrees[0].n_leaves_ == full.n_leaves_ and subtrees[-1].n_leaves_ == 1
    grid = np.linspace(0, 1, 50)[:, None]
    for k in range(len(alphas) - 1):
        ref = full.pruned((alphas[k] + alphas[k + 1]) / 2)
        assert subtrees[k].n_leaves_ == ref.n_leaves_
        np.testing.assert_allclose(subtrees[k].predict(grid), ref.predict(grid), atol=0)
