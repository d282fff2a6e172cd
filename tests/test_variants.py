"""The variants in Python alone: activations, the generator, initialisation, batches,
networks without bias, several outputs, expected values."""

import math

import numpy as np
import pytest

import nnscratch
from cases import FIXTURES, ROOT
from nnscratch.activations import ACTIVATIONS
from nnscratch.lehmer import MODULUS, lehmer_next, lehmer_shuffle, lehmer_uniform


def fixture(name):
    return nnscratch.load_fixture(ROOT / "fixtures" / f"{name}.json")


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_each_slope_is_the_derivative_written_from_the_output(name):
    z = np.array([[-2.5, -0.7, 0.3], [0.9, 1.7, 3.1]])  # away from relu's kink at 0
    h = 1e-6
    f, slope = ACTIVATIONS[name].f, ACTIVATIONS[name].slope
    numerical = (f(z + h) - f(z - h)) / (2 * h)
    np.testing.assert_allclose(slope(f(z)), numerical, rtol=1e-7, atol=1e-9)


def test_relu_and_linear_at_the_edges():
    z = np.array([[-1.0, 0.0, 2.0]])
    relu, linear = ACTIVATIONS["relu"], ACTIVATIONS["linear"]
    assert relu.f(z).tolist() == [[0.0, 0.0, 2.0]]
    assert relu.slope(relu.f(z)).tolist() == [[0.0, 0.0, 1.0]]  # 0 at exactly 0
    assert linear.f(z) is z
    assert linear.slope(z).tolist() == [[1.0, 1.0, 1.0]]
    assert ACTIVATIONS["tanh"].f(np.array([-400.0, 400.0])).tolist() == [-1.0, 1.0]


def test_the_generator_is_the_minimal_standard_one():
    # Park and Miller (1988): from seed 1, the 10,000th state is 1043618065.
    state, states = 1, []
    for _ in range(10_000):
        state = lehmer_next(state)
        states.append(state)
    assert states[:3] == [16807, 282475249, 1622650073]
    assert states[-1] == 1043618065
    draws, after = lehmer_uniform(1, 10_000)
    assert after == 1043618065
    assert draws[0] == (16807 - 1) / (MODULUS - 1)
    assert draws.min() >= 0 and draws.max() < 1
    assert abs(draws.mean() - 0.5) < 0.01


def test_shuffling_gives_a_permutation_that_depends_on_the_seed():
    order, state = lehmer_shuffle(10, 42)
    assert sorted(order) == list(range(10))
    assert state == lehmer_uniform(42, 9)[1]  # one draw per position but the first
    assert lehmer_shuffle(10, 42)[0].tolist() == order.tolist()
    assert lehmer_shuffle(10, 43)[0].tolist() != order.tolist()
    assert lehmer_shuffle(1, 42) == (np.array([0]), 42)


def test_init_layers_uniform_and_glorot():
    uniform = nnscratch.init_layers([4, 3, 1], "sigmoid", 42)
    assert [layer.weights.shape for layer in uniform] == [(4, 3), (3, 1)]
    draws, _ = lehmer_uniform(42, 12 + 3 + 3 + 1)
    # Layer by layer, the weights row by row, then the bias.
    np.testing.assert_array_equal(uniform[0].weights.reshape(-1), draws[:12])
    np.testing.assert_array_equal(uniform[0].bias, draws[12:15])
    np.testing.assert_array_equal(uniform[1].weights.reshape(-1), draws[15:18])
    np.testing.assert_array_equal(uniform[1].bias, draws[18:])
    glorot = nnscratch.init_layers([4, 5, 2], ["tanh", "linear"], 7, method="glorot")
    assert [layer.activation for layer in glorot] == ["tanh", "linear"]
    for layer in glorot:
        limit = math.sqrt(6 / sum(layer.weights.shape))
        assert np.all(np.abs(layer.weights) <= limit)
        assert np.abs(layer.weights).max() > limit / 2
        np.testing.assert_array_equal(layer.bias, 0.0)
    no_bias = nnscratch.init_layers([4, 3, 1], "sigmoid", 42, bias=False)
    assert [layer.bias for layer in no_bias] == [None, None]
    np.testing.assert_array_equal(no_bias[0].weights, uniform[0].weights)


