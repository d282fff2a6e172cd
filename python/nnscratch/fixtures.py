"""Files: fixtures, which hold a network, its data and how to train it; trace CSVs.

The fixture format is ``nnscratch-fixture/1``, described by ``fixtures/schema.json``.
Every double is written so that it reads back exactly, here and in R, and every file
is written under a temporary name and renamed into place.
"""

import itertools
import json
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .checks import (
    FixtureError,
    InputError,
    check_boolean,
    check_seed,
    check_training,
    check_whole,
    describe,
    format_numbers,
)
from .files import TraceCSV, read_file, write_atomically
from .network import Layer, describe_network, train
from .trace import stored_blocks, trace_quantities

FORMAT = "nnscratch-fixture/1"
FIELDS = ["format", "name", "description", "X", "y", "layers", "lr", "epochs"]
OPTIONAL_FIELDS = ["batch_size", "shuffle", "seed", "expected"]
LAYER_FIELDS = ["weights", "bias", "activation"]
EXPECTED_FIELDS = ["untrained_half_squared_error", "decimals"]

# JSON nesting a file may have: a fixture needs 5 (the rows of a layer's weights).
# Deeper is refused before parsing, in both languages, before either parser's own limit.
MAX_DEPTH = 64

_PACKAGE = Path(__file__).resolve().parent
#: The files shipped with nnscratch: ``fixtures/`` and ``r/nnscratch.R`` in the installed
#: wheel's ``nnscratch/data``, or, in an editable install, in the checkout itself.
SHIPPED = _PACKAGE / "data" if (_PACKAGE / "data" / "fixtures").is_dir() else _PACKAGE.parents[1]
FIXTURE_FOLDER = SHIPPED / "fixtures"


@dataclass
class Fixture:
    """A network, its data and its training settings (shown in a few lines).

    Attributes
    ----------
    name, description : str
    X : ndarray of shape (n_samples, n_features)
    y : ndarray of shape (n_samples, n_outputs)
    layers : list of Layer
        The initial network.
    lr : float
    epochs : int
    batch_size : int or None
        Samples per update; None is full batch.
    shuffle : bool
        Shuffle the samples before each epoch.
    seed : int or None
        The Lehmer generator's first state, for shuffling.
    expected : dict or None
        Values the fixture's network must give, checked by the tests of both
        languages: ``untrained_half_squared_error`` (ndarray of y's shape), the
        (y - output)^2 / 2 of the initial network, to ``decimals`` decimals.
    """

    name: str
    description: str
    X: np.ndarray
    y: np.ndarray
    layers: list
    lr: float
    epochs: int
    batch_size: int | None = None
    shuffle: bool = False
    seed: int | None = None
    expected: dict | None = None

    def batching(self):
        """The keyword arguments of :func:`train` that say how to take the samples."""
        return {"batch_size": self.batch_size, "shuffle": self.shuffle, "seed": self.seed}

    def __repr__(self):
        """A few lines, the same as R's print of an nn_fixture."""
        f = self
        batches = "full batch" if f.batch_size is None else f"batches of {f.batch_size}"
        shuffled = f", shuffled (seed {f.seed})" if f.shuffle else ""
        return "\n".join(
            [
                f"Fixture {f.name}: X {f.X.shape[0]} x {f.X.shape[1]}, "
                f"y {f.y.shape[0]} x {f.y.shape[1]}",
                f"network {describe_network(f.layers)}; lr {f.lr:g}, epochs {f.epochs}, "
                f"{batches}{shuffled}",
                re.split("[.:] ", f.description)[0],
            ]
        )


class _JSONObject(dict):
    """A JSON object that remembers the keys it had more than once."""

    def __init__(self, pairs):
        super().__init__(pairs)
        keys = [key for key, _ in pairs]
        self.repeated = [key for key in self if keys.count(key) > 1]


