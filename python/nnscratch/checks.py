"""Checks on a network and its data, with messages that name the field at fault.

R has the same checks in the same order with the same messages, so that a bad
fixture is refused with the same words in both languages.
"""

import math
import numbers
import os
import sys

import numpy as np

from .activations import ACTIVATIONS
from .lehmer import MODULUS
from .trace import LAYER_QUANTITIES, kept_quantities, recorded_epochs, trace_bytes

# What kind of thing is wrong; R's conditions carry the same names.
CATEGORIES = {
    "file": "the file cannot be read or written, is not a regular file, or is too large",
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


class FixtureError(InputError):
    """A file that cannot be used (read, written, or loaded as a fixture); the message
    names the file, and the field when one is at fault."""

    def __init__(self, path, field, problem, category="value"):
        super().__init__(field, problem, category)
        self.args = (f"{path}: {self.args[0]}",)
        self.path = path


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


def as_matrix(value, field):
    """X or y as the checks take them: a pandas DataFrame of numeric columns, or anything
    numpy reads, as a float array."""
    pd = sys.modules.get("pandas")  # a DataFrame comes from a pandas the caller imported
    if pd is not None and isinstance(value, pd.DataFrame):
        for column in value.columns:
            kind = value[column].dtype
            if not pd.api.types.is_numeric_dtype(kind) or pd.api.types.is_bool_dtype(kind):
                raise InputError(
                    field,
                    f"column '{column}' is not numeric; {field} takes numbers only "
                    "(classes go in y, one-hot)",
                    category="structure",
                )
    return np.asarray(value, dtype=float)


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
        if not isinstance(layer.activation, str):
            raise InputError(
                f"{field}.activation",
                f"must be a string; got {describe(layer.activation)}",
                category="structure",
            )
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


def check_training(
    layers,
    X,
    y,
    lr,
    epochs,
    batch_size=None,
    shuffle=False,
    seed=None,
    first_epoch=1,
    progress=None,
):
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
    check_boolean(shuffle, "shuffle")
    if seed is not None:
        check_seed(seed)
    elif shuffle:
        raise InputError("seed", "must be given to shuffle", category="structure")
    check_whole(first_epoch, "first_epoch", 1)
    if progress is not None and not callable(progress):
        raise InputError(
            "progress",
            f"must be a function of (epoch, loss); got {describe(progress)}",
            category="structure",
        )


def check_boolean(value, field):
    """Refuse anything but true or false."""
    if not isinstance(value, bool):
        raise InputError(field, f"must be true or false; got {describe(value)}")


def check_seed(seed):
    """A seed of the Lehmer generator: a whole number from 1 to 2^31 - 2."""
    check_whole(seed, "seed", 1, MODULUS - 1)


def check_whole(value, field, low, high=None):
    """Refuse anything but a whole number from ``low`` (to ``high``)."""
    whole = _is_number(value) and math.isfinite(value) and float(value).is_integer()
    if not (whole and value >= low and (high is None or value <= high)):
        limits = f"{low} or more" if high is None else f"from {low} to {high}"
        raise InputError(field, f"must be a whole number, {limits}; got {describe(value)}")


def check_recording(recording, layers, X, batch_size, epochs, first_epoch):
    """Check what :func:`nnscratch.train` is told to record (a
    :class:`nnscratch.trace.Recording`).

    What the run would hold in memory, the loss of every epoch and a trace, is
    estimated here, before anything is allocated: a trace over ``trace_limit`` bytes,
    and anything over the machine's memory, is refused with the estimate.
    """
    trace, trace_every, trace_quantities, trace_limit, trace_csv = recording
    check_boolean(trace, "trace")
    check_whole(trace_every, "trace_every", 1)
    if not (trace_quantities is None or isinstance(trace_quantities, (str, list, tuple))):
        raise InputError(
            "trace_quantities",
            f"must be a name or a list of names; got {describe(trace_quantities)}",
            category="structure",
        )
    for quantity in kept_quantities(trace_quantities):
        if quantity not in LAYER_QUANTITIES:
            raise InputError(
                "trace_quantities",
                f"unknown quantity '{quantity}'; known: {', '.join(LAYER_QUANTITIES)}",
            )
    if not (_is_number(trace_limit) and trace_limit > 0):
        raise InputError("trace_limit", f"must be a number above 0; got {describe(trace_limit)}")
    if not (trace_csv is None or isinstance(trace_csv, (str, os.PathLike))):
        raise InputError(
            "trace_csv",
            f"must be the name of a file, or None; got {describe(trace_csv)}",
            category="structure",
        )
    check_memory("epochs", f"the losses of {int(epochs)} epochs", 8 * int(epochs))
    if trace:
        n_samples = X.shape[0]
        rows = n_samples if batch_size is None else min(int(batch_size), n_samples)
        recorded = recorded_epochs(int(first_epoch), int(epochs), int(trace_every))
        iterations = recorded * math.ceil(n_samples / rows)
        size = trace_bytes(layers, rows, iterations, trace_quantities)
        if size > trace_limit:
            raise InputError(
                "trace",
                f"would take about {size / 1e6:.0f} MB, over the limit of "
                f"{trace_limit / 1e6:.0f} MB (trace_limit): record every k-th epoch "
                "(trace_every), fewer quantities (trace_quantities), or raise "
                "trace_limit",
            )
        check_memory("trace", "the trace", size)


def memory_bytes():
    """The machine's memory, in bytes; None where the system does not say."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def check_memory(field, what, size):
    """Refuse, before it is allocated, what would take more than the machine's memory."""
    memory = memory_bytes()
    if memory is not None and size > memory:
        raise InputError(
            field,
            f"{what} would take about {size / 1e6:.0f} MB, more than the "
            f"{memory / 1e6:.0f} MB of memory this machine has",
        )


def check_finite(now, epoch, iteration):
    """Stop training at the first iteration that gives a number that is not finite.

    ``now`` is what :func:`nnscratch.step` returned. Its loss plus the sum of the
    squares of the updated weights and biases is finite unless one of those numbers
    is not (or the sum overflows: then each number is looked at). The squares, as
    numpy's cheapest sum is a dot product; R's is sum() of the numbers themselves.
    """
    total = now.loss
    for layer in now.layers:
        weights = layer.weights.ravel()
        total += weights.dot(weights)
        if layer.bias is not None:
            total += layer.bias.dot(layer.bias)
    if math.isfinite(total):
        return
    where = f"training diverged: in epoch {epoch}, iteration {iteration}"
    if not math.isfinite(now.loss):
        raise InputError(
            "lr", f"{where}, the loss is not finite; a smaller lr may help", category="training"
        )
    for number, layer in enumerate(now.layers, start=1):
        for name in ("weights", "bias"):
            values = getattr(layer, name)
            if values is not None and not np.isfinite(values).all():
                raise InputError(
                    "lr",
                    f"{where}, the update made layers[{number}].{name} not finite; "
                    "a smaller lr may help",
                    category="training",
                )


def _is_number(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool)
