"""The trace: every quantity of every step of every epoch, and its long table."""

from dataclasses import dataclass

import numpy as np
import pandas as pd

TABLE_COLUMNS = ["epoch", "step", "layer", "quantity", "row", "col", "value"]


@dataclass
class Trace:
    """What one training run computed, epoch by epoch.

    Attributes
    ----------
    loss : ndarray of shape (epochs,)
        The loss of each epoch, from that epoch's forward pass.
    layers : list of dict
        ``layers[l - 1][quantity]`` is an ndarray of shape (epochs, rows, cols):
        the value of ``quantity`` for layer ``l`` at each epoch. Which quantities
        a layer has is given by :func:`trace_steps`.
    """

    loss: np.ndarray
    layers: list


def trace_steps(n_layers):
    """The quantities one epoch computes, in the order the training loop computes them.

    Parameters
    ----------
    n_layers : int
        Number of layers of weights in the network.

    Returns
    -------
    list of tuple (layer, quantity, step)
        Layers count from 1. ``loss`` is listed with the output layer at step 5.
    """
    steps = []
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


def new_trace(layers, n_samples, epochs):
    """An unfilled trace (every value NaN) for training ``layers`` on ``n_samples`` rows."""
    recorded = [{} for _ in layers]
    for layer, quantity, _ in trace_steps(len(layers)):
        if quantity == "loss":
            continue
        n_inputs, n_units = layers[layer - 1].weights.shape
        n_rows = {"weights": n_inputs, "bias": 1}.get(quantity, n_samples)
        recorded[layer - 1][quantity] = np.full((epochs, n_rows, n_units), np.nan)
    return Trace(loss=np.full(epochs, np.nan), layers=recorded)


def trace_block(trace, layer, quantity):
    """The ndarray of shape (epochs, rows, cols) of one quantity; the loss as (epochs, 1, 1)."""
    if quantity == "loss":
        return trace.loss.reshape(-1, 1, 1)
    return trace.layers[layer - 1][quantity]


def trace_table(trace):
    """The trace as one long table, one row per recorded number.

    Parameters
    ----------
    trace : Trace

    Returns
    -------
    pandas.DataFrame
        Columns ``epoch, step, layer, quantity, row, col, value``; every index
        starts at 1. Rows run epoch by epoch, in the order of :func:`trace_steps`
        within an epoch, and row by row within a matrix.
    """
    epochs = len(trace.loss)
    blocks, steps, layers, quantities, rows, cols = [], [], [], [], [], []
    for layer, quantity, step in trace_steps(len(trace.layers)):
        block = trace_block(trace, layer, quantity)
        _, n_rows, n_cols = block.shape
        size = n_rows * n_cols
        blocks.append(block.reshape(epochs, size))
        steps.append(np.full(size, step))
        layers.append(np.full(size, layer))
        quantities.append(np.full(size, quantity, dtype=object))
        rows.append(np.repeat(np.arange(1, n_rows + 1), n_cols))
        cols.append(np.tile(np.arange(1, n_cols + 1), n_rows))
    values = np.concatenate(blocks, axis=1)
    per_epoch = values.shape[1]
    return pd.DataFrame(
        {
            "epoch": np.repeat(np.arange(1, epochs + 1), per_epoch),
            "step": np.tile(np.concatenate(steps), epochs),
            "layer": np.tile(np.concatenate(layers), epochs),
            "quantity": np.tile(np.concatenate(quantities), epochs),
            "row": np.tile(np.concatenate(rows), epochs),
            "col": np.tile(np.concatenate(cols), epochs),
            "value": values.reshape(-1),
        }
    )
