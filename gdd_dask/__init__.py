"""gdd-dask: distributed, out-of-core gradient descent on chunked Dask arrays."""

from .estimators import LinearRegression, LogisticRegression, PoissonRegressor, Ridge
from .losses import LOSSES, LinearModelLoss, Loss, get_loss
from .objective import Objective, make_objective
from .optimize import minimize, solve
from .result import OptimizeResult
from .solvers import SOLVERS, register_solver

__all__ = [
    "LOSSES",
    "LinearModelLoss",
    "LinearRegression",
    "LogisticRegression",
    "Loss",
    "Objective",
    "OptimizeResult",
    "PoissonRegressor",
    "Ridge",
    "SOLVERS",
    "get_loss",
    "make_objective",
    "minimize",
    "register_solver",
    "solve",
]

__version__ = "0.1.0"
