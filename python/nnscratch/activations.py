"""Activation functions and their slopes, keyed by name.

Each slope is written from the activation's *output* ``a = f(z)``, as the
article does (sigmoid: ``a * (1 - a)``), so step 6 needs only the activations
of the forward pass. Adding an activation is one entry in each table.
"""

import numpy as np


def sigmoid(z):
    """Logistic function ``1 / (1 + exp(-z))``, elementwise.

    For z below about -709, ``exp(-z)`` overflows to infinity and the result is
    exactly 0, the limit. numpy warns of the overflow; ``train``, ``predict`` and
    ``gradient_check`` silence that warning around their whole work, not here, where
    it would cost every call in the training loop.
    """
    return 1 / (1 + np.exp(-z))


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


ACTIVATIONS = {"sigmoid": sigmoid, "tanh": tanh, "relu": relu, "linear": linear}
SLOPES = {"sigmoid": sigmoid_slope, "tanh": tanh_slope, "relu": relu_slope, "linear": linear_slope}
