"""lib.boosting: the Newton tree builder against xgboost (exact), LSBoost against sklearn, IRLS, validation."""
import numpy as np
import pytest
import xgboost as xgb
from scipy import special
from sklearn.datasets import load_breast_cancer, load_diabetes, make_classification, make_friedman1
from sklearn.ensemble import GradientBoostingRegressor
from sklearn.linear_model import LogisticRegression

from lib import boosting as B
from lib.margin_losses import ExponentialLoss


@pytest.fixture(scope="module")
def cancer():
    X, y = load_breast_cancer(return_X_y=True)
    return X.astype(np.float32), y.astype(float)


def _xgb_margin(params, X, y, rounds, obj=None):
    bst = xgb.train(params, xgb.DMatrix(X, y), rounds, obj=obj)
    return bst.predict(xgb.DMatrix(X), output_margin=True)


@pytest.mark.parametrize("d, eta, lam, gam, mcw", [(3, .3, 1, 0, 1), (3, .3, 1, 2, 1), (2, 1, 0, 3, .5)])
def test_newton_boost_matches_xgboost_on_breast_cancer(cancer, d, eta, lam, gam, mcw):
    X, y = cancer
    nb = B.NewtonBoost("logistic", 20, eta, d, lam, gam, mcw).fit(X, y)
    ref = _xgb_margin(nb.to_xgb_params(), X, y, 20)
    assert np.abs(nb.decision_function(X) - ref).max() < 1e-5


def test_matches_xgboost_on_unseen_data_and_squared_loss():
    X, y = make_classification(400, 6, random_state=1)
    X = X.astype(np.float32)
    nb = B.NewtonBoost("logistic", 10, 0.3, 4, 1.0, 1.0, 1.0).fit(X[:300], y[:300])
    bst = xgb.train(nb.to_xgb_params(), xgb.DMatrix(X[:300], y[:300]), 10)
    ref = bst.predict(xgb.DMatrix(X[300:]), output_margin=True)
    assert np.abs(nb.decision_function(X[300:]) - ref).max() < 1e-5
    Xd, yd = load_diabetes(return_X_y=True)
    Xd = Xd.astype(np.float32)
    sq = B.NewtonBoost("squared", 30, 0.1, 3, 1.0, 10.0, 1.0, base_score=float(yd.mean())).fit(Xd, yd)
    ref = _xgb_margin(sq.to_xgb_params(), Xd, yd, 30)
    assert np.abs(sq.decision_function(Xd) - ref).max() < 1e-6 * np.abs(ref).max()


def test_gamma_factor_of_two(cancer):
    X, y = cancer
    paper = B.NewtonBoost("logistic", 8, 0.3, 4, 1.0, 1.5, 1.0, gamma_convention="paper").fit(X, y)
    assert paper.to_xgb_params()["gamma"] == 3.0
    ref = _xgb_margin(paper.to_xgb_params(), X, y, 8)
    assert np.abs(paper.decision_function(X) - ref).max() < 1e-5
    same_number = B.NewtonBoost("logistic", 8, 0.3, 4, 1.0, 1.5, 1.0).fit(X, y)  # xgboost convention, gamma=1.5
    assert np.abs(same_number.decision_function(X) - ref).max() > 1e-3
    assert sum(paper.history_["n_leaves"]) < sum(same_number.history_["n_leaves"])


def test_custom_exponential_objective():
    X, y = make_classification(300, 5, random_state=2)
    X, ypm = X.astype(np.float32), 2.0 * y - 1

    def obj(pred, dtrain):
        t = 2 * dtrain.get_label() - 1
        e = np.exp(-t * pred)
        return -t * e, e

    nb = B.NewtonBoost(ExponentialLoss(), 15, 0.5, 2, 1.0, 0.0, 0.0, base_score=0.0).fit(X, ypm)
    ref = _xgb_margin(nb.to_xgb_params(), X, y.astype(float), 15, obj=obj)
    assert np.abs(nb.decision_function(X) - ref).max() < 1e-5
    assert set(np.unique(nb.predict(X))) <= {-1, 1}


def test_xor_needs_bottom_up_pruning():
    rng = np.random.default_rng(5)
    X = rng.uniform(-1, 1, (400, 2)).astype(np.float32)
    y = ((X[:, 0] > 0) ^ (X[:, 1] > 0)).astype(float)
    full = B.NewtonBoost("logistic", 1, 1.0, 2, 1.0, 0.0, 1.0).fit(X, y).trees_[0]
    root, kids = full.loss_chg[0], full.loss_chg[1:3]
    assert root < kids.min()  # the root split is the weak one
    gamma = (root + kids.min()) / 2  # a top-down "stop if gain < gamma" rule would keep a single leaf
    nb = B.NewtonBoost("logistic", 1, 1.0, 2, 1.0, gamma, 1.0).fit(X, y)
    ref = _xgb_margin(nb.to_xgb_params(), X, y, 1)
    assert np.abs(nb.decision_function(X) - ref).max() < 1e-5
    assert nb.trees_[0].n_leaves == 4  # bottom-up pruning keeps the weak root split


