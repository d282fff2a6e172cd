"""Activation functions and their slopes, keyed by name.

Each slope is written from the activation's *output* ``a = f(z)``, as the
article does (sigmoid: ``a * (1 - a)``), so step 6 needs only the activations
of the forward pass. Adding an activation is one entry in each table.
"""

import numpy as np


def sigmoid(z):
    """Logistic function ``1 / (1 + exp(-z))``, elementwise.

    For z below about -709, ``exp(-z)`` overflows to infinity and the result is
    exactly 0, the limit; numpy's overflow warning is silenced for that case.
    """
    with np.errstate(over="ignore"):
        return 1 / (1 + np.exp(-z))


def sigmoid_slope(a):
    """Derivative of the sigmoid at z, written from its output ``a = sigmoid(z)``."""
    return a * (1 - a)


ACTIVATIONS = {"sigmoid": sigmoid}
SLOPES = {"sigmoid": sigmoid_slope}
