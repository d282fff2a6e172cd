"""The spreadsheet computes: a formula engine (the PyPI package formulas) recomputes it
from its inputs, and every computed cell agrees with the trace at 1e-12; a weight or lr
edited in it changes every later step as training would."""

import dataclasses
import re

import numpy as np
import openpyxl
import pytest

import nnscratch
from cases import ATOL, ROOT, RTOL

# The letters of the text's matrices, as README's step table names them.
QUANTITIES = {
    "Z": "layer_input",
    "A": "activation",
    "E": "error",
    "S": "slope",
    "D": "delta",
    "H": "error_at_layer",
    "W": "weights",
    "b": "bias",
}
# Each quantity's step, (in a hidden layer, in the output layer), as README's table has it.
STEPS = {
    "layer_input": (2, 4),
    "activation": (3, 4),
    "error": (None, 5),
    "slope": (6, 6),
    "delta": (9, 7),
    "error_at_layer": (8, None),
    "weights": (10, 10),
    "bias": (11, 11),
}
LABEL = re.compile(r"^(\w+) \((\d+) x (\d+)\)$")  # a matrix entered or computed
COPY = re.compile(r"^(\w+), from (Step \d+)$")  # a copy of one, beside a formula that uses it


def recompute(path):
    """Every cell's value as the formula engine computes it: {(sheet, cell): value}."""
    import formulas

    solution = formulas.ExcelModel().loads(str(path)).finish().calculate()
    values = {}
    for key, value in solution.items():
        found = re.fullmatch(r"'\[[^]]+\]([A-Z0-9 ]+)'!([A-Z]+[0-9]+)", key)
        if found:
            values[found.group(1).title(), found.group(2)] = value.value[0][0]
    return values


def read_matrices(book):
    """Each labelled matrix: (sheet, label, cells as a list of rows of cell names)."""
    found = []
    for sheet in book:
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and (
                    LABEL.match(cell.value) or COPY.match(cell.value)
                ):
                    cells, i = [], 1
                    while sheet.cell(cell.row + i, cell.column).value is not None:
                        j, names = 0, []
                        while sheet.cell(cell.row + i, cell.column + j).value is not None:
                            names.append(sheet.cell(cell.row + i, cell.column + j).coordinate)
                            j += 1
                        cells.append(names)
                        i += 1
                    found.append((sheet.title, cell.value, cells))
    return found


def from_trace(fixture, epoch, iteration):
    """What each entered or computed matrix holds, by the trace: {(sheet, name): matrix}."""
    trace = nnscratch.train_fixture(dataclasses.replace(fixture, epochs=epoch), trace=True).trace
    k = int(np.flatnonzero((trace.epoch == epoch) & (trace.iteration == iteration))[0])
    rows = trace.samples[k][trace.samples[k] > 0] - 1
    n_layers = len(fixture.layers)
    expected = {
        ("Step 0", "A0"): fixture.X[rows],
        ("Step 0", "y"): fixture.y[rows],
        ("Step 1", "lr"): np.array([[fixture.lr]]),
        ("Step 5", "loss"): np.array([[trace.loss[k]]]),
    }
    for l, layer in enumerate(fixture.layers, start=1):
        for quantity, values in trace.layers[l - 1].items():
            letter = next(key for key, name in QUANTITIES.items() if name == quantity)
            name = "E" if quantity == "error" else f"{letter}{l}"
            step = STEPS[quantity][l == n_layers]
            per_sample = quantity not in ("weights", "bias")
            expected[f"Step {step}", name] = values[k][: len(rows) if per_sample else None]
            if not per_sample:  # step 1: what the iteration starts from
                start = layer.weights if quantity == "weights" else layer.bias[np.newaxis]
                expected["Step 1", name] = start if k == 0 else values[k - 1]
    return expected


def compare(path, expected):
    """Compare every labelled matrix with the expected one, every copy with its origin;
    return (formula cells compared, formula cells in the book, largest difference)."""
    book = openpyxl.load_workbook(path)
    values = recompute(path)
    matrices = read_matrices(book)
    origins = {
        (sheet, LABEL.match(label).group(1)): cells
        for sheet, label, cells in matrices
        if LABEL.match(label)
    }
    compared, largest = 0, 0.0
    for sheet, label, cells in matrices:
        got = np.array([[values[sheet, cell] for cell in row] for row in cells], dtype=float)
        formulas = sum(
            str(book[sheet][cell].value).startswith("=") for row in cells for cell in row
        )
        copy = COPY.match(label)
        if copy:
            origin = origins[copy.group(2), copy.group(1)]
            want = np.array(
                [[values[copy.group(2), cell] for cell in row] for row in origin], dtype=float
            )
        else:
            want = expected[sheet, LABEL.match(label).group(1)]
        assert got.shape == want.shape, (sheet, label)
        difference = np.abs(got - want)
        assert (difference <= ATOL + RTOL * np.abs(want)).all(), (sheet, label, got, want)
        largest = max(largest, float(difference.max()))
        compared += formulas
    in_book = sum(
        isinstance(cell.value, str) and cell.value.startswith("=")
        for sheet in book
        for row in sheet.iter_rows()
        for cell in row
    )
    return compared, in_book, largest


