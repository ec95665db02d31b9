"""scikit-learn estimators over the distributed objective.

``LinearRegression``, ``Ridge``, ``Lasso``, ``ElasticNet``, ``PoissonRegressor`` and
``LogisticRegression`` take
NumPy, pandas, Dask arrays and DataFrames, and Zarr arrays; their hyperparameters mean
what scikit-learn's mean, so the same hyperparameters give the same model.
"""

from .logistic import LogisticRegression
from .mlp import MLPClassifier, MLPRegressor
from .regression import ElasticNet, Lasso, LinearRegression, PoissonRegressor, Ridge
from .sgd import SGDClassifier, SGDRegressor

__all__ = ["ElasticNet", "Lasso", "LinearRegression", "LogisticRegression", "MLPClassifier",
           "MLPRegressor", "PoissonRegressor", "Ridge", "SGDClassifier", "SGDRegressor"]
