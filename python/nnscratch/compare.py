"""Compare two traces of the same run, quantity by quantity, and say where they part.

compare_traces compares any two traces of one run: it does not know which language made
them. crosscheck trains a fixture in Python and in R and compares them: every number of
every iteration of a run short enough to trace whole; of a longer run, every number of
three windows, each started in both languages from the state the run reached there, and
the two free runs whole (every epoch's loss and the final layers). The harness, the demo
and the command line use it.
"""

import contextlib
import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from .activations import ACTIVATIONS
from .fixtures import train_fixture
from .network import TrainResult, train
from .trace import trace_block, trace_quantities, trace_rows_used, trace_table

if TYPE_CHECKING:
    import pandas

EPS = np.finfo(float).eps


class Tolerance(NamedTuple):
    """How far apart two traces' numbers of one quantity may be, and why."""

    ulps: float
    """A number agrees when ``|first - second| <= ulps * EPS * scale``."""
    scale: str
    """What ``scale`` is (:func:`noise_scales` computes it, number by number)."""
    measured: float
    """The largest ``|python - R| / (EPS * scale)`` measured over every fixture."""
    reason: str


# numpy and R round differently in the last bits: numpy's own SIMD exp and tanh against
# the C library's, OpenBLAS (fused multiply-adds, its own order of summing) against R's
# reference BLAS, pairwise sums against R's long-double sums. A number carries those
# differences at the size of what it is computed from, not at its own size: a sum of
# large terms that cancel, a slope a(1 - a) near a = 1 (|a| about 1, the slope far
# smaller), a weight that passes through 0. So each quantity has its scale, written from
# its formula (A_0 = X; |x| is the larger of the two traces' |x|; W and b are the
# trace's, after the iteration's update; the scales of A, Z, D, E, S, Q are those of the
# same iteration), and a number far smaller than what it is computed from (a sigmoid
# near 0, a delta through a saturated unit) gets a scale its own size: small numbers are
# compared relatively. `measured` is the largest multiple of EPS * scale between Python
# (numpy 2.4, OpenBLAS) and R (4.2.2, reference BLAS) over every fixture, at every step
# the cross-check compares; `ulps` allows two to seven times that. tests/test_crosscheck.py
# checks, for each quantity on one number below 1e-12, that the smallest change the harness
# catches is within ten times the last-bit allowance at that number: the most that one ulp
# in every activation and slope moves the quantity (in ulps of its scale, on the fixtures
# traced whole) times EPS times that number's scale. It holds the tolerance to the scale
# model; a scale made larger than its formula would pass it.
TOLERANCES = {
    "samples": Tolerance(0, "none: exact", 0, "row numbers, from the same generator"),
    "layer_input": Tolerance(
        16,
        "(|A_{l-1}| + scale(A_{l-1})) (|W_l| + scale(W_l)) + |b_l| + scale(b_l)",
        5.8,
        "the BLAS sum the products in different orders; A, W and b bring their own",
    ),
    "activation": Tolerance(
        16,
        "|S_l| scale(Z_l) + |A_l|",
        4.9,
        "exp and tanh differ in the last bit; Z's differences pass through the slope",
    ),
    "error": Tolerance(4, "scale(A_L) + |E|", 0.99, "y is exact: E carries the output's"),
    "loss": Tolerance(
        4,
        "mean(|E| scale(E)) + loss",
        0.71,
        "sums in different orders; each E^2 carries twice E's relative difference",
    ),
    "slope": Tolerance(
        4,
        "2 scale(A_l) + |S_l|",
        1.3,
        "a slope moves at most twice as much as its activation (tanh: -2A, sigmoid: "
        "1 - 2A): near a = 1, a(1 - a) keeps a's error, about EPS, not its own size",
    ),
    "delta": Tolerance(
        4,
        "|S| scale(E or Q) + |E or Q| scale(S) + |D|",
        0.66,
        "a product: each factor's differences times the other factor",
    ),
    "error_at_layer": Tolerance(
        2,
        "(|D_{l+1}| + scale(D_{l+1})) (|W_{l+1}| + scale(W_{l+1}))^T",
        0.30,
        "the BLAS sum the products in different orders; D and W bring their own",
    ),
    "weights": Tolerance(
        64,
        "the largest |weight| of the layer in this iteration or any before it in the trace",
        13,
        "every update leaves differences of the size of the weights it was added to",
    ),
    "bias": Tolerance(
        32,
        "the largest |weight| or |bias| of the layer, in this iteration or before",
        7.3,
        "the bias moves by the same deltas as the weights, its differences as theirs",
    ),
}