@pytest.mark.parametrize(
    ("arguments", "field", "problem"),
    [
        (([4], "sigmoid", 1), "sizes", "must give at least two sizes (inputs and outputs)"),
        (([4, 0, 1], "sigmoid", 1), "sizes[2]", "must be a whole number, 1 or more; got 0.0"),
        (
            ([4, 3, 1], ["tanh"] * 3, 1),
            "activations",
            "has 3 names, but there are 2 layers; give one per layer, or one for all",
        ),
        (([4, 1], "sigmoid", 0), "seed", "must be a whole number, from 1 to 2147483646; got 0.0"),
        (
            ([4, 1], "softmax", 1),
            "layers[1].activation",
            "unknown activation 'softmax'; known: sigmoid, tanh, relu, linear",
        ),
    ],
)
def test_init_layers_refuses_bad_arguments(arguments, field, problem):
    with pytest.raises(nnscratch.InputError) as raised:
        nnscratch.init_layers(*arguments)
    assert (raised.value.field, raised.value.problem) == (field, problem)
    with pytest.raises(nnscratch.InputError, match="method: unknown method 'he'"):
        nnscratch.init_layers([4, 1], "sigmoid", 1, method="he")


def test_mini_batches_cover_every_sample_once_per_epoch():
    f = fixture("minibatch")  # 10 samples, batches of 4, shuffled
    result = nnscratch.train_fixture(f, trace=True)
    trace = result.trace
    assert len(trace.loss) == f.epochs * 3
    assert trace.epoch.tolist()[:6] == [1, 1, 1, 2, 2, 2]
    assert trace.iteration.tolist()[:6] == [1, 2, 3, 1, 2, 3]
    assert trace.samples.shape == (f.epochs * 3, 4)
    for epoch in range(f.epochs):
        samples = trace.samples[3 * epoch : 3 * epoch + 3].reshape(-1)
        assert sorted(samples[samples > 0]) == list(range(1, 11))
        assert trace.samples[3 * epoch + 2, 2:].tolist() == [0, 0]  # the last batch holds 2
    assert not np.array_equal(trace.samples[0], trace.samples[3])  # a new order every epoch
    # Past the end of the last batch, nothing is recorded, and the table leaves it out.
    assert np.isnan(trace.layers[0]["delta"][2, 2:]).all()
    table = nnscratch.trace_table(trace)
    delta = table[(table.quantity == "delta") & (table.layer == 1) & (table.epoch == 1)]
    assert delta.groupby("iteration").size().tolist() == [4 * 4, 4 * 4, 2 * 4]
    assert not table["value"].isna().any()
    # The epoch's loss weighs each batch by its samples.
    losses = trace.loss[:3]
    assert result.loss[0] == pytest.approx((4 * losses[0] + 4 * losses[1] + 2 * losses[2]) / 10)


def test_one_mini_batch_is_one_full_batch_step_on_its_samples():
    f = fixture("minibatch")
    result = nnscratch.train(f.layers, f.X, f.y, f.lr, 1, trace=True, batch_size=4)
    assert result.trace.samples[0].tolist() == [1, 2, 3, 4]  # no shuffling: the data's order
    on_four = nnscratch.train(f.layers, f.X[:4], f.y[:4], f.lr, 1, trace=True)
    for quantities, alone in zip(result.trace.layers, on_four.trace.layers):
        for quantity, values in alone.items():
            np.testing.assert_array_equal(quantities[quantity][0], values[0], err_msg=quantity)


def test_a_batch_as_large_as_the_data_is_full_batch():
    f = fixture("article")
    full = nnscratch.train(f.layers, f.X, f.y, f.lr, 20)
    for batch_size in (3, 50):
        same = nnscratch.train(f.layers, f.X, f.y, f.lr, 20, batch_size=batch_size)
        np.testing.assert_array_equal(same.loss, full.loss)


def test_stochastic_gradient_descent_takes_one_sample_at_a_time():
    f = fixture("sgd")
    trace = nnscratch.train_fixture(f, trace=True).trace
    assert trace.samples.shape == (f.epochs * 10, 1)
    assert trace.layers[0]["delta"].shape[1:] == (1, 4)
    # Each update moves the weights by lr times that one sample's gradient.
    first = nnscratch.train(f.layers, f.X[trace.samples[0] - 1], f.y[trace.samples[0] - 1], f.lr, 1)
    np.testing.assert_array_equal(trace.layers[0]["weights"][0], first.layers[0].weights)


