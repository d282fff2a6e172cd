"""The Python implementation on its own: the steps, the trace, the table, bad arguments."""

import math
import warnings

import numpy as np
import pytest

import nnscratch
from cases import ROOT


@pytest.fixture(scope="module")
def article():
    return nnscratch.load_fixture(ROOT / "fixtures" / "article.json")


@pytest.fixture(scope="module")
def two_hidden():
    return nnscratch.load_fixture(ROOT / "fixtures" / "two_hidden.json")


def first_epoch_by_hand(fixture):
    """One epoch of the article's network, one number at a time with plain floats."""
    X, y = fixture.X.tolist(), fixture.y.tolist()
    (W1, b1), (W2, b2) = ((layer.weights.tolist(), layer.bias.tolist()) for layer in fixture.layers)
    n, m, h, lr = len(X), len(X[0]), len(b1), fixture.lr

    def s(z):
        return 1 / (1 + math.exp(-z))

    Z1 = [[sum(X[i][k] * W1[k][j] for k in range(m)) + b1[j] for j in range(h)] for i in range(n)]
    A1 = [[s(z) for z in row] for row in Z1]
    Z2 = [[sum(A1[i][j] * W2[j][0] for j in range(h)) + b2[0]] for i in range(n)]
    A2 = [[s(Z2[i][0])] for i in range(n)]
    E = [[y[i][0] - A2[i][0]] for i in range(n)]
    S1 = [[a * (1 - a) for a in row] for row in A1]
    S2 = [[A2[i][0] * (1 - A2[i][0])] for i in range(n)]
    D2 = [[E[i][0] * S2[i][0]] for i in range(n)]
    H = [[D2[i][0] * W2[j][0] for j in range(h)] for i in range(n)]
    D1 = [[H[i][j] * S1[i][j] for j in range(h)] for i in range(n)]
    return {
        (1, "layer_input"): Z1,
        (1, "activation"): A1,
        (2, "layer_input"): Z2,
        (2, "activation"): A2,
        (2, "error"): E,
        (1, "slope"): S1,
        (2, "slope"): S2,
        (2, "delta"): D2,
        (1, "error_at_layer"): H,
        (1, "delta"): D1,
        (2, "weights"): [
            [W2[j][0] + lr * sum(A1[i][j] * D2[i][0] for i in range(n))] for j in range(h)
        ],
        (2, "bias"): [[b2[0] + lr * sum(D2[i][0] for i in range(n))]],
        (1, "weights"): [
            [W1[k][j] + lr * sum(X[i][k] * D1[i][j] for i in range(n)) for j in range(h)]
            for k in range(m)
        ],
        (1, "bias"): [[b1[j] + lr * sum(D1[i][j] for i in range(n)) for j in range(h)]],
        "loss": sum(E[i][0] ** 2 for i in range(n)) / n / 2,
    }


def test_first_epoch_matches_a_computation_by_hand(article):
    result = nnscratch.train(article.layers, article.X, article.y, article.lr, 1, trace=True)
    expected = first_epoch_by_hand(article)
    assert result.loss[0] == pytest.approx(expected.pop("loss"), rel=1e-14)
    for (layer, quantity), values in expected.items():
        np.testing.assert_allclose(
            result.trace.layers[layer - 1][quantity][0],
            values,
            rtol=1e-13,
            atol=1e-16,
            err_msg=f"layer {layer} {quantity}",
        )


def test_training_leaves_the_given_network_unchanged(article):
    before = [(layer.weights.copy(), layer.bias.copy()) for layer in article.layers]
    nnscratch.train(article.layers, article.X, article.y, article.lr, 10)
    for layer, (weights, bias) in zip(article.layers, before):
        np.testing.assert_array_equal(layer.weights, weights)
        np.testing.assert_array_equal(layer.bias, bias)


