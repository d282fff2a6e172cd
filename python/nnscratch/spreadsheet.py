"""The steps of one iteration as a spreadsheet that computes them, like the article's.

Step 0 holds the batch and step 1 the weights, biases and lr, as numbers; every later
step is live formulas (MMULT, TRANSPOSE, EXP, ...) over copies of its operands placed
beside its result, so a student who edits a weight sees every step recompute. Python
alone writes it (with openpyxl); the numbers it starts from are those of
:func:`nnscratch.explain_steps`, the same in both languages.
"""

import io
import re

from .explain import SYMBOLS, explain_steps
from .files import write_atomically

# Each activation and its slope as the formula of one cell; {0} is the cell of Z, or of A.
# An activation added to ACTIVATIONS needs its entry here too (a test checks).
CELL_FORMULAS = {
    "sigmoid": ("1/(1+EXP(-{0}))", "{0}*(1-{0})"),
    "tanh": ("TANH({0})", "1-{0}*{0}"),
    "relu": ("MAX({0},0)", "IF({0}>0,1,0)"),
    "linear": ("{0}", "1"),
}

# Shown with this many decimals; every cell keeps its full double.
NUMBER_FORMAT = "0.000000"

# As in the article's pictures: the cells computed in yellow, the cells they use in orange;
# the numbers to edit in green.
COLOURS = {"result": "FFF2A8", "operand": "FAD7A0", "input": "D5F5E3"}

QUANTITIES = {letter: quantity for quantity, letter in SYMBOLS.items()}


def write_explain_xlsx(fixture, path, epoch=1, iteration=1):
    """Write one iteration of training a fixture as a spreadsheet that computes it.

    One sheet per step, as in the article. Step 0 holds the batch (X and y), step 1
    the weights and biases the iteration starts from and the learning rate, as numbers
    at full precision; each later step holds its result as one formula per cell over
    copies of its operands, placed beside it. Editing a number of step 0 or 1 changes
    every later step. Needs openpyxl (``pip install 'nnscratch[xlsx]'``).

    Parameters
    ----------
    fixture : Fixture
    path : str or os.PathLike
    epoch, iteration : int
        As in :func:`nnscratch.explain_steps`.
    """
    try:
        import openpyxl
    except ImportError:
        raise ImportError(
            "spreadsheets need openpyxl: pip install 'nnscratch[xlsx]' (or pip install openpyxl)"
        ) from None
    title, steps = explain_steps(fixture, epoch, iteration)
    book = openpyxl.Workbook()
    book.remove(book.active)
    book.calculation.fullCalcOnLoad = True  # no cached values: compute on opening
    sheets = _Sheets(book, title)
    for step, sentence, matrices in steps:
        sheets.start(step, sentence)
        for symbol, matrix in matrices:
            if step < 2:
                sheets.inputs(symbol.split(" ")[0], matrix)
            else:
                _computed(sheets, symbol, matrix.shape, fixture)
        if step == 1:
            sheets.inputs("lr", [[fixture.lr]])
    buffer = io.BytesIO()
    book.save(buffer)
    write_atomically(path, buffer.getvalue())


def _computed(sheets, symbol, shape, fixture):
    """Place one computed matrix: copies of its operands, then its formulas."""
    if symbol == "loss":
        (e,) = sheets.uses("E")
        sheets.result("loss", (1, 1), lambda i, j: f"SUMSQ({e.all})/COUNT({e.all})/2")
        return
    letter, number = re.fullmatch(r"([A-Za-z])(\d*)", symbol).groups()
    quantity = QUANTITIES[letter]
    n_layers = len(fixture.layers)
    l = int(number) if number else n_layers
    layer = fixture.layers[l - 1]
    activation, slope = CELL_FORMULAS[layer.activation]
    if quantity == "layer_input":
        names = [f"A{l - 1}", f"W{l}"] + ([] if layer.bias is None else [f"b{l}"])
        a, w, *b = sheets.uses(*names)

        def formula(i, j):
            return f"MMULT({a.row(i)},{w.column(j)})" + "".join(f"+{c.cell(0, j)}" for c in b)
    elif quantity == "activation":
        (z,) = sheets.uses(f"Z{l}")

        def formula(i, j):
            return activation.format(z.cell(i, j))
    elif quantity == "error":
        y, a = sheets.uses("y", f"A{l}")

        def formula(i, j):
            return f"{y.cell(i, j)}-{a.cell(i, j)}"
    elif quantity == "slope":
        (a,) = sheets.uses(f"A{l}")

        def formula(i, j):
            return slope.format(a.cell(i, j))
    elif quantity == "delta":
        h, s = sheets.uses("E" if l == n_layers else f"H{l}", f"S{l}")

        def formula(i, j):
            return f"{h.cell(i, j)}*{s.cell(i, j)}"
    elif quantity == "error_at_layer":
        d, w = sheets.uses(f"D{l + 1}", f"W{l + 1}")

        def formula(i, j):
            return f"MMULT({d.row(i)},TRANSPOSE({w.row(j)}))"
    elif quantity == "weights":
        w, lr, a, d = sheets.uses(f"W{l}", "lr", f"A{l - 1}", f"D{l}")

        def formula(i, j):
            gradient = f"MMULT(TRANSPOSE({a.column(i)}),{d.column(j)})"
            return f"{w.cell(i, j)}+{lr.cell(0, 0)}*{gradient}"
    else:  # bias
        b, lr, d = sheets.uses(f"b{l}", "lr", f"D{l}")

        def formula(i, j):
            return f"{b.cell(i, j)}+{lr.cell(0, 0)}*SUM({d.column(j)})"

    sheets.result(symbol, shape, formula)


