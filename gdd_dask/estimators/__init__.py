"""scikit-learn estimators over the distributed objective.

``LinearRegression``, ``Ridge``, ``Lasso``, ``ElasticNet``, the GLMs
``PoissonRegressor``, ``GammaRegressor`` and ``TweedieRegressor``, ``LogisticRegression``,
the ``SGD*`` and the ``MLP*`` estimators take
NumPy, pandas, Dask arrays and DataFrames, and Zarr arrays; their hyperparameters mean
what scikit-learn's mean, so the same hyperparameters give the same model.
"""

from .logistic import LogisticRegression
from .mlp import MLPClassifier, MLPRegressor
from .regression import (
    ElasticNet,
    GammaRegressor,
    Lasso,
    LinearRegression,
    PoissonRegressor,
    Ridge,
    TweedieRegressor,
)
from .sgd import SGDClassifier, SGDRegressor

__all__ = ["ElasticNet", "GammaRegressor", "Lasso", "LinearRegression", "LogisticRegression",
           "MLPClassifier", "MLPRegressor", "PoissonRegressor", "Ridge", "SGDClassifier",
           "SGDRegressor", "TweedieRegressor"]
