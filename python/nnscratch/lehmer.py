"""The generator: a Lehmer (Park-Miller) generator, the same in Python and R to the bit,
and the batches of an epoch, in the order it gives.

``state <- 16807 * state mod (2^31 - 1)``: every product is below 2^46, so the
arithmetic is exact in doubles and R computes exactly what Python does. It feeds
the seeded initialisation and the shuffling of mini-batches. Functions take a
state and return the new one with their draws; a seed is the first state.
"""

from typing import NamedTuple

import numpy as np

MODULUS = 2**31 - 1
MULTIPLIER = 16807


def lehmer_next(state):
    """The next state: an integer from 1 to ``MODULUS - 1``."""
    return MULTIPLIER * state % MODULUS


def lehmer_uniform(state, count):
    """``count`` draws uniform on [0, 1): ``(state - 1) / (MODULUS - 1)`` of the next states.

    Returns
    -------
    draws : ndarray of shape (count,)
    state : int
    """
    draws = np.empty(count)
    for i in range(count):
        state = lehmer_next(state)
        draws[i] = (state - 1) / (MODULUS - 1)
    return draws, state


def lehmer_shuffle(n, state):
    """A random order of ``range(n)`` (Fisher-Yates, from the last position down).

    Position i (0-based) swaps with position ``next state mod (i + 1)``.

    Returns
    -------
    order : ndarray of shape (n,), 0-based
    state : int
    """
    order = np.arange(n)
    for i in range(n - 1, 0, -1):
        state = lehmer_next(state)
        j = state % (i + 1)
        order[i], order[j] = order[j], order[i]
    return order, state


class Batch(NamedTuple):
    """One batch of an epoch, as :func:`batches` gives it."""

    rows: object
    """The rows of X it takes, 0-based: a slice, or an ndarray of row numbers."""
    X: np.ndarray
    """Those rows of X, shape (batch rows, n_features)."""
    y: np.ndarray
    """Those rows of y, shape (batch rows, n_outputs)."""


def batches(X, y, batch_size, shuffle, state):
    """Step 0 of every iteration of one epoch: the batches, each with its rows of X.

    The samples in their order (or, with ``shuffle``, in the order of
    :func:`lehmer_shuffle`), cut into batches of ``batch_size``; the last holds what
    is left.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    y : ndarray of shape (n_samples, n_outputs)
    batch_size : int
    shuffle : bool
    state : int or None
        The generator's state (None when not shuffling).

    Returns
    -------
    batches : list of Batch
    state : int or None
        The generator's state after the shuffle.
    """
    n_samples = X.shape[0]
    starts = range(0, n_samples, batch_size)
    if shuffle:
        order, state = lehmer_shuffle(n_samples, state)
        rows = [order[start : start + batch_size] for start in starts]
    else:
        rows = [
            slice(start, start + batch_size) for start in starts
        ]  # taking a slice copies nothing
    return [Batch(r, X[r], y[r]) for r in rows], state
