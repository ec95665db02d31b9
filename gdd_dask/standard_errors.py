"""Statistical inference for fitted linear models, with statsmodels' names, in one pass.

``inference(model, X, y)`` takes a fitted :class:`~gdd_dask.LinearRegression`,
:class:`~gdd_dask.Ridge`, :class:`~gdd_dask.LogisticRegression` (binary or
multinomial) or :class:`~gdd_dask.PoissonRegressor` and the data it was fitted on
(NumPy, Dask, Zarr; streamed out of core as a fit is) and returns their standard
errors and tests from one more pass:

- least squares: the TSQR moment (:mod:`gdd_dask.tsqr`). With ``R_11`` the R factor
  of the centred, weighted features, ``C_w = s^2 R_11^{-1} R_11^{-T}`` (``s^2 =
  RSS / df_resid``), ``var(b) = s^2 / W + m^T C_w m`` and ``cov(w, b) = -C_w m``:
  statsmodels' ``OLS`` covariance without forming ``X^T X``;
- GLMs: the tree-reduced Hessian at the fitted parameters, i.e. the observed Fisher
  information ``I = sum_i s_i x_i x_i^T l''_i`` (plus the L2 penalty's ``alpha``, for
  penalized fits), and ``cov = I^{-1}``: statsmodels' ``Logit``, ``GLM(Poisson)``.
  The multinomial model is reported as statsmodels' ``MNLogit`` reports it: each
  class against ``classes_[0]`` (coefficients ``beta_k - beta_0``, whose information
  is the Hessian's block of classes 1..K-1).

Sample weights count as frequency weights (an integer weight equals repeating the
row): ``nobs = sum_i s_i``. z statistics (t for least squares), two-sided p-values.
``cov_type="HC0"`` (OLS, Logit, Poisson) is White's sandwich ``B M B`` with the bread
``B`` above (divided by ``s^2`` for OLS) and the meat ``M = sum_i s_i^2 (dl_i)^2 x1_i
x1_i^T`` from one more pass (:class:`~gdd_dask.losses.base.ScoreOuterLoss`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import linalg, special, stats

from .objective import make_objective
from .runtime import compute

__all__ = ["Inference", "inference"]


@dataclass
class Inference:
    """Estimates, standard errors and tests of a fitted model (statsmodels' names).

    ``params``, ``bse``, ``tvalues`` (z for GLMs), ``pvalues`` are 1-D (2-D,
    ``(n_params, K - 1)`` in the multinomial case, as ``MNLogit``'s); ``names`` label
    the rows (features, then ``const``).
    """

    model: str
    names: list
    params: np.ndarray
    _cov: np.ndarray = field(repr=False)
    nobs: float
    df_model: float
    df_resid: float
    llf: float
    deviance: float
    use_t: bool
    scale: float = 1.0
    cov_type: str = "nonrobust"

    @property
    def bse(self):
        return np.sqrt(np.diag(self._cov)).reshape(self.params.shape, order="F")

    @property
    def tvalues(self):
        return self.params / self.bse

    @property
    def pvalues(self):
        t = np.abs(self.tvalues)
        if self.use_t:
            return 2 * stats.t.sf(t, self.df_resid)
        return 2 * stats.norm.sf(t)

    def cov_params(self):
        """The covariance matrix of the estimates (the columns of a multinomial
        ``params`` stacked, as statsmodels stacks them)."""
        return self._cov.copy()

    def conf_int(self, alpha=0.05):
        """``(lower, upper)`` bounds of the ``1 - alpha`` confidence intervals, in the
        last axis."""
        q = stats.t.ppf(1 - alpha / 2, self.df_resid) if self.use_t \
            else stats.norm.ppf(1 - alpha / 2)
        return np.stack([self.params - q * self.bse, self.params + q * self.bse], axis=-1)

    @property
    def aic(self):
        return -2 * self.llf + 2 * self.params.size

    @property
    def bic(self):
        return -2 * self.llf + np.log(self.nobs) * self.params.size

    def _rows(self):
        params = self.params.reshape(len(self.names), -1, order="F")
        columns = [np.asarray(a).reshape(params.shape, order="F")
                   for a in (params, self.bse, self.tvalues, self.pvalues)]
        bounds = self.conf_int().reshape(*params.shape, 2)
        for k in range(params.shape[1]):
            for j, name in enumerate(self.names):
                label = name if params.shape[1] == 1 else f"{name} [class {k + 1}]"
                yield (label, *(c[j, k] for c in columns), *bounds[j, k])

    def summary(self):
        """The coefficient table as text (``_repr_html_`` draws it in Jupyter)."""
        stat = "t" if self.use_t else "z"
        head = (f"{self.model}  nobs: {self.nobs:g}  df_resid: {self.df_resid:g}  "
                f"log-likelihood: {self.llf:.6g}  AIC: {self.aic:.6g}  BIC: {self.bic:.6g}")
        lines = [head, f"{'':<24}{'coef':>12}{'std err':>12}{stat:>9}{'P>|' + stat + '|':>9}"
                 f"{'[0.025':>12}{'0.975]':>12}"]
        lines += [f"{r[0]:<24}{r[1]:>12.4g}{r[2]:>12.4g}{r[3]:>9.3f}{r[4]:>9.3f}"
                  f"{r[5]:>12.4g}{r[6]:>12.4g}" for r in self._rows()]
        return "\n".join(lines)

    def _repr_html_(self):
        stat = "t" if self.use_t else "z"
        cells = "".join(
            f"<tr><th>{r[0]}</th>" + "".join(f"<td>{v:.4g}</td>" for v in r[1:]) + "</tr>"
            for r in self._rows())
        return (f"<p>{self.model}: nobs {self.nobs:g}, log-likelihood {self.llf:.6g}, "
                f"AIC {self.aic:.6g}</p><table><tr><th></th><th>coef</th><th>std err</th>"
                f"<th>{stat}</th><th>P&gt;|{stat}|</th><th>[0.025</th><th>0.975]</th></tr>"
                f"{cells}</table>")

    def __str__(self):
        return self.summary()


def inference(model, X, y, sample_weight=None, *, cov_type="nonrobust"):
    """Standard errors, tests and likelihood of a fitted model (module docstring),
    from one pass over the data it was fitted on (two for ``cov_type="HC0"``)."""
    from sklearn.utils.validation import check_is_fitted

    from .estimators import LinearRegression, LogisticRegression, PoissonRegressor, Ridge
    from .estimators.inputs import validate_fit_inputs

    check_is_fitted(model)
    if cov_type not in ("nonrobust", "HC0"):
        raise ValueError(f"cov_type must be 'nonrobust' or 'HC0'; got {cov_type!r}")
    kinds = {LinearRegression: "squared", Ridge: "squared", LogisticRegression: "logistic",
             PoissonRegressor: "poisson"}
    kind = next((k for cls, k in kinds.items() if isinstance(model, cls)), None)
    if kind is None:
        raise TypeError(f"inference takes LinearRegression, Ridge, LogisticRegression or "
                        f"PoissonRegressor; got {type(model).__name__}")
    if getattr(model, "class_weight", None) is not None:
        raise ValueError("inference takes fits without class_weight (their weights depend "
                         "on the labels: no likelihood of the sample describes them)")
    X, y, sample_weight = validate_fit_inputs(model, X, y, sample_weight,
                                              y_numeric=kind != "logistic", reset=False)
    names = [str(n) for n in getattr(model, "feature_names_in_", [])] \
        or [f"x{j + 1}" for j in range(X.shape[1])]
    names += ["const"] if model.fit_intercept else []
    result = _logistic(model, X, y, sample_weight, names) if kind == "logistic" \
        else _regression(model, kind, X, y, sample_weight, names)
    if cov_type == "HC0":
        result._cov = _sandwich(model, kind, result, X, y, sample_weight)
        result.cov_type = "HC0"
    return result


def _sandwich(model, kind, result, X, y, sample_weight):
    """White's ``B M B`` (module docstring)."""
    from .losses import get_loss
    from .losses.base import ScoreOuterLoss

    if result.params.ndim != 1:
        raise ValueError("cov_type='HC0' takes OLS, Logit and Poisson fits, not multinomial")
    if kind == "logistic":
        y = _codes(model.classes_, y)
    squared = None if sample_weight is None else sample_weight ** 2
    with make_objective(ScoreOuterLoss(get_loss(kind)), X, y, squared,
                        fit_intercept=model.fit_intercept, client=model.client) as meat:
        M = meat.hessian(result.params) * meat.weight_sum
    bread = result._cov / result.scale
    return bread @ M @ bread


def _objective(model, loss, X, y, sample_weight):
    """The fit's objective (its loss, data and penalty, from ``model._penalty``): an L2
    penalty or none, else ``ValueError``."""
    objective = make_objective(loss, X, y, sample_weight, fit_intercept=model.fit_intercept,
                               client=model.client, cache=getattr(model, "cache", "auto"))
    objective.set_penalty(*model._penalty(objective.weight_sum))
    if not objective.penalty.smooth:
        objective.close()
        raise ValueError(f"inference needs an unpenalized or L2 fit; this "
                         f"{type(model).__name__} has {objective.penalty!r}")
    return objective


def _regression(model, kind, X, y, sample_weight, names):
    coef = np.asarray(model.coef_, dtype=np.float64).ravel()
    x = np.r_[coef, model.intercept_] if model.fit_intercept else coef
    with _objective(model, kind, X, y, sample_weight) as objective:
        W, p = objective.weight_sum, len(coef)
        if kind == "squared":
            return _least_squares(model, objective, x, names)
        f, _, H = objective.value_grad_hessian(x)
        loss_sum = (f - objective.penalty.value(x)) * W
    cov = linalg.inv(W * H)
    ylogy, lgamma = _poisson_terms(y, sample_weight, model.client)
    llf = -loss_sum - lgamma
    deviance = 2 * (loss_sum + ylogy)
    return Inference("GLM Poisson", names, x, cov, W, p, W - x.size, llf, deviance, False)


def _least_squares(model, objective, x, names):
    """OLS's (or ridge's, at its ``alpha``) covariance from the TSQR moment."""
    from .solvers.qr import residuals, with_ridge

    W, mean, R = objective.moment()
    p = len(names) - model.fit_intercept
    rss = float(np.sum(residuals(R, x[:p, None]) ** 2))
    R11, _ = with_ridge(R, p, W * objective.penalty.hessian_diag(x)[:p])
    df_resid = W - x.size
    scale = rss / df_resid
    inv = linalg.solve_triangular(R11, np.eye(p))
    cov_w = scale * inv @ inv.T
    cov = cov_w
    if model.fit_intercept:
        m = mean[:p]
        cov = np.block([[cov_w, -cov_w @ m[:, None]],
                        [-(m @ cov_w)[None, :], np.array([[scale / W + m @ cov_w @ m]])]])
    llf = -W / 2 * (np.log(2 * np.pi) + np.log(rss / W) + 1)
    return Inference("OLS", names, x, cov, W, p, df_resid, llf, rss, True, scale)


def _logistic(model, X, y, sample_weight, names):
    """Logit (binary) or MNLogit (each class against ``classes_[0]``)."""
    codes = _codes(model.classes_, y)
    coef = np.asarray(model.coef_, dtype=np.float64)
    K = coef.shape[0]
    rows = np.vstack([coef.T, np.atleast_1d(model.intercept_)[None, :]]) \
        if model.fit_intercept else coef.T
    loss = "logistic" if K == 1 else "multinomial"
    with _objective(model, loss, X, codes, sample_weight) as objective:
        W = objective.weight_sum
        x = rows.ravel()
        f, _, H = objective.value_grad_hessian(x)
        loss_sum = (f - objective.penalty.value(x)) * W
    if K == 1:
        return Inference("Logit", names, x, linalg.inv(W * H), W, x.size - model.fit_intercept,
                         W - x.size, -loss_sum, 2 * loss_sum, False)
    others = np.arange(x.size).reshape(rows.shape)[:, 1:]  # classes 1..K-1
    block = others.ravel(order="F")  # statsmodels stacks the classes' columns
    cov = linalg.inv(W * H[np.ix_(block, block)])
    params = rows[:, 1:] - rows[:, :1]
    return Inference("MNLogit", names, params, cov, W, params.size - (K - 1) * model.fit_intercept,
                     W - params.size, -loss_sum, 2 * loss_sum, False)


def _codes(classes, y):
    """Labels as codes ``0 .. K-1`` (lazily for Dask)."""
    from functools import partial

    from .blocks import label_codes
    from .data import is_dask

    if is_dask(y):
        return y.map_blocks(partial(label_codes, classes), dtype=np.float64)
    return label_codes(classes, np.asarray(y))


def _poisson_terms(y, sample_weight, client):
    """``(sum s y log y, sum s log Gamma(y + 1))``, the parts of the Poisson deviance
    and likelihood that depend on ``y`` alone."""
    from .data import is_dask

    def parts(y, s):
        ylogy = special.xlogy(y, y) - y
        return (np.sum(ylogy * s), np.sum(special.gammaln(y + 1) * s))

    if not is_dask(y):
        s = 1.0 if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
        return parts(np.asarray(y, dtype=np.float64), s)
    import dask.array as da

    s = da.ones_like(y, dtype=np.float64) if sample_weight is None else sample_weight
    ylogy = da.map_blocks(special.xlogy, y, y, dtype=np.float64) - y
    lgamma = da.map_blocks(special.gammaln, y + 1, dtype=np.float64)
    return tuple(float(v) for v in compute((ylogy * s).sum(), (lgamma * s).sum(),
                                           client=client))
