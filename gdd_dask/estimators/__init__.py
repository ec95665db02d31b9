"""scikit-learn estimators over the distributed objective.

``LinearRegression``, ``Ridge``, ``PoissonRegressor`` and ``LogisticRegression`` take
NumPy, pandas, Dask arrays and DataFrames, and Zarr arrays; their hyperparameters mean
what scikit-learn's mean, so the same hyperparameters give the same model.
"""

from .logistic import LogisticRegression
from .regression import LinearRegression, PoissonRegressor, Ridge

__all__ = ["LinearRegression", "LogisticRegression", "PoissonRegressor", "Ridge"]
