"""Check (the grader): a learner's own network against nnscratch, number by number.

A learner who wrote the article's network from scratch hands in the numbers of their
run: a long-table CSV (:func:`check_trace`), written by code in any language, or a
function that performs one iteration (:func:`check_step`). nnscratch runs the same
fixture from the same initial network, compares every number the learner recorded (and
only those) with the harness's tolerance, and answers: agree, or the first divergence in
the order of the run, what agreed before it, and the known mistake of :data:`MISTAKES`
whose numbers the learner's match. R's ``nn_check_trace`` and ``nn_check_step`` give
the same answers in the same words.
"""

import dataclasses
import inspect
import math
import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from . import compare
from .activations import ACTIVATIONS
from .checks import InputError, check_whole, describe
from .explain import ARTICLE_NAMES
from .files import read_file
from .fixtures import Fixture, FixtureError, load_fixture
from .lehmer import batches
from .network import Layer, step, train
from .trace import LAYER_QUANTITIES, TABLE_COLUMNS, Trace, step_values, trace_steps

# The article's variable names, as the grader reads them: nnscratch's quantity, and whether
# it is a hidden layer's or the output layer's. From explain's table, and the name the
# article's R listing gives the hidden activations.
ARTICLE_QUANTITIES = {
    name: (quantity, role)
    for quantity, names in ARTICLE_NAMES.items()
    for role, name in zip(("hidden", "output"), names)
    if name is not None
} | {"hidden_layer_activations": ("activation", "hidden")}

# nnscratch's names; samples belong to layer 0, the error and the loss to the output layer.
NNSCRATCH_NAMES = ["samples", "loss", *LAYER_QUANTITIES]


class Mistake(NamedTuple):
    """A known mistake of a from-scratch network: what it is, and how to fix it."""

    what: str
    fix: str


# The catalogue, in the order the answer tries it; R's nn_mistakes has the same ids and
# words. _mistaken_step makes each mistake as a learner's loop makes it.
MISTAKES = {
    "bias-per-sample": Mistake(
        "the bias moved by the row sums of the delta, one sum per sample, as the article's "
        "R listing does (rowSums)",
        "move each unit's bias by lr times its delta summed over the samples: "
        "colSums(d_hiddenlayer) in R, np.sum(d_hiddenlayer, axis=0) in numpy",
    ),
    "bias-by-column": Mistake(
        "the bias matrix filled by column, as the article's R listing does (byrow = FALSE): "
        "sample i gets the bias of unit i for every unit",
        "repeat the biases by row, so that every sample gets every unit's own bias: "
        "matrix(rep(bh, n), nrow = n, byrow = TRUE) in R; numpy adds a 1 x units bias to "
        "every row by itself",
    ),
    "lr-twice": Mistake(
        "the learning rate applied twice, in d_output (step 7, as the article's walkthrough "
        "does) and again in the updates (steps 10 and 11)",
        "leave lr out of the delta, d_output = E * slope_output_layer, and apply it once, "
        "in the updates",
    ),
    "hidden-bias-output-delta": Mistake(
        "the hidden bias moved by the output layer's delta, as the article's step-11 bullet says",
        "move each layer's bias by its own delta: bh + lr * (d_hiddenlayer summed over the "
        "samples)",
    ),
    "slope-from-input": Mistake(
        "the slope computed from the layer's input (Z) instead of from its activation",
        "apply the derivative, written from the output, to the activation: "
        "slope_hidden_layer = derivatives_sigmoid(hiddenlayer_activations)",
    ),
    "sign-flipped": Mistake(
        "the error taken as output - y while the updates still add, so that every step "
        "climbs the loss",
        "take E = y - output, as the article does, and keep the updates' +",
    ),
    "update-before-backprop": Mistake(
        "a layer's weights updated before the error was sent back through them",
        "compute Error_at_hidden_layer (step 8) with the weights from before the update, "
        "and update the weights after the backward pass",
    ),
    "mean-not-sum": Mistake(
        "the gradient averaged over the samples instead of summed",
        "sum over the samples, as the article does: no division by the number of samples "
        "in the updates of the weights and the biases",
    ),
    "no-lr-on-bias": Mistake(
        "the bias moved without the learning rate",
        "multiply the bias update by lr, as the weights': bh + lr * (d_hiddenlayer summed "
        "over the samples)",
    ),
    "missing-bias-update": Mistake(
        "the bias never moved",
        "update every bias in step 11: bh + lr * (d_hiddenlayer summed over the samples), "
        "bout alike",
    ),
}


@dataclass
class Divergence:
    """The first number of the learner's that differs from nnscratch's, in run order."""

    epoch: int
    iteration: int
    step: int
    layer: int
    quantity: str
    """nnscratch's name of the quantity."""
    name: str
    """The learner's name of it."""
    row: int
    col: int
    expected: float
    got: float


@dataclass
class Answer:
    """What :func:`check_trace` and :func:`check_step` answer.

    Attributes
    ----------
    fixture : str
        The fixture's name.
    source : str
        What was checked: the CSV's path, "your table" or "your function".
    recorded : list of (str, int, str, int)
        Each quantity the learner recorded: (their name, layer, nnscratch's name, step),
        in the order of the run.
    notes : list of str
        How the learner's shapes were read, where they differ from nnscratch's.
    epochs : tuple of int
        The first and the last epoch of the iterations compared: those the learner
        recorded, up to the divergence.
    numbers : int
        How many of the learner's numbers were compared.
    tolerance : str
        The rule by which a number agrees.
    divergence : Divergence or None
        The first divergence, in the order of the run.
    agreed : list of str
        What agreed before the divergence in its iteration: the learner's names, with the
        layer where the name does not say it.
    iterations_before : int
        The recorded iterations before the divergence's, every number of which agreed.
    diagnosis : list of str
        The ids of :data:`MISTAKES` whose numbers the learner's match, up to and
        including the divergence.
    """

    fixture: str
    source: str
    recorded: list
    notes: list
    epochs: tuple
    numbers: int
    tolerance: str
    divergence: Divergence | None = None
    agreed: list = field(default_factory=list)
    iterations_before: int = 0
    diagnosis: list = field(default_factory=list)

    @property
    def ok(self):
        """Whether every number agrees."""
        return self.divergence is None

    def report(self):
        """The answer as the command line prints it; R's prints the same words."""
        lines = [
            f"checked {self.source} against {self.fixture}, epochs {self.epochs[0]} to "
            f"{self.epochs[1]}",
            "recorded, with nnscratch's name and layer: "
            + ", ".join(_recorded(*quantity) for quantity in self.recorded),
            *self.notes,
        ]
        if self.ok:
            lines.append(
                f"agree: all {self.numbers} numbers within the harness's tolerance, "
                f"{self.tolerance}"
            )
            return "\n".join(lines) + "\n"
        d = self.divergence
        lines.append(
            f"first divergence: epoch {d.epoch}, iteration {d.iteration}, step {d.step}, "
            f"layer {d.layer}, {_named(d.name, d.quantity)}, row {d.row}, col {d.col}: "
            f"expected {_format_value(d.expected)}, got {_format_value(d.got)}"
        )
        before = (
            f"all {self.iterations_before} recorded iterations before its own"
            if self.iterations_before
            else "no recorded iteration before its own"
        )
        within = ", ".join(self.agreed) if self.agreed else "nothing recorded before it"
        lines.append(f"agreed before it: {before}; in its own, {within}")
        if self.diagnosis:
            mistake = MISTAKES[self.diagnosis[0]]
            others = "".join(f" (or {other})" for other in self.diagnosis[1:])
            lines.append(f"looks like {self.diagnosis[0]}{others}: {mistake.what}")
            lines.append(f"fix: {mistake.fix}")
        else:
            lines.append(f"looks like none of the known mistakes ({', '.join(MISTAKES)})")
        return "\n".join(lines) + "\n"


