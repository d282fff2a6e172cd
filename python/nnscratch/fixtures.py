"""Fixtures: one JSON file holds a network, its data and how to train it.

The format is ``nnscratch-fixture/1``, described by ``fixtures/schema.json``.
Every double is written so that it reads back exactly, here and in R.
"""

import json
import math
import os
import tempfile
from dataclasses import dataclass

import numpy as np

from .checks import InputError, check_training, describe, format_number
from .network import Layer

FORMAT = "nnscratch-fixture/1"
FIELDS = ["format", "name", "description", "X", "y", "layers", "lr", "epochs"]
LAYER_FIELDS = ["weights", "bias", "activation"]


class FixtureError(InputError):
    """A fixture that cannot be used; the message names the file and the field."""

    def __init__(self, path, field, problem):
        super().__init__(field, problem)
        self.args = (f"{path}: {self.args[0]}",)
        self.path = path


@dataclass
class Fixture:
    """A network, its data and its training settings.

    Attributes
    ----------
    name, description : str
    X : ndarray of shape (n_samples, n_features)
    y : ndarray of shape (n_samples, n_outputs)
    layers : list of Layer
        The initial network.
    lr : float
    epochs : int
    """

    name: str
    description: str
    X: np.ndarray
    y: np.ndarray
    layers: list
    lr: float
    epochs: int


class _JSONObject(dict):
    """A JSON object that remembers the keys it had more than once."""

    def __init__(self, pairs):
        super().__init__(pairs)
        keys = [key for key, _ in pairs]
        self.repeated = [key for key in self if keys.count(key) > 1]


def load_fixture(path):
    """Read and check a fixture.

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    Fixture

    Raises
    ------
    FixtureError
        If the file cannot be read, is not JSON, or breaks the format; the
        message names the file and the field.
    """
    path = os.fspath(path)
    try:
        with open(path, encoding="utf-8") as file:
            text = file.read()
    except (OSError, UnicodeDecodeError) as error:
        raise FixtureError(path, None, f"cannot be read ({error})") from None
    try:
        # NaN and Infinity are not JSON, but Python writes them: read them as
        # numbers so that the check for finite numbers names their field.
        content = json.loads(text, object_pairs_hook=_JSONObject)
    except json.JSONDecodeError as error:
        raise FixtureError(path, None, f"is not valid JSON ({error})") from None
    try:
        return _read_fixture(content)
    except InputError as error:
        raise FixtureError(path, error.field, error.problem) from None


def _read_fixture(content):
    _check_object(content, None, FIELDS)
    if content["format"] != FORMAT:
        raise InputError("format", f"must be '{FORMAT}'")
    for field in ("name", "description"):
        if not isinstance(content[field], str):
            raise InputError(field, f"must be a string; got {describe(content[field])}")
    X = _read_matrix(content["X"], "X")
    y = _read_matrix(content["y"], "y")
    if not isinstance(content["layers"], list) or not content["layers"]:
        raise InputError("layers", "must be a non-empty array of layers")
    layers = [
        _read_layer(layer, f"layers[{number}]")
        for number, layer in enumerate(content["layers"], start=1)
    ]
    check_training(layers, X, y, content["lr"], content["epochs"])
    return Fixture(
        name=content["name"],
        description=content["description"],
        X=X,
        y=y,
        layers=layers,
        lr=float(content["lr"]),
        epochs=int(content["epochs"]),
    )


def _check_object(value, field, allowed):
    """A JSON object with exactly the keys ``allowed``, each once."""
    if not isinstance(value, dict):
        raise InputError(field, f"must be a JSON object; got {describe(value)}")
    prefix = "" if field is None else f"{field}."
    for key in value.repeated:
        raise InputError(prefix + key, "appears more than once")
    for key in value:
        if key not in allowed:
            raise InputError(
                prefix + key, f"is not a field of {FORMAT} (the fields are {', '.join(allowed)})"
            )
    for key in allowed:
        if key not in value:
            raise InputError(prefix + key, "is missing")


def _read_layer(value, field):
    _check_object(value, field, LAYER_FIELDS)
    weights = _read_matrix(value["weights"], f"{field}.weights")
    bias = _read_numbers(value["bias"], f"{field}.bias")
    if not isinstance(value["activation"], str):
        raise InputError(
            f"{field}.activation", f"must be a string; got {describe(value['activation'])}"
        )
    return Layer(weights, bias, value["activation"])


def _read_matrix(value, field):
    """A JSON array of equally long rows of numbers, as a 2-d float array."""
    if not isinstance(value, list) or not value:
        raise InputError(field, "must be a non-empty array of rows (arrays of numbers)")
    for number, row in enumerate(value, start=1):
        _read_numbers(row, field, row=number)
        if len(row) != len(value[0]):
            raise InputError(
                field,
                f"row {number} has {len(row)} numbers, but row 1 has "
                f"{len(value[0])}; every row must have the same length",
            )
    return np.array(value, dtype=float)


def _read_numbers(value, field, row=None):
    """A non-empty JSON array of finite numbers (row ``row`` of a matrix), as a float array."""
    container = "" if row is None else f"row {row} "
    if not isinstance(value, list) or not value:
        raise InputError(field, f"{container}must be a non-empty array of numbers")
    for position, number in enumerate(value, start=1):
        where = f"entry {position}" if row is None else f"row {row}, column {position}"
        if isinstance(number, bool) or not isinstance(number, (int, float)):
            raise InputError(field, f"{where} is {describe(number)}, not a number")
        if not _is_finite(number):
            raise InputError(field, f"{where} is not finite; NaN and Infinity are refused")
    return np.array(value, dtype=float)


def _is_finite(number):
    try:
        return math.isfinite(number)
    except OverflowError:  # an integer too large for a double
        return False


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
    check_training(fixture.layers, fixture.X, fixture.y, fixture.lr, fixture.epochs)
    layers = ",\n".join(
        "    {\n"
        f'      "weights": {_json_matrix(layer.weights, "      ")},\n'
        f'      "bias": {_json_row(layer.bias)},\n'
        f'      "activation": {_json_string(layer.activation)}\n'
        "    }"
        for layer in fixture.layers
    )
    text = (
        "{\n"
        f'  "format": {_json_string(FORMAT)},\n'
        f'  "name": {_json_string(fixture.name)},\n'
        f'  "description": {_json_string(fixture.description)},\n'
        f'  "X": {_json_matrix(fixture.X, "  ")},\n'
        f'  "y": {_json_matrix(fixture.y, "  ")},\n'
        f'  "layers": [\n{layers}\n  ],\n'
        f'  "lr": {format_number(float(fixture.lr))},\n'
        f'  "epochs": {int(fixture.epochs)}\n'
        "}\n"
    )
    write_atomically(path, text)


def _json_string(text):
    return json.dumps(text, ensure_ascii=False)


def _json_row(values):
    return "[" + ", ".join(format_number(value) for value in values) + "]"


def _json_matrix(matrix, indent):
    rows = ",\n".join(f"{indent}  {_json_row(row)}" for row in matrix)
    return f"[\n{rows}\n{indent}]"


def write_atomically(path, text):
    """Write ``text`` to a temporary file beside ``path``, then rename it to ``path``."""
    path = os.fspath(path)
    with tempfile.NamedTemporaryFile(
        "w",
        encoding="utf-8",
        dir=os.path.dirname(path) or ".",
        prefix=f".{os.path.basename(path)}.",
        suffix=".tmp",
        delete=False,
    ) as file:
        file.write(text)
    try:
        os.replace(file.name, path)
    finally:
        if os.path.exists(file.name):
            os.unlink(file.name)
