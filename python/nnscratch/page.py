"""A walkthrough page: one self-contained HTML file to click through training a fixture.

The page is the template ``data/page.html`` (R's ``nn_explain_html`` fills the same
file) with the run in it as JSON: for each iteration it keeps, the steps of
:func:`nnscratch.explain_steps` (title, sentences, matrices) and, for data of two
features, the network's output on a grid; for every epoch, the loss. Its own
JavaScript draws the network, the loss and the boundary; it asks nothing of any
network or other file, so it opens offline from ``file://``.
"""

import json
import math
from pathlib import Path

import numpy as np

from .checks import check_whole, format_numbers
from .explain import explain_steps
from .files import write_atomically
from .fixtures import train_fixture
from .network import Layer, predict, predict_class

TEMPLATE = Path(__file__).with_name("data") / "page.html"

# Where the template takes the run's data.
DATA_MARK = "__NNSCRATCH_DATA__"

# The boundary is drawn from the network's output at GRID x GRID points.
GRID = 50


def page_iterations(total):
    """The iterations a page keeps of a run of ``total`` iterations (updates).

    Every iteration up to 10, then 20, 50, 100, 200, 500, 1000, 2000, 5000, ... below
    ``total``, and the last: 18 of the article's 5000.

    Returns
    -------
    list of int, from 1
    """
    kept = list(range(1, min(total, 10) + 1))
    scale = 10
    while kept and kept[-1] < total:
        for factor in (2, 5, 10):
            kept.append(min(factor * scale, total))
            if kept[-1] == total:
                break
        scale *= 10
    return kept


def page_data(fixture, epoch=1, iteration=1, iterations=None):
    """What the page shows of a fixture's run, as JSON-ready values.

    Parameters
    ----------
    fixture : Fixture
    epoch, iteration : int
        The iteration the page opens at (it keeps that one too).
    iterations : list of int or None
        The iterations to keep, counted from 1 over the whole run (an iteration is
        one update); None: :func:`page_iterations`.

    Returns
    -------
    dict
        The fixture's ``name``, ``description``, shape and settings, its ``network``
        (per layer: inputs, units, activation, bias), ``loss`` (every epoch), ``opened``
        (the iteration to open at), ``iterations`` (per iteration kept: its numbers,
        ``title`` and ``steps`` as :func:`nnscratch.explain_steps` gives them, and for two
        features the ``boundary`` grid) and ``points`` (for two features: X, classes and
        the grid's corners).
    """
    f = fixture
    n_samples = f.X.shape[0]
    batches = math.ceil(n_samples / min(f.batch_size or n_samples, n_samples))
    total = f.epochs * batches
    check_whole(epoch, "epoch", 1, f.epochs)
    check_whole(iteration, "iteration", 1, batches)
    opened = (int(epoch) - 1) * batches + int(iteration)
    if iterations is None:
        iterations = page_iterations(total)
    for number in iterations:
        check_whole(number, "iterations", 1, total)
    kept = sorted({int(number) for number in iterations} | {opened})
    two_features = f.X.shape[1] == 2
    grid = _grid(f.X) if two_features else None
    shown = []
    for number in kept:
        e, i = (number - 1) // batches + 1, (number - 1) % batches + 1
        title, steps = explain_steps(f, e, i)
        shown.append(
            {
                "iteration": number,
                "epoch": e,
                "batch": i,
                "title": title,
                "steps": [
                    {
                        "step": step,
                        "sentence": sentence,
                        "matrices": [{"name": name, "values": matrix} for name, matrix in matrices],
                    }
                    for step, sentence, matrices in steps
                ],
                "boundary": None if grid is None else _boundary(f, steps, grid),
            }
        )
    return {
        "format": "nnscratch-page/1",
        "name": f.name,
        "description": f.description,
        "samples": n_samples,
        "features": f.X.shape[1],
        "network": [
            {
                "inputs": layer.weights.shape[0],
                "units": layer.weights.shape[1],
                "activation": layer.activation,
                "bias": layer.bias is not None,
            }
            for layer in f.layers
        ],
        "lr": float(f.lr),
        "epochs": int(f.epochs),
        "batches": batches,
        "opened": opened,
        "loss": train_fixture(f).loss,
        "iterations": shown,
        "points": None
        if grid is None
        else {"X": f.X, "class": _classes(f.y), "low": grid[0], "high": grid[1]},
    }


def explain_html(fixture, path, epoch=1, iteration=1, iterations=None):
    """Write the walkthrough page of a fixture's run: one self-contained HTML file.

    It shows the network with its weights, each step of the iterations it keeps as
    matrices with their formulas and names, the loss of every epoch and, for data of
    two features, the decision boundary; buttons and keys move through steps and
    iterations, and ``page.html#iteration=3&step=7`` opens it at one step.

    Parameters
    ----------
    fixture : Fixture
    path : str or os.PathLike
    epoch, iteration : int
        The iteration the page opens at (it keeps that one too).
    iterations : list of int or None
        The iterations to keep, counted from 1 over the whole run; None: the sample of
        :func:`page_iterations`.
    """
    data = page_data(fixture, epoch, iteration, iterations)
    template = TEMPLATE.read_text(encoding="utf-8")
    write_atomically(path, template.replace(DATA_MARK, _json(data).replace("</", "<\\/")))


def _grid(X):
    """The grid's low and high corners: the data's range and a tenth more on each side."""
    low, high = X.min(axis=0), X.max(axis=0)
    margin = 0.1 * (high - low)
    return low - margin, high + margin


def _boundary(fixture, steps, grid):
    """The output, in thousandths (one output), or the class (several), at each point of
    the grid, row by row from the lowest feature 2, for the weights of step 1."""
    start = dict(steps[1][2])
    layers = [
        Layer(start[f"W{l}"], None if f"b{l}" not in start else start[f"b{l}"][0], layer.activation)
        for l, layer in enumerate(fixture.layers, start=1)
    ]
    low, high = grid
    x = np.linspace(low[0], high[0], GRID)
    y = np.linspace(low[1], high[1], GRID)
    points = np.column_stack([np.tile(x, GRID), np.repeat(y, GRID)])
    if fixture.y.shape[1] == 1:
        values = np.rint(1000 * predict(layers, points)[:, 0])
    else:
        values = predict_class(layers, points)
    return values.astype(int).reshape(GRID, GRID)


def _classes(y):
    return y.argmax(axis=1) if y.shape[1] > 1 else (y[:, 0] >= 0.5).astype(int)


def _json(value):
    """JSON text of dicts, lists, strings, numbers and arrays; floats as in fixtures (the
    shortest of 15, 16, 17 digits that reads back), so R writes the same text."""
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(k)}:{_json(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(_json(v) for v in value) + "]"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    array = np.asarray(value)
    text = array.astype(str) if array.dtype.kind in "iu" else format_numbers(array.ravel())
    if array.ndim == 0:
        return str(text.reshape(-1)[0])
    return _nested(text.reshape(array.shape))


def _nested(text):
    """Arrays of numbers as fixtures write them: items apart by a comma and a space."""
    if text.ndim == 1:
        return "[" + ", ".join(text) + "]"
    return "[" + ", ".join(_nested(row) for row in text) + "]"