def check_trace(fixture, trace, max_bytes=100_000_000):
    """Check a learner's long table of numbers against nnscratch's run of a fixture.

    Parameters
    ----------
    fixture : Fixture, str or os.PathLike
        The fixture (or its file) the learner ran, from its initial network.
    trace : str, os.PathLike or pandas.DataFrame
        The learner's long table, a CSV file or a table with the columns ``epoch,
        iteration, quantity, row, col, value``, and ``step`` and ``layer`` if they like
        (the layer may be left out where the name implies it). Quantities are named as
        nnscratch names them (:data:`NNSCRATCH_NAMES`) or as the article does
        (:data:`ARTICLE_QUANTITIES`); only those recorded are checked, in the iterations
        recorded. Indices count from 1. A bias has one row, or one per sample.
    max_bytes : int
        A larger CSV is refused before it is read.

    Returns
    -------
    Answer

    Raises
    ------
    FixtureError
        For a CSV (or table) that cannot be read as a long table: one line naming the
        file, and the line (the table's row) and column at fault.
    """
    fixture = _as_fixture(fixture)
    pd = sys.modules.get("pandas")  # a DataFrame comes from a pandas the caller imported
    if pd is not None and isinstance(trace, pd.DataFrame):
        source, where = "your table", "row"
        header = [str(name) for name in trace.columns]
        cells = [trace[name].to_numpy() for name in trace.columns]
        lines = np.arange(1, len(trace) + 1)
    else:
        source, where = os.fspath(trace), "line"
        header, cells, lines = _read_csv(source, max_bytes)
    table = _read_table(fixture, header, cells, lines, source, where)
    record = _record_table(fixture, table, source)

    def learner(first, last):
        return {key: _within(series, first, last, fixture) for key, series in record.items()}

    epochs = (int(table["epoch"].min()), int(table["epoch"].max()))
    return _grade(fixture, learner, epochs, table["names"], source)


def check_step(fixture, one_iteration, epochs=None):
    """Check a learner's one-iteration function against nnscratch's run of a fixture.

    nnscratch drives ``one_iteration`` from the fixture's initial network, batch by batch as
    :func:`nnscratch.train` takes them, and gives it, by name, what it asks for: ``X`` and
    ``y`` (the batch's rows), ``lr`` (or ``learning_rate``), and the network, either as
    the article names it, ``wh``, ``bh``, ``wout``, ``bout`` (one hidden layer; a bias as
    a 1 x units matrix), or as nnscratch does, ``layers`` (a list of Layer). It returns a
    dict of what it computed, by nnscratch's names or the article's, with the updated
    network under the names it took (``wh``, ``bh``, ``wout``, ``bout``, or ``layers``),
    which the next call is given as it was returned. ``lambda layers, X, y, lr:
    nnscratch.step(layers, X, y, lr)._asdict()`` agrees.

    Parameters
    ----------
    fixture : Fixture, str or os.PathLike
    one_iteration : callable
    epochs : int or None
        How many epochs to drive it; None: the fixture's. It is driven and checked in
        windows of epochs (1, 2 to 10, 11 to 100, ...), and stops at the end of the window
        in which the first divergence is found.

    Returns
    -------
    Answer

    Raises
    ------
    InputError
        When the function asks for what nnscratch cannot give, or returns something other
        than a dict of known names and shapes.
    """
    fixture = _as_fixture(fixture)
    epochs = fixture.epochs if epochs is None else epochs
    check_whole(epochs, "epochs", 1)
    epochs = int(epochs)
    wanted = _arguments(fixture, one_iteration)
    article = "layers" not in wanted
    run = {"params": _first_params(fixture, article), "state": fixture.seed}
    names = {}

    def iterate(params, X, y, lr):
        given = {"X": X, "y": y, "lr": lr, "learning_rate": lr, **params}
        result = one_iteration(**{name: given[name] for name in wanted})
        return _read_result(fixture, result, article, len(X), names)

    def learner(first, last):
        found = {}
        for epoch in range(first, last + 1):
            run["params"], run["state"], numbers = _run_epoch(
                fixture, run["params"], run["state"], iterate, epoch
            )
            for g, values in numbers.items():
                for key, value in values.items():
                    found.setdefault(key, {})[g] = value
        return {key: _stack(per_g) for key, per_g in found.items() if key != (0, "samples")}

    return _grade(fixture, learner, (1, epochs), names, "your function")


# ---- Reading a learner's long table -------------------------------------------------

# The columns a learner's table must have; step and layer it may leave out.
REQUIRED_COLUMNS = ["epoch", "iteration", "quantity", "row", "col", "value"]
# A number as both languages read it: decimal, maybe with an exponent.
_DECIMAL = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")
# Text that holds something other than what decimals are made of.
_NOT_DECIMAL = re.compile(r"[^0-9eE+\-.\n]")
# A cell in double quotes, or with spaces around it.
_QUOTED_OR_SPACED = re.compile(r'"|^[ \t]|[ \t]$', flags=re.MULTILINE)
# Values that are numbers but not finite: they never agree.
_NOT_FINITE = {
    "nan": np.nan,
    "na": np.nan,
    "inf": np.inf,
    "+inf": np.inf,
    "-inf": -np.inf,
    "infinity": np.inf,
    "+infinity": np.inf,
    "-infinity": -np.inf,
}


def _as_fixture(fixture):
    return fixture if isinstance(fixture, Fixture) else load_fixture(fixture)


