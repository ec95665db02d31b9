"""scikit-learn's own estimator checks, on in-memory NumPy input (run in-process).

Every check runs with each estimator's defaults (and L1 logistic regression at a tight
tolerance); none is marked as expected to fail.
"""

from __future__ import annotations

from sklearn.utils.estimator_checks import parametrize_with_checks

from gdd_dask.estimators import (
    ElasticNet,
    Lasso,
    LinearRegression,
    LogisticRegression,
    PoissonRegressor,
    Ridge,
)

ESTIMATORS = [
    LinearRegression(), Ridge(), Lasso(), ElasticNet(), LogisticRegression(), PoissonRegressor(),
    # tight: the sample-weight checks compare fits to 1e-7
    LogisticRegression(penalty="l1", solver="auto", tol=1e-12, max_iter=10_000),
]


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
