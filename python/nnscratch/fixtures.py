"""Files: fixtures, which hold a network, its data and how to train it; trace CSVs.

The fixture format is ``nnscratch-fixture/1``, described by ``fixtures/schema.json``.
Every double is written so that it reads back exactly, here and in R, and every file
is written under a temporary name and renamed into place.
"""

import json
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .checks import InputError, check_training, check_whole, describe, format_numbers
from .network import Layer, describe_network, train
from .trace import TABLE_COLUMNS, trace_table

FORMAT = "nnscratch-fixture/1"
FIELDS = ["format", "name", "description", "X", "y", "layers", "lr", "epochs"]
OPTIONAL_FIELDS = ["batch_size", "shuffle", "seed", "expected"]
LAYER_FIELDS = ["weights", "bias", "activation"]
EXPECTED_FIELDS = ["untrained_half_squared_error", "decimals"]

_PACKAGE = Path(__file__).resolve().parent
#: The files shipped with nnscratch: ``fixtures/`` and ``r/nnscratch.R`` in the installed
#: wheel's ``nnscratch/data``, or, in an editable install, in the checkout itself.
SHIPPED = _PACKAGE / "data" if (_PACKAGE / "data" / "fixtures").is_dir() else _PACKAGE.parents[1]
FIXTURE_FOLDER = SHIPPED / "fixtures"


class FixtureError(InputError):
    """A fixture that cannot be used; the message names the file and the field."""

    def __init__(self, path, field, problem, category="value"):
        super().__init__(field, problem, category)
        self.args = (f"{path}: {self.args[0]}",)
        self.path = path


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
        A fixture file, or the name of a fixture shipped with nnscratch
        (:func:`list_fixtures`), such as ``"article"``, when no file has that name.
    max_bytes : int
        A larger file is refused before it is read.

    Returns
    -------
    Fixture

    Raises
    ------
    FixtureError
        If the file cannot be read, is too large, is not UTF-8 JSON, or breaks the
        format; the message names the file and the field. Nothing is written.
    """
    path = os.fspath(path)
    if path in list_fixtures() and not os.path.exists(path):
        path = os.fspath(FIXTURE_FOLDER / f"{path}.json")
    try:
        size = os.path.getsize(path)
        if size > max_bytes:
            raise FixtureError(
                path,
                None,
                f"is {size} bytes, over the limit of {max_bytes} (max_bytes)",
                category="file",
            )
        with open(path, "rb") as file:
            data = file.read()
    except OSError as error:
        raise FixtureError(path, None, f"cannot be read ({error})", category="file") from None
    if data.startswith(b"\xef\xbb\xbf"):
        raise FixtureError(
            path, None, "starts with a byte-order mark; JSON is UTF-8 without one", category="json"
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise FixtureError(path, None, "is not UTF-8 text", category="json") from None
    try:
        # NaN and Infinity are not JSON, but Python writes them: read them as
        # numbers so that the check for finite numbers names their field.
        content = json.loads(text, object_pairs_hook=_JSONObject)
    except json.JSONDecodeError as error:
        raise FixtureError(path, None, f"is not valid JSON ({error})", category="json") from None
    try:
        return _read_fixture(content)
    except InputError as error:
        raise FixtureError(path, error.field, error.problem, error.category) from None


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
    """A JSON array of equally long rows of numbers, as a 2-d float array."""
    if not isinstance(value, list) or not value:
        raise InputError(
            field, "must be a non-empty array of rows (arrays of numbers)", category="structure"
        )
    for number, row in enumerate(value, start=1):
        _read_numbers(row, field, row=number)
        if len(row) != len(value[0]):
            raise InputError(
                field,
                f"row {number} has {len(row)} numbers, but row 1 has "
                f"{len(value[0])}; every row must have the same length",
                category="shape",
            )
    return np.array(value, dtype=float)


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
        if not _is_finite(number):
            raise InputError(field, f"{where} is not finite; NaN and Infinity are refused")
    return np.array(value, dtype=float)


def _is_finite(number):
    try:
        return math.isfinite(number)
    except OverflowError:  # an integer too large for a double
        return False


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

    The fixture is checked first; on any error nothing is written. The file is
    written beside ``path`` under a temporary name, then renamed over it, so a
    failed write never leaves a half-written file.

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
        f'      "activation": {_json_string(layer.activation)}\n'
        "    }"
        for layer in f.layers
    )
    fields = [
        ("format", _json_string(FORMAT)),
        ("name", _json_string(f.name)),
        ("description", _json_string(f.description)),
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
        errors = _json_matrix(f.expected["untrained_half_squared_error"], "    ")
        decimals = int(f.expected["decimals"])
        fields.append(
            (
                "expected",
                "{\n"
                f'    "untrained_half_squared_error": {errors},\n'
                f'    "decimals": {decimals}\n'
                "  }",
            )
        )
    text = "{\n" + ",\n".join(f'  "{key}": {value}' for key, value in fields) + "\n}\n"
    write_atomically(path, text)


def _json_string(text):
    return json.dumps(text, ensure_ascii=False)


def _json_row(values):
    return "[" + ", ".join(format_numbers(values)) + "]"


def _json_matrix(matrix, indent):
    rows = ",\n".join(f"{indent}  {_json_row(row)}" for row in matrix)
    return f"[\n{rows}\n{indent}]"


def write_trace_csv(trace, path):
    """Write the long table of :func:`trace_table` as CSV, every value exact.

    The header is ``epoch,iteration,step,layer,quantity,row,col,value``; values are
    written as in fixtures, so they read back to the bit. R's ``nn_write_trace_csv``
    writes the same header and rows for the same run.

    Parameters
    ----------
    trace : Trace
    path : str or os.PathLike
    """
    table = trace_table(trace)
    columns = [table[name].astype(str).to_numpy() for name in TABLE_COLUMNS[:-1]]
    columns.append(format_numbers(table["value"].to_numpy()))
    lines = [",".join(TABLE_COLUMNS), *(",".join(row) for row in zip(*columns))]
    write_atomically(path, "\n".join(lines) + "\n")


def write_atomically(path, content):
    """Write ``content`` (str or bytes) beside ``path`` under a temporary name, then rename.

    A write that fails half-way leaves the file at ``path`` as it was.
    """
    path = os.fspath(path)
    folder, name = os.path.split(path)
    temporary = os.path.join(folder, f".{name}.{os.getpid()}.tmp")
    text = isinstance(content, str)
    try:
        with open(temporary, "w" if text else "wb", encoding="utf-8" if text else None) as file:
            file.write(content)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