def list_fixtures():
    """The names of the fixtures shipped with nnscratch, each of which :func:`load_fixture` takes.

    Returns
    -------
    list of str
        In alphabetical order (``"article"``, ...).
    """
    return sorted(path.stem for path in FIXTURE_FOLDER.glob("*.json") if path.name != "schema.json")


def load_fixture(path, max_bytes=100_000_000):
    """Read and check a fixture.

    Parameters
    ----------
    path : str or os.PathLike
        A fixture file (a regular file), or the name of a fixture shipped with nnscratch
        (:func:`list_fixtures`), such as ``"article"``, when no file has that name.
    max_bytes : int
        A larger file is refused before it is read.

    Returns
    -------
    Fixture

    Raises
    ------
    FixtureError
        If the file cannot be read, is not a regular file, is too large, is not JSON
        text that both languages read alike, or breaks the format; the message names
        the file and the field. Nothing is written.
    """
    named = isinstance(path, (str, os.PathLike)) and os.fspath(path) in list_fixtures()
    if named and not os.path.exists(path):
        path = os.fspath(FIXTURE_FOLDER / f"{os.fspath(path)}.json")
    data = read_file(path, max_bytes)
    path = os.fspath(path)
    try:
        return parse_fixture(data)
    except InputError as error:
        raise FixtureError(path, error.field, error.problem, error.category) from None


def parse_fixture(data):
    """The fixture that the bytes of a fixture file hold: what :func:`load_fixture` does
    once the file is read (and what :func:`save_fixture` checks before it writes).

    Raises
    ------
    InputError
        Naming the field, or none for the text as a whole.
    """
    return _read_fixture(parse_json(data))


