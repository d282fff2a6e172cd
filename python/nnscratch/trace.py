"""The trace: every quantity of every step of every iteration, and its long table.

An iteration is one update of the weights: one per epoch in full-batch gradient
descent, one per batch with mini-batches. Quantities computed per sample have
one row per position in the batch; when the last batch of an epoch is smaller,
its missing rows stay NaN (and its samples 0) and the long table leaves them out.
"""

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

TABLE_COLUMNS = ["epoch", "iteration", "step", "layer", "quantity", "row", "col", "value"]

# The quantities a trace may keep for each layer; the samples and the loss it always keeps.
LAYER_QUANTITIES = [
    "layer_input",
    "activation",
    "error",
    "slope",
    "delta",
    "error_at_layer",
    "weights",
    "bias",
]

# Quantities with one row per sample of the batch (the others: weights, bias, loss).
PER_SAMPLE = {"samples", "layer_input", "activation", "error", "slope", "delta", "error_at_layer"}


@dataclass
class Trace:
    """What one training run computed, iteration by iteration (shown in a few lines).

    Attributes
    ----------
    epoch, iteration : ndarray of shape (iterations,)
        The epoch of each iteration, and its number within the epoch (from 1).
    samples : ndarray of shape (iterations, batch_size)
        Step 0: the rows of X (from 1) that each iteration's batch holds, in order.
    loss : ndarray of shape (iterations,)
        The loss of each batch, from its forward pass, before its update.
    layers : list of dict
        ``layers[l - 1][quantity]`` is an ndarray of shape (iterations, rows, cols):
        the value of ``quantity`` for layer ``l`` at each iteration. Which quantities
        a layer has is given by :func:`trace_steps` (a layer without bias has none).
    """

    epoch: np.ndarray
    iteration: np.ndarray
    samples: np.ndarray
    loss: np.ndarray
    layers: list

    def __repr__(self):
        """A few lines, the same as R's print of an nn_trace."""
        epochs = np.unique(self.epoch)
        iterations = len(self.loss)
        lines = [
            "Trace of no iterations"
            if iterations == 0
            else f"Trace of iterations 1 to {iterations}: epochs {epochs[0]} to {epochs[-1]}, "
            f"{iterations // len(epochs)} per epoch"
        ]
        lines += [f"layer {l}: {', '.join(kept)}" for l, kept in enumerate(self.layers, start=1)]
        return "\n".join(lines)


def trace_steps(n_layers):
    """The quantities one iteration computes, in the order the training loop computes them.

    Parameters
    ----------
    n_layers : int
        Number of layers of weights in the network.

    Returns
    -------
    list of tuple (layer, quantity, step)
        Layers count from 1; the batch's ``samples`` belong to layer 0, the input,
        at step 0. ``loss`` is listed with the output layer at step 5.
    """
    steps = [(0, "samples", 0)]
    for layer in range(1, n_layers + 1):
        hidden = layer < n_layers
        steps.append((layer, "layer_input", 2 if hidden else 4))
        steps.append((layer, "activation", 3 if hidden else 4))
    steps.append((n_layers, "error", 5))
    steps.append((n_layers, "loss", 5))
    steps.extend((layer, "slope", 6) for layer in range(1, n_layers + 1))
    steps.append((n_layers, "delta", 7))
    for layer in range(n_layers - 1, 0, -1):
        steps.append((layer, "error_at_layer", 8))
        steps.append((layer, "delta", 9))
    for layer in range(1, n_layers + 1):
        steps.append((layer, "weights", 10))
        steps.append((layer, "bias", 11))
    return steps


def kept_quantities(quantities):
    """The names of :data:`LAYER_QUANTITIES` a trace keeps: ``quantities`` is None (all),
    one name, or a list of names."""
    if quantities is None:
        return list(LAYER_QUANTITIES)
    return [quantities] if isinstance(quantities, str) else list(quantities)


def trace_shapes(layers, batch_size, quantities=None):
    """The (rows, cols) of one iteration's matrix of each (layer, quantity) a trace keeps.

    ``quantities``: as :func:`kept_quantities` takes them. The samples and the loss
    are always kept.
    """
    quantities = kept_quantities(quantities)
    shapes = {}
    for layer, quantity, _ in trace_steps(len(layers)):
        kept = quantity in quantities
        if not kept or (quantity == "bias" and layers[layer - 1].bias is None):
            continue
        n_inputs, n_units = layers[layer - 1].weights.shape
        shapes[layer, quantity] = (
            {"weights": n_inputs, "bias": 1}.get(quantity, batch_size),
            n_units,
        )
    return shapes


