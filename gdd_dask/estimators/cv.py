"""Cross-validation and regularization paths, every model in the same passes.

``LogisticRegressionCV``, ``RidgeCV``, ``LassoCV`` and ``ElasticNetCV`` fit a grid of
hyperparameters on each fold's training rows -- and, for the refit, on all rows -- as
one set of shared passes (:mod:`gdd_dask.many`): each model is the ordinary estimator
(``LogisticRegression(C=...)``, ``Ridge``, ``Lasso``, ``ElasticNet``) over its own
objective, weighted by its fold (:mod:`gdd_dask.folds`), and each pass over X serves
every model still running. The held-out scores are sums computed in the same passes
(:mod:`.held_out`). A model equals, bit for bit, the single estimator fitted with
``sample_weight = s * train_mask`` (all rows: ``s``).

``cv`` is an int (seeded per-row folds, :class:`~gdd_dask.folds.RowFolds`; ``None``
is 5), a scikit-learn splitter or an iterable of ``(train, test)`` index arrays
(turned into per-row codes, never into copies of the data).
"""

from __future__ import annotations

import warnings
from functools import partial
from numbers import Integral, Real

import numpy as np
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import Interval, StrOptions

from ..blocks import held_out_sums
from ..engine import CACHE_POLICIES
from ..folds import Weighting, make_folds
from ..losses import MultinomialLoss
from ..many import SharedPasses
from ..objective import make_engine, models_bytes
from ..runtime import compute
from ..solvers.cd import _centred
from .base import not_converged, outside_level
from .held_out import check_scoring, scores_of
from .inputs import float_dtype, validate_fit_inputs
from .labels import align_codes, apply_class_weight, class_weights, encode_labels
from .logistic import LogisticRegression, split_params
from .regression import ElasticNet, Lasso, Ridge

__all__ = ["ElasticNetCV", "LassoCV", "LogisticRegressionCV", "RidgeCV", "enet_path",
           "lasso_path"]

_ENGINE_CONSTRAINTS = {
    "client": "no_validation",
    "split_every": [Interval(Integral, 2, None, closed="left")],
    "cache": [StrOptions(set(CACHE_POLICIES))],
    "cv": [Interval(Integral, 2, None, closed="left"), "cv_object", None],
    "random_state": ["random_state"],
}


def fit_shared(shared, template, grid, jobs, loss, *, n_features, fit_intercept,
               scoring=None, class_weight=None, warm=False):
    """Fit ``clone(template).set_params(**grid[g])`` on the training rows of split
    ``j`` for each ``(g, j)`` of ``jobs`` (``j=None``: all rows) in the passes of
    ``shared``, each model scored on its test rows by ``scoring`` in the same passes.
    ``[(model, result, score)]`` in the order of ``jobs``.

    Every model runs at once, unless ``warm`` (``path_of[g]``, the path of each grid
    entry): then the models of one path and split run one after another in the order
    of ``jobs``, each from the one before (a warm-started path, largest penalty first
    as glmnet's), the paths and splits side by side.
    """
    chains = {}
    for job in jobs:
        chains.setdefault((warm[job[0]], job[1]) if warm else job, []).append(job)

    def fit(chain):
        done, x0 = [], None
        for g, split in chain:
            model = clone(template).set_params(**grid[g])
            model.n_features_in_ = n_features
            objective = shared.objective(loss, Weighting(shared.folds, split),
                                         n_features=n_features, fit_intercept=fit_intercept)
            result = model._solve(loss, None, None, None, x0=x0, fit_intercept=fit_intercept,
                                  objective=objective)
            done.append((model, result))
            x0 = result.x if warm else None
        split = chain[0][1]
        if scoring is None or split is None:
            return [(model, result, None) for model, result in done]
        sums = shared.score(Weighting(shared.folds, split, "test"),
                            partial(held_out_sums, scoring, loss, fit_intercept, class_weight),
                            np.array([result.x for _, result in done]))
        return [(m, r, score) for (m, r), score in zip(done, scores_of(scoring, sums))]

    by_job = {}
    for chain, fitted in zip(chains.values(),
                             shared.run([partial(fit, chain) for chain in chains.values()])):
        by_job.update(zip(chain, fitted))
    fits = [by_job[job] for job in jobs]
    failed = [(grid[g], j, result) for (g, j), (model, result, _) in zip(jobs, fits)
              if not_converged(result, model.tol)]
    if failed:
        settings, split, result = failed[0]
        rows = "all rows" if split is None else f"split {split}"
        warnings.warn(
            f"{len(failed)} of the {len(fits)} {type(template).__name__} models did not "
            f"converge; the first ({settings}, {rows}): {result.message} after "
            f"{result.nit} iterations (tol = {template.tol}). Increase max_iter or scale "
            "the features (e.g. with StandardScaler).", ConvergenceWarning,
            stacklevel=outside_level())
    return fits