def test_zero_epochs_returns_the_initial_network(article):
    result = nnscratch.train(article.layers, article.X, article.y, article.lr, 0, trace=True)
    assert result.loss.shape == (0,)
    for trained, initial in zip(result.layers, article.layers):
        np.testing.assert_array_equal(trained.weights, initial.weights)
        np.testing.assert_array_equal(trained.bias, initial.bias)
    assert len(nnscratch.trace_table(result.trace)) == 0


def test_the_article_example_learns_its_targets(article):
    result = nnscratch.train(article.layers, article.X, article.y, article.lr, article.epochs)
    output = nnscratch.predict(result.layers, article.X)
    assert np.all(np.abs(output - article.y) < 0.05)
    assert np.all(
        np.diff(result.loss) < 0
    )  # full-batch descent with a small lr: every epoch better


def test_trace_shapes_and_what_each_layer_records(two_hidden):
    epochs, n = 4, two_hidden.X.shape[0]
    trace = nnscratch.train(
        two_hidden.layers, two_hidden.X, two_hidden.y, two_hidden.lr, epochs, trace=True
    ).trace
    assert trace.loss.shape == (epochs,)
    units = [3, 2, 1]
    for number, (quantities, n_units) in enumerate(zip(trace.layers, units), start=1):
        expected = {"layer_input", "activation", "slope", "delta", "weights", "bias"}
        expected |= {"error"} if number == 3 else {"error_at_layer"}
        assert set(quantities) == expected
        n_inputs = two_hidden.layers[number - 1].weights.shape[0]
        assert quantities["weights"].shape == (epochs, n_inputs, n_units)
        assert quantities["bias"].shape == (epochs, 1, n_units)
        assert quantities["delta"].shape == (epochs, n, n_units)
        assert all(np.isfinite(values).all() for values in quantities.values())


def test_trace_agrees_with_the_result(two_hidden):
    f = two_hidden
    result = nnscratch.train(f.layers, f.X, f.y, f.lr, 7, trace=True)
    np.testing.assert_array_equal(result.trace.loss, result.loss)
    for layer, quantities in zip(result.layers, result.trace.layers):
        np.testing.assert_array_equal(quantities["weights"][-1], layer.weights)
        np.testing.assert_array_equal(quantities["bias"][-1, 0], layer.bias)
    # Epoch 1's forward pass is the initial network's prediction.
    np.testing.assert_array_equal(
        result.trace.layers[-1]["activation"][0], nnscratch.predict(f.layers, f.X)
    )
    # Epoch 2's forward pass starts from the weights after epoch 1's update.
    np.testing.assert_array_equal(
        result.trace.layers[-1]["activation"][1],
        nnscratch.predict(nnscratch.train(f.layers, f.X, f.y, f.lr, 1).layers, f.X),
    )


def test_trace_steps_follow_the_order_of_the_loop():
    assert nnscratch.trace_steps(1) == [
        (0, "samples", 0),
        (1, "layer_input", 4),
        (1, "activation", 4),
        (1, "error", 5),
        (1, "loss", 5),
        (1, "slope", 6),
        (1, "delta", 7),
        (1, "weights", 10),
        (1, "bias", 11),
    ]
    steps = nnscratch.trace_steps(3)
    assert steps[1:7] == [
        (1, "layer_input", 2),
        (1, "activation", 3),
        (2, "layer_input", 2),
        (2, "activation", 3),
        (3, "layer_input", 4),
        (3, "activation", 4),
    ]
    backward = [s for s in steps if s[2] in (7, 8, 9)]
    assert backward == [
        (3, "delta", 7),
        (2, "error_at_layer", 8),
        (2, "delta", 9),
        (1, "error_at_layer", 8),
        (1, "delta", 9),
    ]