@pytest.mark.parametrize(
    ("name", "epoch", "iteration"),
    [("article", 1, 1), ("mixed", 2, 1), ("minibatch", 2, 3), ("linear_output", 1, 1)],
)
def test_every_computed_cell_agrees_with_the_trace(tmp_path, name, epoch, iteration):
    fixture = nnscratch.load_fixture(ROOT / "fixtures" / f"{name}.json")
    path = tmp_path / "steps.xlsx"
    nnscratch.write_explain_xlsx(fixture, path, epoch, iteration)
    compared, in_book, _ = compare(path, from_trace(fixture, epoch, iteration))
    assert compared == in_book > 0


def test_an_edited_weight_and_lr_recompute_every_later_step(tmp_path):
    fixture = nnscratch.load_fixture(ROOT / "fixtures" / "article.json")
    path = tmp_path / "steps.xlsx"
    nnscratch.write_explain_xlsx(fixture, path)
    book = openpyxl.load_workbook(path)
    cells = {(sheet, label): cells for sheet, label, cells in read_matrices(book)}
    w1, lr = cells["Step 1", "W1 (4 x 3)"][0][0], cells["Step 1", "lr (1 x 1)"][0][0]
    book["Step 1"][w1] = 2.5
    book["Step 1"][lr] = 0.3
    book.save(path)
    # What Python computes from the same edited network, one full-batch iteration.
    layers = [nnscratch.Layer(l.weights.copy(), l.bias, l.activation) for l in fixture.layers]
    layers[0].weights[0, 0] = 2.5
    _, steps = nnscratch.explain_steps(layers, X=fixture.X, y=fixture.y, lr=0.3)
    expected = {
        (f"Step {step}", name.split(" ")[0]): matrix
        for step, _, matrices in steps
        for name, matrix in matrices
    }
    expected["Step 1", "lr"] = np.array([[0.3]])
    compared, in_book, _ = compare(path, expected)
    assert compared == in_book
    # The edit reached the last step: W2 after the update is not what it was.
    unedited = from_trace(fixture, 1, 1)["Step 10", "W2"]
    assert not np.allclose(expected["Step 10", "W2"], unedited, rtol=1e-6)


def test_a_sheet_per_step_with_the_operands_beside_the_result(tmp_path):
    f = nnscratch.load_fixture(ROOT / "fixtures" / "two_hidden.json")
    nnscratch.write_explain_xlsx(f, tmp_path / "steps.xlsx", epoch=2)
    book = openpyxl.load_workbook(tmp_path / "steps.xlsx")
    assert book.sheetnames == [f"Step {n}" for n in range(12)]
    # Step 9 of two hidden layers: layer 2's delta, then layer 1's, one under the other.
    sheet = book["Step 9"]
    assert sheet.cell(1, 1).value.endswith(
        "Step 9. Hidden layer 2's delta: D2 = H2 * S2 (delta; the article's d_hiddenlayer)."
    )
    labels = [sheet.cell(3, column).value for column in (1, 4, 7)]
    assert labels == ["H2, from Step 8", "S2, from Step 6", "D2 (3 x 2)"]
    assert sheet.cell(4, 7).value == "=A4*D4"
    assert sheet.cell(4, 7).number_format == "0.000000"
    assert sheet.cell(8, 1).value.endswith(
        "Step 9. Hidden layer 1's delta: D1 = H1 * S1 (delta; the article's d_hiddenlayer)."
    )
    # Step 2: Z1 = A0 @ W1 + b1, one MMULT per cell, over the copies beside it.
    assert book["Step 2"].cell(4, 14).value == "=MMULT(A4:D4,F4:F7)+J4"
    # Step 0 shows the batch and its targets side by side, as numbers to edit.
    assert [book["Step 0"].cell(3, column).value for column in (1, 6)] == [
        "A0 (3 x 4)",
        "y (3 x 1)",
    ]
    assert book["Step 0"].cell(4, 1).value == f.X[0, 0]


def test_every_activation_has_its_cell_formulas():
    from nnscratch.spreadsheet import CELL_FORMULAS

    assert set(CELL_FORMULAS) == set(nnscratch.ACTIVATIONS)
