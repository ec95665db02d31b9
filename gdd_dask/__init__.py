"""gdd-dask: distributed, out-of-core gradient descent on chunked Dask arrays.

The public names below are imported on first use, so that a Dask worker running chunk
tasks loads only the chunk math (``gdd_dask.chunk``, ``gdd_dask.losses``) and not
scikit-learn or SciPy: about 70 MB of process memory instead of 200 MB.
"""

from importlib import import_module

_EXPORTS = {
    "ElasticNet": "estimators",
    "ElasticNetCV": "estimators",
    "LassoCV": "estimators",
    "LogisticRegressionCV": "estimators",
    "RidgeCV": "estimators",
    "enet_path": "estimators",
    "lasso_path": "estimators",
    "GammaRegressor": "estimators",
    "Lasso": "estimators",
    "LinearRegression": "estimators",
    "LogisticRegression": "estimators",
    "MLPClassifier": "estimators",
    "MLPRegressor": "estimators",
    "PoissonRegressor": "estimators",
    "Ridge": "estimators",
    "SGDClassifier": "estimators",
    "SGDRegressor": "estimators",
    "TweedieRegressor": "estimators",
    "Inference": "standard_errors",
    "inference": "standard_errors",
    "LOSSES": "losses",
    "LinearModelLoss": "losses",
    "Loss": "losses",
    "get_loss": "losses",
    "Objective": "objective",
    "make_objective": "objective",
    "hash_features": "hashing",
    "minimize": "optimize",
    "solve": "optimize",
    "OptimizeResult": "result",
    "SOLVERS": "solvers",
    "register_solver": "solvers",
}

__all__ = sorted(_EXPORTS)
__version__ = "0.1.0"


def __getattr__(name):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'gdd_dask' has no attribute {name!r}")
    value = getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(list(globals()) + __all__)
