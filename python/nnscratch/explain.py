"""The eleven steps of one iteration as a person reads them: each step, its formula in
words, and the matrices it makes; as text (R's ``nn_explain`` writes the same) or as a
spreadsheet like the article's."""

import dataclasses
import io
import math

import numpy as np

from . import network
from .activations import ACTIVATIONS
from .checks import InputError, check_whole
from .fixtures import Fixture, train_fixture, write_atomically
from .lehmer import batches
from .trace import step_values, trace_steps


@np.errstate(over="ignore", invalid="ignore")  # as in train
def explain_steps(fixture, epoch=1, iteration=1, X=None, y=None, lr=None):
    """The steps of one iteration of training a fixture, each with the matrices it makes.

    Parameters
    ----------
    fixture : Fixture, or list of Layer
        A list of layers is trained full-batch on ``X``, ``y`` with ``lr``.
    epoch : int
        From 1. The fixture is trained, untraced, to the start of that epoch, then
        stepped to the iteration shown.
    iteration : int
        From 1 to the number of batches per epoch (1 in full-batch training).
    X, y, lr
        The data and the learning rate, when ``fixture`` is a list of layers.

    Returns
    -------
    title : str
    steps : list of (int, str, list of (str, ndarray of shape (rows, cols)))
        Per step of the run, in its order: the step's number, its formula in words,
        and its matrices by name.
    """
    f = fixture
    if not isinstance(f, Fixture):
        if X is None or y is None or lr is None:
            raise InputError("X", "explaining layers needs X, y and lr too", category="structure")
        f = Fixture(
            name="the network",
            description="",
            X=np.asarray(X, dtype=float),
            y=np.asarray(y, dtype=float),
            layers=list(f),
            lr=lr,
            epochs=epoch,
        )
    n_samples = f.X.shape[0]
    batch_size = min(f.batch_size or n_samples, n_samples)
    n_batches = math.ceil(n_samples / batch_size)
    check_whole(epoch, "epoch", 1)
    check_whole(iteration, "iteration", 1, n_batches)
    # Train to the start of the epoch, then step through its batches to the one shown.
    start = train_fixture(dataclasses.replace(f, epochs=epoch - 1))
    epoch_batches, _ = batches(f.X, f.y, batch_size, f.shuffle, start.state)
    layers = start.layers
    for batch in epoch_batches[: iteration - 1]:
        layers = network.step(layers, batch.X, batch.y, f.lr).layers
    batch = epoch_batches[iteration - 1]
    now = network.step(layers, batch.X, batch.y, f.lr)
    n_layers = len(layers)
    title = (
        f"Epoch {epoch}, iteration {iteration} of {n_batches}, of {f.name} "
        f"({n_samples} samples, lr {f.lr:g})"
    )
    rows = np.arange(1, n_samples + 1)[batch.rows]
    steps = [
        (
            0,
            f"Take the batch: rows {', '.join(map(str, rows))} of X, and their targets y.",
            [("A0 = X", batch.X), ("y", batch.y)],
        )
    ]
    before = []
    for number, layer in enumerate(layers, start=1):
        before.append((f"W{number}", layer.weights))
        if layer.bias is not None:
            before.append((f"b{number}", layer.bias.reshape(1, -1)))
    first = epoch == 1 and iteration == 1
    steps.append(
        (
            1,
            "The weights and biases "
            + ("drawn at the start." if first else "as the previous iteration left them."),
            before,
        )
    )
    values = step_values(now)
    for number, quantity, number_of_step in trace_steps(n_layers):
        if quantity == "samples" or (quantity == "bias" and layers[number - 1].bias is None):
            continue
        if quantity == "loss":  # with the error it is computed from
            steps[-1][2].append(("loss", np.array([[now.loss]])))
        else:
            sentence = _sentence(quantity, number, n_layers, layers[number - 1], f.lr)
            matrix = values[quantity][number - 1]
            steps.append((number_of_step, sentence, [(_symbol(quantity, number), matrix)]))
    return title, steps


def explain(fixture, epoch=1, iteration=1, digits=3, X=None, y=None, lr=None):
    """The eleven steps of one iteration of training a fixture (or layers), as text.

    Each step, its formula in words, and the matrices it makes, rounded; see
    :func:`explain_steps` for the arguments. ``digits``: the decimals to round to.

    Returns
    -------
    str
    """
    check_whole(digits, "digits", 0, 15)
    title, steps = explain_steps(fixture, epoch, iteration, X, y, lr)
    lines = [f"{title}; numbers rounded to {digits} decimals."]
    for step, sentence, matrices in steps:
        lines.extend(["", f"Step {step}. {sentence}"])
        for name, matrix in matrices:
            lines.append(f"{name} ({matrix.shape[0]} x {matrix.shape[1]})")
            lines.extend(_format_matrix(matrix, digits))
    return "\n".join(lines) + "\n"


def write_explain_xlsx(fixture, path, epoch=1, iteration=1):
    """Write the steps of :func:`explain_steps` as a spreadsheet, one sheet per step.

    As in the article's spreadsheet, a sheet shows its step's formula and, side by
    side, the matrices it makes (16 significant digits, three shown). Needs openpyxl
    (``pip install 'nnscratch[xlsx]'``).
    """
    try:
        import openpyxl
    except ImportError:
        raise ImportError(
            "spreadsheets need openpyxl: pip install 'nnscratch[xlsx]' (or pip install openpyxl)"
        ) from None
    title, steps = explain_steps(fixture, epoch, iteration)
    book = openpyxl.Workbook()
    book.remove(book.active)
    for step, sentence, matrices in steps:
        name = f"Step {step}"
        sheet = book[name] if name in book.sheetnames else book.create_sheet(name)
        top = sheet.max_row + 2 if sheet.max_row > 1 else 1
        sheet.cell(top, 1, f"{title}. Step {step}. {sentence}")
        column = 1
        for symbol, matrix in matrices:
            sheet.cell(top + 2, column, f"{symbol} ({matrix.shape[0]} x {matrix.shape[1]})")
            for i, row in enumerate(matrix):
                for j, value in enumerate(row):
                    cell = sheet.cell(top + 3 + i, column + j, float(value))
                    cell.number_format = "0.000"
            column += matrix.shape[1] + 1
    buffer = io.BytesIO()
    book.save(buffer)
    write_atomically(path, buffer.getvalue())


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
        + ACTIVATIONS[layer.activation].slope_formula.replace("A", f"A{l}")
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