def test_trace_table_has_one_row_per_number_in_reading_order(two_hidden):
    f = two_hidden
    trace = nnscratch.train(f.layers, f.X, f.y, f.lr, 3, trace=True).trace
    table = nnscratch.trace_table(trace)
    assert list(table.columns) == [
        "epoch",
        "iteration",
        "step",
        "layer",
        "quantity",
        "row",
        "col",
        "value",
    ]
    arrays = [values[0].size for quantities in trace.layers for values in quantities.values()]
    per_epoch = 3 + 1 + sum(arrays)  # 3 samples, the loss, the arrays
    assert len(table) == 3 * per_epoch
    assert table["epoch"].tolist() == [1] * per_epoch + [2] * per_epoch + [3] * per_epoch
    assert set(table["iteration"]) == {1}
    assert table[table.quantity == "samples"]["value"].tolist() == [1, 2, 3] * 3
    # Every row names exactly one number of the trace, 1-based.
    for row in table.sample(200, random_state=0).itertuples():
        if row.quantity == "loss":
            assert row.value == trace.loss[row.epoch - 1]
        elif row.quantity != "samples":
            values = trace.layers[row.layer - 1][row.quantity]
            assert row.value == values[row.epoch - 1, row.row - 1, row.col - 1]
    # A matrix reads row by row: layer 1's weights (4 x 3) of epoch 2.
    weights = table[(table.epoch == 2) & (table.layer == 1) & (table.quantity == "weights")]
    assert list(zip(weights.row, weights.col))[:4] == [(1, 1), (1, 2), (1, 3), (2, 1)]
    np.testing.assert_array_equal(weights.value, trace.layers[0]["weights"][1].reshape(-1))
    assert table.groupby("quantity")["step"].nunique().to_dict()["delta"] == 2  # steps 7 and 9


