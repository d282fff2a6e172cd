"""Compare two traces of the same run, quantity by quantity, and say where they part.

compare_traces compares any two traces: it does not know which language made them.
crosscheck trains a fixture in Python and in R and compares their traces, in windows
when the run is long: the cross-language harness, the demo and the command line use it.
"""

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .fixtures import train_fixture
from .network import train
from .trace import trace_block, trace_quantities, trace_rows_used, trace_table

# numpy and R use different BLAS and exp implementations, so the last bits of a
# long run differ (about 1e-15 on the article's example after 5000 epochs). A
# wrong step, a wrong index or a transposed matrix is many orders larger.
ATOL = 1e-12
RTOL = 1e-12


@dataclass
class Divergence:
    """The first number that differs beyond the tolerance, in the order of the run."""

    epoch: int
    iteration: int
    step: int
    layer: int
    quantity: str
    row: int
    col: int
    first: float
    second: float


@dataclass
class Comparison:
    """The result of :func:`compare_traces`.

    Attributes
    ----------
    maxima : pandas.DataFrame
        One row per (layer, quantity) in the order of :func:`trace_steps`:
        ``quantity, layer, step, largest_difference, tolerance_used`` (the largest
        ``|first - second| / (atol + rtol * |second|)``, below 1 where all agree),
        ``failing`` (how many numbers are beyond the tolerance).
    first : Divergence or None
    names : tuple of str
        What the two traces are called in the report, e.g. ``("python", "R")``.
    numbers : int
        How many numbers were compared.
    """

    maxima: pd.DataFrame
    first: Divergence | None
    names: tuple
    numbers: int
    epochs: int
    iterations: int
    atol: float
    rtol: float

    @property
    def ok(self):
        return self.first is None

    def report(self):
        """The per-quantity table, then the verdict and the first divergence if any."""
        first, second = self.names
        table = self.maxima.rename(
            columns={
                "largest_difference": f"max |{first} - {second}|",
                "tolerance_used": "of the tolerance",
            }
        ).to_string(index=False, float_format=lambda x: f"{x:.3g}")
        rule = f"|{first} - {second}| <= {self.atol:g} + {self.rtol:g} * |{second}|"
        if self.ok:
            verdict = (
                f"agree: every number of {len(self.maxima)} (layer, quantity) pairs over "
                f"{self.epochs} epochs ({self.iterations} iterations) within {rule}"
            )
        else:
            d = self.first
            verdict = (
                f"DISAGREE beyond {rule}: {int(self.maxima['failing'].sum())} numbers.\n"
                f"first divergence: epoch {d.epoch}, iteration {d.iteration}, step {d.step}, "
                f"layer {d.layer}, quantity {d.quantity}, row {d.row}, col {d.col}: "
                f"{first} {d.first!r}, {second} {d.second!r}"
            )
        return f"{table}\n{verdict}"


def compare_traces(first, second, names=("python", "R"), atol=ATOL, rtol=RTOL):
    """Compare every (layer, quantity, iteration, row, col) of two traces.

    A number agrees when ``|first - second| <= atol + rtol * |second|``; NaN
    never agrees. The rows past the end of a smaller last batch hold no number
    and are not compared; the samples of step 0 are compared like any quantity.

    Parameters
    ----------
    first, second : Trace
        Traces of the same network, data and settings.
    names : tuple of str
        What to call the two traces in the report.
    atol, rtol : float

    Returns
    -------
    Comparison
    """
    quantities = trace_quantities(first)
    if (
        quantities != trace_quantities(second)
        or not np.array_equal(first.epoch, second.epoch)
        or not np.array_equal(first.iteration, second.iteration)
    ):
        raise ValueError("the traces are of different networks, epochs or batches")
    rows, divergence, earliest, numbers = [], None, None, 0
    for layer, quantity, step in quantities:
        a, b = (trace_block(trace, layer, quantity) for trace in (first, second))
        if a.shape != b.shape:
            raise ValueError(f"layer {layer} {quantity}: shapes {a.shape} and {b.shape} differ")
        # Only the rows that hold numbers: R's NA in the others is a signalling NaN.
        used = np.broadcast_to(
            trace_rows_used(first, quantity, a.shape[1])[:, :, np.newaxis], a.shape
        )
        numbers += int(used.sum())
        difference, failing = np.zeros(a.shape), np.zeros(a.shape, dtype=bool)
        difference[used] = np.abs(a[used] - b[used])
        tolerance = atol + rtol * np.abs(b[used])
        failing[used] = ~(difference[used] <= tolerance)
        rows.append(
            {
                "quantity": quantity,
                "layer": layer,
                "step": step,
                "largest_difference": np.max(difference, initial=0.0),
                "tolerance_used": np.max(difference[used] / tolerance, initial=0.0),
                "failing": int(failing.sum()),
            }
        )
        if failing.any():
            # argwhere lists indices in (iteration, row, col) order: the first is the earliest;
            # at the same iteration, the quantity met first in this loop comes first.
            k, row, col = np.argwhere(failing)[0]
            if earliest is None or k < earliest:
                earliest = k
                divergence = Divergence(
                    int(first.epoch[k]),
                    int(first.iteration[k]),
                    step,
                    layer,
                    quantity,
                    int(row) + 1,
                    int(col) + 1,
                    float(a[k, row, col]),
                    float(b[k, row, col]),
                )
    epochs = int(first.epoch[-1]) if len(first.epoch) else 0
    return Comparison(
        pd.DataFrame(rows), divergence, tuple(names), numbers, epochs, len(first.loss), atol, rtol
    )


# Numbers a traced run may record per language. A full trace of two moons (1000 samples,
# 10 hidden units, 2000 epochs) would hold about 10^8: larger runs are traced in windows.
TRACE_BUDGET = 2_000_000


def windows(fixture, budget=TRACE_BUDGET):
    """The (first epoch, epochs) to trace of a fixture's run, in both languages.

    A run whose full trace fits the budget is traced whole. A longer one is traced in
    three windows, at its start, middle and end, both languages starting each window
    from the weights Python reached there. A free run cannot always be compared whole
    at 1e-12: where training is chaotic it amplifies the last-bit differences of the
    two languages' BLAS and exp exponentially.
    """
    one_epoch = train_fixture(dataclasses.replace(fixture, epochs=1), trace=True)
    per_epoch = len(trace_table(one_epoch.trace))
    if per_epoch * fixture.epochs <= budget:
        return [(0, fixture.epochs)]
    if fixture.shuffle:
        raise ValueError(f"{fixture.name}: a shuffled run is too long to trace whole")
    width = max(1, budget // (3 * per_epoch))
    return [(0, width), ((fixture.epochs - width) // 2, width), (fixture.epochs - width, width)]


def crosscheck(fixture, r_session, budget=TRACE_BUDGET):
    """Train a fixture in Python and in R and compare their traces.

    Parameters
    ----------
    fixture : Fixture
    r_session : nnscratch.rbridge.RSession
    budget : int
        Numbers a traced run may record per language (see :func:`windows`).

    Returns
    -------
    list of (first epoch, epochs, Comparison)
    """
    compared = []
    for start, width in windows(fixture, budget):
        layers = train(fixture.layers, fixture.X, fixture.y, fixture.lr, start).layers
        window = dataclasses.replace(fixture, layers=layers, epochs=width)
        python = train_fixture(window, trace=True)
        r = r_session.train_fixture(window, trace=True)
        compared.append((start, width, compare_traces(python.trace, r.trace)))
    return compared
