"""The network: layers, their initialisation, the forward pass, training, prediction."""

import itertools
import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from .activations import ACTIVATIONS, SLOPES
from .checks import (
    InputError,
    check_network,
    check_seed,
    check_trace,
    check_training,
    check_whole,
)
from .lehmer import lehmer_shuffle, lehmer_uniform
from .trace import Trace, new_trace, trace_bytes


@dataclass
class Layer:
    """One layer of weights.

    Attributes
    ----------
    weights : ndarray of shape (n_inputs, n_units)
    bias : ndarray of shape (n_units,), or None for a layer without bias
    activation : str
        A key of :data:`nnscratch.activations.ACTIVATIONS`.
    """

    weights: np.ndarray
    bias: np.ndarray | None
    activation: str = "sigmoid"

    def __post_init__(self):
        # A layer owns its numbers: training never changes the caller's arrays.
        self.weights = np.array(self.weights, dtype=float)
        if self.bias is not None:
            self.bias = np.array(self.bias, dtype=float)


class TrainResult(NamedTuple):
    """What :func:`train` returns."""

    layers: list
    """The trained layers (new objects; the ones given are left as they were)."""
    loss: np.ndarray
    """Shape (epochs,): the loss of each epoch, over all its batches, each before its update."""
    trace: Trace | None
    """Every quantity of every iteration, or None when ``trace=False``."""


def uniform_init(state, n_inputs, n_units, bias):
    """The article's initialisation: every weight and bias uniform on [0, 1)."""
    weights, state = lehmer_uniform(state, n_inputs * n_units)
    biases = None
    if bias:
        biases, state = lehmer_uniform(state, n_units)
    return weights.reshape(n_inputs, n_units), biases, state


def glorot_init(state, n_inputs, n_units, bias):
    """Glorot (Xavier) uniform: weights uniform on [-limit, limit], biases 0.

    ``limit = sqrt(6 / (n_inputs + n_units))`` keeps the variance of the signal
    about the same from layer to layer.
    """
    draws, state = lehmer_uniform(state, n_inputs * n_units)
    limit = math.sqrt(6 / (n_inputs + n_units))
    weights = limit * (2 * draws - 1)
    return weights.reshape(n_inputs, n_units), np.zeros(n_units) if bias else None, state


INITIALISERS = {"uniform": uniform_init, "glorot": glorot_init}


def init_layers(sizes, activations, seed, method="uniform", bias=True):
    """Layers with seeded random weights, the same to the bit as R's ``nn_init_layers``.

    Parameters
    ----------
    sizes : sequence of int
        Units per layer, from the input features to the outputs: ``[4, 3, 1]``
        is 4 features, 3 hidden units, 1 output.
    activations : str or sequence of str
        One per layer of weights (``len(sizes) - 1``), or one for all.
    seed : int
        From 1 to 2^31 - 2: the first state of the Lehmer generator.
    method : {"uniform", "glorot"}
        A key of :data:`INITIALISERS`. Layer by layer, the weights are drawn row
        by row, then the bias.
    bias : bool
        Give each layer a bias, or none.

    Returns
    -------
    list of Layer
    """
    if isinstance(activations, str):
        activations = [activations] * (len(sizes) - 1)
    if len(sizes) < 2:
        raise InputError("sizes", "must give at least two sizes (inputs and outputs)")
    for number, size in enumerate(sizes, start=1):
        check_whole(size, f"sizes[{number}]", 1)
    if len(activations) != len(sizes) - 1:
        raise InputError(
            "activations",
            f"has {len(activations)} names, but there are {len(sizes) - 1} layers; "
            "give one per layer, or one for all",
            category="shape",
        )
    check_seed(seed)
    if method not in INITIALISERS:
        raise InputError("method", f"unknown method '{method}'; known: {', '.join(INITIALISERS)}")
    state, layers = seed, []
    for (n_inputs, n_units), activation in zip(itertools.pairwise(sizes), activations):
        weights, layer_bias, state = INITIALISERS[method](state, int(n_inputs), int(n_units), bias)
        layers.append(Layer(weights, layer_bias, activation))
    check_network(layers, np.zeros((1, int(sizes[0]))))
    return layers


def forward(layers, X):
    """Steps 2 to 4: the forward pass.

    Parameters
    ----------
    layers : list of Layer
    X : ndarray of shape (n_samples, n_features)

    Returns
    -------
    layer_input, activation : list of ndarray of shape (n_samples, n_units)
        Per layer, Z_l = A_{l-1} W_l + b_l and A_l = f(Z_l), with A_0 = X.
    """
    layer_input, activation = [], []
    for l, layer in enumerate(layers):
        previous = X if l == 0 else activation[l - 1]
        z = previous @ layer.weights
        layer_input.append(z if layer.bias is None else z + layer.bias)
        activation.append(ACTIVATIONS[layer.activation](layer_input[l]))
    return layer_input, activation