def _read_csv(path, max_bytes):
    """The header, the columns as text, and the line of each row of a CSV file.

    Fields are separated by commas; a field in double quotes loses them; blank lines and
    a byte-order mark are skipped, a carriage return before a newline too.
    """
    data = read_file(path, max_bytes)
    if b"\x00" in data:
        raise FixtureError(path, None, "is not text: it holds a NUL byte", category="file")
    try:
        text = data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError:
        raise FixtureError(path, None, "is not UTF-8 text", category="file") from None
    lines = text.split("\n")
    kept = [i for i, line in enumerate(lines) if line.removesuffix("\r").strip(" \t")]
    if not kept:
        raise FixtureError(
            path, None, "is empty; a long table has a header and rows", category="structure"
        )
    header = [_unquote(part) for part in lines[kept[0]].removesuffix("\r").split(",")]
    body = [lines[i].removesuffix("\r") for i in kept[1:]]
    numbers = np.array(kept[1:], dtype=int) + 1
    fields = np.fromiter((line.count(",") for line in body), dtype=int, count=len(body)) + 1
    if (fields != len(header)).any():
        i = int(np.argmax(fields != len(header)))
        raise FixtureError(
            path,
            f"line {numbers[i]}",
            f"has {fields[i]} fields, but the header has {len(header)}",
            category="structure",
        )
    flat = np.array(",".join(body).split(","), dtype=object) if body else np.array([], object)
    cells = []
    for j in range(len(header)):
        column = flat[j :: len(header)]
        if _QUOTED_OR_SPACED.search("\n".join(column)):
            column = np.array([_unquote(cell) for cell in column], dtype=object)
        cells.append(column)
    return header, cells, numbers


def _unquote(text):
    """A field without the spaces and tabs around it, and without its double quotes."""
    text = text.strip(" \t")
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return text[1:-1].strip(" \t")
    return text


def _cell_numbers(cells, empty_allowed, not_finite_allowed):
    """Cells as floats, and which cells are not numbers.

    Empty cells (and NA) are NaN where ``empty_allowed``; NaN, NA and Inf (in any case) are
    numbers where ``not_finite_allowed``. A table's numeric column is taken as it is, NaN
    as empty.
    """
    cells = np.asarray(cells)
    if cells.dtype.kind in "biuf":
        numbers = cells.astype(float)
        fine = np.isfinite(numbers) | (np.isnan(numbers) & empty_allowed) | not_finite_allowed
        return numbers, ~fine
    text = np.array([str(cell) for cell in cells], dtype=object)
    if not _NOT_DECIMAL.search("\n".join(text)):
        try:  # every cell made of digits, signs, points and exponents: the quick way
            return text.astype(float), np.zeros(len(text), dtype=bool)
        except ValueError:
            pass
    decimal = np.array([_DECIMAL.fullmatch(cell) is not None for cell in text], dtype=bool)
    lower = np.array([cell.lower() for cell in text], dtype=object)
    empty = (text == "") | ((lower == "na") & empty_allowed)
    special = ~decimal & ~empty & np.isin(lower, list(_NOT_FINITE))
    numbers = np.full(len(text), np.nan)
    numbers[decimal] = text[decimal].astype(float)
    numbers[special] = [_NOT_FINITE[cell] for cell in lower[special]]
    fine = decimal | (empty & empty_allowed) | (special & not_finite_allowed)
    return numbers, ~fine


def _first_problem(problems):
    """The first problem of (row, position, location, problem): by row, then position."""
    return min(problems, key=lambda problem: problem[:2])


