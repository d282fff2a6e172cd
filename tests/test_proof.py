"""Proof beyond two ports: gradient checks, extremes, divergence."""

import itertools
import warnings

import numpy as np
import pytest

import nnscratch
from cases import FIXTURES, ROOT
from nnscratch.activations import ACTIVATIONS


# Every fixture but saturated.json, whose inputs reach 300: a step of h in a first-layer
# weight moves a unit's input by up to 300 h, and the loss hardly moves with those weights
# (the units are saturated), so the finite differences err by 6e-6 (relative) at h = 1e-3
# and by more at smaller h, where the loss's rounding takes over.
@pytest.mark.parametrize(
    "path", [p for p in FIXTURES if p.name != "saturated.json"], ids=lambda p: p.name
)
def test_backprop_matches_finite_differences_on_every_fixture(path):
    f = nnscratch.load_fixture(path)
    assert nnscratch.gradient_check(f.layers, f.X, f.y) < 1e-6


def random_network(rng, activation):
    """A random network (1 to 3 hidden layers) and data, relu's inputs kept off its kink."""
    while True:
        sizes = [int(rng.integers(1, 6)) for _ in range(int(rng.integers(3, 6)))]
        layers = [
            nnscratch.Layer(
                rng.normal(0, 0.8, (n_in, n_out)),
                rng.normal(0, 0.5, n_out) if rng.random() < 0.7 else None,
                activation if k < len(sizes) - 2 else rng.choice(list(ACTIVATIONS)),
            )
            for k, (n_in, n_out) in enumerate(itertools.pairwise(sizes))
        ]
        X = rng.normal(0, 1, (int(rng.integers(1, 8)), sizes[0]))
        y = rng.uniform(0, 1, (X.shape[0], sizes[-1]))
        layer_input, _ = nnscratch.forward(layers, X)
        if all(
            np.abs(z).min() > 1e-2
            for z, layer in zip(layer_input, layers)
            if layer.activation == "relu"
        ):
            return layers, X, y


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_backprop_matches_finite_differences_on_random_networks(activation):
    rng = np.random.default_rng(list(ACTIVATIONS).index(activation))
    for _ in range(25):
        layers, X, y = random_network(rng, activation)
        assert nnscratch.gradient_check(layers, X, y) < 1e-6


def test_the_gradient_check_catches_a_wrong_derivative(monkeypatch):
    f = nnscratch.load_fixture(ROOT / "fixtures" / "tanh.json")
    assert nnscratch.gradient_check(f.layers, f.X, f.y) < 1e-6
    wrong = ACTIVATIONS["tanh"]._replace(slope=lambda a: 1 - a)  # tanh's slope is 1 - a^2
    monkeypatch.setitem(ACTIVATIONS, "tanh", wrong)
    assert nnscratch.gradient_check(f.layers, f.X, f.y) > 1e-2


def test_saturated_activations_give_no_warnings_and_no_nan():
    z = np.array([[-800.0], [-400.0], [0.0], [400.0], [800.0]])
    identity = [[1.0]]  # one unit whose input is the sample: its output is f(z)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sigmoid = nnscratch.predict([nnscratch.Layer(identity, None, "sigmoid")], z)[:, 0]
        assert sigmoid[0] == 0.0 and 0 < sigmoid[1] < 1e-173  # exp(800) overflows to Inf
        assert sigmoid[2:].tolist() == [0.5, 1.0, 1.0]
        tanh = nnscratch.predict([nnscratch.Layer(identity, None, "tanh")], z)[:, 0]
        assert tanh.tolist() == [-1.0, -1.0, 0.0, 1.0, 1.0]
        for name in ACTIVATIONS:
            output = nnscratch.predict([nnscratch.Layer(identity, None, name)], z)
            assert np.isfinite(ACTIVATIONS[name].slope(output)).all()


def test_a_single_sample_and_a_single_feature():
    layers = nnscratch.init_layers([1, 2, 1], "sigmoid", 5)
    result = nnscratch.train(layers, [[0.5]], [[1.0]], 0.5, 20, trace=True)
    assert result.trace.layers[0]["delta"].shape == (20, 1, 2)
    assert result.loss[-1] < result.loss[0]
    assert nnscratch.gradient_check(layers, [[0.5]], [[1.0]]) < 1e-6


def test_training_that_diverges_stops_with_the_same_error_in_both_languages(r_session):
    # A snapshot: epoch 65 is where this run's loss first overflows, as nnscratch computed
    # it once; what the test holds to is that both languages stop there with one message.
    f = nnscratch.load_fixture(ROOT / "fixtures" / "linear_output.json")
    message = (
        "lr: training diverged: in epoch 65, iteration 1, the loss is not finite; "
        "a smaller lr may help"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warnings on the way
        with pytest.raises(nnscratch.InputError) as python:
            nnscratch.train(f.layers, f.X, f.y, 5, 100)
    with pytest.raises(nnscratch.InputError) as r:
        r_session.train(f.layers, f.X, f.y, 5, 100)
    assert str(python.value) == str(r.value) == message
    assert python.value.category == r.value.category == "training"


def test_saturated_activations_are_the_same_in_both_languages(r_session):
    z = np.array([[-800.0, -400.0, -30.0, 0.0, 30.0, 400.0, 800.0]])
    for name in ACTIVATIONS:
        with np.errstate(over="ignore"):  # as train and predict call them
            python = ACTIVATIONS[name].f(z)
        r = np.asarray(r_session.call(f"nn_{name}", z))
        np.testing.assert_allclose(python, r, rtol=1e-15, atol=0)
