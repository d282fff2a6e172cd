"""The eleven steps of one iteration as a person reads them: each step, its formula in
words with the names of nnscratch and of the article, and the matrices it makes, as text
(R's ``nn_explain`` writes the same). The spreadsheet module and the page show them too."""

import dataclasses
import math

import numpy as np

from . import network
from .activations import ACTIVATIONS
from .checks import InputError, check_whole
from .fixtures import Fixture, train_fixture
from .lehmer import batches
from .trace import step_values, trace_steps

# How the text writes products: the matrix product and the product element by element.
NOTATION = "@ is the matrix product, * multiplies element by element, ^T transposes."

# The letter of each quantity's matrix in the text (Z1, A1, ...).
SYMBOLS = {
    "layer_input": "Z",
    "activation": "A",
    "error": "E",
    "slope": "S",
    "delta": "D",
    "error_at_layer": "H",
    "weights": "W",
    "bias": "b",
}

# The article's name of each quantity: (in a hidden layer, in the output layer).
ARTICLE_NAMES = {
    "layer_input": ("hidden_layer_input", "output_layer_input"),
    "activation": ("hiddenlayer_activations", "output"),
    "error": (None, "E"),
    "slope": ("slope_hidden_layer", "slope_output_layer"),
    "delta": ("d_hiddenlayer", "d_output"),
    "error_at_layer": ("Error_at_hidden_layer", None),
    "weights": ("wh", "wout"),
    "bias": ("bh", "bout"),
}


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
            f"Take the batch: rows {', '.join(map(str, rows))} of X, and their targets y "
            "(samples; the article's X and y).",
            [("A0 = X", batch.X), ("y", batch.y)],
        )
    ]
    before = []
    for number, layer in enumerate(layers, start=1):
        before.append((f"W{number}", layer.weights))
        if layer.bias is not None:
            before.append((f"b{number}", layer.bias.reshape(1, -1)))
    first = epoch == 1 and iteration == 1
    shown, names = _parameter_names(layers)
    when = "drawn at the start" if first else "as the previous iteration left them"
    steps.append((1, f"The {shown} {when} ({names}).", before))
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
    lines = [f"{title}; numbers rounded to {digits} decimals.", NOTATION]
    for step, sentence, matrices in steps:
        lines.extend(["", f"Step {step}. {sentence}"])
        for name, matrix in matrices:
            lines.append(f"{name} ({matrix.shape[0]} x {matrix.shape[1]})")
            lines.extend(_format_matrix(matrix, digits))
    return "\n".join(lines) + "\n"


def _sentence(quantity, l, n_layers, layer, lr):
    """The step's formula in words, with the quantity's name and the article's."""
    which = "The output layer" if l == n_layers else f"Hidden layer {l}"
    bias = "" if layer.bias is None else f" + b{l}"
    formula = {
        "layer_input": f"{which}'s input: Z{l} = A{l - 1} @ W{l}{bias}",
        "activation": f"{which}'s activation: A{l} = {layer.activation}(Z{l})"
        + (", the output" if l == n_layers else ""),
        "error": f"The error at the output: E = y - A{l}",
        "slope": f"{which}'s slope, from its output: S{l} = "
        + ACTIVATIONS[layer.activation].slope_formula.replace("A", f"A{l}"),
        "delta": f"{which}'s delta: D{l} = " + (f"E * S{l}" if l == n_layers else f"H{l} * S{l}"),
        "error_at_layer": f"The error at hidden layer {l}: H{l} = D{l + 1} @ W{l + 1}^T, "
        "with the weights from before this update",
        "weights": f"{which}'s weights move by lr times the gradient summed over the batch: "
        f"W{l} = W{l} + {lr:g} * A{l - 1}^T @ D{l}",
        "bias": f"{which}'s bias moves by lr times its delta summed over the batch: "
        f"b{l} = b{l} + {lr:g} * colsum(D{l})",
    }[quantity]
    names = f"{quantity}; the article's {ARTICLE_NAMES[quantity][l == n_layers]}"
    loss = ", and the loss = mean(E * E) / 2" if quantity == "error" else ""
    return f"{formula} ({names}){loss}."


def _parameter_names(layers):
    """Step 1's words: what it shows, and the names of nnscratch and of the article."""
    bias = any(layer.bias is not None for layer in layers)
    ours = "weights and bias" if bias else "weights"
    where = [(0, "for a hidden layer")] * (len(layers) > 1) + [(1, "for the output layer")]
    theirs = ", ".join(
        f"{ARTICLE_NAMES['weights'][output]}"
        + (f" and {ARTICLE_NAMES['bias'][output]}" if bias else "")
        + f" {place}"
        for output, place in where
    )
    return ("weights and biases" if bias else "weights"), f"{ours}; the article's {theirs}"


def _symbol(quantity, l):
    """The matrix's name: its letter, and its layer (the error has one layer, the output)."""
    return SYMBOLS[quantity] + ("" if quantity == "error" else str(l))


def _format_number(x, digits):
    text = f"%.{digits}f" % x
    return text.lstrip("-") if float(text) == 0 else text  # -0.000 reads as 0.000


def _format_matrix(matrix, digits):
    """Rows of numbers right-aligned in columns of one width, indented by two spaces."""
    cells = [[_format_number(x, digits) for x in row] for row in matrix]
    width = max(len(cell) for row in cells for cell in row)
    return ["  " + "  ".join(cell.rjust(width) for cell in row) for row in cells]