def _read_table(fixture, header, cells, lines, source, where):
    """Check a learner's long table, and resolve each row's layer, quantity and iteration.

    Returns
    -------
    dict of arrays, one entry per row: ``epoch``, ``iteration``, ``g`` (the iteration's
    number in the run, from 1), ``layer``, ``quantity`` (nnscratch's), ``key`` (the
    position of (layer, quantity) in the order of the run), ``row``, ``col``, ``value``,
    ``rows`` (the rows the quantity has in that iteration; a bias's may be 1 too),
    ``cols``; and ``names``: the learner's name of each (layer, quantity).
    """
    import pandas as pd  # here, not at the top: import nnscratch stays quick without it

    def fail(location, problem, category="value"):
        raise FixtureError(source, location, problem, category=category)

    head = "line 1" if where == "line" else "the header"
    columns = ", ".join(TABLE_COLUMNS)
    for position, name in enumerate(header, start=1):
        if name not in TABLE_COLUMNS:
            fail(
                f"{head}, column {position}",
                f"'{name}' is not a column of the long table; its columns are {columns} "
                "(step and layer may be left out)",
                "structure",
            )
        if header.index(name) < position - 1:
            fail(f"{head}, column {position}", f"'{name}' appears more than once", "structure")
    for name in REQUIRED_COLUMNS:
        if name not in header:
            fail(
                head,
                f"has no column '{name}'; the long table's columns are {columns} "
                "(step and layer may be left out)",
                "structure",
            )
    if len(lines) == 0:
        fail(None, "has no rows after its header", "structure")

    # Each cell on its own: the first bad one, by row and then by column, is reported.
    given, parsed, problems = dict(zip(header, cells)), {}, []
    known = NNSCRATCH_NAMES + list(ARTICLE_QUANTITIES)
    for position, name in enumerate(header):
        if name == "quantity":
            codes, uniques = pd.factorize(np.array([str(cell) for cell in given[name]]))
            parsed[name] = np.asarray(uniques, dtype=object)[codes]
            bad = ~np.isin(np.asarray(uniques, dtype=object), known)[codes]
            problem = (
                f"is not a quantity nnscratch knows; nnscratch's are {', '.join(NNSCRATCH_NAMES)}"
                f"; the article's are {', '.join(ARTICLE_QUANTITIES)}"
            )
        elif name == "value":
            parsed[name], bad = _cell_numbers(given[name], False, True)
            problem = "is not a number"
        else:
            optional = name in ("step", "layer")
            numbers, bad = _cell_numbers(given[name], optional, False)
            low, high = {"step": (0, 11), "layer": (0, math.inf)}.get(name, (1, math.inf))
            whole = (numbers == np.floor(numbers)) & (numbers >= low) & (numbers <= high)
            bad |= ~(whole | (np.isnan(numbers) & optional))
            parsed[name] = numbers
            limits = f"from {low} to {high}" if high < math.inf else f"{low} or more"
            problem = f"must be a whole number, {limits}" + (", or empty" if optional else "")
        if bad.any():
            row = int(np.argmax(bad))
            problems.append((row, position, name, f"'{given[name][row]}' {problem}"))
    if problems:
        row, _, name, problem = _first_problem(problems)
        fail(f"{where} {lines[row]}, column {name}", problem)

    # Each row against the fixture: its iteration, layer, step, row and column.
    n_layers = len(fixture.layers)
    per_epoch, size, last_size = _batching(fixture)
    epoch, iteration, names = parsed["epoch"], parsed["iteration"], parsed["quantity"]
    codes, uniques = pd.factorize(names)
    quantity, implied, top = (
        np.array(column)[codes] for column in zip(*(_name_layers(fixture, n) for n in uniques))
    )
    given_layer = parsed.get("layer", np.full(len(lines), np.nan))
    layer = np.where(implied >= 0, implied, np.clip(np.nan_to_num(given_layer), 0, n_layers))
    layer = layer.astype(int)
    has_bias = np.array(
        [True] + [fixture_layer.bias is not None for fixture_layer in fixture.layers]
    )
    run_order = [(l, q) for l, q, _ in trace_steps(n_layers)]
    position = {lq: k for k, lq in enumerate(run_order)}
    samples = np.where(np.minimum(iteration, per_epoch) == per_epoch, last_size, size)
    rows_of, cols_of = _shapes(fixture, layer, quantity, samples)
    problems = []
    order = ["quantity", "epoch", "iteration", "layer", "step", "row", "col", "value"]

    def check(bad, column, problem):
        """Note the first row where ``bad`` holds; ``problem(row)`` says what is wrong."""
        if bad.any():
            row = int(np.argmax(bad))
            problems.append((row, order.index(column), column, problem(row)))

    def cell(column, row):
        return f"'{given[column][row]}'"

    check(
        (top < 1) & (quantity != "samples"),
        "quantity",
        lambda r: f"{cell('quantity', r)} belongs to a hidden layer, and {fixture.name} has none",
    )
    check(
        epoch > fixture.epochs,
        "epoch",
        lambda r: f"{cell('epoch', r)} is past the fixture's last epoch, {fixture.epochs}",
    )
    check(
        iteration > per_epoch,
        "iteration",
        lambda r: f"{cell('iteration', r)} is past the last iteration of an epoch, {per_epoch}",
    )
    given = {**given, "layer": given.get("layer", np.full(len(lines), ""))}
    free = implied < 0
    check(
        ~free & ~np.isnan(given_layer) & (given_layer != implied),
        "layer",
        lambda r: f"{cell('layer', r)} is not the layer of {names[r]}, which is {implied[r]}",
    )
    no_column = "" if "layer" in parsed else " (the table has no column layer)"
    check(
        free & (top >= 1) & np.isnan(given_layer),
        "layer",
        lambda r: f"{names[r]} needs its layer, from 1 to {top[r]}{no_column}",
    )
    check(
        free & (top >= 1) & ((given_layer < 1) | (given_layer > top)),
        "layer",
        lambda r: f"{cell('layer', r)} is out of range; {names[r]} is in layers 1 to {top[r]}",
    )
    fits = (layer >= 0) & (layer <= np.maximum(top, 0))
    check(
        fits & (quantity == "bias") & ~has_bias[layer],
        "layer",
        lambda r: f"layer {layer[r]} has no bias in {fixture.name}",
    )
    key = np.array([position.get(lq, 0) for lq in zip(layer.tolist(), quantity.tolist())])
    if "step" in parsed:
        expected_step = np.array([s for _, _, s in trace_steps(n_layers)])[key]
        check(
            fits & ~np.isnan(parsed["step"]) & (parsed["step"] != expected_step),
            "step",
            lambda r: (
                f"{cell('step', r)} is not the step of {names[r]} (layer {layer[r]}), "
                f"which is {expected_step[r]}"
            ),
        )
    # Rows and columns only where the iteration is one of the fixture's.
    known_iteration = (epoch <= fixture.epochs) & (iteration <= per_epoch)
    check(
        known_iteration & (parsed["row"] > rows_of),
        "row",
        lambda r: (
            f"{cell('row', r)} is past the last row of {names[r]} (layer {layer[r]}) "
            f"in epoch {int(epoch[r])}, iteration {int(iteration[r])}, {rows_of[r]}"
        ),
    )
    check(
        known_iteration & (parsed["col"] > cols_of),
        "col",
        lambda r: (
            f"{cell('col', r)} is past the last column of {names[r]} (layer "
            f"{layer[r]}), {cols_of[r]}"
        ),
    )
    n_samples = len(fixture.X)
    value = parsed["value"]
    check(
        (quantity == "samples")
        & ~((value == np.floor(value)) & (value >= 1) & (value <= n_samples)),
        "value",
        lambda r: (
            f"{cell('value', r)} is not a row of X: samples are whole numbers from 1 to {n_samples}"
        ),
    )
    if problems:
        row, _, column, problem = _first_problem(problems)
        fail(f"{where} {lines[row]}, column {column}", problem)

    g = (epoch.astype(int) - 1) * per_epoch + iteration.astype(int)
    row, col = parsed["row"].astype(int), parsed["col"].astype(int)
    # The same number twice.
    cell_code = ((g * len(run_order) + key) * (row.max() + 1) + row) * (col.max() + 1) + col
    _, first_of, inverse = np.unique(cell_code, return_index=True, return_inverse=True)
    original = first_of[inverse]
    if (original != np.arange(len(g))).any():
        r = int(np.argmax(original != np.arange(len(g))))
        fail(
            f"{where} {lines[r]}",
            f"repeats {where} {lines[original[r]]}: epoch {int(epoch[r])}, iteration "
            f"{int(iteration[r])}, {names[r]} (layer {layer[r]}), row {row[r]}, col {col[r]}",
            "structure",
        )
    learner_names = {}
    for k, name in zip(key, names):
        learner_names.setdefault(run_order[k], name)
    return {
        "epoch": epoch.astype(int),
        "iteration": iteration.astype(int),
        "g": g,
        "layer": layer,
        "quantity": quantity,
        "key": key,
        "row": row,
        "col": col,
        "value": parsed["value"],
        "rows": rows_of,
        "cols": cols_of,
        "names": learner_names,
    }


def _name_layers(fixture, name):
    """A name's quantity (nnscratch's), the layer it implies (-1: none, the table says),
    and the highest layer it may be in."""
    n_layers = len(fixture.layers)
    quantity, role = ARTICLE_QUANTITIES.get(name, (name, None))
    if role == "output" or quantity in ("error", "loss"):
        return quantity, n_layers, n_layers
    if quantity == "samples":
        return quantity, 0, 0
    top = n_layers - 1 if role == "hidden" or quantity == "error_at_layer" else n_layers
    return quantity, 1 if role == "hidden" and n_layers == 2 else -1, top


def _batching(fixture):
    """Iterations per epoch, the batch size, and the size of an epoch's last batch."""
    n = fixture.X.shape[0]
    size = min(fixture.batch_size or n, n)
    per_epoch = math.ceil(n / size)
    return per_epoch, size, n - (per_epoch - 1) * size


