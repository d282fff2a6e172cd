"""The network: layers, the forward pass, training by backpropagation, prediction."""

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from .activations import ACTIVATIONS, SLOPES
from .checks import check_network, check_training
from .trace import Trace, new_trace


@dataclass
class Layer:
    """One layer of weights.

    Attributes
    ----------
    weights : ndarray of shape (n_inputs, n_units)
    bias : ndarray of shape (n_units,)
    activation : str
        A key of :data:`nnscratch.activations.ACTIVATIONS`.
    """

    weights: np.ndarray
    bias: np.ndarray
    activation: str = "sigmoid"

    def __post_init__(self):
        # A layer owns its numbers: training never changes the caller's arrays.
        self.weights = np.array(self.weights, dtype=float)
        self.bias = np.array(self.bias, dtype=float)


class TrainResult(NamedTuple):
    """What :func:`train` returns."""

    layers: list
    """The trained layers (new objects; the ones given are left as they were)."""
    loss: np.ndarray
    """Shape (epochs,): the loss of each epoch, from its forward pass."""
    trace: Trace | None
    """Every quantity of every epoch, or None when ``trace=False``."""


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
        layer_input.append(previous @ layer.weights + layer.bias)
        activation.append(ACTIVATIONS[layer.activation](layer_input[l]))
    return layer_input, activation


def train(layers, X, y, lr, epochs, trace=False):
    """Train by full-batch gradient descent, the article's eleven steps per epoch.

    Parameters
    ----------
    layers : list of Layer
        The initial network; left unchanged.
    X : array-like of shape (n_samples, n_features)
    y : array-like of shape (n_samples, n_outputs)
    lr : float
        Learning rate, above 0.
    epochs : int
        Number of epochs, 0 or more.
    trace : bool
        Record every quantity of every step of every epoch.

    Returns
    -------
    TrainResult
        ``layers`` (trained), ``loss`` of shape (epochs,), ``trace`` (or None).
    """
    layers = [Layer(layer.weights, layer.bias, layer.activation) for layer in layers]
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    check_training(layers, X, y, lr, epochs)
    epochs = int(epochs)
    n_layers = len(layers)
    loss = np.empty(epochs)
    recorded = new_trace(layers, X.shape[0], epochs) if trace else None
    for epoch in range(epochs):
        # Steps 2 to 4: the forward pass.
        layer_input, activation = forward(layers, X)
        # Step 5: the error at the output, and the loss it gives.
        error = y - activation[-1]
        loss[epoch] = np.mean(error**2) / 2
        # Step 6: the slope of every layer's activation, from its output.
        slope = [SLOPES[layer.activation](a) for layer, a in zip(layers, activation)]
        # Step 7: the output layer's delta.
        delta = [None] * n_layers
        error_at_layer = [None] * n_layers
        delta[-1] = error * slope[-1]
        # Steps 8 and 9, from the last hidden layer back to the first, with the weights
        # from before this epoch's update.
        for l in range(n_layers - 2, -1, -1):
            error_at_layer[l] = delta[l + 1] @ layers[l + 1].weights.T
            delta[l] = error_at_layer[l] * slope[l]
        # Steps 10 and 11: move weights and bias by lr times the gradient summed over samples.
        for l, layer in enumerate(layers):
            previous = X if l == 0 else activation[l - 1]
            layer.weights = layer.weights + lr * (previous.T @ delta[l])
            layer.bias = layer.bias + lr * delta[l].sum(axis=0)
        # Record the epoch: weights and bias as they are after the update.
        if recorded is not None:
            recorded.loss[epoch] = loss[epoch]
            now = {
                "layer_input": layer_input,
                "activation": activation,
                "error": [None] * (n_layers - 1) + [error],
                "slope": slope,
                "delta": delta,
                "error_at_layer": error_at_layer,
                "weights": [layer.weights for layer in layers],
                "bias": [layer.bias for layer in layers],
            }
            for l, quantities in enumerate(recorded.layers):
                for quantity, values in quantities.items():
                    values[epoch] = now[quantity][l]
    return TrainResult(layers, loss, recorded)


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
