"""lib.adaboost: AdaBoost against scikit-learn's AdaBoostClassifier (SAMME), the closed-form step and
the identities of the exponential loss."""
import numpy as np
import pytest
from scipy import optimize
from sklearn.datasets import load_breast_cancer, make_classification, make_moons
from sklearn.ensemble import AdaBoostClassifier
from sklearn.tree import DecisionTreeClassifier

from lib.adaboost import AdaBoost, optimal_alpha, weighted_exp_loss
from lib.trees import DecisionStump


def _moons():
    X, y = make_moons(300, noise=0.3, random_state=1)
    return X.astype(np.float32).astype(np.float64), 2 * y - 1


def _cancer():
    X, y = load_breast_cancer(return_X_y=True)
    return X.astype(np.float32).astype(np.float64), 2 * y - 1


def _sk(X, y, n=50, lr=1.0):
    return AdaBoostClassifier(estimator=DecisionTreeClassifier(max_depth=1), n_estimators=n,
                              learning_rate=lr, random_state=0).fit(X, y)


@pytest.mark.parametrize("data", [_moons, _cancer])
def test_matches_sklearn(data):
    X, y = data()
    ours, ref = AdaBoost(n_estimators=50).fit(X, y), _sk(X, y)
    M = len(ours.alphas_)
    assert M == len(ref.estimators_)
    np.testing.assert_allclose(2 * ours.alphas_, ref.estimator_weights_[:M], atol=1e-10)
    np.testing.assert_allclose(ours.errors_, ref.estimator_errors_[:M], atol=1e-12)
    for h, s in zip(ours.learners_, ref.estimators_):
        assert h.feature_ == s.tree_.feature[0]
        assert h.threshold_ == pytest.approx(s.tree_.threshold[0], abs=1e-9)
    np.testing.assert_allclose(ours.decision_function_sklearn(X), ref.decision_function(X), atol=1e-10)
    np.testing.assert_array_equal(ours.predict(X), ref.predict(X))


def test_learning_rate_matches_sklearn():
    X, y = _moons()
    ours, ref = AdaBoost(n_estimators=30, learning_rate=0.3).fit(X, y), _sk(X, y, n=30, lr=0.3)
    np.testing.assert_allclose(2 * ours.alphas_, ref.estimator_weights_, atol=1e-10)
    np.testing.assert_allclose(ours.decision_function_sklearn(X), ref.decision_function(X), atol=1e-10)


def test_last_learner_has_error_one_half_after_reweighting():
    X, y = _moons()
    model = AdaBoost(n_estimators=12).fit(X, y)
    for m in range(len(model.learners_)):
        nxt = model.weights_[m + 1] if m + 1 < len(model.learners_) else model.final_weights_
        miss = model.learners_[m].predict(X) != y
        assert nxt[miss].sum() / nxt.sum() == pytest.approx(0.5, abs=1e-12)
        np.testing.assert_allclose(model.weights_[m].sum(), 1.0, atol=1e-12)


def test_weights_are_normalised_exponential_loss_weights():
    X, y = _cancer()
    model = AdaBoost(n_estimators=8).fit(X, y)
    f = np.zeros(len(y))
    for m, (a, h) in enumerate(zip(model.alphas_, model.learners_)):
        w = np.exp(-y * f)
        np.testing.assert_allclose(model.weights_[m], w / w.sum(), rtol=1e-9)
        f += a * h.predict(X)


def test_line_search_matches_closed_form():
    rng = np.random.default_rng(3)
    for _ in range(5):
        n = 40
        w = rng.random(n)
        w /= w.sum()
        y = rng.choice([-1.0, 1.0], n)
        h = np.where(rng.random(n) < 0.3, -y, y)
        eps = w[h != y].sum()
        res = optimize.minimize_scalar(lambda a: weighted_exp_loss(a, w, y, h), bounds=(-5, 5), method="bounded",
                                       options=dict(xatol=1e-12))
        assert res.x == pytest.approx(optimal_alpha(eps), abs=1e-6)
        a = 0.7  # (9.70) in finished form
        assert weighted_exp_loss(a, w, y, h) == pytest.approx((np.exp(a) - np.exp(-a)) * eps + np.exp(-a), rel=1e-12)


def test_bound_equals_exp_loss_and_dominates_training_error():
    X, y = _moons()
    model = AdaBoost(n_estimators=40).fit(X, y)
    np.testing.assert_allclose(model.staged_exp_loss_, model.bound_, rtol=1e-10)
    assert np.all(model.staged_train_error_ <= model.staged_exp_loss_ + 1e-15)
    f = model.decision_function(X)
    assert model.staged_exp_loss_[-1] == pytest.approx(np.mean(np.exp(-y * f)), rel=1e-12)
    assert np.all(np.diff(model.bound_) < 0)  # every round with eps < 1/2 lowers the loss


def test_stops_like_sklearn_on_a_perfect_stump():
    X = np.array([[0.0], [1.0], [2.0], [3.0]])
    y = np.array([-1, -1, 1, 1])
    ours, ref = AdaBoost(n_estimators=10).fit(X, y), _sk(X, y, n=10)
    assert len(ours.learners_) == len(ref.estimators_) == 1
    assert 2 * ours.alphas_[0] == ref.estimator_weights_[0] == 1.0
    assert ours.errors_[0] == 0.0


def test_error_stump_is_never_worse_than_gini_stump():
    X, y = make_classification(200, 5, random_state=4)
    y = 2 * y - 1
    model = AdaBoost(n_estimators=10, base_learner=lambda: DecisionStump("error")).fit(X, y)
    for m, w in enumerate(model.weights_):
        gini = DecisionStump("gini").fit(X, y, sample_weight=w)
        assert model.errors_[m] <= np.average(gini.predict(X) != y, weights=w) + 1e-12


def test_bad_inputs():
    X, y = _moons()
    with pytest.raises(ValueError, match="n_estimators"):
        AdaBoost(n_estimators=0)
    with pytest.raises(ValueError, match="learning_rate"):
        AdaBoost(learning_rate=-1.0)
    with pytest.raises(TypeError, match="base_learner"):
        AdaBoost(base_learner="stump")
    with pytest.raises(ValueError, match="y"):
        AdaBoost().fit(X, (y + 1) // 2)
    with pytest.raises(ValueError, match="X"):
        AdaBoost().fit(X[:, 0], y)
    with pytest.raises(ValueError, match="eps"):
        optimal_alpha(0.0)
    with pytest.raises(RuntimeError, match="fit"):
        AdaBoost().decision_function(X)
    with pytest.raises(ValueError, match="columns"):
        AdaBoost(n_estimators=2).fit(X, y).predict(X[:, :1])
    with pytest.raises(ValueError, match="first learner"):  # a learner that is always wrong cannot start
        AdaBoost(base_learner=_Contrarian).fit(X, y)


class _Contrarian:
    def fit(self, X, y, sample_weight=None):
        self.y = np.asarray(y)
        return self

    def predict(self, X):
        return -self.y
