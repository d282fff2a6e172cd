"""The harness: Python and R, run on the same fixtures, agree at every step.

Both languages read each fixture with their own loader and train it with a full trace
(a long run in windows, each from the state the run reached, and whole as free runs);
every (layer, quantity, epoch, row, col) is compared within the tolerance of its
quantity (nnscratch.compare.TOLERANCES says what and why).
"""

import copy
import dataclasses

import numpy as np
import pytest
import rpy2.robjects as ro
from rpy2.rinterface_lib.embedded import RRuntimeError

import nnscratch
from cases import FIXTURES, ROOT, r_train
from nnscratch import compare
from nnscratch.activations import ACTIVATIONS
from nnscratch.compare import (
    EPS,
    TOLERANCES,
    FreeRuns,
    compare_traces,
    crosscheck,
    departures,
    last_bits_changed,
    noise_scales,
    windows,
)
from nnscratch.lehmer import lehmer_shuffle, lehmer_uniform
from nnscratch.rbridge import RSession
from nnscratch.trace import trace_block, trace_table
from test_fixtures import assert_same_fixture, hard_fixture


def fixture(name):
    return nnscratch.load_fixture(ROOT / "fixtures" / f"{name}.json")


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.name)
def test_both_languages_read_the_same_fixture(r_session, path):
    assert_same_fixture(r_session.load_fixture(path), nnscratch.load_fixture(path))


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.name)
def test_python_and_r_agree_at_every_step(r_session, path):
    f = nnscratch.load_fixture(path)
    checked = crosscheck(f, r_session)
    print(checked.report())
    assert checked.ok, checked.report()
    # Every recorded number of every window was compared: as many as the long table has
    # rows, the same number every epoch.
    one_epoch = nnscratch.train_fixture(dataclasses.replace(f, epochs=1), trace=True)
    per_epoch = len(trace_table(one_epoch.trace))
    for start, width, comparison in checked.windows:
        assert comparison.epochs == list(range(start, start + width))
        assert comparison.numbers == width * per_epoch
    if len(checked.windows) == 1:
        assert checked.windows[0][:2] == (1, f.epochs) and checked.free_runs is None
        assert f"every number of every iteration of all {f.epochs} epochs" in checked.report()
    else:
        # A run traced in windows is compared whole too: every epoch's loss, the final layers.
        runs = checked.free_runs
        assert runs.stable and runs.epochs == f.epochs
        assert set(runs.r) == {"loss", "final layers"}
        assert f"the loss of each of the {f.epochs} epochs and the final layers" in (
            checked.report()
        )


def test_r_departs_within_the_margin_on_every_fixture(r_session):
    """The free runs' margin, measured where the cross-check does not compare free runs
    (the fixtures traced whole; the windowed ones are compared whole above): R's own run
    departs from Python's by at most AMPLIFICATION_MARGIN times what one ulp in every
    activation and slope moves Python's own run (README: at most 3.1 times)."""
    worst = 0.0
    for path in FIXTURES:
        f = nnscratch.load_fixture(path)
        if len(windows(f)) > 1:
            continue
        python = nnscratch.train_fixture(f)
        with last_bits_changed():
            moved = departures(python, nnscratch.train_fixture(f))
        r = departures(python, r_session.train_fixture(f))
        runs = FreeRuns(f.epochs, 0, r, moved)
        assert runs.stable and runs.ok, (f.name, r, moved)
        worst = max([worst] + [r[what] / max(moved[what], EPS) for what in r])
    print(f"R's free run departs at most {worst:.2f} times what one ulp moves Python's run")


