"""scikit-learn's own estimator checks, on in-memory NumPy input (run in-process).

Every check runs with each estimator's defaults; none is marked as expected to fail.
"""

from __future__ import annotations

from sklearn.utils.estimator_checks import parametrize_with_checks

from gdd_dask.estimators import LinearRegression, LogisticRegression, PoissonRegressor, Ridge


@parametrize_with_checks([LinearRegression(), Ridge(), LogisticRegression(), PoissonRegressor()])
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