def _shapes(fixture, layer, quantity, samples):
    """The rows and columns of (layer, quantity) in an iteration of ``samples`` samples,
    elementwise over arrays. A bias has one row per sample at most (one is usual)."""
    inputs = np.array([1] + [l.weights.shape[0] for l in fixture.layers])
    units = np.array([1] + [l.weights.shape[1] for l in fixture.layers])
    rows = np.where(quantity == "weights", inputs[layer], np.where(quantity == "loss", 1, samples))
    cols = np.where(np.isin(quantity, ["samples", "loss"]), 1, units[layer])
    return rows, cols


class _Series(NamedTuple):
    """One quantity of one layer, as a learner (or nnscratch) recorded it."""

    gs: np.ndarray
    """The iterations recorded, numbered over the run from 1, in order."""
    block: np.ndarray
    """Shape (iterations, rows, cols); rows past those recorded are NaN."""
    rows: np.ndarray
    """The rows recorded in each iteration."""


def _record_table(fixture, table, source):
    """The learner's numbers by (layer, quantity), each a _Series; every quantity recorded
    in an iteration must be whole, and a bias have one row or one per sample."""
    n_layers = len(fixture.layers)
    run_order = [(l, q) for l, q, _ in trace_steps(n_layers)]
    g, key, row, col = table["g"], table["key"], table["row"], table["col"]
    # Each (iteration, quantity) recorded, in the order of the run, and its cells.
    codes, group_of, counts = np.unique(
        g * len(run_order) + key, return_inverse=True, return_counts=True
    )
    groups = np.stack([codes // len(run_order), codes % len(run_order)], axis=1)
    rows = np.zeros(len(groups), dtype=int)
    np.maximum.at(rows, group_of, row)
    expected_rows = np.zeros(len(groups), dtype=int)
    expected_rows[group_of] = table["rows"]
    cols = np.zeros(len(groups), dtype=int)
    cols[group_of] = table["cols"]
    bias = np.array([run_order[k][1] == "bias" for k in groups[:, 1]], dtype=bool)
    bad_rows = bias & (rows != 1) & (rows != expected_rows)
    full = np.where(bias, rows, expected_rows)
    bad = bad_rows | (counts != full * cols)
    if bad.any():
        i = int(np.argmax(bad))
        epoch, iteration = _epoch_iteration(fixture, groups[i, 0])
        l, q = run_order[groups[i, 1]]
        location = f"epoch {epoch}, iteration {iteration}, {table['names'][l, q]} (layer {l})"
        if bad_rows[i]:
            raise FixtureError(
                source,
                location,
                f"has {rows[i]} rows; a bias has 1 row, or one per sample ({expected_rows[i]})",
                category="shape",
            )
        present = np.zeros((full[i], cols[i]), dtype=bool)
        mine = group_of == i
        present[row[mine] - 1, col[mine] - 1] = True
        r, c = np.argwhere(~present)[0]
        raise FixtureError(
            source,
            location,
            f"row {r + 1}, col {c + 1} is missing; a quantity recorded in an iteration needs "
            "all its numbers",
            category="shape",
        )
    record = {}
    for k in np.unique(key):
        mine = key == k
        gs, position = np.unique(g[mine], return_inverse=True)
        block = np.full((len(gs), int(row[mine].max()), int(col[mine].max())), np.nan)
        block[position.reshape(-1), row[mine] - 1, col[mine] - 1] = table["value"][mine]
        recorded_rows = np.zeros(len(gs), dtype=int)
        np.maximum.at(recorded_rows, position.reshape(-1), row[mine])
        record[run_order[k]] = _Series(gs, block, recorded_rows)
    return record


def _epoch_iteration(fixture, g):
    per_epoch = _batching(fixture)[0]
    return int((g - 1) // per_epoch + 1), int((g - 1) % per_epoch + 1)


def _within(series, first, last, fixture):
    """The part of a _Series in epochs ``first`` to ``last``."""
    per_epoch = _batching(fixture)[0]
    keep = (series.gs > (first - 1) * per_epoch) & (series.gs <= last * per_epoch)
    return _Series(series.gs[keep], series.block[keep], series.rows[keep])


def _stack(per_g):
    """A _Series from {iteration: matrix}."""
    gs = np.array(sorted(per_g), dtype=int)
    matrices = [per_g[g] for g in gs]
    rows = np.array([m.shape[0] for m in matrices], dtype=int)
    block = np.full((len(gs), int(rows.max()), matrices[0].shape[1]), np.nan)
    for i, matrix in enumerate(matrices):
        block[i, : len(matrix)] = matrix
    return _Series(gs, block, rows)


# ---- Driving a learner's function ----------------------------------------------------

# What check_step can give a learner's function, by name.
_GIVEN = ["X", "y", "lr", "learning_rate"]
_ARTICLE_NETWORK = ["wh", "bh", "wout", "bout"]


def _arguments(fixture, one_iteration):
    """The names of the arguments the learner's function takes, checked against the
    fixture."""
    if not callable(one_iteration):
        raise InputError(
            "one_iteration",
            f"must be a function; got {describe(one_iteration)}",
            category="structure",
        )
    wanted = []
    for parameter in inspect.signature(one_iteration).parameters.values():
        if parameter.name in [*_GIVEN, *_ARTICLE_NETWORK, "layers"]:
            wanted.append(parameter.name)
        elif parameter.default is inspect.Parameter.empty and parameter.kind not in (
            inspect.Parameter.VAR_POSITIONAL,
            inspect.Parameter.VAR_KEYWORD,
        ):
            raise InputError(
                "one_iteration",
                f"asks for '{parameter.name}', which nnscratch does not give; it gives "
                "X, y, lr (or learning_rate), and the network as wh, bh, wout, bout (the "
                "article's) or as layers (nnscratch's)",
                category="structure",
            )
    article = [name for name in wanted if name in _ARTICLE_NETWORK]
    if "layers" in wanted:
        if article:
            raise InputError(
                "one_iteration",
                "takes layers, nnscratch's network: it cannot take the article's wh, bh, "
                "wout, bout too",
                category="structure",
            )
        return wanted
    if len(fixture.layers) != 2:
        raise InputError(
            "one_iteration",
            f"takes the article's network (wh, wout), which has one hidden layer, but "
            f"{fixture.name} has {len(fixture.layers) - 1}: take layers instead",
            category="structure",
        )
    needed = _network_names(fixture, True)
    if sorted(article) != sorted(needed):
        raise InputError(
            "one_iteration",
            f"must take {', '.join(needed)}, the network of {fixture.name}",
            category="structure",
        )
    return wanted


def _network_names(fixture, article):
    """The names a learner's function takes the network by: nnscratch's layers, or the
    article's wh, bh, wout, bout (without the biases a fixture's layers do not have)."""
    if not article:
        return ["layers"]
    return [
        name
        for name, layer in zip(_ARTICLE_NETWORK, [fixture.layers[0]] * 2 + [fixture.layers[1]] * 2)
        if name[0] == "w" or layer.bias is not None
    ]


def _first_params(fixture, article):
    """The network the learner's function is first given: a bias as a 1 x units matrix."""
    if not article:
        return {"layers": list(fixture.layers)}
    params = {}
    for (weights, bias), layer in zip((("wh", "bh"), ("wout", "bout")), fixture.layers):
        params[weights] = layer.weights.copy()
        if layer.bias is not None:
            params[bias] = layer.bias[np.newaxis, :].copy()
    return params


def _returned_matrix(value, name):
    """What a learner's function returned for ``name``, as a 2-d float array: a number is
    1 x 1, a vector one row."""
    try:
        matrix = np.array(value, dtype=float)
    except (TypeError, ValueError):
        raise InputError(
            "one_iteration",
            f"returned {name} as {describe(value)}, not numbers",
            category="structure",
        ) from None
    if matrix.ndim > 2:
        raise InputError(
            "one_iteration",
            f"returned {name} with {matrix.ndim} dimensions; at most 2",
            category="shape",
        )
    return matrix.reshape(1, -1) if matrix.ndim < 2 else matrix


def _read_result(fixture, result, article, n, names):
    """The network and the numbers of one iteration of a learner's function."""
    if not isinstance(result, Mapping):
        raise InputError(
            "one_iteration",
            "must return what it computed by name (a dict in Python, a named list in R); "
            f"it returned {describe(result)}",
            category="structure",
        )
    n_layers = len(fixture.layers)
    numbers, params = {}, {}
    for name, value in result.items():
        if article and name in ARTICLE_QUANTITIES:
            quantity, role = ARTICLE_QUANTITIES[name]
            matrices = {1 if role == "hidden" else n_layers: value}
            if name in _ARTICLE_NETWORK:
                params[name] = _returned_matrix(value, name)
        elif not article and name == "layers":
            params[name] = _layers_returned(value, n_layers)
            for quantity in ("weights", "bias"):
                matrices = {l: getattr(layer, quantity) for l, layer in enumerate(value, 1)}
                numbers.update(_check_shapes(fixture, quantity, n, names, quantity, matrices))
            continue
        elif not article and name in NNSCRATCH_NAMES and name != "samples":
            quantity = name
            if name in ("error", "loss"):
                matrices = {n_layers: value}
            else:
                matrices = dict(enumerate(_layers_returned(value, n_layers, name), 1))
        else:
            raise InputError(
                "one_iteration",
                f"returned '{name}', which is not "
                + ("one of the article's names" if article else "one of nnscratch's names")
                + ", as the network it takes is",
                category="value",
            )
        numbers.update(_check_shapes(fixture, quantity, n, names, name, matrices))
    missing = [name for name in _network_names(fixture, article) if name not in params]
    if missing:
        raise InputError(
            "one_iteration",
            f"must return the updated {', '.join(missing)}, which its next call is given",
            category="structure",
        )
    return params, numbers


def _layers_returned(value, n_layers, name="layers"):
    """A list with one entry per layer, as a learner's function returned it."""
    if not isinstance(value, (list, tuple)) or len(value) != n_layers:
        raise InputError(
            "one_iteration",
            f"returned {name} as {describe(value)}; nnscratch's is a list with one entry per "
            f"layer ({n_layers})",
            category="structure",
        )
    return list(value)


def _check_shapes(fixture, quantity, n, names, name, matrices):
    """{(layer, quantity): matrix} of what a learner's function returned under ``name``,
    each matrix checked against the shape nnscratch's has."""
    numbers = {}
    for l, value in matrices.items():
        if value is None:
            continue
        matrix = _returned_matrix(value, name)
        rows, cols = _shapes(fixture, np.array([l]), np.array([quantity]), np.array([n]))
        fits = matrix.shape[1] == cols[0] and (
            matrix.shape[0] == rows[0] or (quantity == "bias" and matrix.shape[0] == 1)
        )
        if not fits:
            raise InputError(
                "one_iteration",
                f"returned {name} (layer {l}) of {matrix.shape[0]} x {matrix.shape[1]}; "
                f"nnscratch's is {rows[0] if quantity != 'bias' else 1} x {cols[0]}",
                category="shape",
            )
        names.setdefault((l, quantity), name)
        numbers[l, quantity] = matrix
    return numbers


# ---- Running the fixture: nnscratch's iteration, and the catalogue's -------------------


def _run_epoch(fixture, params, state, iterate, epoch):
    """One epoch of the fixture's run: its batches as train takes them (step 0), and
    ``iterate(params, X, y, lr) -> (params, numbers)`` on each.

    Returns the params and the generator's state after it, and {iteration number in the
    run: numbers}, the batch's samples (from 1) among them.
    """
    f = fixture
    per_epoch, size, _ = _batching(f)
    epoch_batches, state = batches(f.X, f.y, size, f.shuffle, state)
    found = {}
    for i, batch in enumerate(epoch_batches, start=1):
        params, numbers = iterate(params, batch.X, batch.y, f.lr)
        samples = np.arange(1, len(f.X) + 1)[batch.rows]
        found[(epoch - 1) * per_epoch + i] = {**numbers, (0, "samples"): samples[:, np.newaxis]}
    return params, state, found


def _run_to(fixture, run, iterate, wanted, leap):
    """Drive a run on to the iterations ``wanted`` (numbered over the run) and return their
    numbers; epochs with none of them are leapt over with train when ``leap``."""
    f = fixture
    per_epoch = _batching(f)[0]
    found = {}
    for epoch in sorted({(g - 1) // per_epoch + 1 for g in wanted}):
        if leap and epoch - 1 > run["epoch"]:
            result = train(
                run["params"],
                f.X,
                f.y,
                f.lr,
                epoch - 1 - run["epoch"],
                batch_size=f.batch_size,
                shuffle=f.shuffle,
                seed=run["state"],
            )
            run["params"], run["state"] = result.layers, result.state
        for now in range(run["epoch"] + 1, epoch + 1) if not leap else [epoch]:
            run["params"], run["state"], numbers = _run_epoch(
                f, run["params"], run["state"], iterate, now
            )
            found.update({g: values for g, values in numbers.items() if g in wanted})
        run["epoch"] = epoch
    return found


def _reference_step(layers, X, y, lr):
    """nnscratch's iteration: step, and its numbers by (layer, quantity)."""
    now = step(layers, X, y, lr)
    return now.layers, _numbers_by_layer(step_values(now), now.loss)


def _numbers_by_layer(values, loss):
    """{(layer, quantity): matrix} from {quantity: one matrix per layer (or None)}."""
    numbers = {
        (l, quantity): np.atleast_2d(matrix)
        for quantity, per_layer in values.items()
        for l, matrix in enumerate(per_layer, start=1)
        if matrix is not None
    }
    numbers[len(values["weights"]), "loss"] = np.array([[loss]])
    return numbers


def _bias_rows(bias, n, by_column):
    """A bias as one row per sample: repeated by row, or (bias-by-column) filled by column
    as R's matrix(rep(b, n), nrow = n) fills it; a bias that is already one row per sample
    stays as it is."""
    if bias is None:
        return 0.0
    if bias.ndim == 2:  # a learner's loop could not add it to a batch of another size
        return bias if len(bias) == n else np.full((n, bias.shape[1]), np.nan)
    if by_column:
        return np.tile(bias, n).reshape((n, len(bias)), order="F")
    return np.tile(bias, (n, 1))


@np.errstate(over="ignore", invalid="ignore")  # a mistaken run may diverge
def _mistaken_step(layers, X, y, lr, mistake):
    """One iteration as a learner's loop with the mistake ``mistake`` computes it.

    The catalogue's code: the article's steps written out once more on purpose, each
    mistake where a learner makes it (nnscratch's own iteration is :func:`step`). A bias
    is a vector, or, once bias-per-sample moved it, one row per sample.
    """
    n, n_layers = len(X), len(layers)
    layer_input, activation = [], []
    for l, layer in enumerate(layers):
        previous = X if l == 0 else activation[l - 1]
        bias = _bias_rows(layer.bias, n, mistake == "bias-by-column")
        layer_input.append(previous.dot(layer.weights) + bias)
        activation.append(ACTIVATIONS[layer.activation].f(layer_input[l]))
    error = activation[-1] - y if mistake == "sign-flipped" else y - activation[-1]
    loss = float(np.vdot(error, error)) / error.size / 2
    slope = [
        ACTIVATIONS[layer.activation].slope(z if mistake == "slope-from-input" else a)
        for layer, z, a in zip(layers, layer_input, activation)
    ]
    delta, error_at_layer = [None] * n_layers, [None] * n_layers
    delta[-1] = error * slope[-1] * (lr if mistake == "lr-twice" else 1)
    for l in range(n_layers - 2, -1, -1):
        above = layers[l + 1].weights
        if mistake == "update-before-backprop":  # the layer above has moved already
            above = above + lr * activation[l].T.dot(delta[l + 1])
        error_at_layer[l] = delta[l + 1].dot(above.T)
        delta[l] = error_at_layer[l] * slope[l]
    rate = lr / n if mistake == "mean-not-sum" else lr
    updated = []
    for l, layer in enumerate(layers):
        previous = X if l == 0 else activation[l - 1]
        weights = layer.weights + rate * previous.T.dot(delta[l])
        bias = layer.bias
        if bias is None or mistake == "missing-bias-update":
            pass
        elif mistake == "bias-per-sample":
            bias = _bias_rows(bias, n, False) + lr * delta[l].sum(axis=1, keepdims=True)
        elif mistake == "hidden-bias-output-delta" and l < n_layers - 1:
            bias = bias + lr * delta[-1].sum()
        elif mistake == "no-lr-on-bias":
            bias = bias + delta[l].sum(axis=0)
        else:
            bias = bias + rate * delta[l].sum(axis=0)
        updated.append(Layer(weights, bias, layer.activation))
    values = {
        "layer_input": layer_input,
        "activation": activation,
        "error": [None] * (n_layers - 1) + [error],
        "slope": slope,
        "delta": delta,
        "error_at_layer": error_at_layer,
        "weights": [layer.weights for layer in updated],
        "bias": [layer.bias for layer in updated],
    }
    return updated, _numbers_by_layer(values, loss)


# ---- Comparing, and the answer ---------------------------------------------------------


def _compare(mine, expected, X):
    """The first divergence of the learner's trace from the expected one, or None.

    The one place where the grader decides whether numbers agree: the harness's
    comparison and tolerance per quantity (:func:`nnscratch.compare.compare_traces`).
    """
    return compare.compare_traces(mine, expected, X, names=("yours", "nnscratch")).first


def _tolerance():
    """The harness's rule, as the answer states it."""
    return TOLERANCE_RULE


# The rule, as both languages' answers state it.
TOLERANCE_RULE = (
    "|got - expected| <= ulps * eps * scale, per quantity (nnscratch.compare.TOLERANCES)"
)


def _traces(fixture, keys, series, expected):
    """The learner's numbers of ``keys`` (all recorded in the same iterations) laid over
    the expected ones, and the expected ones, as two Traces of every quantity for
    :func:`_compare`: what the learner did not record agrees by construction.

    The expected bias, one row, is compared with every row of the learner's; rows a
    learner's bias did not have in an iteration hold the expected numbers in both.
    """
    n_layers = len(fixture.layers)
    per_epoch, size, _ = _batching(fixture)
    gs = series[keys[0]].gs
    samples = np.zeros((len(gs), size), dtype=int)
    for i, g in enumerate(gs):
        samples[i, : len(expected[g][0, "samples"])] = expected[g][0, "samples"][:, 0]
    loss = np.array([expected[g][n_layers, "loss"][0, 0] for g in gs])
    epoch, iteration = (gs - 1) // per_epoch + 1, (gs - 1) % per_epoch + 1
    made = Trace(epoch, iteration, samples, loss, [{} for _ in range(n_layers)])
    for l, quantity, _ in trace_steps(n_layers):
        key = (l, quantity)
        if quantity in ("samples", "loss") or key not in expected[gs[0]]:
            continue
        first = expected[gs[0]][key]
        # A bias the learner keeps per sample gets a row per sample of a batch, as the
        # per-sample quantities have: noise_scales adds each to its own sample's input.
        per_sample = key in keys and series[key].block.shape[1] > 1
        rows = {"weights": len(first), "bias": size if per_sample else 1}
        block = np.full((len(gs), rows.get(quantity, size), first.shape[1]), np.nan)
        for i, g in enumerate(gs):
            matrix = expected[g][key]
            if quantity == "bias" and len(matrix) != block.shape[1]:  # one row for many
                matrix = np.tile(matrix[:1], (block.shape[1], 1))
            block[i, : len(matrix)] = matrix
        made.layers[l - 1][quantity] = block
    mine = dataclasses.replace(
        made,
        samples=samples.copy(),
        loss=loss.copy(),
        layers=[{q: block.copy() for q, block in layer.items()} for layer in made.layers],
    )
    for key in keys:
        l, quantity = key
        theirs = series[key]
        recorded = np.arange(theirs.block.shape[1])[np.newaxis, :] < theirs.rows[:, np.newaxis]
        if quantity == "samples":
            mine.samples[:, : theirs.block.shape[1]][recorded] = theirs.block[:, :, 0][recorded]
        elif quantity == "loss":
            mine.loss[:] = theirs.block[:, 0, 0]
        else:
            mine.layers[l - 1][quantity][:, : theirs.block.shape[1]][recorded] = theirs.block[
                recorded
            ]
    return mine, made


def _first_divergence(fixture, series, expected, names):
    """The learner's first divergence from ``expected`` ({iteration: numbers}), in run
    order, over the quantities in ``series``, or None."""
    run_order = [(l, q) for l, q, _ in trace_steps(len(fixture.layers))]
    groups = {}
    for key in sorted(series, key=run_order.index):
        if len(series[key].gs):
            groups.setdefault(tuple(series[key].gs), []).append(key)
    found = []
    for keys in groups.values():
        d = _compare(*_traces(fixture, keys, series, expected), fixture.X)
        if d is not None:
            found.append(
                Divergence(
                    d.epoch,
                    d.iteration,
                    d.step,
                    d.layer,
                    d.quantity,
                    names.get((d.layer, d.quantity), d.quantity),
                    d.row,
                    d.col,
                    d.second,
                    d.first,
                )
            )
    if not found:
        return None
    return min(found, key=lambda d: _position(fixture, d))


def _position(fixture, d):
    """Where a divergence is in the order of the run, as one number."""
    run_order = [(l, q) for l, q, _ in trace_steps(len(fixture.layers))]
    g = (d.epoch - 1) * _batching(fixture)[0] + d.iteration
    return g * len(run_order) + run_order.index((d.layer, d.quantity))


def _windows(last_epoch):
    """The epochs compared together, ten times more each time: 1, 2 to 10, 11 to 100, ..."""
    first, last = 1, 1
    while first <= last_epoch:
        yield first, min(last, last_epoch)
        first, last = last + 1, last * 10


def _grade(fixture, learner, epochs, names, source):
    """Compare the learner's numbers in ``epochs`` (first, last), which ``learner(first,
    last)`` gives window by window, with nnscratch's; then diagnose the first divergence.
    The answer names the epochs of the iterations compared."""
    run_order = [(l, q) for l, q, _ in trace_steps(len(fixture.layers))]
    reference = {"params": fixture.layers, "state": fixture.seed, "epoch": 0}
    compared, divergence, numbers = [], None, 0
    for first, last in _windows(epochs[1]):
        series = {key: s for key, s in learner(first, last).items() if len(s.gs)}
        if not series:
            continue
        wanted = set(np.concatenate([s.gs for s in series.values()]).tolist())
        expected = _run_to(fixture, reference, _reference_step, wanted, leap=True)
        divergence = _first_divergence(fixture, series, expected, names)
        if divergence is not None:
            g = (divergence.epoch - 1) * _batching(fixture)[0] + divergence.iteration
            series = {key: _until(s, g) for key, s in series.items()}
        compared.append(series)
        numbers += sum(int(np.sum(s.rows)) * s.block.shape[2] for s in series.values())
        if divergence is not None:
            break
    recorded = sorted({key for series in compared for key in series}, key=run_order.index)
    all_gs = np.concatenate([s.gs for c in compared for s in c.values()])
    per_epoch = _batching(fixture)[0]
    # The epochs of the iterations compared, the first to the last (up to the divergence).
    epochs = tuple(int((g - 1) // per_epoch + 1) for g in (all_gs.min(), all_gs.max()))
    steps = {(l, q): s for l, q, s in trace_steps(len(fixture.layers))}
    answer = Answer(
        fixture=fixture.name,
        source=source,
        recorded=[(names.get(key, key[1]), key[0], key[1], steps[key]) for key in recorded],
        notes=_notes(fixture, compared, names),
        epochs=epochs,
        numbers=numbers,
        tolerance=_tolerance(),
        divergence=divergence,
    )
    if divergence is None:
        return answer
    g = (divergence.epoch - 1) * per_epoch + divergence.iteration
    at = run_order.index((divergence.layer, divergence.quantity))
    answer.agreed = [
        _agreed(names.get(key, key[1]), *key)
        for key in recorded
        if run_order.index(key) < at and any(g in c[key].gs for c in compared if key in c)
    ]
    answer.iterations_before = len(np.unique(all_gs[all_gs < g]))
    answer.diagnosis = _diagnose(fixture, compared, divergence, names)
    return answer


def _until(series, g):
    keep = series.gs <= g
    return _Series(series.gs[keep], series.block[keep], series.rows[keep])


def _diagnose(fixture, compared, divergence, names):
    """The ids of MISTAKES whose run, from the fixture's initial network, gives the
    learner's numbers up to and including the divergence."""
    found = []
    for mistake in MISTAKES:
        run = {"params": fixture.layers, "state": fixture.seed, "epoch": 0}

        def iterate(layers, X, y, lr, mistake=mistake):
            return _mistaken_step(layers, X, y, lr, mistake)

        first = None
        for series in compared:
            wanted = set(np.concatenate([s.gs for s in series.values()]).tolist())
            made = _run_to(fixture, run, iterate, wanted, leap=False)
            first = _first_divergence(fixture, series, made, names)
            if first is not None:
                break
        if first is None or _position(fixture, first) > _position(fixture, divergence):
            found.append(mistake)
    return found


def _notes(fixture, compared, names):
    """How the learner's shapes were read, where they are not nnscratch's."""
    notes = []
    for (l, quantity), name in names.items():
        rows = [c[(l, quantity)].rows for c in compared if (l, quantity) in c]
        if quantity == "bias" and rows and np.concatenate(rows).max() > 1:
            units = fixture.layers[l - 1].weights.shape[1]
            notes.append(
                f"{name} has one row per sample, as the article's R listing keeps it; "
                f"nnscratch keeps one row (1 x {units}), and each of yours is compared with it"
            )
    return notes


def _named(name, quantity):
    """A learner's name with nnscratch's, where they differ."""
    return name if name == quantity else f"{name} (nnscratch's {quantity})"


def _agreed(name, layer, quantity):
    """A quantity that agreed, as the answer lists it: the learner's name, with the layer
    where the name does not say it."""
    return f"{quantity} {layer}" if name == quantity else name


def _recorded(name, layer, quantity, step):
    """A quantity recorded, as the answer lists it: the learner's name, nnscratch's and
    the layer."""
    return f"{quantity} {layer}" if name == quantity else f"{name} ({quantity} {layer})"


def _format_value(x):
    """A number in an answer: 12 significant digits, the same in both languages."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Inf" if x > 0 else "-Inf"
    return f"{x:.12g}"