def _magnitude(first, second):
    """The larger of the two traces' sizes, number by number; 0 where neither holds one."""
    return np.nan_to_num(np.maximum(np.abs(first), np.abs(second)), nan=0.0)


def noise_scales(first, second, X):
    """The scale of every number of two traces of one run, as :data:`TOLERANCES` writes it.

    Parameters
    ----------
    first, second : Trace
        Traces of every quantity (``trace_quantities=None``) of the same run.
    X : ndarray of shape (n_samples, n_features)
        The run's data: the first layer's input.

    Returns
    -------
    dict
        ``scales[layer, quantity]``: an ndarray of the shape of the quantity's block,
        (iterations, rows, cols).
    """
    n_layers = len(first.layers)

    def size(layer, quantity):
        return _magnitude(trace_block(first, layer, quantity), trace_block(second, layer, quantity))

    def largest(block):  # the largest |x| of each iteration's matrix, kept as (k, 1, 1)
        return block.max(axis=(1, 2), keepdims=True)

    def so_far(block):  # the largest |x| of each iteration's matrix and of those before it
        return np.maximum.accumulate(largest(block), axis=0)

    def through(left, right):  # left @ right for every iteration
        return np.einsum("kij,kjm->kim", left, right)

    scales = {}
    for layer in range(1, n_layers + 1):
        weights = so_far(size(layer, "weights"))
        if "bias" in first.layers[layer - 1]:
            # The bias moves with the weights, by the same deltas: its differences are of
            # the size of either's.
            bias = np.maximum(so_far(size(layer, "bias")), weights)
            scales[layer, "bias"] = np.broadcast_to(bias, trace_block(first, layer, "bias").shape)
        scales[layer, "weights"] = np.broadcast_to(
            weights, trace_block(first, layer, "weights").shape
        )
    used = first.samples > 0
    inputs = np.where(used[:, :, np.newaxis], np.abs(X)[first.samples - 1], 0.0)
    input_scale = np.zeros_like(inputs)
    for layer in range(1, n_layers + 1):
        z = through(inputs + input_scale, size(layer, "weights") + scales[layer, "weights"])
        if "bias" in first.layers[layer - 1]:
            z = z + size(layer, "bias") + scales[layer, "bias"]
        slope = size(layer, "slope")
        activation = size(layer, "activation")
        scales[layer, "layer_input"] = z
        scales[layer, "activation"] = slope * z + activation
        scales[layer, "slope"] = 2 * scales[layer, "activation"] + slope
        inputs, input_scale = activation, scales[layer, "activation"]
    error = size(n_layers, "error")
    scales[n_layers, "error"] = scales[n_layers, "activation"] + error
    counted = np.maximum(used.sum(axis=1), 1) * error.shape[2]
    scales[n_layers, "loss"] = (error * scales[n_layers, "error"]).sum(axis=(1, 2)).reshape(
        -1, 1, 1
    ) / counted.reshape(-1, 1, 1) + size(n_layers, "loss")
    factor, factor_scale = error, scales[n_layers, "error"]
    for layer in range(n_layers, 0, -1):
        if layer < n_layers:
            above = size(layer + 1, "delta") + scales[layer + 1, "delta"]
            weights = size(layer + 1, "weights") + scales[layer + 1, "weights"]
            scales[layer, "error_at_layer"] = through(above, np.swapaxes(weights, 1, 2))
            factor, factor_scale = size(layer, "error_at_layer"), scales[layer, "error_at_layer"]
        slope = size(layer, "slope")
        scales[layer, "delta"] = (
            slope * factor_scale + factor * scales[layer, "slope"] + size(layer, "delta")
        )
    return scales


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

    def where(self):
        return (
            f"epoch {self.epoch}, iteration {self.iteration}, step {self.step}, "
            f"layer {self.layer}, quantity {self.quantity}, row {self.row}, col {self.col}"
        )