def trace_bytes(layers, batch_size, iterations, quantities=None):
    """How many bytes a trace of ``iterations`` updates takes: 8 per number."""
    per_iteration = (
        batch_size
        + 1
        + sum(rows * cols for rows, cols in trace_shapes(layers, batch_size, quantities).values())
    )
    return 8 * iterations * per_iteration


def new_trace(layers, batch_size, iterations, quantities=None):
    """An unfilled trace (every value NaN, every sample 0) for ``iterations`` updates."""
    recorded = [{} for _ in layers]
    for (layer, quantity), shape in trace_shapes(layers, batch_size, quantities).items():
        recorded[layer - 1][quantity] = np.full((iterations, *shape), np.nan)
    return Trace(
        epoch=np.zeros(iterations, dtype=int),
        iteration=np.zeros(iterations, dtype=int),
        samples=np.zeros((iterations, batch_size), dtype=int),
        loss=np.full(iterations, np.nan),
        layers=recorded,
    )


class Recording(NamedTuple):
    """What :func:`nnscratch.train` is told to record, as its arguments name it: a trace
    in memory (``trace``), a trace CSV (``csv``, a file name or None), the epochs whose
    number is a multiple of ``every``, these ``quantities`` (None: all), in at most
    ``limit`` bytes of memory."""

    trace: bool = False
    every: int = 1
    quantities: str | list | tuple | None = None
    limit: float = 1e9
    csv: object = None


@dataclass
class Recorder:
    """What :func:`record` fills, iteration by iteration, as training runs: a trace in
    memory, a trace CSV on the disk (:class:`nnscratch.files.TraceCSV`), or both."""

    trace: Trace | None
    every: int
    """Record the epochs whose number is a multiple of this."""
    numbers: np.ndarray
    """The samples' numbers, 1 to n_samples: what step 0 records."""
    csv: object = None
    """A TraceCSV, or None."""
    filled: int = 0
    """How many iterations the trace in memory holds."""


def recorded_epochs(first_epoch, epochs, every):
    """How many of the epochs ``first_epoch`` to ``first_epoch + epochs - 1`` have a
    number that is a multiple of ``every``: the epochs a trace records."""
    return (first_epoch + epochs - 1) // every - (first_epoch - 1) // every


def new_recorder(
    layers, n_samples, batch_size, epochs, first_epoch, trace, every=1, quantities=None, csv=None
):
    """A :class:`Recorder` for ``epochs`` epochs from ``first_epoch``, in batches of
    ``batch_size``, with a trace in memory when ``trace``, and the TraceCSV ``csv`` (or
    None)."""
    iterations = recorded_epochs(first_epoch, epochs, every) * math.ceil(n_samples / batch_size)
    recorded = new_trace(layers, batch_size, iterations, quantities) if trace else None
    return Recorder(recorded, every, np.arange(1, n_samples + 1), csv)


def record(recorder, epoch, iteration, rows, now):
    """Record one iteration, when its epoch is one to record.

    Parameters
    ----------
    recorder : Recorder
    epoch, iteration : int
        From 1.
    rows : slice or ndarray
        The rows of X the batch took (0-based), as :func:`nnscratch.lehmer.batches` gives.
    now : nnscratch.network.Step
        What the iteration computed; its weights and bias are those after the update.
    """
    if epoch % recorder.every != 0:
        return
    samples = recorder.numbers[rows]
    values = step_values(now)
    if recorder.csv is not None:
        blocks = step_blocks(recorder.csv.quantities, samples, values, now.loss)
        recorder.csv.write(epoch, iteration, blocks)
    if recorder.trace is None:
        return
    trace, k = recorder.trace, recorder.filled
    recorder.filled += 1
    trace.epoch[k], trace.iteration[k], trace.loss[k] = epoch, iteration, now.loss
    trace.samples[k, : len(samples)] = samples
    for l, kept in enumerate(trace.layers):
        for quantity, block in kept.items():
            block[k, : len(values[quantity][l])] = values[quantity][l]


def step_values(now):
    """What one iteration computed, as the trace keeps it: per quantity of
    :data:`LAYER_QUANTITIES`, one matrix per layer (None where a layer has none).

    ``now`` is what :func:`nnscratch.step` returned. The error belongs to the output
    layer; the weights and bias are those after the update, the bias as one row.
    """
    return {
        "layer_input": now.layer_input,
        "activation": now.activation,
        "error": [None] * (len(now.layers) - 1) + [now.error],
        "slope": now.slope,
        "delta": now.delta,
        "error_at_layer": now.error_at_layer,
        "weights": [layer.weights for layer in now.layers],
        "bias": [None if layer.bias is None else layer.bias[np.newaxis] for layer in now.layers],
    }