@pytest.mark.parametrize(
    ("settings", "field", "problem"),
    [
        ({"batch_size": 0}, "batch_size", "must be a whole number, 1 or more; got 0.0"),
        ({"batch_size": 2.5}, "batch_size", "must be a whole number, 1 or more; got 2.5"),
        ({"shuffle": 1}, "shuffle", "must be true or false; got 1.0"),
        ({"shuffle": True}, "seed", "must be given to shuffle"),
        ({"seed": -3}, "seed", "must be a whole number, from 1 to 2147483646; got -3.0"),
    ],
)
def test_batch_settings_are_checked(settings, field, problem):
    f = fixture("article")
    with pytest.raises(nnscratch.InputError) as raised:
        nnscratch.train(f.layers, f.X, f.y, f.lr, 3, **settings)
    assert (raised.value.field, raised.value.problem) == (field, problem)


def test_a_network_without_bias_never_gets_one():
    f = fixture("article_no_bias")
    result = nnscratch.train_fixture(f, trace=True)
    assert [layer.bias for layer in result.layers] == [None, None]
    assert all("bias" not in quantities for quantities in result.trace.layers)
    assert "bias" not in set(nnscratch.trace_table(result.trace)["quantity"])
    assert np.all(np.diff(result.loss) < 0)


@pytest.mark.parametrize(
    "path", [p for p in FIXTURES if nnscratch.load_fixture(p).expected], ids=lambda p: p.name
)
def test_expected_values_of_a_fixture(path):
    f = nnscratch.load_fixture(path)
    half_squared_error = (f.y - nnscratch.predict(f.layers, f.X)) ** 2 / 2
    expected = f.expected["untrained_half_squared_error"]
    assert np.all(np.abs(half_squared_error - expected) <= 0.5 * 10.0 ** -f.expected["decimals"])


def test_predict_class():
    f = fixture("three_outputs")
    trained = nnscratch.train_fixture(f).layers
    np.testing.assert_array_equal(
        nnscratch.predict_class(trained, f.X), [0, 0, 0, 1, 1, 1, 2, 2, 2]
    )
    one = [nnscratch.Layer([[1.0]], None, "linear")]
    assert nnscratch.predict_class(one, [[0.49], [0.5], [2.0]]).tolist() == [0, 1, 1]
    tied = [nnscratch.Layer([[1.0, 1.0, 0.0]], None, "linear")]
    assert nnscratch.predict_class(tied, [[2.0]]).tolist() == [0]  # the first of equal outputs


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.name)
def test_every_fixture_learns(path):
    f = nnscratch.load_fixture(path)
    result = nnscratch.train_fixture(f)
    assert result.loss[-1] < result.loss[0]
    if f.name == "saturated":  # its units saturate: it learns only its output's bias
        for start, end in zip(f.layers, result.layers, strict=True):
            assert np.abs(end.weights - start.weights).max() < 3e-4
        np.testing.assert_allclose(nnscratch.predict(result.layers, f.X), 0.5, atol=1e-7)
    elif f.name not in ("article_no_bias", "linear_output"):  # too few epochs; regression
        expected = f.y.argmax(axis=1) if f.y.shape[1] > 1 else f.y[:, 0]
        assert np.mean(nnscratch.predict_class(result.layers, f.X) == expected) >= 0.97


def test_relu_units_that_start_dead_stay_dead():
    f = fixture("relu")
    activation = nnscratch.train_fixture(f, trace=True).trace.layers[0]["activation"]
    dead_at_start = (activation[0] == 0).all(axis=0)
    assert dead_at_start.sum() == 2
    assert (activation[:, :, dead_at_start] == 0).all()  # their slope is 0: they never learn


def test_the_article_no_bias_loss_of_the_first_epoch_is_the_mean_of_its_printed_errors():
    f = fixture("article_no_bias")
    loss = nnscratch.train_fixture(f).loss[0]
    assert loss == pytest.approx(np.mean([0.05013458, 0.03727248, 0.25388062]), abs=1e-8)
    assert abs(loss - 0.11553) > 1e-3  # the article's printed "Error at epoch 0"