def _folds(estimator, X, y):
    """The folds of ``estimator.cv`` for ``X``'s rows (a splitter is given ``y``, read
    into memory when it is lazy)."""
    cv = 5 if estimator.cv is None else estimator.cv
    if hasattr(cv, "split") and hasattr(y, "compute"):
        y = compute(y, client=estimator.client)[0]
    return make_folds(cv, n_samples=X.shape[0], y=y, random_state=estimator.random_state)


class _SharedFit:
    """What the cross-validated estimators share: the engine over the data, the
    shared passes over it and their count."""

    def _shared(self, loss, X, y, sample_weight, folds, *, sums_bytes):
        """The shared passes over the data, with room in each task for ``sums_bytes``
        of sums (:func:`models_bytes`)."""
        loss, engine, _ = make_engine(loss, X, y, sample_weight, client=self.client,
                                      split_every=self.split_every, cache=self.cache,
                                      sums_bytes=sums_bytes)
        return loss, SharedPasses(engine, folds)

    def _done(self, shared):
        """Record the passes (and, with ``verbose``, say how many models they fitted);
        release the data."""
        self.n_passes_ = shared.n_passes
        shared.engine.close()
        if self.verbose:
            print(f"{type(self).__name__}: {shared.n_models} models in {shared.n_passes} "
                  "passes over X", flush=True)