def trace_quantities(trace):
    """The (layer, quantity, step) of :func:`trace_steps` that ``trace`` holds."""
    return [
        (layer, quantity, step)
        for layer, quantity, step in trace_steps(len(trace.layers))
        if layer == 0 or quantity == "loss" or quantity in trace.layers[layer - 1]
    ]


def kept_steps(layers, quantities=None):
    """The (layer, quantity, step) of :func:`trace_steps` that a run of ``layers``
    recording ``quantities`` (as :func:`kept_quantities` takes them) records."""
    shapes = trace_shapes(layers, 1, quantities)
    return [
        (layer, quantity, step)
        for layer, quantity, step in trace_steps(len(layers))
        if layer == 0 or quantity == "loss" or (layer, quantity) in shapes
    ]


def step_blocks(steps, samples, values, loss):
    """One iteration's matrices, one per entry of ``steps``, as the long table lists them.

    ``samples``: the batch's sample numbers; ``values``: :func:`step_values` of the
    iteration; ``loss``: its loss.
    """
    return [
        samples[:, np.newaxis]
        if quantity == "samples"
        else np.array([[loss]])
        if quantity == "loss"
        else values[quantity][layer - 1]
        for layer, quantity, _ in steps
    ]


def stored_blocks(trace, steps, k):
    """Iteration ``k``'s matrices in a trace, one per entry of ``steps`` (as
    :func:`trace_quantities` lists them), without the empty rows of a smaller batch."""
    used = trace.samples[k] > 0
    return [
        trace_block(trace, layer, quantity)[k][used]
        if quantity in PER_SAMPLE
        else trace_block(trace, layer, quantity)[k]
        for layer, quantity, _ in steps
    ]


def trace_block(trace, layer, quantity):
    """The ndarray of shape (iterations, rows, cols) of one quantity.

    ``samples`` has one column, ``loss`` one row and one column.
    """
    if quantity == "samples":
        return trace.samples[:, :, np.newaxis]
    if quantity == "loss":
        return trace.loss.reshape(-1, 1, 1)
    return trace.layers[layer - 1][quantity]


def trace_rows_used(trace, quantity, n_rows):
    """Which rows of a quantity's block hold numbers: shape (iterations, n_rows).

    All of them, except the rows past the end of a smaller last batch.
    """
    if quantity in PER_SAMPLE:
        return trace.samples > 0
    return np.ones((len(trace.loss), n_rows), dtype=bool)


def trace_table(trace):
    """The trace as one long table, one row per recorded number.

    Parameters
    ----------
    trace : Trace

    Returns
    -------
    pandas.DataFrame
        Columns ``epoch, iteration, step, layer, quantity, row, col, value``;
        every index starts at 1 (layer 0 is the input). Rows run iteration by
        iteration, in the order of :func:`trace_steps` within an iteration, and
        row by row within a matrix. ``row`` is the position in the batch; the
        ``samples`` of step 0 say which row of X each position holds.
    """
    iterations = len(trace.loss)
    blocks, used, steps, layers, quantities, rows, cols = [], [], [], [], [], [], []
    for layer, quantity, step in trace_quantities(trace):
        block = trace_block(trace, layer, quantity)
        _, n_rows, n_cols = block.shape
        size = n_rows * n_cols
        blocks.append(block.reshape(iterations, size))
        used.append(np.repeat(trace_rows_used(trace, quantity, n_rows), n_cols, axis=1))
        steps.append(np.full(size, step))
        layers.append(np.full(size, layer))
        quantities.append(np.full(size, quantity, dtype=object))
        rows.append(np.repeat(np.arange(1, n_rows + 1), n_cols))
        cols.append(np.tile(np.arange(1, n_cols + 1), n_rows))
    keep = np.concatenate(used, axis=1).reshape(-1)
    per_iteration = keep.size // iterations if iterations else 0

    def column(per_number):
        return np.tile(np.concatenate(per_number), iterations)[keep]

    import pandas as pd  # only here: import nnscratch stays quick without it

    return pd.DataFrame(
        {
            "epoch": np.repeat(trace.epoch, per_iteration)[keep],
            "iteration": np.repeat(trace.iteration, per_iteration)[keep],
            "step": column(steps),
            "layer": column(layers),
            "quantity": column(quantities),
            "row": column(rows),
            "col": column(cols),
            "value": np.concatenate(blocks, axis=1).astype(float).reshape(-1)[keep],
        }
    )
