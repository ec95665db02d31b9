"""The suites (sizes, repeats, caps) and the line-up of tools each measurement runs."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from problems import Problem
from tools import (
    IterationSearch,
    Tool,
    dask_ml_fit,
    dask_ml_model,
    gdd_estimator,
    gdd_minimize,
    sklearn_model,
    timed_fit,
)

GDD_SOLVERS = ("lbfgs", "newton", "gd", "auto")
SKLEARN_SOLVERS = {"logistic": ("lbfgs", "newton-cholesky", "sgd"), "regression": ("auto", "lsqr")}
ITERATIVE = {"lbfgs", "newton-cholesky", "sgd"}


@dataclass(frozen=True)
class Suite:
    """What a suite runs.

    ``repeat``: runs of each tool (median reported); ``pass_repeat``: of each pass;
    ``worker_memory``: memory limit of each of the two workers; ``sklearn_cap``: most
    ``max_iter`` the iteration search tries (``sgd_epochs`` for SGD); ``dask_ml``: its
    solvers per problem; ``dask_ml_once``: dask-ml runs on the first repeat only;
    ``dask_ml_normalize``: its settings of ``normalize`` (True is its default);
    ``dask_ml_max_iter``: its ``max_iter`` (``None``: its default);
    ``admm_max_iter``: dask-ml's ADMM capped at that many iterations (``None``: not run);
    ``out_of_core``: run the streamed-pass measurement (1.6 GB store, 1 GB of workers).
    """

    name: str
    rows: int
    features: int
    chunk_rows: int
    repeat: int
    worker_memory: str
    sgd_epochs: int
    dask_ml: dict
    dask_ml_once: bool = False
    dask_ml_normalize: tuple = (True, False)
    dask_ml_max_iter: int | None = None
    admm_max_iter: int | None = None
    out_of_core: bool = False
    pass_repeat: int = 5
    overhead_chunk_rows: int = 2000
    sklearn_cap: int = 256

    def problems(self):
        """The logistic and the regression problem, as Zarr stores."""
        return [Problem("logistic", self.rows, self.features, self.chunk_rows, seed=5),
                Problem("regression", self.rows, self.features, self.chunk_rows, seed=6)]


ALL_DASK_ML = {"logistic": ("lbfgs", "newton", "gradient_descent", "proximal_grad"),
               "regression": ("lbfgs", "newton")}
SUITES = {
    "smoke": Suite("smoke", 4_000, 10, 1_000, repeat=1, worker_memory="1GB", sgd_epochs=4,
                   dask_ml={"logistic": ("lbfgs",)}, dask_ml_normalize=(True,),
                   dask_ml_max_iter=10, pass_repeat=2),
    "quick": Suite("quick", 200_000, 50, 25_000, repeat=3, worker_memory="2GB",
                   sgd_epochs=32, dask_ml=ALL_DASK_ML),
    "full": Suite("full", 2_000_000, 100, 50_000, repeat=3, worker_memory="6GB",
                  sgd_epochs=8, dask_ml=ALL_DASK_ML, dask_ml_once=True, admm_max_iter=5,
                  out_of_core=True),
}


def sklearn_tools(suite, problem, X, y, score, reached):
    """scikit-learn on the NumPy arrays: iterative solvers through an
    :class:`IterationSearch` (time to the gap), direct ones fitted once."""
    tools = []
    for solver in SKLEARN_SOLVERS[problem.name]:
        def fit_at(max_iter, solver=solver):
            return timed_fit(sklearn_model(problem, solver, max_iter), X, y, score)

        cap = suite.sgd_epochs if solver == "sgd" else suite.sklearn_cap
        fit = IterationSearch(fit_at, reached, cap) if solver in ITERATIVE \
            else partial(fit_at, 1000)
        tools.append(Tool("scikit-learn", solver, "NumPy, in process", fit))
    return tools


def dask_ml_tools(suite, problem, X, y, score, client, where):
    """dask-ml's solvers with the suite's settings of ``normalize`` (default, and
    ``False``), and its default solver (ADMM) with a capped ``max_iter`` when the suite
    asks for it."""
    settings = [(solver, normalize, suite.dask_ml_max_iter)
                for solver in suite.dask_ml.get(problem.name, ())
                for normalize in suite.dask_ml_normalize]
    if suite.admm_max_iter is not None:
        settings.append(("admm", True, suite.admm_max_iter))
    tools = []
    for solver, normalize, max_iter in settings:
        model = dask_ml_model(problem, solver, normalize=normalize, max_iter=max_iter)
        config = where + ("" if normalize else ", normalize=False") \
            + ("" if max_iter is None else f", max_iter={max_iter}")
        tools.append(Tool("dask-ml", solver, config,
                          partial(dask_ml_fit, model, X, y, score, client),
                          once=suite.dask_ml_once))
    return tools


def gdd_tools(problem, X, y, score, client, where, solvers=GDD_SOLVERS, estimator=True):
    """gdd-dask's ``minimize`` with each solver, and its estimator."""
    tools = [Tool("gdd-dask", solver, where,
                  partial(gdd_minimize, problem, X, y, score, client=client, solver=solver))
             for solver in solvers]
    if not estimator:
        return tools
    estimator = gdd_estimator(problem, client)
    tools.append(Tool("gdd-dask", estimator.solver, f"{where}, {type(estimator).__name__}",
                      partial(timed_fit, estimator, X, y, score)))
    return tools