@pytest.mark.parametrize("name", ["article", "article_no_bias", "minibatch", "sgd", "mixed"])
def test_without_a_trace_each_language_trains_exactly_as_with_one(r_session, name):
    """Recording changes no number: full batch, no bias, shuffled batches, one sample at a
    time, three layers."""
    f = nnscratch.load_fixture(name)
    python = nnscratch.train_fixture(f, trace=True)
    untraced = nnscratch.train_fixture(f)
    np.testing.assert_array_equal(untraced.loss, python.loss)
    for p, q in zip(untraced.layers, python.layers, strict=True):
        assert p.weights.tobytes() == q.weights.tobytes()
    r = r_session.train_fixture(f)
    np.testing.assert_array_equal(r.loss, r_session.train_fixture(f, trace=True).loss)


# A snapshot of where the windows fall, as nnscratch.compare.windows places them.
def test_long_runs_are_traced_in_three_windows():
    assert windows(fixture("moons")) == [(1, 2), (1000, 2), (1999, 2)]
    assert windows(fixture("iris")) == [(1, 19), (1491, 19), (2982, 19)]
    assert windows(fixture("article")) == [(1, 5000)]
    # Shuffled runs are windowed too.
    assert windows(fixture("minibatch"), budget=10_000) == [(1, 10), (146, 10), (291, 10)]


