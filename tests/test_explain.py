"""explain: the eleven steps as text, the same in both languages."""

import re

import pytest

import nnscratch
from cases import ROOT


def fixture(name):
    return nnscratch.load_fixture(ROOT / "fixtures" / f"{name}.json")


def test_every_step_appears_once_in_order_with_its_matrix():
    text = nnscratch.explain(fixture("article"))
    steps = [int(step) for step in re.findall(r"^Step (\d+)\.", text, flags=re.MULTILINE)]
    assert steps == [0, 1, 2, 3, 4, 4, 5, 6, 6, 7, 8, 9, 10, 11, 10, 11]
    assert text.startswith("Epoch 1, iteration 1 of 1, of article (3 samples, lr 0.1)")
    # The numbers are the trace's, rounded: the first epoch's output and loss.
    result = nnscratch.train_fixture(nnscratch.load_fixture(ROOT / "fixtures" / "article.json"))
    output = (
        "the output (activation; the article's output).\nA2 (3 x 1)\n  0.872\n  0.883\n  0.870\n"
    )
    assert output in text
    assert (
        f"E (3 x 1)\n   0.128\n   0.117\n  -0.870\nloss (1 x 1)\n  {result.loss[0]:.3f}\n" in text
    )
    assert "Step 8. The error at hidden layer 1: H1 = D2 @ W2^T" in text


def test_matrix_and_elementwise_products_are_written_apart_with_the_articles_names():
    # Written by hand from the article's steps 2 to 11 (its matrix_dot_product is @ here).
    expected = [
        "Z1 = A0 @ W1 + b1 (layer_input; the article's hidden_layer_input)",
        "A1 = sigmoid(Z1) (activation; the article's hiddenlayer_activations)",
        "Z2 = A1 @ W2 + b2 (layer_input; the article's output_layer_input)",
        "A2 = sigmoid(Z2), the output (activation; the article's output)",
        "E = y - A2 (error; the article's E), and the loss = mean(E * E) / 2.",
        "S1 = A1 * (1 - A1) (slope; the article's slope_hidden_layer)",
        "S2 = A2 * (1 - A2) (slope; the article's slope_output_layer)",
        "D2 = E * S2 (delta; the article's d_output)",
        "H1 = D2 @ W2^T, with the weights from before this update "
        "(error_at_layer; the article's Error_at_hidden_layer)",
        "D1 = H1 * S1 (delta; the article's d_hiddenlayer)",
        "W1 = W1 + 0.1 * A0^T @ D1 (weights; the article's wh)",
        "b1 = b1 + 0.1 * colsum(D1) (bias; the article's bh)",
        "W2 = W2 + 0.1 * A1^T @ D2 (weights; the article's wout)",
        "b2 = b2 + 0.1 * colsum(D2) (bias; the article's bout)",
        "(samples; the article's X and y)",
        "(weights and bias; the article's wh and bh for a hidden layer, "
        "wout and bout for the output layer)",
        "@ is the matrix product, * multiplies element by element, ^T transposes.",
    ]
    text = nnscratch.explain(fixture("article"))
    assert [formula for formula in expected if formula not in text] == []
    assert "S1 = 1 - A1 * A1 (slope" in nnscratch.explain(fixture("tanh"))


def test_a_later_iteration_starts_from_the_weights_the_previous_one_left():
    f = fixture("minibatch")
    text = nnscratch.explain(f, epoch=2, iteration=3, digits=4)
    trace = nnscratch.train_fixture(f, trace=True).trace
    rows = trace.samples[5][trace.samples[5] > 0]
    assert f"Step 0. Take the batch: rows {', '.join(map(str, rows))} of X" in text
    assert "A0 = X (2 x 2)" in text  # the last batch of an epoch holds 2 samples
    assert "as the previous iteration left them (weights and bias" in text
    weights = trace.layers[1]["weights"][4]  # W2 as iteration 2 of epoch 2 left it
    cells = [f"{w:.4f}" for w in weights[:, 0]]
    width = max(len(cell) for cell in cells)
    assert "W2 (4 x 1)\n" + "".join(f"  {cell.rjust(width)}\n" for cell in cells) in text


def test_a_network_without_bias_is_explained_without_one():
    text = nnscratch.explain(fixture("article_no_bias"))
    assert "b1" not in text and "b2" not in text
    assert "Z1 = A0 @ W1 (layer_input" in text
    assert "Step 1. The weights drawn at the start (weights; the article's wh" in text
    assert "Step 11." not in text


def test_no_negative_zero_is_printed():
    text = nnscratch.explain(fixture("relu"), epoch=3, digits=1)
    assert "-0.0 " not in text and not re.search(r"-0\.0$", text, flags=re.MULTILINE)


@pytest.mark.parametrize(
    ("arguments", "field", "problem"),
    [
        ({"epoch": 0}, "epoch", "must be a whole number, 1 or more; got 0.0"),
        ({"iteration": 4}, "iteration", "must be a whole number, from 1 to 3; got 4.0"),
        ({"digits": 16}, "digits", "must be a whole number, from 0 to 15; got 16.0"),
    ],
)
def test_bad_arguments_name_the_field(arguments, field, problem):
    with pytest.raises(nnscratch.InputError) as raised:
        nnscratch.explain(fixture("minibatch"), **arguments)
    assert (raised.value.field, raised.value.problem) == (field, problem)


@pytest.mark.parametrize(
    ("name", "epoch", "iteration"),
    [
        ("article", 1, 1),
        ("two_hidden", 2, 1),
        ("article_no_bias", 1, 1),
        ("mixed", 5, 1),
        ("minibatch", 2, 3),
        ("sgd", 3, 10),
        ("three_outputs", 1, 1),
        ("linear_output", 4, 1),
    ],
)
def test_python_and_r_print_the_same_text(r_session, name, epoch, iteration):
    path = ROOT / "fixtures" / f"{name}.json"
    python = nnscratch.explain(nnscratch.load_fixture(path), epoch=epoch, iteration=iteration)
    r_fixture = r_session.call("nn_load_fixture", str(path))
    r = r_session.call("nn_explain", r_fixture, epoch=epoch, iteration=iteration)
    assert str(r[0]) == python


def test_layers_with_data_are_explained_like_a_fixture(r_session):
    f = fixture("article")
    text = nnscratch.explain(f.layers, epoch=2, X=f.X, y=f.y, lr=f.lr)
    assert text.startswith("Epoch 2, iteration 1 of 1, of the network (3 samples, lr 0.1)")
    assert text.split("\n", 1)[1] == nnscratch.explain(f, epoch=2).split("\n", 1)[1]
    from nnscratch.rbridge import layers_to_r

    r = r_session.call("nn_explain", layers_to_r(f.layers), epoch=2, X=f.X, y=f.y, lr=f.lr)
    assert str(r[0]) == text
    with pytest.raises(nnscratch.InputError, match="explaining layers needs X, y and lr too"):
        nnscratch.explain(f.layers)