def test_a_saturated_sigmoid_gives_no_warnings_in_predict_and_train():
    layers = [nnscratch.Layer([[1.0]], None, "sigmoid")]  # the output is sigmoid(x)
    X = np.array([[-800.0], [800.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert nnscratch.predict(layers, X).tolist() == [[0.0], [1.0]]
        nnscratch.train(layers, X, [[0.0], [1.0]], 0.1, 2)


@pytest.mark.parametrize(
    ("change", "field", "problem"),
    [
        (lambda a: {"y": a["y"].ravel()}, "y", "must be a matrix of numbers"),
        (
            lambda a: {"X": a["X"][:, :3]},
            "X",
            "has 3 columns, but layers[1].weights has 4 rows (one per feature); they must match",
        ),
        (
            lambda a: {"y": a["y"][:2]},
            "y",
            "has 2 rows, but X has 3 (one per sample); they must match",
        ),
        (lambda a: {"lr": 0}, "lr", "must be a finite number above 0; got 0.0"),
        (lambda a: {"lr": float("nan")}, "lr", "must be a finite number above 0; got NaN"),
        (lambda a: {"epochs": 2.5}, "epochs", "must be a whole number, 0 or more; got 2.5"),
        (lambda a: {"epochs": True}, "epochs", "must be a whole number, 0 or more; got a boolean"),
        (lambda a: {"layers": []}, "layers", "must hold at least one layer"),
        (
            lambda a: {"layers": [a["layers"][1]]},
            "X",
            "has 4 columns, but layers[1].weights has 3 rows (one per feature); they must match",
        ),
        (
            lambda a: {
                "layers": [
                    nnscratch.Layer(a["layers"][0].weights, a["layers"][0].bias, "softmax"),
                    a["layers"][1],
                ]
            },
            "layers[1].activation",
            "unknown activation 'softmax'; known: sigmoid, tanh, relu, linear",
        ),
    ],
)
def test_bad_arguments_name_the_field(article, change, field, problem):
    arguments = {"layers": article.layers, "X": article.X, "y": article.y, "lr": 0.1, "epochs": 3}
    arguments.update(change(arguments))
    with pytest.raises(nnscratch.InputError) as raised:
        nnscratch.train(**arguments)
    assert (raised.value.field, raised.value.problem) == (field, problem)
    assert str(raised.value) == f"{field}: {problem}"


def test_the_update_is_gradient_descent_on_the_summed_squared_error(article):
    """W_new = W - lr * dL/dW with L = sum((y - output)^2) / 2, by central differences."""
    f = article
    trained = nnscratch.train(f.layers, f.X, f.y, f.lr, 1).layers

    def summed_squared_error(layers):
        return np.sum((f.y - nnscratch.predict(layers, f.X)) ** 2) / 2

    h = 1e-6
    for number, layer in enumerate(f.layers):
        for name in ("weights", "bias"):
            values = getattr(layer, name)
            for index in np.ndindex(values.shape):
                shifted = []
                for step in (h, -h):
                    layers = [nnscratch.Layer(o.weights.copy(), o.bias.copy()) for o in f.layers]
                    getattr(layers[number], name)[index] += step
                    shifted.append(summed_squared_error(layers))
                gradient = (shifted[0] - shifted[1]) / (2 * h)
                moved = getattr(trained[number], name)[index] - values[index]
                assert moved == pytest.approx(-f.lr * gradient, rel=1e-6, abs=1e-10)


def test_a_run_continues_from_its_layers_state_and_epoch_as_one_call():
    """Trained in two calls, the second from the first's layers, generator state and
    first_epoch, a shuffled run is the run of one call, to the bit: its losses, layers,
    trace (epochs counted from the run's start), trace_every and progress; and an error
    names the run's epoch."""
    f = nnscratch.load_fixture(ROOT / "fixtures" / "minibatch.json")
    f.epochs = 30
    whole = nnscratch.train_fixture(f, trace=True)
    every = nnscratch.train_fixture(f, trace=True, trace_every=4)
    first = nnscratch.train(f.layers, f.X, f.y, f.lr, 12, **f.batching())
    seen = []
    rest = {"batch_size": 4, "shuffle": True, "seed": first.state, "first_epoch": 13}
    second = nnscratch.train(
        first.layers, f.X, f.y, f.lr, 18, trace=True, progress=lambda *a: seen.append(a), **rest
    )
    assert second.loss.tobytes() == whole.loss[12:].tobytes()
    assert np.concatenate([first.loss, second.loss]).tobytes() == whole.loss.tobytes()
    for p, q in zip(second.layers, whole.layers, strict=True):
        assert p.weights.tobytes() == q.weights.tobytes() and p.bias.tobytes() == q.bias.tobytes()
    assert second.state == whole.state
    later = whole.trace.epoch > 12
    assert second.trace.epoch.tolist() == whole.trace.epoch[later].tolist()
    assert second.trace.samples.tolist() == whole.trace.samples[later].tolist()
    assert (
        second.trace.layers[0]["delta"].tobytes() == whole.trace.layers[0]["delta"][later].tobytes()
    )
    assert [epoch for epoch, _ in seen] == list(range(13, 31))
    sparse = nnscratch.train(first.layers, f.X, f.y, f.lr, 18, trace=True, trace_every=4, **rest)
    assert (
        sorted(set(sparse.trace.epoch))
        == [16, 20, 24, 28]
        == sorted(set(every.trace.epoch) - {4, 8, 12})
    )
    # linear_output at lr 5 diverges in its 65th epoch (test_proof.py): the 165th, from 101.
    g = nnscratch.load_fixture(ROOT / "fixtures" / "linear_output.json")
    with pytest.raises(nnscratch.InputError, match="in epoch 165, iteration 1, the loss"):
        nnscratch.train(g.layers, g.X, g.y, 5, 100, first_epoch=101)
    with pytest.raises(nnscratch.InputError) as raised:
        nnscratch.train(first.layers, f.X, f.y, f.lr, 2, **rest | {"first_epoch": 0})
    assert str(raised.value) == "first_epoch: must be a whole number, 1 or more; got 0.0"
