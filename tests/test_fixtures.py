"""Fixtures in Python: the schema, the generator, exact round trips, refused files."""

import json
import subprocess
import sys

import jsonschema
import numpy as np
import pytest

import nnscratch
from cases import BAD_CASES, FIXTURES, ROOT, SCHEMA, bad_fixture_text

# Doubles that a careless writer loses: not exact in 15 digits, subnormal, extreme, signed zero.
HARD_VALUES = [
    0.1 + 0.2,
    1 / 3,
    2.0**-1074,
    2.2250738585072014e-308,
    1.7976931348623157e308,
    -0.0,
    1e16,
    123456789.0,
    -2.5e-10,
]


def hard_fixture():
    """A valid fixture whose numbers are the hard values."""
    return nnscratch.Fixture(
        name="hard",
        description='doubles that are hard to print; a quote " and a backslash \\',
        X=np.array([HARD_VALUES[:3], HARD_VALUES[3:6], HARD_VALUES[6:]]),
        y=np.array([[1.0], [0.0], [-0.0]]),
        layers=[
            nnscratch.Layer(np.array([HARD_VALUES[::-1][:3]] * 3), [-0.0, 1 / 3, 0.1 + 0.2]),
            nnscratch.Layer([[0.5], [2.0**-1074], [-1.5]], [1e-300]),
        ],
        lr=0.1 + 0.2,
        epochs=7,
    )


def assert_same_fixture(a, b):
    """Every setting equal and every double identical to the bit (so -0.0 differs from 0.0)."""
    settings = ["name", "description", "lr", "epochs", "batch_size", "shuffle", "seed"]
    assert [getattr(a, key) for key in settings] == [getattr(b, key) for key in settings]
    assert [layer.activation for layer in a.layers] == [layer.activation for layer in b.layers]
    assert (a.expected is None) == (b.expected is None)

    def arrays(f):
        listed = [f.X, f.y, *(layer.weights for layer in f.layers)]
        listed += [layer.bias for layer in f.layers]
        if f.expected is not None:
            listed.append(f.expected["untrained_half_squared_error"])
        return listed

    for p, q in zip(arrays(a), arrays(b), strict=True):
        if p is None or q is None:
            assert p is None and q is None
        else:
            assert p.shape == q.shape
            assert p.tobytes() == q.tobytes()
    if a.expected is not None:
        assert a.expected["decimals"] == b.expected["decimals"]


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.name)
def test_fixture_follows_the_schema(path):
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(json.loads(path.read_text(encoding="utf-8")), schema)
    nnscratch.load_fixture(path)


def test_the_schema_refuses_what_it_can_express():
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    expressible = {
        "missing field",
        "missing layer field",
        "unknown field",
        "unknown format version",
        "name not a string",
        "empty X",
        "string where a number belongs",
        "boolean where a number belongs",
        "unknown activation",
        "activation not a string",
        "lr zero",
        "lr negative",
        "lr a string",
        "epochs not whole",
        "epochs negative",
        "empty layers",
        "layers not an array",
        "top level not an object",
        "unknown layer field",
        "bias not an array",
        "batch_size zero",
        "shuffle not a boolean",
        "seed out of range",
        "shuffle without a seed",
        "expected decimals too many",
    }
    cases = [case for case in BAD_CASES if case["name"] in expressible]
    assert len(cases) == len(expressible)
    for case in cases:
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(json.loads(bad_fixture_text(case)), schema)


def test_make_fixtures_writes_the_committed_files(tmp_path):
    """The fixtures and their conformance data (conformance/), byte for byte."""
    out, conformance = tmp_path / "fixtures", tmp_path / "conformance"
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "fixtures" / "make_fixtures.py"),
            "--out",
            str(out),
            "--conformance",
            str(conformance),
        ],
        check=True,
        capture_output=True,
    )
    written = sorted(path.name for path in out.iterdir())
    assert written == [path.name for path in FIXTURES]
    for path in FIXTURES:
        assert (out / path.name).read_bytes() == path.read_bytes(), path.name
    committed = sorted((ROOT / "conformance").iterdir())
    assert sorted(path.name for path in conformance.iterdir()) == [p.name for p in committed]
    for path in committed:
        assert (conformance / path.name).read_bytes() == path.read_bytes(), path.name


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.name)
def test_saved_fixture_reads_back_exactly(path, tmp_path):
    fixture = nnscratch.load_fixture(path)
    nnscratch.save_fixture(fixture, tmp_path / "copy.json")
    assert_same_fixture(nnscratch.load_fixture(tmp_path / "copy.json"), fixture)
    trained = nnscratch.train(fixture.layers, fixture.X, fixture.y, fixture.lr, 50).layers
    fixture.layers = trained
    nnscratch.save_fixture(fixture, tmp_path / "trained.json")
    assert_same_fixture(nnscratch.load_fixture(tmp_path / "trained.json"), fixture)


