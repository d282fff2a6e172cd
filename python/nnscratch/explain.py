"""The eleven steps of one iteration, as text a person reads: each step, its formula
in words, and the matrix it makes, rounded. R's ``nn_explain`` writes the same text."""

import dataclasses
import math

from .checks import check_whole
from .fixtures import train_fixture
from .trace import PER_SAMPLE, trace_block, trace_quantities

# How each activation's slope is written from its output A.
SLOPE_FORMULAS = {
    "sigmoid": "A (1 - A)",
    "tanh": "1 - A^2",
    "relu": "1 where A > 0, else 0",
    "linear": "1",
}


def explain(fixture, epoch=1, iteration=1, digits=3):
    """The eleven steps of one iteration of training a fixture, as text.

    Parameters
    ----------
    fixture : Fixture
    epoch : int
        From 1. The fixture is trained up to that epoch, with a full trace.
    iteration : int
        From 1 to the number of batches per epoch (1 in full-batch training).
    digits : int
        Decimals to round to.

    Returns
    -------
    str
    """
    f = fixture
    n_samples = f.X.shape[0]
    batches = math.ceil(n_samples / min(f.batch_size or n_samples, n_samples))
    check_whole(epoch, "epoch", 1)
    check_whole(iteration, "iteration", 1, batches)
    check_whole(digits, "digits", 0, 15)
    trained = train_fixture(dataclasses.replace(f, epochs=epoch), trace=True)
    trace, k = trained.trace, (epoch - 1) * batches + iteration - 1
    n_layers = len(f.layers)
    lines = [
        f"Epoch {epoch}, iteration {iteration} of {batches}, of {f.name} "
        f"({n_samples} samples, lr {f.lr:g}); numbers rounded to {digits} decimals.",
    ]

    def show(name, matrix):
        lines.append(f"{name} ({matrix.shape[0]} x {matrix.shape[1]})")
        lines.extend(_format_matrix(matrix, digits))

    rows = trace.samples[k][trace.samples[k] > 0]
    lines.append("")
    lines.append(
        f"Step 0. Take the batch: rows {', '.join(map(str, rows))} of X, and their targets y."
    )
    show("A0 = X", f.X[rows - 1])
    show("y", f.y[rows - 1])
    lines.append("")
    lines.append(
        "Step 1. The weights and biases "
        + ("drawn at the start." if k == 0 else "as the previous iteration left them.")
    )
    for number, layer in enumerate(f.layers, start=1):
        if k == 0:
            weights, bias = layer.weights, layer.bias
        else:
            weights = trace.layers[number - 1]["weights"][k - 1]
            bias = None if layer.bias is None else trace.layers[number - 1]["bias"][k - 1][0]
        show(f"W{number}", weights)
        if bias is not None:
            show(f"b{number}", bias.reshape(1, -1))
    for number, quantity, step in trace_quantities(trace):
        if quantity == "samples":
            continue
        layer = f.layers[number - 1]
        block = trace_block(trace, number, quantity)[k]
        used = block[: len(rows)] if quantity in PER_SAMPLE else block
        if quantity == "loss":
            lines.append(f"The loss, the mean of E^2 / 2: {_format_number(used[0, 0], digits)}")
            continue
        lines.append("")
        lines.append(f"Step {step}. " + _sentence(quantity, number, n_layers, layer, f.lr))
        show(_symbol(quantity, number), used)
    return "\n".join(lines) + "\n"


def _sentence(quantity, l, n_layers, layer, lr):
    """The step's formula, in words."""
    which = "The output layer" if l == n_layers else f"Hidden layer {l}"
    bias = "" if layer.bias is None else f" + b{l}"
    return {
        "layer_input": f"{which}'s input: Z{l} = A{l - 1} W{l}{bias}.",
        "activation": f"{which}'s activation: A{l} = {layer.activation}(Z{l})"
        + (", the output." if l == n_layers else "."),
        "error": f"The error at the output: E = y - A{l}.",
        "slope": f"{which}'s slope, from its output: S{l} = "
        + SLOPE_FORMULAS[layer.activation].replace("A", f"A{l}")
        + ".",
        "delta": f"{which}'s delta: D{l} = " + (f"E * S{l}." if l == n_layers else f"H{l} * S{l}."),
        "error_at_layer": f"The error at hidden layer {l}: H{l} = D{l + 1} W{l + 1}^T, "
        "with the weights from before this update.",
        "weights": f"{which}'s weights move by lr times the gradient summed over the batch: "
        f"W{l} = W{l} + {lr:g} A{l - 1}^T D{l}.",
        "bias": f"{which}'s bias moves by lr times its delta summed over the batch: "
        f"b{l} = b{l} + {lr:g} colsum(D{l}).",
    }[quantity]


def _symbol(quantity, l):
    return {
        "layer_input": f"Z{l}",
        "activation": f"A{l}",
        "error": "E",
        "slope": f"S{l}",
        "delta": f"D{l}",
        "error_at_layer": f"H{l}",
        "weights": f"W{l}",
        "bias": f"b{l}",
    }[quantity]


def _format_number(x, digits):
    text = f"%.{digits}f" % x
    return text.lstrip("-") if float(text) == 0 else text  # -0.000 reads as 0.000


def _format_matrix(matrix, digits):
    """Rows of numbers right-aligned in columns of one width, indented by two spaces."""
    cells = [[_format_number(x, digits) for x in row] for row in matrix]
    width = max(len(cell) for row in cells for cell in row)
    return ["  " + "  ".join(cell.rjust(width) for cell in row) for row in cells]
