"""A Lehmer (Park-Miller) generator, the same in Python and R to the bit.

``state <- 16807 * state mod (2^31 - 1)``: every product is below 2^46, so the
arithmetic is exact in doubles and R computes exactly what Python does. It feeds
the seeded initialisation and the shuffling of mini-batches. Functions take a
state and return the new one with their draws; a seed is the first state.
"""

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