def test_hard_doubles_read_back_exactly(tmp_path):
    fixture = hard_fixture()
    nnscratch.save_fixture(fixture, tmp_path / "hard.json")
    loaded = nnscratch.load_fixture(tmp_path / "hard.json")
    assert_same_fixture(loaded, fixture)
    assert np.signbit(loaded.X[1, 2]) and loaded.X[1, 2] == 0
    assert loaded.X[0, 2] == 5e-324


def test_format_numbers_gives_the_shortest_exact_text():
    text = nnscratch.checks.format_numbers([0.1, 0.1 + 0.2, 1.0, -0.0, 1e16, 5e-324, 1 / 3])
    assert text.tolist() == [
        "0.1",
        "0.30000000000000004",
        "1.0",
        "-0.0",
        "1e+16",
        "4.94065645841247e-324",
        "0.3333333333333333",
    ]


def test_an_invalid_fixture_is_not_saved(tmp_path):
    fixture = hard_fixture()
    fixture.X[0, 0] = np.nan
    with pytest.raises(nnscratch.InputError, match="X: holds NaN"):
        nnscratch.save_fixture(fixture, tmp_path / "nan.json")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("case", BAD_CASES, ids=lambda case: case["name"])
def test_bad_fixture_is_refused_naming_file_and_field(case, tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(bad_fixture_text(case), encoding="utf-8")
    before = path.read_bytes()
    with pytest.raises(nnscratch.FixtureError) as raised:
        nnscratch.load_fixture(path)
    error = raised.value
    assert (error.path, error.field, error.category) == (str(path), case["field"], case["category"])
    if "problem" in case:
        assert error.problem == case["problem"]
    else:
        assert error.problem.startswith(case["problem_starts"])
    where = "" if case["field"] is None else f"{case['field']}: "
    assert str(error) == f"{path}: {where}{error.problem}"
    assert [p.name for p in tmp_path.iterdir()] == ["bad.json"]
    assert path.read_bytes() == before


def test_a_missing_file_is_refused(tmp_path):
    with pytest.raises(nnscratch.FixtureError, match=r"nothing\.json: cannot be read"):
        nnscratch.load_fixture(tmp_path / "nothing.json")


@pytest.mark.parametrize(
    ("content", "problem", "category"),
    [
        (b"", "is not valid JSON (Expecting value", "json"),
        (b'{"format": "nnscratch-fixture/1", "name": "\xff"}', "is not UTF-8 text", "json"),
        (b'{"format": \x00}', "has a NUL byte at byte 12; JSON is UTF-8 text", "json"),
        (b"null", "must be a JSON object; got null", "structure"),
    ],
)
def test_files_that_are_not_json_text(tmp_path, content, problem, category):
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    with pytest.raises(nnscratch.FixtureError) as raised:
        nnscratch.load_fixture(path)
    assert raised.value.problem.startswith(problem)
    assert (raised.value.field, raised.value.category) == (None, category)


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(tmp_path, monkeypatch):
    path = tmp_path / "large.json"
    path.write_text(" " * 2000 + (ROOT / "fixtures" / "article.json").read_text())

    def refuse(*arguments, **options):
        raise AssertionError("the file was opened")

    monkeypatch.setattr(nnscratch.files.os, "open", refuse)
    with pytest.raises(nnscratch.FixtureError) as raised:
        nnscratch.load_fixture(path, max_bytes=2000)
    monkeypatch.undo()
    assert (
        raised.value.problem
        == f"is {path.stat().st_size} bytes, over the limit of 2000 (max_bytes)"
    )
    assert raised.value.category == "file"
    assert nnscratch.load_fixture(path).name == "article"  # under the default 100 MB