@dataclass
class Comparison:
    """The result of :func:`compare_traces`.

    Attributes
    ----------
    maxima : pandas.DataFrame
        One row per (layer, quantity) in the order of :func:`trace_steps`:
        ``quantity, layer, step, largest_difference, tolerance_used`` (the largest
        ``|first - second|`` divided by its tolerance, below 1 where all agree),
        ``failing`` (how many numbers are beyond the tolerance).
    first : Divergence or None
    names : tuple of str
        What the two traces are called in the report, e.g. ``("python", "R")``.
    numbers : int
        How many numbers were compared.
    epochs : list of int
        The epochs the traces hold, counted from the run's start.
    iterations : int
    """

    maxima: "pandas.DataFrame"
    first: Divergence | None
    names: tuple
    numbers: int
    epochs: list
    iterations: int

    @property
    def ok(self):
        return self.first is None

    def table(self):
        """The per-quantity table of the report."""
        first, second = self.names
        return self.maxima.rename(
            columns={
                "largest_difference": f"max |{first} - {second}|",
                "tolerance_used": "of the tolerance",
            }
        ).to_string(index=False, float_format=lambda x: f"{x:.3g}")

    def report(self):
        """The per-quantity table, then the verdict and the first divergence if any."""
        if self.ok:
            verdict = (
                f"agree: all {self.numbers:,} numbers ({len(self.maxima)} (layer, quantity) "
                f"pairs, {self.iterations} iterations of epochs {epoch_range(self.epochs)}) "
                f"within {RULE}"
            )
        else:
            verdict = f"DISAGREE: {self.disagreement()}"
        return f"{self.table()}\n{verdict}"

    def disagreement(self):
        first, second = self.names
        d = self.first
        return (
            f"{int(self.maxima['failing'].sum())} numbers beyond {RULE}.\n"
            f"first divergence: {d.where()}: {first} {d.first!r}, {second} {d.second!r}"
        )


# The quantities every layer of a full trace holds (a layer without bias has no bias; only
# the output layer has an error, only hidden layers an error_at_layer).
_ALWAYS = {"layer_input", "activation", "slope", "delta", "weights"}

RULE = "|python - R| <= ulps * eps * scale (nnscratch.compare.TOLERANCES)"


def epoch_range(epochs):
    """'3 to 5', or '4' for one epoch."""
    epochs = sorted(set(epochs))
    if not epochs:
        return "none"
    return str(epochs[0]) if len(epochs) == 1 else f"{epochs[0]} to {epochs[-1]}"