def test_single_leaf_boosting_is_newton_on_the_intercept(cancer):
    X, y = cancer
    nb = B.NewtonBoost("logistic", 6, 1.0, 3, 0.0, 1e9, 0.0).fit(X, y)
    path = B.newton_intercept_path(y, 6)
    staged = [f[0] for f in nb.staged_decision_function(X[:1])]
    np.testing.assert_allclose(staged, path, atol=1e-6)
    assert abs(path[-1] - special.logit(y.mean())) < 1e-10
    assert all(t.n_leaves == 1 for t in nb.trees_)


def test_irls_matches_sklearn(cancer):
    X, y = cancer
    Xs = X[:, :10].astype(float)
    Xs = (Xs - Xs.mean(0)) / Xs.std(0)
    beta, hist = B.irls_logistic(Xs, y)
    sk = LogisticRegression(C=np.inf, solver="newton-cg", tol=1e-12, max_iter=1000).fit(Xs, y)
    np.testing.assert_allclose(beta, np.r_[sk.intercept_, sk.coef_[0]], atol=1e-6)
    assert np.all(np.diff(hist["loss"]) <= 1e-12) and hist["step"][-1] < 1e-10


def test_weighted_fit_equals_replicated_data():
    rng = np.random.default_rng(0)
    X = rng.uniform(size=(60, 2))
    y = np.sin(6 * X[:, 0]) + 0.1 * rng.normal(size=60)
    w = rng.integers(1, 4, 60).astype(float)
    a = B.LSBoost(10, 0.3, 3, reg_lambda=1.0, gamma=0.05).fit(X, y, sample_weight=w)
    rep = np.repeat(np.arange(60), w.astype(int))
    b = B.LSBoost(10, 0.3, 3, reg_lambda=1.0, gamma=0.05).fit(X[rep], y[rep])
    Xt = rng.uniform(size=(100, 2))
    np.testing.assert_allclose(a.predict(Xt), b.predict(Xt), atol=1e-10)


@pytest.mark.parametrize("depth, lr", [(1, 1.0), (3, 0.1)])
def test_lsboost_matches_sklearn(depth, lr):
    X, y = make_friedman1(300, random_state=3)
    X = X.astype(np.float32)
    ls = B.LSBoost(25, lr, depth).fit(X, y)
    sk = GradientBoostingRegressor(loss="squared_error", n_estimators=25,
                                   learning_rate=lr, max_depth=depth, random_state=0).fit(X, y)
    np.testing.assert_allclose(ls.predict(X), sk.predict(X), atol=1e-8)
    steps = np.array(ls.step_norms_)
    assert np.all(steps <= lr * np.array(ls.residual_norms_) + 1e-12)  # a tree fit is a projection
    staged = list(ls.staged_predict(X[:5]))
    assert len(staged) == 26 and np.allclose(staged[-1], ls.predict(X[:5]))


def test_leaf_features_reconstruct_margin(cancer):
    X, y = cancer
    nb = B.NewtonBoost("logistic", 5, 0.3, 3).fit(X, y)
    Z = nb.leaf_features(X[:50])
    assert Z.shape == (50, sum(t.n_leaves for t in nb.trees_)) and np.all(Z.sum(axis=1) == 5)
    np.testing.assert_allclose(nb.init_ + Z @ nb.leaf_values(), nb.decision_function(X[:50]), atol=1e-12)
    assert nb.apply(X[:50]).shape == (50, 5)


def test_formulas_and_eval_history():
    assert B.leaf_weight(-3.0, 2.0, 1.0) == 1.0
    assert B.split_loss_change(2.0, 1.0, -2.0, 1.0, 0.0) == pytest.approx(8.0)
    X, y = make_classification(200, 4, random_state=0)
    nb = B.NewtonBoost("logistic", 10, 0.3, 2).fit(X[:150], y[:150], eval_set=(X[150:], y[150:]))
    assert len(nb.history_["valid_loss"]) == 11 and nb.history_["train_loss"][-1] < nb.history_["train_loss"][0]
    assert np.all((nb.predict_proba(X) > 0) & (nb.predict_proba(X) < 1))


def test_bad_inputs():
    X = np.zeros((5, 2))
    with pytest.raises(ValueError, match="X"):
        B.fit_newton_tree(np.zeros(5), np.zeros(5), np.ones(5))
    with pytest.raises(ValueError, match="h"):
        B.fit_newton_tree(X, np.zeros(5), -np.ones(5))
    with pytest.raises(ValueError, match="gamma_convention"):
        B.fit_newton_tree(X, np.zeros(5), np.ones(5), gamma_convention="book")
    with pytest.raises(ValueError, match="max_depth"):
        B.NewtonBoost(max_depth=-1)
    with pytest.raises(ValueError, match="base_score"):
        B.NewtonBoost("logistic", base_score=1.5)
    with pytest.raises(ValueError, match="y"):
        B.NewtonBoost("logistic").fit(X, np.array([0, 1, 2, 0, 1]))
    with pytest.raises(ValueError, match="learning_rate"):
        B.LSBoost(learning_rate=0)
    with pytest.raises(ValueError, match="fit"):
        B.LSBoost().predict(X)
    with pytest.raises(ValueError, match="X"):
        B.NewtonBoost("logistic", 2).fit(np.c_[np.zeros(4), [np.nan, 1, 2, 3]], np.array([0, 1, 0, 1.0]))
    with pytest.raises(ValueError, match="y"):
        B.irls_logistic(X, np.array([0, 1, 2, 0, 1]))
