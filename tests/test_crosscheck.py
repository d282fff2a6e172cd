"""The harness: Python and R, run on the same fixtures, agree at every step.

Both languages read each fixture with their own loader and train it with a full
trace; every (layer, quantity, epoch, row, col) is compared with
|python - R| <= 1e-12 + 1e-12 * |R| (nnscratch.compare says why that tolerance).
"""

import numpy as np
import pytest
import rpy2.robjects as ro

import nnscratch
from cases import FIXTURES, ROOT
from nnscratch.compare import compare_traces
from nnscratch.rbridge import RSession
from test_fixtures import assert_same_fixture, hard_fixture


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.name)
def test_both_languages_read_the_same_fixture(r_session, path):
    assert_same_fixture(r_session.load_fixture(path), nnscratch.load_fixture(path))


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.name)
def test_python_and_r_agree_at_every_step(r_session, path):
    python_fixture = nnscratch.load_fixture(path)
    r_fixture = r_session.load_fixture(path)
    f = python_fixture
    python = nnscratch.train(f.layers, f.X, f.y, f.lr, f.epochs, trace=True)
    f = r_fixture
    r = r_session.train(f.layers, f.X, f.y, f.lr, f.epochs, trace=True)
    comparison = compare_traces(python.trace, r.trace)
    print(comparison.report())
    assert comparison.ok, comparison.report()
    assert len(comparison.maxima) == len(nnscratch.trace_steps(len(f.layers)))
    # Without a trace, the same result.
    untraced = r_session.train(f.layers, f.X, f.y, f.lr, f.epochs)
    assert untraced.trace is None
    np.testing.assert_array_equal(untraced.loss, r.loss)
    np.testing.assert_allclose(
        r_session.predict(r.layers, f.X),
        nnscratch.predict(python.layers, f.X),
        rtol=1e-12,
        atol=1e-12,
    )


# (function, left side of the assignment, when) -> (step, layer, quantity) the report must name.
PLANTS = [
    ("nn_forward", "layer_input[[l]]", "l == 2", (4, 2, "layer_input")),
    ("nn_forward", "activation[[l]]", "l == 1", (3, 1, "activation")),
    ("nn_train", "error", "TRUE", (5, 2, "error")),
    ("nn_train", "delta[[n_layers]]", "TRUE", (7, 2, "delta")),
    ("nn_train", "error_at_layer[[l]]", "l == 1", (8, 1, "error_at_layer")),
    ("nn_train", "delta[[l]]", "l == 1", (9, 1, "delta")),
    ("nn_train", "layers[[l]]$weights", "l == 2", (10, 2, "weights")),
    ("nn_train", "layers[[l]]$bias", "l == 1", (11, 1, "bias")),
]


@pytest.fixture(scope="module")
def plant(r_session):
    environment = ro.r["new.env"]()
    ro.r["source"](str(ROOT / "tests" / "plant.R"), local=environment)
    return environment["nn_plant"]


@pytest.mark.parametrize(
    ("function", "target", "when", "expected"),
    PLANTS,
    ids=[f"{p[3][2]}-step{p[3][0]}" for p in PLANTS],
)
def test_a_change_of_1e_9_in_one_r_step_is_named(
    r_session, plant, function, target, when, expected
):
    f = nnscratch.load_fixture(ROOT / "fixtures" / "article.json")
    python = nnscratch.train(f.layers, f.X, f.y, f.lr, 3, trace=True)
    planted = RSession()
    planted.replace_function(function, plant(planted.function(function), target, when, 1e-9))
    comparison = compare_traces(
        python.trace, planted.train(f.layers, f.X, f.y, f.lr, 3, trace=True).trace
    )
    report = comparison.report()
    step, layer, quantity = expected
    assert not comparison.ok
    first = comparison.first
    assert (first.epoch, first.step, first.layer, first.quantity) == (1, step, layer, quantity)
    assert abs(abs(first.first - first.second) - 1e-9) < 1e-12
    assert f"epoch 1, step {step}, layer {layer}, quantity {quantity}," in report
    # The unplanted R agrees on the same run: the failure is the plant's doing.
    clean = compare_traces(
        python.trace, r_session.train(f.layers, f.X, f.y, f.lr, 3, trace=True).trace
    )
    assert clean.ok


def test_errors_of_the_r_side_cross_with_their_field(r_session):
    f = nnscratch.load_fixture(ROOT / "fixtures" / "article.json")
    with pytest.raises(nnscratch.InputError) as raised:
        r_session.train(f.layers, f.X, f.y[:2], f.lr, 3)
    assert raised.value.field == "y"
    with pytest.raises(nnscratch.InputError) as python_raised:
        nnscratch.train(f.layers, f.X, f.y[:2], f.lr, 3)
    assert str(raised.value) == str(python_raised.value)


@pytest.mark.parametrize("path", [*FIXTURES, "hard"], ids=lambda p: getattr(p, "name", p))
def test_models_cross_between_languages_exactly(r_session, path, tmp_path):
    fixture = hard_fixture() if path == "hard" else nnscratch.load_fixture(path)
    if path != "hard":
        fixture.layers = nnscratch.train(
            fixture.layers, fixture.X, fixture.y, fixture.lr, 100
        ).layers
    python_file, r_file = tmp_path / "python.json", tmp_path / "r.json"
    nnscratch.save_fixture(fixture, python_file)
    assert_same_fixture(r_session.load_fixture(python_file), fixture)
    r_session.call(
        "nn_save_fixture", r_session.call("nn_load_fixture", str(python_file)), str(r_file)
    )
    assert_same_fixture(nnscratch.load_fixture(r_file), fixture)
    assert r_file.read_bytes() == python_file.read_bytes()
