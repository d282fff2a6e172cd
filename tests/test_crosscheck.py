"""The harness: Python and R, run on the same fixtures, agree at every step.

Both languages read each fixture with their own loader and train it with a full
trace; every (layer, quantity, epoch, row, col) is compared with
|python - R| <= 1e-12 + 1e-12 * |R| (nnscratch.compare says why that tolerance).
"""

import dataclasses

import numpy as np
import pytest
import rpy2.robjects as ro

import nnscratch
from cases import FIXTURES, ROOT, r_train
from nnscratch.activations import ACTIVATIONS
from nnscratch.compare import compare_traces, crosscheck, windows
from nnscratch.lehmer import lehmer_shuffle, lehmer_uniform
from nnscratch.rbridge import RSession
from test_fixtures import assert_same_fixture, hard_fixture


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.name)
def test_both_languages_read_the_same_fixture(r_session, path):
    assert_same_fixture(r_session.load_fixture(path), nnscratch.load_fixture(path))


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.name)
def test_python_and_r_agree_at_every_step(r_session, path):
    fixture = nnscratch.load_fixture(path)
    compared = crosscheck(fixture, r_session)
    for start, width, comparison in compared:
        print(f"epochs {start + 1} to {start + width} of {fixture.epochs}:")
        print(comparison.report())
        assert comparison.ok, comparison.report()
    python_window = dataclasses.replace(fixture, epochs=compared[0][1])
    python = nnscratch.train_fixture(python_window, trace=True)
    # Every recorded number was compared: as many as the long table has rows.
    assert compared[0][2].numbers == len(nnscratch.trace_table(python.trace))
    # Without a trace, each language trains exactly as with one.
    np.testing.assert_array_equal(nnscratch.train_fixture(python_window).loss, python.loss)
    r = r_session.train_fixture(python_window)
    np.testing.assert_allclose(r.loss, python.loss, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(
        r_session.predict(r.layers, fixture.X),
        nnscratch.predict(nnscratch.train_fixture(python_window).layers, fixture.X),
        rtol=1e-12,
        atol=1e-12,
    )


# A snapshot of where the windows fall, as nnscratch.compare.windows places them.
def test_long_runs_are_traced_in_three_windows():
    moons = nnscratch.load_fixture(ROOT / "fixtures" / "moons.json")
    assert windows(moons) == [(0, 11), (994, 11), (1989, 11)]
    article = nnscratch.load_fixture(ROOT / "fixtures" / "article.json")
    assert windows(article) == [(0, 5000)]


# For every quantity of the step table, both layers where a step has two lines: the
# (step, layer, quantity) the report must name, and where to plant a change of 1e-9 on
# each side: (function, left side of the assignment, when). Python counts layers from
# 0, R from 1.
PLANTS = [
    (
        (2, 1, "layer_input"),
        ("forward", "layer_input.append", "l == 0"),
        ("nn_forward", "layer_input[[l]]", "l == 1"),
    ),
    (
        (4, 2, "layer_input"),
        ("forward", "layer_input.append", "l == 1"),
        ("nn_forward", "layer_input[[l]]", "l == 2"),
    ),
    (
        (3, 1, "activation"),
        ("forward", "activation.append", "l == 0"),
        ("nn_forward", "activation[[l]]", "l == 1"),
    ),
    (
        (4, 2, "activation"),
        ("forward", "activation.append", "l == 1"),
        ("nn_forward", "activation[[l]]", "l == 2"),
    ),
    ((5, 2, "error"), ("step", "error", "True"), ("nn_step", "error", "TRUE")),
    ((5, 2, "loss"), ("step", "loss", "True"), ("nn_step", "loss", "TRUE")),
    ((6, 1, "slope"), ("sigmoid_slope", "return", "True"), ("nn_sigmoid_slope", "return", "TRUE")),
    (
        (7, 2, "delta"),
        ("backward", "delta[-1]", "True"),
        ("nn_backward", "delta[[n_layers]]", "TRUE"),
    ),
    (
        (8, 1, "error_at_layer"),
        ("backward", "error_at_layer[l]", "l == 0"),
        ("nn_backward", "error_at_layer[[l]]", "l == 1"),
    ),
    ((9, 1, "delta"), ("backward", "delta[l]", "l == 0"), ("nn_backward", "delta[[l]]", "l == 1")),
    (
        (10, 1, "weights"),
        ("step", "weights", "l == 0"),
        ("nn_step", "layers[[l]]$weights", "l == 1"),
    ),
    (
        (10, 2, "weights"),
        ("step", "weights", "l == 1"),
        ("nn_step", "layers[[l]]$weights", "l == 2"),
    ),
    ((11, 1, "bias"), ("step", "bias", "l == 0"), ("nn_step", "layers[[l]]$bias", "l == 1")),
    ((11, 2, "bias"), ("step", "bias", "l == 1"), ("nn_step", "layers[[l]]$bias", "l == 2")),
]


def planted_python_train(monkeypatch, function, target, when):
    """nnscratch.train with a change of 1e-9 planted in one Python function (until undone)."""
    from nnscratch import activations, network
    from plant import plant

    if function == "sigmoid_slope":  # the activations table holds the function itself
        sigmoid = ACTIVATIONS["sigmoid"]
        planted = plant(sigmoid.slope, target, when, 1e-9)
        monkeypatch.setitem(ACTIVATIONS, "sigmoid", sigmoid._replace(slope=planted))
    else:
        monkeypatch.setattr(
            network, function, plant(getattr(network, function), target, when, 1e-9)
        )
    assert activations.ACTIVATIONS is ACTIVATIONS
    return network.train


def planted_r_train(plant, function, target, when):
    """RSession.train with a change of 1e-9 planted in one R function, in a session of its own."""
    planted = RSession()
    planted.replace_function(function, plant(planted.function(function), target, when, 1e-9))
    if function == "nn_sigmoid_slope":  # the activations table holds the function itself
        ro.r("function(env) env$nn_activations$sigmoid$slope <- env$nn_sigmoid_slope")(
            planted.environment
        )
    return planted.train


@pytest.mark.parametrize("language", ["python", "R"])
@pytest.mark.parametrize(
    ("expected", "python_plant", "r_plant"),
    PLANTS,
    ids=[f"{p[0][2]}-step{p[0][0]}-layer{p[0][1]}" for p in PLANTS],
)
def test_a_change_of_1e_9_in_one_step_is_named(
    r_session, plant, monkeypatch, language, expected, python_plant, r_plant
):
    f = nnscratch.load_fixture(ROOT / "fixtures" / "article.json")
    clean_python = nnscratch.train(f.layers, f.X, f.y, f.lr, 3, trace=True).trace
    clean_r = r_session.train(f.layers, f.X, f.y, f.lr, 3, trace=True).trace
    # The two clean sides agree on this run: a failure below is the plant's doing.
    assert compare_traces(clean_python, clean_r).ok
    if language == "python":
        train = planted_python_train(monkeypatch, *python_plant)
        comparison = compare_traces(train(f.layers, f.X, f.y, f.lr, 3, trace=True).trace, clean_r)
    else:
        train = planted_r_train(plant, *r_plant)
        comparison = compare_traces(
            clean_python, train(f.layers, f.X, f.y, f.lr, 3, trace=True).trace
        )
    step, layer, quantity = expected
    assert not comparison.ok
    first = comparison.first
    assert (first.epoch, first.iteration, first.step, first.layer, first.quantity) == (
        1,
        1,
        step,
        layer,
        quantity,
    )
    # 1e-9 where it was planted (the loss's own line included).
    assert 1e-10 < abs(first.first - first.second) < 1.01e-9
    assert f"epoch 1, iteration 1, step {step}, layer {layer}, quantity {quantity}," in (
        comparison.report()
    )


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


@pytest.mark.parametrize(
    ("sizes", "activations", "seed", "method", "bias"),
    [
        ([4, 3, 1], "sigmoid", 42, "uniform", True),
        ([4, 3, 1], "sigmoid", 1, "uniform", False),
        ([2, 7, 5, 3], ["tanh", "relu", "linear"], 2147483646, "glorot", True),
        ([9, 4], "sigmoid", 123456, "glorot", False),
    ],
)
def test_init_layers_gives_the_same_bits_in_both_languages(
    r_session, sizes, activations, seed, method, bias
):
    python = nnscratch.init_layers(sizes, activations, seed, method, bias)
    r = r_session.init_layers(sizes, activations, seed, method, bias)
    for p, q in zip(python, r, strict=True):
        assert p.activation == q.activation
        assert p.weights.tobytes() == q.weights.tobytes()
        assert (p.bias is None and q.bias is None) or p.bias.tobytes() == q.bias.tobytes()


def test_the_generator_and_the_shuffle_are_the_same_in_both_languages(r_session):
    python_draws, python_state = lehmer_uniform(7, 5000)
    r = r_session.call("nn_lehmer_uniform", 7, 5000)
    assert python_draws.tobytes() == np.asarray(r.rx2("draws")).tobytes()
    assert python_state == r.rx2("state")[0]
    order, state = lehmer_shuffle(1000, 99)
    r = r_session.call("nn_lehmer_shuffle", 1000, 99)
    assert (order + 1).tolist() == list(r.rx2("order"))
    assert state == r.rx2("state")[0]


def test_predict_class_counts_from_0_in_python_and_from_1_in_r(r_session):
    f = nnscratch.load_fixture(ROOT / "fixtures" / "three_outputs.json")
    layers = nnscratch.train_fixture(f).layers
    python = nnscratch.predict_class(layers, f.X)
    np.testing.assert_array_equal(r_session.predict_class(layers, f.X), python + 1)
    one = nnscratch.load_fixture(ROOT / "fixtures" / "article.json")
    np.testing.assert_array_equal(
        r_session.predict_class(one.layers, one.X), nnscratch.predict_class(one.layers, one.X)
    )


def test_both_languages_make_the_same_long_table(r_session):
    f = nnscratch.load_fixture(ROOT / "fixtures" / "minibatch.json")
    f.epochs = 3
    python = nnscratch.trace_table(nnscratch.train_fixture(f, trace=True).trace)
    r_table = r_session.call("nn_trace_table", r_train(r_session, f, trace=True).rx2("trace"))
    assert list(r_table.names) == list(python.columns)
    for column in python.columns:
        r_column = np.asarray(r_table.rx2(column))
        if column == "value":
            np.testing.assert_allclose(r_column, python[column], rtol=1e-12, atol=1e-12)
        else:
            assert r_column.tolist() == python[column].tolist(), column


def test_a_chaotic_run_parts_the_languages_after_agreeing_at_first(r_session):
    """Why long runs are compared in windows: the moons, full batch at lr 0.02.

    The gradient sums 1000 samples, so each step is large: training oscillates and
    amplifies the last-bit differences of numpy's and R's arithmetic epoch after epoch.
    Every step is computed the same, yet within 80 epochs the runs part by more than
    the tolerance.
    """
    f = nnscratch.load_fixture(ROOT / "fixtures" / "moons.json")
    f = dataclasses.replace(f, batch_size=None, lr=0.02, epochs=80)
    python = nnscratch.train_fixture(f, trace=True)
    r = r_session.train_fixture(f, trace=True)
    comparison = compare_traces(python.trace, r.trace)
    assert not comparison.ok
    assert comparison.first.epoch > 10
    first_epochs = dataclasses.replace(f, epochs=10)
    assert compare_traces(
        nnscratch.train_fixture(first_epochs, trace=True).trace,
        r_session.train_fixture(first_epochs, trace=True).trace,
    ).ok


def test_the_iris_fixture_is_r_datasets_iris():
    f = nnscratch.load_fixture(ROOT / "fixtures" / "iris.json")
    X = np.asarray(ro.r("as.matrix(datasets::iris[, 1:4])"))
    species = np.asarray(ro.r("as.integer(datasets::iris$Species)")) - 1
    assert f.X.tobytes() == X.astype(float).tobytes()
    np.testing.assert_array_equal(f.y.argmax(axis=1), species)
    np.testing.assert_array_equal(f.y.sum(axis=1), 1)
