"""scikit-learn estimators over the distributed objective.

``LinearRegression``, ``Ridge``, ``Lasso``, ``ElasticNet``, the GLMs
``PoissonRegressor``, ``GammaRegressor`` and ``TweedieRegressor``, ``LogisticRegression``,
the ``SGD*`` and the ``MLP*`` estimators take
NumPy, pandas, Dask arrays and DataFrames, and Zarr arrays; their hyperparameters mean
what scikit-learn's mean, so the same hyperparameters give the same model.
"""

from .cv import ElasticNetCV, LassoCV, LogisticRegressionCV, RidgeCV, enet_path, lasso_path
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

__all__ = ["ElasticNet", "ElasticNetCV", "GammaRegressor", "Lasso", "LassoCV",
           "LinearRegression", "LogisticRegression", "LogisticRegressionCV", "MLPClassifier",
           "MLPRegressor", "PoissonRegressor", "Ridge", "RidgeCV", "SGDClassifier",
           "SGDRegressor", "TweedieRegressor", "enet_path", "lasso_path"]
