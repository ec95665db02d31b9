"""A multilayer perceptron as a loss: its forward and backward pass over one chunk.

The network maps a row ``x`` through hidden layers ``a_l = phi(a_{l-1} W_l + b_l)``
(``a_0 = x``, ``phi`` the activation) to the raw output ``r = a_{L-1} W_L + b_L``,
which the *output loss* scores exactly as a linear model's margins: squared error
(identity output), logistic (sigmoid), multinomial (softmax) or Poisson (exp). The
backward pass is the chain rule from ``delta_L = s_i dl/dr``::

    dW_l = a_{l-1}^T delta_l,   db_l = sum_i delta_l,
    delta_{l-1} = (delta_l W_l^T) * phi'(a_{l-1})

with ``phi'`` written in terms of the activation's output (``1 - a^2`` for tanh,
``a (1 - a)`` for the logistic, ``a > 0`` for relu). Everything is written against
the chunk's array namespace, so the same code runs on NumPy, CuPy and array-api-strict.

The parameters are one flat vector, laid out as scikit-learn's ``MLP*`` estimators
pack them: every weight matrix (``(fan_in, fan_out)``, C order), layer by layer, then
every bias vector. The penalty applies to the weights only.
"""

from __future__ import annotations

import numpy as np
from array_api_compat import array_namespace

from .base import namespace
from .glm import sigmoid

__all__ = ["ACTIVATIONS", "MLPLoss", "activate"]

ACTIVATIONS = ("identity", "logistic", "relu", "tanh")


def activate(name, z, xp):
    """``phi(z)`` for an activation name of :data:`ACTIVATIONS`."""
    if name == "relu":
        return xp.maximum(z, 0.0)
    if name == "tanh":
        return xp.tanh(z)
    if name == "logistic":
        return sigmoid(z, xp)
    return z


def derivative(name, a, xp):
    """``phi'(z)`` from the activation's output ``a = phi(z)``."""
    if name == "relu":
        return xp.astype(a > 0, a.dtype)
    if name == "tanh":
        return 1.0 - a * a
    if name == "logistic":
        return a * (1.0 - a)
    return xp.ones_like(a)


class MLPLoss:
    """A fully connected network with ``hidden_layer_sizes`` and an output loss.

    Parameters
    ----------
    hidden_layer_sizes : sequence of int
        Units of each hidden layer (may be empty: then it is the linear model).
    activation : {"identity", "logistic", "relu", "tanh"}
        Activation of the hidden layers.
    output : LinearModelLoss
        Loss of the raw output (e.g. ``SquaredLoss()``, ``LogisticLoss()``,
        ``MultinomialLoss(K)``); its ``n_outputs`` is the width of the last layer.
    """

    def __init__(self, hidden_layer_sizes, activation, output):
        self.hidden_layer_sizes = tuple(int(h) for h in hidden_layer_sizes)
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {ACTIVATIONS}; got {activation!r}")
        self.activation, self.output = activation, output
        self.n_outputs = output.n_outputs
        self.y_columns = getattr(output, "y_columns", 1)
        self.target_rule = output.target_rule
        self.name = f"mlp-{getattr(output, 'name', 'custom')}"

    def invalid_target(self, y, xp):
        return self.output.invalid_target(y, xp)

    # -- parameter layout ---------------------------------------------------------
    def layer_units(self, n_features):
        """``[n_features, *hidden_layer_sizes, n_outputs]``."""
        return [int(n_features), *self.hidden_layer_sizes, self.n_outputs]

    def _sizes(self, n_features, fit_intercept):
        units = self.layer_units(n_features)
        weights = [a * b for a, b in zip(units[:-1], units[1:])]
        biases = units[1:] if fit_intercept else []
        return units, weights, biases

    def n_params(self, n_features, *, fit_intercept):
        _, weights, biases = self._sizes(n_features, fit_intercept)
        return sum(weights) + sum(biases)

    def penalty_mask(self, n_features, *, fit_intercept):
        _, weights, biases = self._sizes(n_features, fit_intercept)
        return np.concatenate([np.ones(sum(weights), bool), np.zeros(sum(biases), bool)])

    def unpack(self, params, n_features, *, fit_intercept, xp=None):
        """``params -> (weights, biases)``: lists of ``(fan_in, fan_out)`` matrices and
        ``(fan_out,)`` vectors (``biases`` empty without intercepts)."""
        xp = xp or array_namespace(params)
        units, weights, biases = self._sizes(n_features, fit_intercept)
        Ws, bs, start = [], [], 0
        for fan_in, fan_out, size in zip(units[:-1], units[1:], weights):
            Ws.append(xp.reshape(params[start:start + size], (fan_in, fan_out)))
            start += size
        for size in biases:
            bs.append(params[start:start + size])
            start += size
        return Ws, bs

    def pack(self, weights, biases, xp=None):
        """The inverse of :meth:`unpack`: one flat vector."""
        xp = xp or array_namespace(weights[0])
        return xp.concat([xp.reshape(a, (-1,)) for a in [*weights, *biases]])

    # -- forward and backward -----------------------------------------------------
    def _forward(self, X, params, fit_intercept, xp):
        """``(activations [X, a_1, .., a_{L-1}], raw output (n, K)), weights``."""
        Ws, bs = self.unpack(params, X.shape[1], fit_intercept=fit_intercept, xp=xp)
        activations, a = [X], X
        for layer, W in enumerate(Ws):
            z = a @ W
            if bs:
                z = z + bs[layer]
            if layer == len(Ws) - 1:
                return activations, z, Ws
            a = activate(self.activation, z, xp)
            activations.append(a)

    def _raw(self, z):
        """The output loss's layout: ``(n,)`` for one output."""
        return z[:, 0] if self.n_outputs == 1 else z

    def predict_raw(self, X, params, *, fit_intercept=True):
        """The raw output ``r`` of each row (before the output's inverse link)."""
        xp = namespace(X)
        return self._raw(self._forward(X, params, fit_intercept, xp)[1])

    def value_sum(self, X, y, sample_weight, params, *, fit_intercept):
        """``sum_i s_i l(y_i, r_i)``."""
        xp = namespace(X)
        raw = self.predict_raw(X, params, fit_intercept=fit_intercept)
        return self.output.value_from_raw(y, sample_weight, raw, xp)

    def grad_sum(self, X, y, sample_weight, params, *, fit_intercept):
        """``(sum_i s_i l_i, gradient)`` by backpropagation (module docstring)."""
        xp = namespace(X)
        activations, z, Ws = self._forward(X, params, fit_intercept, xp)
        loss, grad = self.output.loss_gradient(y, self._raw(z), xp)
        value = xp.sum(self.output._weighted(loss, sample_weight))
        delta = xp.reshape(self.output._weighted(grad, sample_weight), z.shape)
        gWs, gbs = [None] * len(Ws), [None] * len(Ws)
        for layer in range(len(Ws) - 1, -1, -1):
            a = activations[layer]
            gWs[layer] = a.T @ delta
            gbs[layer] = xp.sum(delta, axis=0)
            if layer:
                W = Ws[layer]  # one output: an outer product, cheaper without BLAS
                back = delta * xp.reshape(W, (1, -1)) if W.shape[1] == 1 else delta @ W.T
                delta = back * derivative(self.activation, a, xp)
        return value, self.pack(gWs, gbs if fit_intercept else [], xp)

    def __repr__(self):
        return (f"MLPLoss(hidden_layer_sizes={self.hidden_layer_sizes}, "
                f"activation={self.activation!r}, output={self.output!r})")