class _Block:
    """A matrix's cells on a sheet: its top left cell and its shape."""

    def __init__(self, sheet, top, left, shape):
        self.sheet, self.top, self.left, self.shape = sheet, top, left, shape

    def cell(self, i, j, sheet=False):
        """The cell of row i, column j (from 0), with its sheet's name if asked."""
        from openpyxl.utils import get_column_letter

        where = f"'{self.sheet}'!" if sheet else ""
        return f"{where}{get_column_letter(self.left + j)}{self.top + i}"

    def range(self, i0, j0, i1, j1):
        return f"{self.cell(i0, j0)}:{self.cell(i1, j1)}"

    def row(self, i):
        return self.range(i, 0, i, self.shape[1] - 1)

    def column(self, j):
        return self.range(0, j, self.shape[0] - 1, j)

    @property
    def all(self):
        return self.range(0, 0, self.shape[0] - 1, self.shape[1] - 1)


class _Sheets:
    """Places matrices side by side on the sheets of a book, and remembers where each
    matrix was last placed, so that later formulas refer to its latest value."""

    def __init__(self, book, title):
        self.book, self.title = book, title
        self.placed = {}  # a matrix's name -> its _Block, where it was computed or entered

    def start(self, step, sentence):
        """Start a step's part of its sheet: its sentence, then a row of matrices."""
        from openpyxl.styles import Font

        name = f"Step {step}"
        if name not in self.book.sheetnames:
            self.book.create_sheet(name)
        self.sheet = self.book[name]
        top = self.sheet.max_row + 2 if self.sheet.max_row > 1 else 1
        self.sheet.cell(top, 1, f"{self.title}. Step {step}. {sentence}").font = Font(bold=True)
        self.top, self.left = top + 3, 1

    def _place(self, label, shape, value, kind):
        from openpyxl.styles import PatternFill
        from openpyxl.utils import get_column_letter

        fill = PatternFill("solid", start_color=COLOURS[kind], end_color=COLOURS[kind])
        self.sheet.cell(self.top - 1, self.left, label)
        block = _Block(self.sheet.title, self.top, self.left, shape)
        for i in range(shape[0]):
            for j in range(shape[1]):
                cell = self.sheet.cell(self.top + i, self.left + j, value(i, j))
                cell.number_format, cell.fill = NUMBER_FORMAT, fill
                self.sheet.column_dimensions[get_column_letter(self.left + j)].width = 12
        self.left += shape[1] + 1
        return block

    def inputs(self, name, matrix):
        """Numbers to edit: the batch, the weights and biases, lr."""
        shape = (len(matrix), len(matrix[0]))
        label = f"{name} ({shape[0]} x {shape[1]})"
        self.placed[name] = self._place(label, shape, lambda i, j: float(matrix[i][j]), "input")

    def uses(self, *names):
        """Copies of the matrices a formula uses, placed beside it; their blocks."""
        copies = []
        for name in names:
            origin = self.placed[name]
            copies.append(
                self._place(
                    f"{name}, from {origin.sheet}",
                    origin.shape,
                    lambda i, j, origin=origin: "=" + origin.cell(i, j, sheet=True),
                    "operand",
                )
            )
        return copies

    def result(self, name, shape, formula):
        """A computed matrix: one formula per cell, formula(i, j) without its '='."""
        label = f"{name} ({shape[0]} x {shape[1]})"
        self.placed[name] = self._place(label, shape, lambda i, j: "=" + formula(i, j), "result")
