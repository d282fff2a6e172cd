"""Activation functions and their slopes, one entry per activation.

Each slope is written from the activation's *output* ``a = f(z)``, as the
article does (sigmoid: ``a * (1 - a)``), so step 6 needs only the activations
of the forward pass. Adding an activation is one entry in :data:`ACTIVATIONS`:
the function, its slope, and how ``explain`` writes the slope.
"""

from typing import NamedTuple

import numpy as np


def sigmoid(z):
    """Logistic function ``1 / (1 + exp(-z))``, elementwise, on an ndarray.

    Computed in the one array ``exp(-z)`` makes (plus 1, then its reciprocal): the
    numbers of the formula, without its two temporary arrays. For z below about
    -709, ``exp(-z)`` overflows to infinity and the result is exactly 0, the limit.
    numpy warns of the overflow; ``train``, ``predict`` and ``gradient_check``
    silence that warning around their whole work, not here, where it would cost
    every call in the training loop.
    """
    a = np.exp(-z)
    a += 1
    return np.reciprocal(a, out=a)


def sigmoid_slope(a):
    """Derivative of the sigmoid at z, written from its output ``a = sigmoid(z)``."""
    return a * (1 - a)


def tanh(z):
    """Hyperbolic tangent, elementwise."""
    return np.tanh(z)


def tanh_slope(a):
    """Derivative of tanh at z, written from its output ``a = tanh(z)``."""
    return 1 - a * a


def relu(z):
    """Rectified linear unit ``max(z, 0)``, elementwise."""
    return np.maximum(z, 0.0)


def relu_slope(a):
    """Derivative of relu, from its output: 1 where ``a > 0``, else 0 (so 0 at exactly 0)."""
    return (a > 0).astype(float)


def linear(z):
    """The identity, for regression outputs."""
    return z


def linear_slope(a):
    """Derivative of the identity: 1 everywhere."""
    return np.ones_like(a)


class Activation(NamedTuple):
    """One activation: what :data:`ACTIVATIONS` holds per name."""

    f: object
    """``A = f(Z)``, elementwise (steps 3 and 4)."""
    slope: object
    """``S = slope(A)``: the derivative at Z, from the output A (step 6)."""
    slope_formula: str
    """The slope as ``explain`` writes it, in terms of A (``*`` elementwise)."""


ACTIVATIONS = {
    "sigmoid": Activation(sigmoid, sigmoid_slope, "A * (1 - A)"),
    "tanh": Activation(tanh, tanh_slope, "1 - A * A"),
    "relu": Activation(relu, relu_slope, "1 where A > 0, else 0"),
    "linear": Activation(linear, linear_slope, "1"),
}