@pytest.mark.parametrize("name", ["minibatch", "sgd", "moons"])
def test_each_window_starts_from_the_state_the_run_reached(r_session, monkeypatch, name):
    """Python's windows are its run's epochs (its batches, shuffles and layers there, to
    the bit), and R's window is traced from the same state, its epochs counted alike."""
    f = fixture(name)
    f.epochs = 30
    compared = []

    def keep(first, second, X):
        compared.append((first, second))
        return compare_traces(first, second, X)

    monkeypatch.setattr(compare, "compare_traces", keep)
    one_epoch = len(
        trace_table(nnscratch.train_fixture(dataclasses.replace(f, epochs=1), trace=True).trace)
    )
    checked = crosscheck(f, r_session, budget=3 * 3 * one_epoch)
    assert [(start, width) for start, width, _ in checked.windows] == [(1, 3), (14, 3), (28, 3)]
    assert checked.ok
    whole = nnscratch.train_fixture(f, trace=True).trace
    for (start, width, _), (python, r) in zip(checked.windows, compared, strict=True):
        rows = (whole.epoch >= start) & (whole.epoch < start + width)
        assert python.epoch.tolist() == r.epoch.tolist() == whole.epoch[rows].tolist()
        assert python.samples.tolist() == r.samples.tolist() == whole.samples[rows].tolist()
        for kept, whole_kept in zip(python.layers, whole.layers, strict=True):
            for quantity, block in kept.items():
                assert np.array_equal(block, whole_kept[quantity][rows], equal_nan=True)


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
        ("nn_step", "weights", "l == 1"),
    ),
    (
        (10, 2, "weights"),
        ("step", "weights", "l == 1"),
        ("nn_step", "weights", "l == 2"),
    ),
    ((11, 1, "bias"), ("step", "bias", "l == 0"), ("nn_step", "bias", "l == 1")),
    ((11, 2, "bias"), ("step", "bias", "l == 1"), ("nn_step", "bias", "l == 2")),
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
    assert compare_traces(clean_python, clean_r, f.X).ok
    if language == "python":
        train = planted_python_train(monkeypatch, *python_plant)
        planted = train(f.layers, f.X, f.y, f.lr, 3, trace=True).trace
        comparison = compare_traces(planted, clean_r, f.X)
    else:
        train = planted_r_train(plant, *r_plant)
        planted = train(f.layers, f.X, f.y, f.lr, 3, trace=True).trace
        comparison = compare_traces(clean_python, planted, f.X)
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
    Every step is computed the same, yet within 10 epochs the runs part by more than the
    tolerance; so does Python's own run from itself with one ulp changed in every
    activation.
    """
    f = dataclasses.replace(fixture("moons"), batch_size=None, lr=0.02, epochs=10)
    python = nnscratch.train_fixture(f, trace=True).trace
    comparison = compare_traces(python, r_session.train_fixture(f, trace=True).trace, f.X)
    assert not comparison.ok
    assert comparison.first.epoch > 4
    with last_bits_changed():
        perturbed = nnscratch.train_fixture(f, trace=True).trace
    assert not compare_traces(python, perturbed, f.X).ok


def test_a_change_in_r_after_epoch_100_is_named_with_its_window_and_epoch(plant):
    """A change of 1e-9 to step 9 that switches on after epoch 100 of the moons: the
    first window (epochs 1 and 2) agrees, the second names it at its first epoch."""
    planted = RSession()
    planted.replace_function(
        "nn_backward",
        plant(planted.function("nn_backward"), "delta[[l]]", 'dynGet("epoch") > 100', 1e-9),
    )
    checked = crosscheck(fixture("moons"), planted)
    report = checked.report()
    print(report)
    assert [c.ok for _, _, c in checked.windows] == [True, False, False]
    assert not checked.ok and checked.free_runs is None
    assert "free runs not compared: the windows disagree already" in report
    assert "DISAGREE in window 2 (epochs 1000 to 1001): " in report
    assert (
        "first divergence: epoch 1000, iteration 1, step 9, layer 1, quantity delta, row 1, col 1"
        in report
    )


def planted_in_deltas(plant, change):
    """An R session whose nn_backward changes every delta by ``change`` (R code of value)."""
    session = RSession()
    backward = session.function("nn_backward")
    for target in ("delta[[n_layers]]", "delta[[l]]"):
        backward = plant(backward, target, "TRUE", change)
    session.replace_function("nn_backward", backward)
    return session


def test_r_flushing_deltas_below_1e_12_to_0_is_caught_wherever_it_changes_r(plant):
    """R looks, in each fixture's whole run, for a delta whose size is above 0 and below
    1e-12: a number the flush changes (it stops at the first). Where there is one, the
    cross-check with the flush planted in R fails; where there is none, the flush changes
    nothing."""
    looking = planted_in_deltas(plant, "nn_look(value)")
    ro.r(
        "function(env) env$nn_look <- function(value) { "
        "if (any(value != 0 & abs(value) < 1e-12)) stop('a delta below 1e-12'); value }"
    )(looking.environment)
    flushing = planted_in_deltas(plant, "value * (abs(value) >= 1e-12)")
    changed = []
    for path in FIXTURES:
        f = nnscratch.load_fixture(path)
        try:
            looking.train_fixture(f)
        except RRuntimeError as error:
            assert "a delta below 1e-12" in str(error)
            changed.append(f.name)
            assert not crosscheck(f, flushing).ok, f.name
    print(f"the flush changes R's numbers on {changed}, and is caught on each")
    assert {"saturated", "moons", "iris", "blobs"} <= set(changed)


def test_the_iris_fixture_is_r_datasets_iris():
    f = nnscratch.load_fixture(ROOT / "fixtures" / "iris.json")
    X = np.asarray(ro.r("as.matrix(datasets::iris[, 1:4])"))
    species = np.asarray(ro.r("as.integer(datasets::iris$Species)")) - 1
    assert f.X.tobytes() == X.astype(float).tobytes()
    np.testing.assert_array_equal(f.y.argmax(axis=1), species)
    np.testing.assert_array_equal(f.y.sum(axis=1), 1)


def test_free_runs_agree_within_ten_times_what_one_ulp_moves_and_say_when_unstable():
    perturbed = {"loss": 1e-14, "final layers": 2e-15}
    runs = FreeRuns(100, 110, {"loss": 9e-14, "final layers": 1e-15}, perturbed)
    assert runs.stable and runs.ok
    assert runs.tolerance("loss") == 1e-13
    assert "loss       9e-14        1e-14               0.9" in runs.report()
    assert not FreeRuns(100, 110, {"loss": 2e-13, "final layers": 1e-15}, perturbed).ok
    chaotic = FreeRuns(100, 110, {"loss": 1.0, "final layers": 1.0}, {"loss": 1e-7})
    assert not chaotic.stable and chaotic.ok
    assert chaotic.report().startswith(
        "free runs not compared: a change of one ulp in every activation and slope moves Python's "
        "loss by 1e-07 (relative) over 100 epochs"
    )


def tiny_everywhere():
    """The saturated fixture with numbers below 1e-12 in every quantity: its targets 0
    and its output's bias -60 (the output, its error, the loss, the deltas and errors
    sent back), one weight of its tanh layer and one bias of its first layer 1e-13; 20
    epochs."""
    f = fixture("saturated")
    first, second, output = f.layers
    first.bias[0] = 1e-13
    second.weights[0, 0] = 1e-13
    output.bias[0] = -60.0
    return dataclasses.replace(f, y=np.zeros_like(f.y), epochs=20)


@pytest.fixture(scope="module")
def one_ulp_moves():
    """Per quantity, the most that a change of one ulp in every activation and slope moves any
    number of Python's own run, in ulps of its scale, over every fixture traced whole."""
    ulps = dict.fromkeys(TOLERANCES, 0.0)
    one = {q: t._replace(ulps=1) for q, t in TOLERANCES.items()}
    for path in FIXTURES:
        f = nnscratch.load_fixture(path)
        if windows(f) != [(1, f.epochs)]:
            continue
        python = nnscratch.train_fixture(f, trace=True).trace
        with last_bits_changed():
            moved = nnscratch.train_fixture(f, trace=True).trace
        for row in compare_traces(python, moved, f.X, tolerances=one).maxima.itertuples():
            ulps[row.quantity] = max(ulps[row.quantity], row.tolerance_used)
    return ulps


