"""scikit-learn's own estimator checks, on in-memory NumPy and SciPy sparse input (run
in-process).

Every check runs with each estimator's defaults (and L1 logistic regression at a tight
tolerance, a network trained by L-BFGS). One check is expected to fail for the
mini-batch estimators, as it is for scikit-learn's own ``SGD*``: zero or repeated
sample weights are not the same as removed or repeated rows when rows are drawn into
mini-batches (the batches themselves change), on dense and on sparse data alike.
"""

from __future__ import annotations

from sklearn.utils.estimator_checks import parametrize_with_checks

from gdd_dask.estimators import (
    ElasticNet,
    GammaRegressor,
    Lasso,
    LinearRegression,
    LogisticRegression,
    MLPClassifier,
    MLPRegressor,
    PoissonRegressor,
    Ridge,
    SGDClassifier,
    SGDRegressor,
    TweedieRegressor,
)

ESTIMATORS = [
    LinearRegression(), Ridge(), Lasso(), ElasticNet(), LogisticRegression(), PoissonRegressor(),
    GammaRegressor(), TweedieRegressor(power=1.5),
    # tight: the sample-weight checks compare fits to 1e-7
    LogisticRegression(penalty="l1", solver="auto", tol=1e-12, max_iter=10_000),
    SGDClassifier(random_state=0), SGDRegressor(random_state=0),
    MLPClassifier(random_state=0), MLPRegressor(random_state=0),
    MLPClassifier(solver="lbfgs", hidden_layer_sizes=(8,), max_iter=30, random_state=0),
]
MINI_BATCH_REASON = ("rows are drawn into mini-batches: zero or repeated weights are not "
                     "removed or repeated rows")


def expected_failed_checks(estimator):
    if isinstance(estimator, (SGDClassifier, SGDRegressor)):
        return {f"check_sample_weight_equivalence_on_{kind}_data": MINI_BATCH_REASON
                for kind in ("dense", "sparse")}
    return {}


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failed_checks)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
