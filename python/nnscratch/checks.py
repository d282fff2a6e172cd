"""Checks on a network and its data, with messages that name the field at fault.

R has the same checks in the same order with the same messages, so that a bad
fixture is refused with the same words in both languages.
"""

import math
import numbers

import numpy as np

from .activations import ACTIVATIONS
from .lehmer import MODULUS
from .trace import LAYER_QUANTITIES

# What kind of thing is wrong; R's conditions carry the same names.
CATEGORIES = {
    "file": "the file cannot be read, or is too large",
    "json": "the text is not JSON",
    "structure": "a field is missing, unknown, repeated, or of the wrong JSON type",
    "shape": "an array is empty, ragged, or does not fit another",
    "value": "a number or name is out of range: not finite, not whole, not known",
    "training": "training diverged",
}


class InputError(ValueError):
    """Bad input. ``field`` names what is wrong (``"X"``, ``"layers[2].bias"``), or is None;
    ``category`` is a key of :data:`CATEGORIES`."""

    def __init__(self, field, problem, category="value"):
        super().__init__(problem if field is None else f"{field}: {problem}")
        self.field = field
        self.problem = problem
        self.category = category


def format_numbers(values):
    """Each number as the shortest of ``%.15g``, ``%.16g``, ``%.17g`` that reads back exactly.

    A result that would look like an integer gets ``.0`` (``1.0``, ``-0.0``), so that
    JSON readers keep it a double and keep the sign of zero.

    Parameters
    ----------
    values : array-like of finite floats

    Returns
    -------
    ndarray of str, of the same shape
    """
    values = np.asarray(values, dtype=float)
    text = np.char.mod("%.15g", values).astype("U24")  # 24: sign, 17 digits, point, e-308
    for digits in (16, 17):
        inexact = text.astype(float) != values
        text[inexact] = np.char.mod(f"%.{digits}g", values[inexact])
    whole = np.char.isdigit(np.char.lstrip(text, "-"))
    text[whole] = np.char.add(text[whole], ".0")
    return text


def describe(value):
    """A short description of a value for an error message: the number, or its JSON type."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return str(format_numbers(value))
    if value is None:
        return "null"
    for kind, name in (
        (bool, "a boolean"),
        (str, "a string"),
        (dict, "an object"),
        ((list, tuple, np.ndarray), "an array"),
    ):
        if isinstance(value, kind):
            return name
    return f"a {type(value).__name__}"


def check_array(value, field, ndim):
    """Refuse anything but a non-empty, finite float array of ``ndim`` dimensions."""
    if not isinstance(value, np.ndarray) or value.ndim != ndim or value.dtype.kind != "f":
        raise InputError(
            field,
            f"must be a {'vector' if ndim == 1 else 'matrix'} of numbers",
            category="structure",
        )
    if value.size == 0:
        raise InputError(field, "must not be empty", category="shape")
    if not np.isfinite(value).all():
        raise InputError(field, "holds NaN or an infinite value; every number must be finite")


def check_network(layers, X):
    """Check that ``layers`` form a network and that ``X`` fits its first layer."""
    if len(layers) == 0:
        raise InputError("layers", "must hold at least one layer", category="shape")
    for number, layer in enumerate(layers, start=1):
        field = f"layers[{number}]"
        if layer.activation not in ACTIVATIONS:
            raise InputError(
                f"{field}.activation",
                f"unknown activation '{layer.activation}'; known: {', '.join(ACTIVATIONS)}",
            )
        check_array(layer.weights, f"{field}.weights", 2)
        n_inputs, n_units = layer.weights.shape
        n_previous = layers[number - 2].weights.shape[1] if number > 1 else n_inputs
        if n_inputs != n_previous:
            raise InputError(
                f"{field}.weights",
                f"has {n_inputs} rows, but layer {number - 1} "
                f"has {n_previous} units; they must match",
                category="shape",
            )
        if layer.bias is None:
            continue  # a layer without bias
        check_array(layer.bias, f"{field}.bias", 1)
        if len(layer.bias) != n_units:
            raise InputError(
                f"{field}.bias",
                f"has {len(layer.bias)} numbers, but the layer has "
                f"{n_units} units (columns of weights); they must match",
                category="shape",
            )
    check_array(X, "X", 2)
    if X.shape[1] != layers[0].weights.shape[0]:
        raise InputError(
            "X",
            f"has {X.shape[1]} columns, but layers[1].weights has "
            f"{layers[0].weights.shape[0]} rows (one per feature); they must match",
            category="shape",
        )


def check_training(layers, X, y, lr, epochs, batch_size=None, shuffle=False, seed=None):
    """Check everything :func:`nnscratch.train` is given, in the order R checks it too."""
    check_network(layers, X)
    check_array(y, "y", 2)
    if y.shape[0] != X.shape[0]:
        raise InputError(
            "y",
            f"has {y.shape[0]} rows, but X has {X.shape[0]} (one per sample); they must match",
            category="shape",
        )
    n_outputs = layers[-1].weights.shape[1]
    if y.shape[1] != n_outputs:
        raise InputError(
            "y",
            f"has {y.shape[1]} columns, but the last layer has {n_outputs} "
            "units (one per output); they must match",
            category="shape",
        )
    if not (_is_number(lr) and math.isfinite(lr) and lr > 0):
        raise InputError("lr", f"must be a finite number above 0; got {describe(lr)}")
    check_whole(epochs, "epochs", 0)
    if batch_size is not None:
        check_whole(batch_size, "batch_size", 1)
    if not isinstance(shuffle, bool):
        raise InputError("shuffle", f"must be true or false; got {describe(shuffle)}")
    if seed is not None:
        check_seed(seed)
    elif shuffle:
        raise InputError("seed", "must be given to shuffle", category="structure")


def check_seed(seed):
    """A seed of the Lehmer generator: a whole number from 1 to 2^31 - 2."""
    check_whole(seed, "seed", 1, MODULUS - 1)


def check_whole(value, field, low, high=None):
    """Refuse anything but a whole number from ``low`` (to ``high``)."""
    whole = _is_number(value) and math.isfinite(value) and float(value).is_integer()
    if not (whole and value >= low and (high is None or value <= high)):
        limits = f"{low} or more" if high is None else f"from {low} to {high}"
        raise InputError(field, f"must be a whole number, {limits}; got {describe(value)}")


def check_trace(trace_every, trace_quantities, trace_limit):
    """Check what :func:`nnscratch.train` is told to record."""
    check_whole(trace_every, "trace_every", 1)
    for quantity in trace_quantities or ():
        if quantity not in LAYER_QUANTITIES:
            raise InputError(
                "trace_quantities",
                f"unknown quantity '{quantity}'; known: {', '.join(LAYER_QUANTITIES)}",
            )
    if not (_is_number(trace_limit) and trace_limit > 0):
        raise InputError("trace_limit", f"must be a number above 0; got {describe(trace_limit)}")


def _is_number(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool)