@pytest.mark.parametrize("quantity", [q for q in TOLERANCES if q != "samples"])
def test_a_number_below_1e_12_is_compared_within_ten_times_what_last_bits_allow(
    r_session, one_ulp_moves, quantity
):
    """The smallest relative change of a number below 1e-12 that the harness catches, found
    by bisection, is at most ten times the last-bit allowance at that number: the most one
    ulp in every activation and slope moves the quantity (in ulps of its scale, on the
    fixtures traced whole) times EPS times the number's scale, over the number. This holds
    the tolerance to the scale model, number by scale; a scale larger than its formula
    would pass it."""
    f = tiny_everywhere()
    python = nnscratch.train_fixture(f, trace=True).trace
    r = r_session.train_fixture(f, trace=True).trace
    assert compare_traces(python, r, f.X).ok
    scales = noise_scales(python, r, f.X)
    candidates = []
    for layer in range(1, len(f.layers) + 1):
        if (layer, quantity) in scales:
            size = np.abs(trace_block(python, layer, quantity))
            small = np.argwhere((size > 1e-300) & (size < 1e-12))
            candidates += [(size[tuple(index)], layer, *index) for index in small]
    _, layer, k, i, j = max(candidates)  # the largest number below 1e-12
    value = trace_block(python, layer, quantity)[k, i, j]

    def caught(change):
        changed = copy.deepcopy(r)
        trace_block(changed, layer, quantity)[k, i, j] *= 1 + change
        return not compare_traces(python, changed, f.X).ok

    low, high = 1e-18, 1.0
    assert caught(high) and not caught(low)
    while high / low > 1.01:
        middle = np.sqrt(low * high)
        low, high = (low, middle) if caught(middle) else (middle, high)
    allowed = one_ulp_moves[quantity] * EPS * scales[layer, quantity][k, i, j] / abs(value)
    print(
        f"{quantity} (layer {layer}) {value:.3g}: the harness catches a relative change of "
        f"{high:.3g}; one ulp in every activation and slope moves it by up to {allowed:.3g} "
        f"({high / allowed:.1f} times)"
    )
    assert high <= 10 * allowed