class LogisticRegressionCV(_SharedFit, LogisticRegression):
    """Logistic regression with ``C`` (and ``l1_ratio``) chosen by cross-validation, as
    :class:`sklearn.linear_model.LogisticRegressionCV`, every fold and ``C`` fitted in
    the same passes over X.

    Parameters
    ----------
    Cs : int or array-like, default=10
        The grid of ``C``: an int gives ``np.logspace(-4, 4, Cs)``.
    l1_ratios : array-like of floats in [0, 1], default=None
        The grid of the L1 share (an elastic net for each); ``None``: ``penalty``
        alone.
    penalty : {"l2", "l1", "elasticnet"}, default="l2"
    fit_intercept : bool, default=True
    cv : int, splitter, iterable of (train, test) or None, default=None
        ``None`` is 5 folds; an int ``k`` is ``k`` seeded per-row folds
        (``gdd_dask.folds.RowFolds``: a function of ``random_state`` and the row
        index, balanced to a row); a scikit-learn splitter or ``(train, test)`` index
        arrays as scikit-learn takes them.
    scoring : {"accuracy", "neg_log_loss"} or None, default=None
        The held-out score (``None``: accuracy), computed inside the passes.
    solver : str, default="lbfgs"
        The solver of every model (``"proximal"`` or ``"auto"`` for an L1 part).
    tol, max_iter, class_weight
        As in :class:`LogisticRegression`, for every model; ``class_weight`` is
        computed once, on all rows, as scikit-learn does.
    refit : bool, default=True
        The final model is the one fitted on all rows at the best ``C`` (fitted in the
        same passes as the folds); ``False``: the mean of each fold's best model.
    warm_path : bool, default=True
        Run each fold's path (and all rows') from the largest penalty, each ``C``
        warm-started from the one before, the folds side by side (glmnet's order, as
        scikit-learn's path); ``False`` starts every model at once, cold: fewer passes,
        more work in each.
    random_state : int, RandomState or None, default=None
        The seed of the folds of an int ``cv`` (``None``: 0).
    client, split_every, cache
        As in :class:`LogisticRegression`.

    Attributes
    ----------
    Cs_, l1_ratios_ : ndarray
        The grids.
    C_, l1_ratio_ : float
        The chosen values (scikit-learn >= 1.10's plain floats).
    scores_ : ndarray of shape (n_folds, n_l1_ratios, n_cs)
        Held-out scores.
    coefs_paths_ : ndarray of shape (n_folds, n_l1_ratios, n_cs, n_classes, n_dof)
        Each model's coefficients, then intercept (``n_classes`` is 1 for two classes).
    n_iter_ : ndarray of shape (n_folds, n_l1_ratios, n_cs)
    classes_, coef_, intercept_, n_features_in_, feature_names_in_
        As in :class:`LogisticRegression`.
    n_passes_ : int
        Passes over X of the whole fit.
    """

    _parameter_constraints: dict = {
        **{k: LogisticRegression._parameter_constraints[k]
           for k in ("fit_intercept", "tol", "max_iter", "class_weight", "verbose")},
        **_ENGINE_CONSTRAINTS,
        "Cs": [Interval(Integral, 1, None, closed="left"), "array-like"],
        "l1_ratios": ["array-like", None],
        "penalty": [StrOptions({"l2", "l1", "elasticnet"})],
        "scoring": [StrOptions({"accuracy", "neg_log_loss"}), None],
        "solver": [str],
        "refit": ["boolean"],
        "warm_path": ["boolean"],
    }

    def __init__(self, *, Cs=10, l1_ratios=None, penalty="l2", fit_intercept=True, cv=None,
                 scoring=None, solver="lbfgs", tol=1e-4, max_iter=100, class_weight=None,
                 refit=True, warm_path=True, random_state=None, client=None, split_every=8,
                 cache="auto", verbose=0):
        self.Cs, self.l1_ratios, self.penalty = Cs, l1_ratios, penalty
        self.warm_path = warm_path
        self.fit_intercept, self.cv, self.scoring = fit_intercept, cv, scoring
        self.solver, self.tol, self.max_iter = solver, tol, max_iter
        self.class_weight, self.refit, self.random_state = class_weight, refit, random_state
        self.client, self.split_every, self.cache = client, split_every, cache
        self.verbose = verbose

    def _grids(self):
        Cs = np.logspace(-4, 4, self.Cs) if isinstance(self.Cs, Integral) \
            else np.asarray(self.Cs, dtype=np.float64)
        if Cs.ndim != 1 or not Cs.size or np.any(~(Cs > 0)):
            raise ValueError(f"Cs must be an int or a 1-D array of C > 0; got {self.Cs!r}")
        if self.l1_ratios is None:
            if self.penalty == "elasticnet":
                raise ValueError("l1_ratios must be given for penalty='elasticnet'")
            return Cs, [None]
        ratios = np.asarray(self.l1_ratios, dtype=np.float64)
        if ratios.ndim != 1 or not ratios.size or np.any((ratios < 0) | (ratios > 1)):
            raise ValueError(f"l1_ratios must be an array-like of numbers in [0, 1]; got "
                             f"{self.l1_ratios!r}")
        return Cs, [float(r) for r in ratios]

    def fit(self, X, y, sample_weight=None):
        """Fit every fold and ``C`` in shared passes, choose, keep the refit.

        {fit parameters}
        """
        self._validate_params()
        scoring = check_scoring(self.scoring, "classifier")
        Cs, ratios = self._grids()
        X, y, sample_weight = validate_fit_inputs(self, X, y, sample_weight, y_numeric=False)
        classes, codes = encode_labels(y, client=self.client)
        if len(classes) < 2:
            raise ValueError(f"{type(self).__name__} needs samples of at least 2 classes "
                             f"in y; y holds only {classes[:1].tolist()[0]!r}")
        codes, sample_weight = align_codes(codes, sample_weight)
        weights = class_weights(self.class_weight, classes, codes, sample_weight,
                                client=self.client)
        fit_weight = apply_class_weight(weights, codes, sample_weight)
        binary = len(classes) == 2
        loss = "logistic" if binary else MultinomialLoss(len(classes))
        folds = _folds(self, X, codes)
        template = LogisticRegression(penalty=self.penalty, fit_intercept=self.fit_intercept,
                                      solver=self.solver, tol=self.tol, max_iter=self.max_iter,
                                      random_state=self.random_state)
        order = np.argsort(Cs, kind="stable")  # a warm path runs from the largest penalty
        grid = [{"C": C, "l1_ratio": r} for r in ratios for C in Cs[order]]
        splits = [*range(folds.n_splits), *([None] if self.refit else [])]
        jobs = [(g, j) for j in splits for g in range(len(grid))]
        at_once = len(splits) * len(ratios) if self.warm_path else len(jobs)
        n_params = (X.shape[1] + 1) * (1 if binary else len(classes))
        loss, shared = self._shared(loss, X, codes, fit_weight, folds,
                                    sums_bytes=models_bytes(at_once, n_params))
        try:
            fits = fit_shared(shared, template, grid, jobs, loss, n_features=X.shape[1],
                              fit_intercept=self.fit_intercept, scoring=scoring,
                              class_weight=weights,
                              warm=[g // len(Cs) for g in range(len(grid))] if self.warm_path
                              else None)
        finally:
            self._done(shared)
        self._store(fits, jobs, Cs, order, ratios, folds.n_splits, binary, classes,
                    float_dtype(X))
        return self

    def _store(self, fits, jobs, Cs, order, ratios, n_folds, binary, classes, dtype):
        """The fitted attributes from ``fits`` of ``jobs`` (grid entry ``g`` is ``C =
        Cs[order[g % n_cs]]`` and ``l1_ratio = ratios[g // n_cs]``)."""
        n_l1, n_cs = len(ratios), len(Cs)
        n_classes = 1 if binary else len(classes)
        shape = (n_folds, n_l1, n_cs)
        scores, n_iter = np.zeros(shape), np.zeros(shape, dtype=np.int32)
        paths = np.zeros((*shape, n_classes, self.n_features_in_ + int(self.fit_intercept)))
        final = {}
        for (g, j), (model, result, score) in zip(jobs, fits):
            coef, intercept = split_params(result.x, self.n_features_in_, self.fit_intercept,
                                           n_classes)
            if j is None:
                final[g // n_cs, order[g % n_cs]] = (coef, intercept)
                continue
            r, c = divmod(g, n_cs)
            c = order[c]
            scores[j, r, c], n_iter[j, r, c] = score, model.n_iter_
            paths[j, r, c] = np.hstack([coef, intercept[:, None]]) if self.fit_intercept \
                else coef
        self.classes_, self.Cs_ = classes, Cs
        self.l1_ratios_ = np.asarray(ratios, dtype=object if ratios == [None] else float)
        self.scores_, self.coefs_paths_, self.n_iter_ = scores, paths, n_iter
        by_c = scores.sum(axis=0).T  # (n_cs, n_l1): scikit-learn's argmax order
        plain = 1.0 if self.penalty == "l1" else 0.0
        if self.refit:
            c, r = np.unravel_index(np.argmax(by_c), by_c.shape)
            coef, intercept = final[r, c]
            self.C_ = float(Cs[c])
            self.l1_ratio_ = plain if ratios[r] is None else ratios[r]
        else:  # the mean of each fold's best model
            best = [np.unravel_index(np.argmax(scores[j].T), by_c.shape) for j in range(n_folds)]
            models = np.mean([paths[j, r, c] for j, (c, r) in enumerate(best)], axis=0)
            coef = models[:, :self.n_features_in_]
            intercept = models[:, -1] if self.fit_intercept else np.zeros(n_classes)
            self.C_ = float(np.mean([Cs[c] for c, _ in best]))
            self.l1_ratio_ = plain if ratios[0] is None else \
                float(np.mean([ratios[r] for _, r in best]))
        self.coef_, self.intercept_ = coef.astype(dtype), intercept.astype(dtype)


class _RegressionCV(_SharedFit):
    """Shared parts of :class:`RidgeCV`, :class:`LassoCV` and :class:`ElasticNetCV`."""

    def _fit_inputs(self, X, y, sample_weight):
        X, y, sample_weight = validate_fit_inputs(self, X, y, sample_weight, y_numeric=True)
        if getattr(y, "ndim", 1) != 1:
            raise ValueError(f"{type(self).__name__} takes one target (a 1-D y)")
        return X, y, sample_weight

    def _keep(self, model, result, dtype):
        """The refit model's coefficients (its solver's result), as the estimator's."""
        x = result.x
        self.coef_ = x[:self.n_features_in_].astype(dtype)
        self.intercept_ = dtype.type(x[-1]) if self.fit_intercept else 0.0
        self.n_iter_ = model.n_iter_

    def _moments_bytes(self, X, folds):
        """Room for every fold's and all rows' moment or Gram matrix in one task."""
        return models_bytes(folds.n_splits + 1, X.shape[1] + 1, square=True)


class RidgeCV(_RegressionCV, Ridge):
    """Ridge regression with ``alpha`` chosen by cross-validation, as
    :class:`sklearn.linear_model.RidgeCV` with a ``cv``: one pass over X gives every
    fold's moment (``solver="auto"``, ``qr``), from which every ``alpha`` is solved on
    the client; one more scores them all.

    Parameters
    ----------
    alphas : array-like of floats > 0, default=(0.1, 1.0, 10.0)
    fit_intercept : bool, default=True
    scoring : {"r2", "neg_mean_squared_error"} or None, default=None
        ``None``: R^2 (the estimator's score, as scikit-learn's grid search).
    cv : int, splitter, iterable of (train, test) or None, default=None
        As in :class:`LogisticRegressionCV` (``None``: 5 folds). scikit-learn's
        ``cv=None`` (leave-one-out through the hat matrix) is not offered.
    solver, tol, max_iter, random_state, client, split_every, cache, verbose
        As in :class:`Ridge`; ``random_state`` seeds the folds of an int ``cv``.

    Attributes
    ----------
    alpha_ : float
    best_score_ : float
        The mean held-out score of ``alpha_``.
    scores_ : ndarray of shape (n_folds, n_alphas)
    coef_, intercept_, n_features_in_, feature_names_in_
        Of the model refitted on all rows at ``alpha_``.
    n_passes_ : int
    """

    _parameter_constraints: dict = {
        **{k: Ridge._parameter_constraints[k]
           for k in ("fit_intercept", "tol", "max_iter", "verbose")},
        **_ENGINE_CONSTRAINTS,
        "alphas": ["array-like"],
        "scoring": [StrOptions({"r2", "neg_mean_squared_error"}), None],
        "solver": [str],
    }

    def __init__(self, alphas=(0.1, 1.0, 10.0), *, fit_intercept=True, scoring=None, cv=None,
                 solver="auto", tol=1e-6, max_iter=1000, random_state=None, client=None,
                 split_every=8, cache="auto", verbose=0):
        self.alphas, self.fit_intercept, self.scoring, self.cv = alphas, fit_intercept, \
            scoring, cv
        self.solver, self.tol, self.max_iter = solver, tol, max_iter
        self.random_state, self.client, self.split_every = random_state, client, split_every
        self.cache, self.verbose = cache, verbose

    def fit(self, X, y, sample_weight=None):
        """Fit every fold and ``alpha`` in shared passes, choose, keep the refit.

        {fit parameters}
        """
        self._validate_params()
        scoring = check_scoring(self.scoring, "regressor")
        alphas = np.asarray(self.alphas, dtype=np.float64).ravel()
        if not alphas.size or np.any(~(alphas > 0)):
            raise ValueError(f"alphas must be numbers > 0; got {self.alphas!r}")
        X, y, sample_weight = self._fit_inputs(X, y, sample_weight)
        folds = _folds(self, X, y)
        template = Ridge(fit_intercept=self.fit_intercept, solver=self.solver, tol=self.tol,
                         max_iter=self.max_iter)
        grid = [{"alpha": a} for a in alphas]
        jobs = [(g, j) for j in [*range(folds.n_splits), None] for g in range(len(grid))]
        loss, shared = self._shared("squared", X, y, sample_weight, folds,
                                    sums_bytes=self._moments_bytes(X, folds))
        try:
            fits = fit_shared(shared, template, grid, jobs, loss, n_features=X.shape[1],
                              fit_intercept=self.fit_intercept, scoring=scoring)
        finally:
            self._done(shared)
        scores = np.zeros((folds.n_splits, len(alphas)))
        refits = {}
        for (g, j), (model, result, score) in zip(jobs, fits):
            if j is None:
                refits[g] = model, result
            else:
                scores[j, g] = score
        best = int(np.argmax(scores.mean(axis=0)))
        self.scores_, self.alpha_ = scores, float(alphas[best])
        self.best_score_ = float(scores.mean(axis=0)[best])
        self._keep(*refits[best], float_dtype(X))
        return self


class ElasticNetCV(_RegressionCV, ElasticNet):
    """Elastic net with ``alpha`` (and ``l1_ratio``) chosen by cross-validation, as
    :class:`sklearn.linear_model.ElasticNetCV`: the Gram matrix of every fold comes
    from one pass over X (``solver="auto"``, ``cd``, where ``p <= 2048``), every
    ``alpha`` is solved from it on the client (each fold's path from the largest
    alpha, each warm-started from the one before, as scikit-learn's), and one more
    pass scores them all.

    Parameters
    ----------
    l1_ratio : float or array-like of floats in (0, 1], default=0.5
    eps : float, default=1e-3
        ``alpha_min / alpha_max`` of the automatic grid.
    alphas : int or array-like, default=100
        An int: that many alphas on scikit-learn's grid, from ``alpha_max =
        max_j |x_j^T s (y - ybar)| / (sum_i s_i l1_ratio)`` on all rows down to
        ``eps alpha_max``, log-spaced.
    fit_intercept, tol, max_iter, positive, solver
        As in :class:`ElasticNet`, for every model.
    cv : int, splitter, iterable of (train, test) or None, default=None
        As in :class:`LogisticRegressionCV` (``None``: 5 folds).
    random_state, client, split_every, cache, verbose
        As in :class:`RidgeCV`.

    Attributes
    ----------
    alpha_, l1_ratio_ : float
    alphas_ : ndarray of shape (n_alphas,) or (n_l1_ratio, n_alphas)
    mse_path_ : ndarray of shape (n_alphas, n_folds) or (n_l1_ratio, n_alphas, n_folds)
        Held-out mean squared errors.
    coef_, intercept_, n_iter_, n_features_in_, feature_names_in_
        Of the model refitted on all rows (no pass more: the Gram matrix of all rows
        is kept).
    n_passes_ : int
    """

    _parameter_constraints: dict = {
        **{k: ElasticNet._parameter_constraints[k]
           for k in ("fit_intercept", "tol", "max_iter", "positive", "verbose")},
        **_ENGINE_CONSTRAINTS,
        "l1_ratio": [Interval(Real, 0, 1, closed="both"), "array-like"],
        "eps": [Interval(Real, 0, None, closed="neither")],
        "alphas": [Interval(Integral, 1, None, closed="left"), "array-like"],
        "solver": [str],
    }

    def __init__(self, *, l1_ratio=0.5, eps=1e-3, alphas=100, fit_intercept=True,
                 max_iter=1000, tol=1e-4, cv=None, positive=False, solver="auto",
                 random_state=None, client=None, split_every=8, cache="auto", verbose=0):
        self.l1_ratio, self.eps, self.alphas = l1_ratio, eps, alphas
        self.fit_intercept, self.max_iter, self.tol, self.cv = fit_intercept, max_iter, tol, cv
        self.positive, self.solver, self.random_state = positive, solver, random_state
        self.client, self.split_every, self.cache = client, split_every, cache
        self.verbose = verbose

    def _template(self):
        return ElasticNet(fit_intercept=self.fit_intercept, solver=self.solver, tol=self.tol,
                          max_iter=self.max_iter, positive=self.positive)

    @staticmethod
    def _settings(alpha, l1_ratio):
        """One model's hyperparameters."""
        return {"alpha": float(alpha), "l1_ratio": float(l1_ratio)}

    def _ratios(self):
        ratios = np.atleast_1d(np.asarray(self.l1_ratio, dtype=np.float64))
        if ratios.ndim != 1 or not ratios.size or np.any((ratios < 0) | (ratios > 1)):
            raise ValueError(f"l1_ratio must be in [0, 1]; got {self.l1_ratio!r}")
        return ratios

    def fit(self, X, y, sample_weight=None):
        """Fit every fold and ``alpha`` in shared passes, choose, refit.

        {fit parameters}
        """
        self._validate_params()
        ratios = self._ratios()
        X, y, sample_weight = self._fit_inputs(X, y, sample_weight)
        folds = _folds(self, X, y)
        loss, shared = self._shared("squared", X, y, sample_weight, folds,
                                    sums_bytes=self._moments_bytes(X, folds))
        try:
            alphas = _alpha_grids(shared, loss, ratios, self.alphas, self.eps,
                                  n_features=X.shape[1], fit_intercept=self.fit_intercept,
                                  positive=self.positive)
            grid = [self._settings(a, r) for r, row in zip(ratios, alphas) for a in row]
            jobs = [(g, j) for j in range(folds.n_splits) for g in range(len(grid))]
            fits = fit_shared(shared, self._template(), grid, jobs, loss,
                              n_features=X.shape[1], fit_intercept=self.fit_intercept,
                              scoring="neg_mean_squared_error",
                              warm=[g // alphas.shape[1] for g in range(len(grid))])
            mse = -np.array([score for _, _, score in fits]).reshape(
                folds.n_splits, len(ratios), alphas.shape[1])
            mse = np.moveaxis(mse, 0, -1)  # (n_l1_ratio, n_alphas, n_folds)
            means = mse.mean(axis=-1)
            r = int(np.argmin(means.min(axis=1)))  # the first l1_ratio of the least MSE
            a = int(np.argmin(means[r]))
            best = self._settings(alphas[r, a], ratios[r])
            (model, result, _), = fit_shared(shared, self._template(), [best], [(0, None)], loss,
                                        n_features=X.shape[1], fit_intercept=self.fit_intercept)
        finally:
            self._done(shared)
        single = np.ndim(self.l1_ratio) == 0
        self.alpha_, self.l1_ratio_ = best["alpha"], float(ratios[r])
        self.alphas_ = alphas[0] if single else alphas
        self.mse_path_ = mse[0] if single else mse
        self._keep(model, result, float_dtype(X))
        return self


class LassoCV(ElasticNetCV):
    """The lasso with ``alpha`` chosen by cross-validation, as
    :class:`sklearn.linear_model.LassoCV`: :class:`ElasticNetCV` with ``l1_ratio=1``.

    Parameters
    ----------
    eps, alphas, fit_intercept, tol, max_iter, positive, solver, cv, random_state
        As in :class:`ElasticNetCV`.
    client, split_every, cache, verbose
        As in :class:`RidgeCV`.

    Attributes
    ----------
    alpha_, alphas_, mse_path_, coef_, intercept_, n_iter_, n_passes_
        As in :class:`ElasticNetCV`.
    """

    _parameter_constraints: dict = {k: v for k, v in ElasticNetCV._parameter_constraints.items()
                                    if k != "l1_ratio"}

    def __init__(self, *, eps=1e-3, alphas=100, fit_intercept=True, max_iter=1000, tol=1e-4,
                 cv=None, positive=False, solver="auto", random_state=None, client=None,
                 split_every=8, cache="auto", verbose=0):
        super().__init__(l1_ratio=1.0, eps=eps, alphas=alphas, fit_intercept=fit_intercept,
                         max_iter=max_iter, tol=tol, cv=cv, positive=positive, solver=solver,
                         random_state=random_state, client=client, split_every=split_every,
                         cache=cache, verbose=verbose)

    def _template(self):
        return Lasso(fit_intercept=self.fit_intercept, solver=self.solver, tol=self.tol,
                     max_iter=self.max_iter, positive=self.positive)

    @staticmethod
    def _settings(alpha, l1_ratio):
        return {"alpha": float(alpha)}

    def _ratios(self):
        return np.ones(1)

    def fit(self, X, y, sample_weight=None):
        """Fit every fold and ``alpha`` in shared passes, choose, refit.

        {fit parameters}
        """
        super().fit(X, y, sample_weight)
        del self.l1_ratio_
        return self


def _alpha_grids(shared, loss, ratios, alphas, eps, *, n_features, fit_intercept, positive):
    """One grid of alphas per l1_ratio, ``(n_l1_ratio, n_alphas)``: the given ones
    (sorted, largest first), or scikit-learn's automatic grid from the Gram pass of all
    rows (the refit's, kept by the shared passes)."""
    if not isinstance(alphas, Integral):
        given = np.sort(np.asarray(alphas, dtype=np.float64).ravel())[::-1]
        if not given.size or np.any(given < 0):
            raise ValueError(f"alphas must be numbers >= 0; got {alphas!r}")
        return np.tile(given, (len(ratios), 1))
    if np.any(ratios == 0):
        raise ValueError("an automatic grid of alphas needs l1_ratio > 0; give alphas")

    def gram(split):
        objective = shared.objective(loss, Weighting(shared.folds, split),
                                     n_features=n_features, fit_intercept=fit_intercept)
        f0, g0, H = objective.value_grad_hessian(np.zeros(objective.n_params))
        mask = loss.penalty_mask(n_features, fit_intercept=fit_intercept)
        return _centred(H, g0, f0, mask)[1]

    # every split's Gram matrix in the same pass, kept for the models' coordinate descent
    splits = [None, *range(getattr(shared.folds, "n_splits", 0))]
    q = shared.run([partial(gram, split) for split in splits])[0]
    top = max(float(np.max(q)), 0.0) if positive else float(np.max(np.abs(q)))
    resolution = np.finfo(np.float64).resolution
    rows = []
    for ratio in ratios:
        alpha_max = top / ratio
        rows.append(np.full(alphas, resolution) if alpha_max <= resolution
                    else np.geomspace(alpha_max, alpha_max * eps, num=alphas))
    return np.array(rows)


def enet_path(X, y, *, l1_ratio=0.5, eps=1e-3, alphas=100, sample_weight=None,
              fit_intercept=True, tol=1e-6, max_iter=1000, positive=False, solver="auto",
              client=None, split_every=8, cache="auto"):
    """The elastic-net path: one :class:`ElasticNet` per alpha, largest first, each
    warm-started from the one before (as scikit-learn's path), in shared passes (with
    ``solver="auto"`` on narrow data: one Gram pass for the whole path).

    Unlike :func:`sklearn.linear_model.enet_path`, ``fit_intercept`` is taken (the
    models are the estimators', each exactly its single fit).

    Returns
    -------
    alphas : ndarray of shape (n_alphas,)
        Largest first.
    coefs : ndarray of shape (n_features, n_alphas)
    intercepts : ndarray of shape (n_alphas,)
    n_iters : ndarray of shape (n_alphas,)
    """
    template = ElasticNet(l1_ratio=l1_ratio, fit_intercept=fit_intercept, tol=tol,
                          max_iter=max_iter, positive=positive, solver=solver)
    template._validate_params()
    X, y, sample_weight = validate_fit_inputs(template, X, y, sample_weight, y_numeric=True)
    loss, engine, n_features = make_engine("squared", X, y, sample_weight, client=client,
                                           split_every=split_every, cache=cache,
                                           sums_bytes=models_bytes(1, X.shape[1] + 1,
                                                                   square=True))
    shared = SharedPasses(engine)
    try:
        grid_alphas = _alpha_grids(shared, loss, np.array([float(l1_ratio)]), alphas, eps,
                                   n_features=n_features, fit_intercept=fit_intercept,
                                   positive=positive)[0]
        grid = [{"alpha": float(a)} for a in grid_alphas]
        fits = fit_shared(shared, template, grid, [(g, None) for g in range(len(grid))], loss,
                          n_features=n_features, fit_intercept=fit_intercept,
                          warm=[0] * len(grid))
    finally:
        engine.close()
    params = np.array([result.x for _, result, _ in fits])
    coefs = params[:, :n_features].T
    intercepts = params[:, -1] if fit_intercept else np.zeros(len(grid))
    return grid_alphas, coefs, intercepts, np.array([m.n_iter_ for m, _, _ in fits])


def lasso_path(X, y, *, eps=1e-3, alphas=100, **options):
    """The lasso path: :func:`enet_path` with ``l1_ratio=1``."""
    return enet_path(X, y, l1_ratio=1.0, eps=eps, alphas=alphas, **options)
