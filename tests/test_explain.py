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
    assert "A2 = sigmoid(Z2), the output.\nA2 (3 x 1)\n  0.872\n  0.883\n  0.870\n" in text
    assert (
        f"E (3 x 1)\n   0.128\n   0.117\n  -0.870\nloss (1 x 1)\n  {result.loss[0]:.3f}\n" in text
    )
    assert "Step 8. The error at hidden layer 1: H1 = D2 W2^T" in text


def test_a_later_iteration_starts_from_the_weights_the_previous_one_left():
    f = fixture("minibatch")
    text = nnscratch.explain(f, epoch=2, iteration=3, digits=4)
    trace = nnscratch.train_fixture(f, trace=True).trace
    rows = trace.samples[5][trace.samples[5] > 0]
    assert f"Step 0. Take the batch: rows {', '.join(map(str, rows))} of X" in text
    assert "A0 = X (2 x 2)" in text  # the last batch of an epoch holds 2 samples
    assert "as the previous iteration left them." in text
    weights = trace.layers[1]["weights"][4]  # W2 as iteration 2 of epoch 2 left it
    cells = [f"{w:.4f}" for w in weights[:, 0]]
    width = max(len(cell) for cell in cells)
    assert "W2 (4 x 1)\n" + "".join(f"  {cell.rjust(width)}\n" for cell in cells) in text


def test_a_network_without_bias_is_explained_without_one():
    text = nnscratch.explain(fixture("article_no_bias"))
    assert "b1" not in text and "b2" not in text
    assert "Z1 = A0 W1." in text
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


def test_the_spreadsheet_has_a_sheet_per_step(tmp_path):
    import openpyxl

    from nnscratch.explain import explain_steps, write_explain_xlsx

    f = fixture("two_hidden")
    write_explain_xlsx(f, tmp_path / "steps.xlsx", epoch=2)
    book = openpyxl.load_workbook(tmp_path / "steps.xlsx")
    assert book.sheetnames == [f"Step {n}" for n in range(12)]
    _, steps = explain_steps(f, epoch=2)
    # Step 9 of two hidden layers: layer 2's delta, then layer 1's, one under the other.
    sheet = book["Step 9"]
    assert sheet.cell(1, 1).value.endswith("Step 9. Hidden layer 2's delta: D2 = H2 * S2.")
    assert sheet.cell(3, 1).value == "D2 (3 x 2)"
    layer_2 = next(m for step, _, ms in steps if step == 9 for name, m in ms if name == "D2")
    assert sheet.cell(4, 2).value == pytest.approx(layer_2[0, 1], rel=1e-15)  # 16 digits
    assert sheet.cell(8, 1).value.endswith("Step 9. Hidden layer 1's delta: D1 = H1 * S1.")
    # Step 0 shows the batch and its targets side by side.
    assert [book["Step 0"].cell(3, column).value for column in (1, 6)] == [
        "A0 = X (3 x 4)",
        "y (3 x 1)",
    ]


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