def compare_traces(first, second, X, names=("python", "R"), tolerances=None):
    """Compare every (layer, quantity, iteration, row, col) of two traces of one run.

    A number agrees when ``|first - second| <= ulps * EPS * scale``, with the ``ulps``
    of its quantity in :data:`TOLERANCES` and its scale from :func:`noise_scales`; NaN
    and infinities never agree. The rows past the end of a smaller last batch hold no number and are
    not compared; the samples of step 0 must be equal.

    Parameters
    ----------
    first, second : Trace
        Traces of every quantity of the same network, data, settings and epochs.
    X : ndarray of shape (n_samples, n_features)
        The data the run trained on.
    names : tuple of str
        What to call the two traces in the report.
    tolerances : dict or None
        Replaces :data:`TOLERANCES` (tests use it).

    Returns
    -------
    Comparison
    """
    tolerances = TOLERANCES if tolerances is None else tolerances
    quantities = trace_quantities(first)
    if (
        quantities != trace_quantities(second)
        or not np.array_equal(first.epoch, second.epoch)
        or not np.array_equal(first.iteration, second.iteration)
    ):
        raise ValueError("the traces are of different networks, epochs or batches")
    if not all(set(kept) >= _ALWAYS for kept in first.layers):
        raise ValueError("compare_traces needs traces of every quantity (trace_quantities=None)")
    with np.errstate(over="ignore", invalid="ignore"):  # a number not finite: never agrees
        scales = noise_scales(first, second, np.asarray(X, dtype=float))
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
        scale = 0.0 if quantity == "samples" else scales[layer, quantity][used]
        difference, failing = np.zeros(a.shape), np.zeros(a.shape, dtype=bool)
        difference[used] = np.abs(a[used] - b[used])
        tolerance = tolerances[quantity].ulps * EPS * scale
        # A number that is not finite never agrees (its scale, and so its tolerance, would
        # be infinite too).
        finite = np.isfinite(a[used]) & np.isfinite(b[used])
        failing[used] = ~(finite & (difference[used] <= tolerance))
        with np.errstate(divide="ignore", invalid="ignore"):
            # 0 / 0 where both are exactly equal with a tolerance of 0: none of it used.
            share = np.where(difference[used] == 0, 0.0, difference[used] / tolerance)
        rows.append(
            {
                "quantity": quantity,
                "layer": layer,
                "step": step,
                "largest_difference": np.max(difference, initial=0.0),
                "tolerance_used": np.max(share, initial=0.0),
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
    import pandas as pd  # only here: import nnscratch stays quick without it

    return Comparison(
        pd.DataFrame(rows),
        divergence,
        tuple(names),
        numbers,
        sorted({int(epoch) for epoch in first.epoch}),
        len(first.loss),
    )


# Numbers a traced run may record per language. A full trace of two moons (1000 samples,
# 10 hidden units, 2000 epochs) would hold about 10^8: larger runs are traced in windows.
TRACE_BUDGET = 500_000


def windows(fixture, budget=TRACE_BUDGET):
    """The (first epoch, epochs) to trace of a fixture's run, epochs counted from 1.

    A run whose full trace fits the budget is traced whole: ``[(1, epochs)]``. A longer
    one is traced in three windows of equal width, at its start, middle and end, whose
    traces together fit the budget; or, where one epoch's trace is more than a third of
    it, of one epoch each.
    """
    one_epoch = train_fixture(dataclasses.replace(fixture, epochs=1), trace=True)
    per_epoch = len(trace_table(one_epoch.trace))
    if per_epoch * fixture.epochs <= budget:
        return [(1, fixture.epochs)]
    width = max(1, budget // (3 * per_epoch))
    middle = (fixture.epochs - width) // 2 + 1
    return [(1, width), (middle, width), (fixture.epochs - width + 1, width)]


def _nudged(function, low, high):
    """``function`` with every nonzero result moved one ulp, down where its last bit is 1,
    up where it is 0, and kept within [low, high]."""

    def nudged(z):
        a = function(z)
        odd = (a.view(np.int64) & 1).astype(bool)
        moved = np.nextafter(a, np.where(odd, -np.inf, np.inf))
        return np.where(a == 0, a, np.minimum(np.maximum(moved, low), high))

    return nudged


# The values each activation's results lie between.
_RANGES = {
    "sigmoid": (0.0, 1.0),
    "tanh": (-1.0, 1.0),
    "relu": (0.0, np.inf),
    "linear": (-np.inf, np.inf),
}


@contextlib.contextmanager
def last_bits_changed():
    """Within it, every activation and every slope gives each nonzero result one ulp away
    from numpy's.

    That is what numpy's exp and tanh and the C library's, which R uses, differ by at
    most; for relu and linear units, whose activation is exact, it stands for the last
    bit of their input, which the two BLAS round differently; and a slope's last bit
    stands for that of the backward pass's products, which multiply it (D = Q * S). A
    run made within it shows how much such differences grow over that run. It changes
    :data:`nnscratch.activations.ACTIVATIONS` while it lasts (not thread-safe).
    """
    kept = dict(ACTIVATIONS)
    for name, (low, high) in _RANGES.items():
        ACTIVATIONS[name] = kept[name]._replace(
            f=_nudged(kept[name].f, low, high), slope=_nudged(kept[name].slope, 0.0, 1.0)
        )
    try:
        yield
    finally:
        ACTIVATIONS.update(kept)


# A free run is compared whole when the perturbed run's departure, times the margin,
# stays below this: beyond it the last bits have grown so much that agreement says little.
STABLE = 1e-6
# R's free run may depart from Python's by this many times what a change of one ulp in
# every activation and slope moves Python's own run by (measured on every fixture: at most
# 3.1 times).
AMPLIFICATION_MARGIN = 10


def departures(run, other):
    """How far ``other`` departs from ``run``: ``{"loss": ..., "final layers": ...}``.

    The loss: the largest relative difference over the epochs; the final layers: the
    largest difference in a layer's weights or bias over the largest |value| there, over
    the layers.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        loss = float(np.max(np.abs(run.loss - other.loss) / np.abs(run.loss), initial=0.0))
    layers = 0.0
    for mine, theirs in zip(run.layers, other.layers):
        for name in ("weights", "bias"):
            a, b = getattr(mine, name), getattr(theirs, name)
            if a is not None:
                layers = max(layers, float(np.max(np.abs(a - b)) / np.max(np.abs(a))))
    return {"loss": loss, "final layers": layers}


@dataclass
class FreeRuns:
    """Python's and R's runs of a whole fixture compared: every epoch's loss and the final
    layers, against how far a change of one ulp in every activation and slope moves Python's run."""

    epochs: int
    numbers: int
    r: dict
    """:func:`departures` of R's run from Python's."""
    perturbed: dict
    """:func:`departures` of Python's run with :func:`last_bits_changed` from Python's."""

    @property
    def stable(self):
        return all(AMPLIFICATION_MARGIN * max(d, EPS) < STABLE for d in self.perturbed.values())

    def tolerance(self, what):
        return AMPLIFICATION_MARGIN * max(self.perturbed[what], EPS)

    @property
    def ok(self):
        return not self.stable or all(self.r[w] <= self.tolerance(w) for w in self.r)

    def report(self):
        if not self.stable:
            worst = max(self.perturbed, key=self.perturbed.get)
            return (
                f"free runs not compared: a change of one ulp in every activation and slope moves "
                f"Python's {worst} by {self.perturbed[worst]:.3g} (relative) over "
                f"{self.epochs} epochs: the run amplifies last-bit differences too much"
            )
        lines = [
            f"free runs, whole: the loss of each of the {self.epochs} epochs and the final "
            f"layers ({self.numbers:,} numbers), R against Python, within "
            f"{AMPLIFICATION_MARGIN} times how far a change of one ulp in every activation "
            "and slope moves Python's run:",
            f"{'':>20}  {'R departs':>10}  {'1 ulp moves':>11}  {'of the tolerance':>16}",
        ]
        for what, gone in self.r.items():
            used = gone / self.tolerance(what)
            lines.append(f"{what:>20}  {gone:10.3g}  {self.perturbed[what]:11.3g}  {used:16.3g}")
        lines.append("agree" if self.ok else "DISAGREE: R's free run departs beyond the tolerance")
        return "\n".join(lines)


@dataclass
class Crosscheck:
    """What :func:`crosscheck` compared of one fixture, and the verdict."""

    name: str
    epochs: int
    windows: list
    """(first epoch, epochs, Comparison) per window, epochs counted from the run's start."""
    free_runs: FreeRuns | None
    """None when the run is traced whole (every number of it is then compared), or when
    its windows already disagree."""

    @property
    def ok(self):
        return all(c.ok for _, _, c in self.windows) and (
            self.free_runs is None or self.free_runs.ok
        )

    def maxima(self):
        """Per (layer, quantity), the largest difference and share of the tolerance used over
        the windows, and how many numbers failed."""
        tables = [c.maxima for _, _, c in self.windows]
        merged = tables[0].copy()
        for table in tables[1:]:
            for column in ("largest_difference", "tolerance_used"):
                merged[column] = np.maximum(merged[column], table[column])
            merged["failing"] += table["failing"]
        return merged

    def report(self):
        """What was compared, the per-quantity table, and the verdict."""
        traced = sum(c.numbers for _, _, c in self.windows)
        if self.free_runs is None:
            what = (
                f"{self.name}: every number of every iteration of all {self.epochs} epochs "
                f"({traced:,} numbers), python against R:"
            )
        else:
            spans = ", ".join(
                epoch_range(range(start, start + width)) for start, width, _ in self.windows
            )
            what = (
                f"{self.name}: every number of every iteration of epochs {spans} of "
                f"{self.epochs} ({len(self.windows)} windows, each started in both languages "
                f"from the state Python's run reached there: layers, batches, generator; "
                f"{traced:,} numbers), python against R:"
            )
        table = dataclasses.replace(self.windows[0][2], maxima=self.maxima()).table()
        failures = [(start, width, c) for start, width, c in self.windows if not c.ok]
        if failures:
            start, width, c = failures[0]
            window = 1 + [w[0] for w in self.windows].index(start)
            verdict = (
                f"DISAGREE in window {window} (epochs {epoch_range(range(start, start + width))}): "
                f"{c.disagreement()}"
            )
        else:
            verdict = f"agree: every one within {RULE}"
        parts = [what, table, verdict]
        if self.free_runs is not None:
            parts.append(self.free_runs.report())
        elif len(self.windows) > 1:
            parts.append("free runs not compared: the windows disagree already")
        return "\n".join(parts)


def crosscheck(fixture, r_session, budget=TRACE_BUDGET):
    """Train a fixture in Python and in R and compare them.

    Python trains the run once, from its start to its end, tracing the epochs of
    :func:`windows`; R traces each window from the state Python's run reached at its
    start (the layers, the generator's state, the fixture's batches), with epochs
    counted from the run's start. A run traced in windows whose windows agree is also
    compared whole: R's own free run against Python's (:class:`FreeRuns`).

    Parameters
    ----------
    fixture : Fixture
    r_session : nnscratch.rbridge.RSession
    budget : int
        Numbers a traced run may record per language (see :func:`windows`).

    Returns
    -------
    Crosscheck
    """
    f = fixture
    batching = f.batching()
    layers, state, done, losses, compared = f.layers, f.seed, 0, [], []
    spans = windows(f, budget)
    for start, width in spans:
        if start - 1 > done:  # Python runs on, untraced, to the window
            run = train(
                layers,
                f.X,
                f.y,
                f.lr,
                start - 1 - done,
                **batching | {"seed": state},
                first_epoch=done + 1,
            )
            layers, state, done = run.layers, run.state, start - 1
            losses.append(run.loss)
        window = {"trace": True, "first_epoch": start, **batching, "seed": state}
        python = train(layers, f.X, f.y, f.lr, width, **window)
        r = r_session.train(layers, f.X, f.y, f.lr, width, **window)
        compared.append((start, width, compare_traces(python.trace, r.trace, f.X)))
        layers, state, done = python.layers, python.state, start - 1 + width
        losses.append(python.loss)
    free_runs = None
    if len(spans) > 1 and all(c.ok for _, _, c in compared):
        python = TrainResult(layers, np.concatenate(losses), None, state)
        with last_bits_changed():
            perturbed = train_fixture(f)
        r = r_session.train_fixture(f)
        numbers = f.epochs + sum(
            layer.weights.size + (0 if layer.bias is None else layer.bias.size) for layer in layers
        )
        free_runs = FreeRuns(
            f.epochs, numbers, departures(python, r), departures(python, perturbed)
        )
    return Crosscheck(f.name, f.epochs, compared, free_runs)