def backward(layers, activation, error):
    """Steps 6 to 9: the backward pass, with the weights from before the update.

    Parameters
    ----------
    layers : list of Layer
    activation : list of ndarray of shape (n_samples, n_units)
        The forward pass's A_l, from :func:`forward`.
    error : ndarray of shape (n_samples, n_outputs)
        Step 5: E = y - output.

    Returns
    -------
    slope, delta, error_at_layer : list of ndarray of shape (n_samples, n_units)
        Per layer; ``error_at_layer`` is None for the output layer. ``-(A_{l-1}^T D_l)``
        is the gradient of the summed squared error sum(E^2) / 2 with respect to W_l.
    """
    n_layers = len(layers)
    # Step 6: the slope of every layer's activation, from its output.
    slope = [SLOPES[layer.activation](a) for layer, a in zip(layers, activation)]
    # Step 7: the output layer's delta.
    delta = [None] * n_layers
    error_at_layer = [None] * n_layers
    delta[-1] = error * slope[-1]
    # Steps 8 and 9, from the last hidden layer back to the first.
    for l in range(n_layers - 2, -1, -1):
        error_at_layer[l] = delta[l + 1] @ layers[l + 1].weights.T
        delta[l] = error_at_layer[l] * slope[l]
    return slope, delta, error_at_layer


