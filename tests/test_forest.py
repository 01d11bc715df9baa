"""lib.forest: the bootstrap limit, the variance formula, OOB error and importances against
scikit-learn's random forests."""
import numpy as np
import pytest
from scipy import stats
from sklearn.datasets import load_breast_cancer, make_friedman1
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

from lib.forest import RandomForest, ensemble_variance, prob_in_bootstrap, resolve_max_features


@pytest.fixture(scope="module")
def friedman():
    X, y = make_friedman1(300, noise=1.0, random_state=0)
    return X, y, RandomForest(n_estimators=30, max_features=3, min_samples_leaf=3, random_state=0).fit(X, y)


def test_prob_in_bootstrap_limit():
    assert prob_in_bootstrap(1) == 1.0
    assert prob_in_bootstrap(2) == pytest.approx(0.75, abs=1e-15)
    assert prob_in_bootstrap(10**7) == pytest.approx(1 - np.exp(-1), abs=1e-7)
    vals = [prob_in_bootstrap(n) for n in (2, 5, 10, 100, 1000)]
    assert np.all(np.diff(vals) < 0)  # decreases towards 0.632


def test_inbag_fraction_and_counts(friedman):
    X, _, forest = friedman
    assert forest.inbag_.shape == (30, 300)
    np.testing.assert_array_equal(forest.counts_.sum(axis=1), 300)
    assert abs(forest.inbag_.mean() - prob_in_bootstrap(300)) < 4 * np.sqrt(0.632 * 0.368 / forest.inbag_.size)


def test_ensemble_variance_against_monte_carlo():
    rng = np.random.default_rng(0)
    sigma2, rho, M, R = 2.0, 0.3, 8, 200_000
    cov = sigma2 * (rho * np.ones((M, M)) + (1 - rho) * np.eye(M))
    Z = rng.multivariate_normal(np.zeros(M), cov, size=R)
    emp = Z.mean(axis=1).var()
    assert emp == pytest.approx(ensemble_variance(sigma2, rho, M), rel=0.02)
    assert ensemble_variance(sigma2, 0.0, M) == pytest.approx(sigma2 / M)
    assert ensemble_variance(sigma2, 1.0, M) == pytest.approx(sigma2)
    np.testing.assert_allclose(ensemble_variance(1.0, 0.5, np.array([1, 2, 4])), [1.0, 0.75, 0.625])


def test_oob_prediction_uses_only_out_of_bag_trees(friedman):
    X, y, forest = friedman
    P = forest.predict_all(X)
    i = 7
    out = ~forest.inbag_[:, i]
    assert forest.oob_prediction_[i] == pytest.approx(P[out, i].mean(), rel=1e-12)
    staged = forest.staged_oob_error()
    assert staged.shape == (30,)
    assert staged[-1] == pytest.approx(forest.oob_error_, rel=1e-12)
    assert staged[-1] < staged[0]
    np.testing.assert_allclose(forest.predict(X), P.mean(axis=0))


@pytest.mark.slow
def test_oob_score_close_to_sklearn():
    X, y = make_friedman1(400, noise=1.0, random_state=1)
    ours = [RandomForest(n_estimators=40, max_features=3, min_samples_leaf=3, random_state=s).fit(X, y).oob_score_
            for s in range(2)]
    ref = [RandomForestRegressor(40, max_features=3, min_samples_leaf=3, oob_score=True, random_state=s).fit(X, y)
           .oob_score_ for s in range(2)]
    assert abs(np.mean(ours) - np.mean(ref)) < 0.03


def test_mdi_ranks_agree_with_sklearn(friedman):
    X, y, forest = friedman
    ref = RandomForestRegressor(200, max_features=3, min_samples_leaf=2, random_state=0).fit(X, y)
    assert stats.spearmanr(forest.feature_importances_, ref.feature_importances_).statistic >= 0.9
    assert forest.feature_importances_.sum() == pytest.approx(1.0)
    assert set(np.argsort(forest.feature_importances_)[-5:]) == {0, 1, 2, 3, 4}


def test_permutation_importance_sign(friedman):
    X, y, forest = friedman
    mean, std = forest.oob_permutation_importance(n_repeats=2, random_state=0)
    assert mean.shape == std.shape == (10,)
    assert mean[[0, 1, 3]].min() > 1.0          # permuting an informative feature raises the OOB error
    assert np.all(np.abs(mean[5:]) < 0.6)       # noise features: about zero
    assert mean[:5].min() > mean[5:].max()
    again, _ = forest.oob_permutation_importance(n_repeats=2, random_state=0)
    np.testing.assert_array_equal(mean, again)


def test_classification_against_sklearn():
    X, y = load_breast_cancer(return_X_y=True)
    forest = RandomForest("classification", n_estimators=25, min_samples_leaf=2, random_state=0).fit(X, y)
    assert forest.max_features_ == 5            # floor(sqrt(30))
    ref = RandomForestClassifier(25, min_samples_leaf=2, oob_score=True, random_state=0).fit(X, y)
    assert abs(forest.oob_score_ - ref.oob_score_) < 0.03
    assert set(np.unique(forest.predict(X))) <= {0, 1}
    assert forest.staged_oob_error()[-1] == pytest.approx(forest.oob_error_)


def test_feature_sampling_decorrelates_trees(friedman):
    X, y, _ = friedman
    rho = [RandomForest(n_estimators=8, max_features=k, min_samples_leaf=5, random_state=0).fit(X[:150], y[:150])
           .tree_correlation(X) for k in (1, 10)]
    assert rho[0] < rho[1]


def test_resolve_max_features():
    assert resolve_max_features("auto", 10, "regression") == 3
    assert resolve_max_features("auto", 30, "classification") == 5
    assert resolve_max_features(None, 7, "regression") == 7
    assert resolve_max_features(0.5, 7, "regression") == 3
    assert resolve_max_features("third", 2, "regression") == 1


def test_bad_inputs(friedman):
    X, y, forest = friedman
    with pytest.raises(ValueError, match="task"):
        RandomForest(task="ranking")
    with pytest.raises(ValueError, match="n_estimators"):
        RandomForest(n_estimators=0)
    with pytest.raises(ValueError, match="max_features"):
        RandomForest(max_features=11).fit(X, y)
    with pytest.raises(ValueError, match="max_features"):
        RandomForest(max_features="log2").fit(X, y)
    with pytest.raises(ValueError, match="y"):
        RandomForest().fit(X, y[:-1])
    with pytest.raises(ValueError, match="X"):
        RandomForest().fit(np.where(X > 0.5, np.nan, X), y)
    with pytest.raises(ValueError, match="bootstrap"):
        RandomForest(n_estimators=2, bootstrap=False).fit(X[:50], y[:50])
    with pytest.raises(RuntimeError, match="fit"):
        RandomForest().predict(X)
    with pytest.raises(ValueError, match="columns"):
        forest.predict(X[:, :3])
    with pytest.raises(ValueError, match="rho"):
        ensemble_variance(1.0, 1.5, 3)
    with pytest.raises(ValueError, match="M"):
        ensemble_variance(1.0, 0.5, 0)
    with pytest.raises(ValueError, match="n"):
        prob_in_bootstrap(0)