def parse_json(data):
    """JSON text, checked so that Python and R read the same thing from it or refuse it
    with the same words: UTF-8 without a byte-order mark or NUL bytes, no NUL character
    and no lone surrogate escaped, nested at most :data:`MAX_DEPTH` deep.

    NaN and Infinity are not JSON, but Python writes them: they are read as numbers,
    so that the check for finite numbers names their field. Integers are read as R reads
    them (:func:`_integer`): one with 400 digits is then infinite, not an error.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        raise InputError(
            None, "starts with a byte-order mark; JSON is UTF-8 without one", category="json"
        )
    nul = data.find(b"\x00")
    if nul >= 0:
        raise InputError(
            None,
            f"has a NUL byte at byte {nul + 1}; JSON is UTF-8 text without NUL bytes "
            "(UTF-16 and UTF-32 are refused)",
            category="json",
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(None, "is not UTF-8 text", category="json") from None
    _check_escapes(data)
    _check_depth(data)
    try:
        return json.loads(text, object_pairs_hook=_JSONObject, parse_int=_integer)
    except json.JSONDecodeError as error:
        raise InputError(None, f"is not valid JSON ({error})", category="json") from None


def _integer(text):
    """An integer of JSON text as R's jsonlite reads it: a double (of infinite size past the
    largest), and -0 the integer 0, without the sign that -0.0 keeps."""
    return 0.0 if text == "-0" else float(text)


# An escape in a JSON string, or a backslash and what it escapes: \uXXXX (its code), \n, ...
_ESCAPE = re.compile(rb"\\(?:u([0-9a-fA-F]{4})|.)", re.DOTALL)


def _check_escapes(data):
    """Refuse \u0000 (R's strings end at a NUL: keys would merge) and a surrogate escape
    that is not half of a pair (no character: R and Python would read it apart)."""
    if b"\\u" not in data:
        return
    waiting = None  # a high surrogate's escape, whose low half must come right after it
    for escape in _ESCAPE.finditer(data):
        unit = None if escape.group(1) is None else int(escape.group(1), 16)
        if waiting is not None:
            if unit is not None and 0xDC00 <= unit <= 0xDFFF and escape.start() == waiting.end():
                waiting = None
                continue
            _lone_surrogate(waiting)
        if unit == 0:
            raise InputError(
                None,
                f"has \\u0000 at byte {escape.start() + 1}: a NUL character, which R's "
                "strings cannot hold; nnscratch refuses it in both languages",
                category="json",
            )
        if unit is not None and 0xD800 <= unit <= 0xDBFF:
            waiting = escape
        elif unit is not None and 0xDC00 <= unit <= 0xDFFF:
            _lone_surrogate(escape)
    if waiting is not None:
        _lone_surrogate(waiting)


def _lone_surrogate(escape):
    raise InputError(
        None,
        f"has {escape.group().decode()} at byte {escape.start() + 1}: half of a UTF-16 "
        "surrogate pair, alone, which is no character",
        category="json",
    )


# A JSON string, quotes included; and every byte but the brackets that nest.
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS = bytes(byte for byte in range(256) if byte not in b"[]{}")


def _check_depth(data):
    """Refuse nesting deeper than MAX_DEPTH, counting the brackets outside strings."""
    brackets = np.frombuffer(_STRING.sub(b"", data).translate(None, _NOT_BRACKETS), np.uint8)
    opening = (brackets == ord("[")) | (brackets == ord("{"))
    depth = np.cumsum(np.where(opening, 1, -1)).max(initial=0)
    if depth > MAX_DEPTH:
        raise InputError(
            None,
            f"is nested {depth} levels deep, more than {MAX_DEPTH}; a fixture needs 5",
            category="json",
        )


def _read_fixture(content):
    _check_object(content, None, FIELDS, OPTIONAL_FIELDS)
    if content["format"] != FORMAT:
        raise InputError("format", f"must be '{FORMAT}'", category="structure")
    for field in ("name", "description"):
        if not isinstance(content[field], str):
            raise InputError(
                field, f"must be a string; got {describe(content[field])}", category="structure"
            )
    X = _read_matrix(content["X"], "X")
    y = _read_matrix(content["y"], "y")
    if not isinstance(content["layers"], list) or not content["layers"]:
        raise InputError("layers", "must be a non-empty array of layers", category="structure")
    layers = [
        _read_layer(layer, f"layers[{number}]")
        for number, layer in enumerate(content["layers"], start=1)
    ]
    _refuse_null(content)
    batch_size, shuffle, seed = (content.get(key) for key in ("batch_size", "shuffle", "seed"))
    shuffle = False if shuffle is None else shuffle
    check_training(layers, X, y, content["lr"], content["epochs"], batch_size, shuffle, seed)
    expected = None if "expected" not in content else _read_expected(content["expected"], y)
    return Fixture(
        name=content["name"],
        description=content["description"],
        X=X,
        y=y,
        layers=layers,
        lr=float(content["lr"]),
        epochs=int(content["epochs"]),
        batch_size=None if batch_size is None else int(batch_size),
        shuffle=shuffle,
        seed=None if seed is None else int(seed),
        expected=expected,
    )


def _check_object(value, field, required, optional=()):
    """A JSON object with all the keys ``required``, maybe some ``optional``, each once."""
    allowed = required + list(optional)
    if not isinstance(value, dict):
        raise InputError(
            field, f"must be a JSON object; got {describe(value)}", category="structure"
        )
    prefix = "" if field is None else f"{field}."
    for key in value.repeated:
        raise InputError(prefix + key, "appears more than once", category="structure")
    for key in value:
        if key not in allowed:
            raise InputError(
                prefix + key,
                f"is not a field of {FORMAT} (the fields are {', '.join(allowed)})",
                category="structure",
            )
    for key in required:
        if key not in value:
            raise InputError(prefix + key, "is missing", category="structure")


def _refuse_null(content):
    """An optional setting given as null is refused by its own check: null is not absence
    (the schema allows no null there)."""
    checks = {
        "batch_size": lambda value: check_whole(value, "batch_size", 1),
        "shuffle": lambda value: check_boolean(value, "shuffle"),
        "seed": check_seed,
    }
    for key, check in checks.items():
        if key in content and content[key] is None:
            check(None)


def _read_layer(value, field):
    _check_object(value, field, LAYER_FIELDS)
    weights = _read_matrix(value["weights"], f"{field}.weights")
    bias = None if value["bias"] is None else _read_numbers(value["bias"], f"{field}.bias")
    if not isinstance(value["activation"], str):
        raise InputError(
            f"{field}.activation",
            f"must be a string; got {describe(value['activation'])}",
            category="structure",
        )
    return Layer(weights, bias, value["activation"])


def _read_expected(value, y):
    _check_object(value, "expected", EXPECTED_FIELDS)
    field = "expected.untrained_half_squared_error"
    values = _read_matrix(value["untrained_half_squared_error"], field)
    if values.shape != y.shape:
        raise InputError(
            field, f"must have the shape of y, {y.shape[0]} x {y.shape[1]}", category="shape"
        )
    check_whole(value["decimals"], "expected.decimals", 0, 17)
    return {"untrained_half_squared_error": values, "decimals": int(value["decimals"])}


def _read_matrix(value, field):
    """A JSON array of equally long rows of numbers, as a 2-d float array.

    A quick look first (every row a list of as many floats: what the parser makes of
    numbers); only when it fails are the rows read number by number, to name the first
    fault, so that a large valid file costs little more than its parsing.
    """
    if not isinstance(value, list) or not value:
        raise InputError(
            field, "must be a non-empty array of rows (arrays of numbers)", category="structure"
        )
    widths = set(map(len, value)) if set(map(type, value)) == {list} else set()
    numbers = set(map(type, itertools.chain.from_iterable(value))) if len(widths) == 1 else set()
    if numbers != {float}:
        for number, row in enumerate(value, start=1):
            _read_numbers(row, field, row=number)
            if len(row) != len(value[0]):
                raise InputError(
                    field,
                    f"row {number} has {len(row)} numbers, but row 1 has "
                    f"{len(value[0])}; every row must have the same length",
                    category="shape",
                )
    matrix = np.array(value, dtype=float)
    _check_finite_entries(matrix, field)
    return matrix


def _read_numbers(value, field, row=None):
    """A non-empty JSON array of finite numbers (row ``row`` of a matrix), as a float array."""
    container = "" if row is None else f"row {row} "
    if not isinstance(value, list) or not value:
        raise InputError(
            field, f"{container}must be a non-empty array of numbers", category="structure"
        )
    for position, number in enumerate(value, start=1):
        where = f"entry {position}" if row is None else f"row {row}, column {position}"
        if isinstance(number, bool) or not isinstance(number, (int, float)):
            raise InputError(
                field, f"{where} is {describe(number)}, not a number", category="structure"
            )
        if not math.isfinite(number):
            raise InputError(field, f"{where} is not finite; NaN and Infinity are refused")
    return np.array(value, dtype=float)


def _check_finite_entries(matrix, field):
    """Name the first entry of a matrix that is not finite, row by row."""
    faults = np.flatnonzero(~np.isfinite(matrix))
    if faults.size:
        row, column = divmod(int(faults[0]), matrix.shape[1])
        raise InputError(
            field, f"row {row + 1}, column {column + 1} is not finite; NaN and Infinity are refused"
        )


def train_fixture(fixture, trace=False, progress=None, **trace_options):
    """:func:`train` the fixture's network on its data, with all its settings.

    Parameters
    ----------
    fixture : Fixture
    trace, progress, trace_every, trace_quantities, trace_limit
        As in :func:`train`.

    Returns
    -------
    TrainResult
    """
    f = fixture
    return train(
        f.layers,
        f.X,
        f.y,
        f.lr,
        f.epochs,
        trace=trace,
        progress=progress,
        **f.batching(),
        **trace_options,
    )


def save_fixture(fixture, path):
    """Write a fixture so that every double reads back exactly, in Python and in R.

    The fixture is checked first, and the text made of it is read back as
    :func:`load_fixture` reads files: what could not be loaded is not saved, and on any
    error nothing is written. The file is written as :func:`nnscratch.files.AtomicFile`
    writes: a failed write leaves the old file as it was.

    Parameters
    ----------
    fixture : Fixture
    path : str or os.PathLike
    """
    f = fixture
    check_training(f.layers, f.X, f.y, f.lr, f.epochs, f.batch_size, f.shuffle, f.seed)
    layers = ",\n".join(
        "    {\n"
        f'      "weights": {_json_matrix(layer.weights, "      ")},\n'
        f'      "bias": {"null" if layer.bias is None else _json_row(layer.bias)},\n'
        f'      "activation": {_json_string(layer.activation, f"layers[{number}].activation")}\n'
        "    }"
        for number, layer in enumerate(f.layers, start=1)
    )
    fields = [
        ("format", _json_string(FORMAT, "format")),
        ("name", _json_string(f.name, "name")),
        ("description", _json_string(f.description, "description")),
        ("X", _json_matrix(f.X, "  ")),
        ("y", _json_matrix(f.y, "  ")),
        ("layers", f"[\n{layers}\n  ]"),
        ("lr", str(format_numbers(f.lr))),
        ("epochs", str(int(f.epochs))),
    ]
    # The optional fields, only where they differ from their default.
    if f.batch_size is not None:
        fields.append(("batch_size", str(int(f.batch_size))))
    if f.shuffle:
        fields.append(("shuffle", "true"))
    if f.seed is not None:
        fields.append(("seed", str(int(f.seed))))
    if f.expected is not None:
        fields.append(("expected", _json_expected(f.expected)))
    text = "{\n" + ",\n".join(f'  "{key}": {value}' for key, value in fields) + "\n}\n"
    data = text.encode("utf-8")
    parse_fixture(data)
    write_atomically(path, data)


def _json_string(text, field):
    if not isinstance(text, str):
        raise InputError(field, f"must be a string; got {describe(text)}", category="structure")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InputError(
            field, "holds a lone surrogate, which is no character; UTF-8 cannot write it"
        ) from None
    return json.dumps(text, ensure_ascii=False)


def _json_row(values):
    return "[" + ", ".join(format_numbers(values)) + "]"


def _json_matrix(matrix, indent):
    rows = ",\n".join(f"{indent}  {_json_row(row)}" for row in matrix)
    return f"[\n{rows}\n{indent}]"


def _json_expected(expected):
    """The ``expected`` field's text; its values are checked when the text is read back."""
    if not (isinstance(expected, dict) and set(expected) == set(EXPECTED_FIELDS)):
        raise InputError(
            "expected",
            f"must be a dict of {' and '.join(EXPECTED_FIELDS)}; got {describe(expected)}",
            category="structure",
        )
    try:
        errors = np.asarray(expected["untrained_half_squared_error"], dtype=float)
    except (TypeError, ValueError):
        errors = None
    if errors is None or errors.ndim != 2 or errors.size == 0:
        raise InputError(
            "expected.untrained_half_squared_error",
            "must be a matrix of numbers, of the shape of y",
            category="structure",
        )
    check_whole(expected["decimals"], "expected.decimals", 0, 17)
    return (
        "{\n"
        f'    "untrained_half_squared_error": {_json_matrix(errors, "    ")},\n'
        f'    "decimals": {int(expected["decimals"])}\n'
        "  }"
    )


def write_trace_csv(trace, path):
    """Write the long table of :func:`nnscratch.trace.trace_table` as CSV, every value exact.

    The header is ``epoch,iteration,step,layer,quantity,row,col,value``; values are
    written as in fixtures, so they read back to the bit. The rows are written
    iteration by iteration, as :func:`nnscratch.train` writes them with ``trace_csv``;
    R's ``nn_write_trace_csv`` writes the same header and rows for the same run.

    Parameters
    ----------
    trace : Trace
    path : str or os.PathLike
    """
    steps = trace_quantities(trace)
    with TraceCSV(path, steps) as csv:
        for k in range(len(trace.loss)):
            csv.write(trace.epoch[k], trace.iteration[k], stored_blocks(trace, steps, k))