# A loss that is not finite stops training (below); numpy need not warn on the way there.
@np.errstate(over="ignore", invalid="ignore")
def train(
    layers,
    X,
    y,
    lr,
    epochs,
    trace=False,
    batch_size=None,
    shuffle=False,
    seed=None,
    progress=None,
    trace_every=1,
    trace_quantities=None,
    trace_limit=1e9,
):
    """Train by gradient descent, the article's eleven steps per update.

    Parameters
    ----------
    layers : list of Layer
        The initial network; left unchanged.
    X : array-like of shape (n_samples, n_features)
    y : array-like of shape (n_samples, n_outputs)
    lr : float
        Learning rate, above 0.
    epochs : int
        Number of passes over the data, 0 or more.
    trace : bool
        Record every quantity of every step of every iteration.
    batch_size : int or None
        Samples per update: None (or n_samples or more) is full-batch gradient
        descent, 1 is stochastic gradient descent, anything between mini-batches.
        The last batch of an epoch holds what is left.
    shuffle : bool
        Shuffle the samples before each epoch (with the Lehmer generator, as R
        does); otherwise batches follow the order of the data.
    seed : int or None
        The generator's first state; needed to shuffle.
    progress : callable or None
        Called after every epoch as ``progress(epoch, loss)``, the epoch from 1.
    trace_every : int
        With ``trace``, record the epochs whose number is a multiple of this.
    trace_quantities : list of str or None
        With ``trace``, record only these of :data:`nnscratch.trace.LAYER_QUANTITIES`
        (the samples and the loss always); None: all.
    trace_limit : float
        Bytes the trace may take; a run whose trace would take more is refused before
        it starts, with the estimate.

    Returns
    -------
    TrainResult
        ``layers`` (trained), ``loss`` of shape (epochs,), ``trace`` (or None).

    Raises
    ------
    InputError
        For bad arguments, naming the argument; and for ``lr`` when training diverges:
        at the first loss that is not finite, naming its epoch and iteration.
    """
    layers = [Layer(layer.weights, layer.bias, layer.activation) for layer in layers]
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    check_training(layers, X, y, lr, epochs, batch_size, shuffle, seed)
    check_trace(trace_every, trace_quantities, trace_limit)
    epochs = int(epochs)
    n_samples, n_layers = X.shape[0], len(layers)
    batch_size = n_samples if batch_size is None else min(int(batch_size), n_samples)
    batches = math.ceil(n_samples / batch_size)
    loss = np.empty(epochs)
    recorded = None
    if trace:
        iterations = epochs // trace_every * batches
        size = trace_bytes(layers, batch_size, iterations, trace_quantities)
        if size > trace_limit:
            raise InputError(
                "trace",
                f"would take about {size / 1e6:.0f} MB, over the limit of "
                f"{trace_limit / 1e6:.0f} MB (trace_limit): record every k-th epoch "
                "(trace_every), fewer quantities (trace_quantities), or raise "
                "trace_limit",
            )
        recorded = new_trace(layers, batch_size, iterations, trace_quantities)
    state = seed
    for epoch in range(epochs):
        # Step 0: the order in which this epoch takes the samples (None: as they are).
        order = None
        if shuffle:
            order, state = lehmer_shuffle(n_samples, state)
        squared_error = 0.0
        for batch in range(batches):
            start, stop = batch * batch_size, min((batch + 1) * batch_size, n_samples)
            rows = slice(start, stop) if order is None else order[start:stop]  # a slice: no copy
            X_batch, y_batch = X[rows], y[rows]
            # Steps 2 to 4: the forward pass.
            layer_input, activation = forward(layers, X_batch)
            # Step 5: the error at the output, and the loss it gives.
            error = y_batch - activation[-1]
            batch_squared_error = float(np.vdot(error, error))  # the sum of squared errors
            if not math.isfinite(batch_squared_error):
                raise InputError(
                    "lr",
                    f"training diverged: in epoch {epoch + 1}, iteration {batch + 1}, "
                    "the loss is not finite; a smaller lr may help",
                    category="training",
                )
            squared_error += batch_squared_error
            # Steps 6 to 9: the backward pass.
            slope, delta, error_at_layer = backward(layers, activation, error)
            # Steps 10 and 11: move weights and bias by lr times the gradient summed over
            # the batch's samples.
            for l, layer in enumerate(layers):
                previous = X_batch if l == 0 else activation[l - 1]
                layer.weights += lr * (previous.T @ delta[l])
                if layer.bias is not None:
                    layer.bias += lr * delta[l].sum(axis=0)
            # Record the iteration: weights and bias as they are after the update.
            if recorded is not None and (epoch + 1) % trace_every == 0:
                k = ((epoch + 1) // trace_every - 1) * batches + batch
                recorded.epoch[k], recorded.iteration[k] = epoch + 1, batch + 1
                samples = np.arange(start, stop) if order is None else rows
                recorded.samples[k, : stop - start] = samples + 1
                recorded.loss[k] = batch_squared_error / error.size / 2
                now = {
                    "layer_input": layer_input,
                    "activation": activation,
                    "error": [None] * (n_layers - 1) + [error],
                    "slope": slope,
                    "delta": delta,
                    "error_at_layer": error_at_layer,
                    "weights": [layer.weights for layer in layers],
                    "bias": [
                        None if layer.bias is None else layer.bias[np.newaxis] for layer in layers
                    ],
                }
                for l, quantities in enumerate(recorded.layers):
                    for quantity, values in quantities.items():
                        values[k, : len(now[quantity][l])] = now[quantity][l]
        # The epoch's loss: the mean over all its samples and outputs of (y - output)^2 / 2.
        loss[epoch] = squared_error / y.size / 2
        if progress is not None:
            progress(epoch + 1, loss[epoch])
    return TrainResult(layers, loss, recorded)


@np.errstate(over="ignore")  # a saturated sigmoid: exp(-z) is Inf, the output exactly 0
def predict(layers, X):
    """The network's output for ``X``.

    Parameters
    ----------
    layers : list of Layer
    X : array-like of shape (n_samples, n_features)

    Returns
    -------
    ndarray of shape (n_samples, n_outputs)
    """
    X = np.asarray(X, dtype=float)
    check_network(layers, X)
    return forward(layers, X)[1][-1]


def predict_class(layers, X):
    """The predicted class of each sample.

    With several outputs, the index of the largest (the first of equal ones),
    counted from 0 here and from 1 in R's ``nn_predict_class``. With one output,
    1 where it is 0.5 or more, else 0, in both languages.

    Returns
    -------
    ndarray of int, shape (n_samples,)
    """
    output = predict(layers, X)
    if output.shape[1] == 1:
        return (output[:, 0] >= 0.5).astype(int)
    return np.argmax(output, axis=1)


@np.errstate(over="ignore")  # as in predict
def gradient_check(layers, X, y, h=1e-3):
    """Compare backprop's gradient with central finite differences, for every weight and bias.

    The gradient is that of the summed squared error L = sum((y - output)^2) / 2: the
    updates of steps 10 and 11 add lr times its negative, ``A_{l-1}^T D_l`` and the
    column sums of ``D_l``. Each weight and bias w is moved by steps s of h and h / 2:
    D(s) = (L(w + s) - L(w - s)) / (2 s), and numerical = (4 D(h / 2) - D(h)) / 3
    (Richardson's extrapolation, which cancels the error in s^2, so that s can stay
    large enough for the rounding of L, a sum over every sample, not to matter).

    Parameters
    ----------
    layers : list of Layer
    X : array-like of shape (n_samples, n_features)
    y : array-like of shape (n_samples, n_outputs)
    h : float

    Returns
    -------
    float
        The largest relative error, |backprop - numerical| / max(|backprop|,
        |numerical|, 1e-8), over every weight and bias.
    """
    layers = [Layer(layer.weights, layer.bias, layer.activation) for layer in layers]
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    check_training(layers, X, y, 1.0, 0)

    def slope_of_loss(values, index, step):
        value = values[index]
        values[index] = value + step
        above = np.sum((y - forward(layers, X)[1][-1]) ** 2) / 2
        values[index] = value - step
        below = np.sum((y - forward(layers, X)[1][-1]) ** 2) / 2
        values[index] = value
        return (above - below) / (2 * step)

    _, activation = forward(layers, X)
    _, delta, _ = backward(layers, activation, y - activation[-1])
    largest = 0.0
    for l, layer in enumerate(layers):
        previous = X if l == 0 else activation[l - 1]
        gradients = {"weights": -(previous.T @ delta[l])}
        if layer.bias is not None:
            gradients["bias"] = -delta[l].sum(axis=0)
        for name, gradient in gradients.items():
            values = getattr(layer, name)
            for index in np.ndindex(values.shape):
                numerical = (
                    4 * slope_of_loss(values, index, h / 2) - slope_of_loss(values, index, h)
                ) / 3
                error = abs(gradient[index] - numerical)
                largest = max(largest, error / max(abs(gradient[index]), abs(numerical), 1e-8))
    return largest
