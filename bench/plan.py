"""What make bench measures: the sizes, the table's columns, the goals, the data."""

import dataclasses
from pathlib import Path

import numpy as np

import nnscratch

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results.md"
SEED = 15  # of the data and of the networks' first weights
# Read by the BLAS libraries when they load: main() starts the bench again with them set.
ONE_THREAD = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


@dataclasses.dataclass(frozen=True)
class Size:
    """A network and its data, and how long each of its cells runs.

    ``epochs`` per run and ``repeats`` runs for every cell, except those on R's reference
    BLAS (the slowest by far), which take ``slow`` = (epochs, repeats).
    """

    n: int
    features: int
    hidden: int
    outputs: int
    epochs: int
    repeats: int
    slow: tuple

    def __str__(self):
        return f"{self.n}x{self.features}->{self.hidden}->{self.outputs}"


SIZES = [
    Size(3, 4, 3, 1, epochs=5000, repeats=9, slow=(5000, 9)),
    Size(1000, 2, 10, 1, epochs=1000, repeats=9, slow=(1000, 9)),
    Size(1797, 64, 32, 10, epochs=100, repeats=9, slow=(100, 9)),
    Size(20000, 100, 64, 10, epochs=5, repeats=7, slow=(5, 5)),
    Size(60000, 784, 128, 10, epochs=2, repeats=5, slow=(1, 3)),
]
TOY, LARGEST = SIZES[0], SIZES[-1]

# The table's columns: (key, heading). R's keys name the worker and what it runs.
COLUMNS = [
    ("python", "nnscratch Py"),
    ("numpy", "bare numpy loop"),
    ("reference nn_train", "nnscratch R (reference BLAS)"),
    ("openblas nn_train", "nnscratch R (OpenBLAS)"),
    ("reference bare_loop", "bare R loop (reference BLAS)"),
    ("openblas bare_loop", "bare R loop (OpenBLAS)"),
    ("sklearn", "scikit-learn MLPRegressor (plain GD)"),
    ("torch", "torch CPU float64"),
    ("gemms", "the five GEMMs alone (numpy)"),
]
# Measured in the same rounds, for the reasons: R's five products of an epoch, written as
# nn_train writes them (crossprod, tcrossprod) and as the article and bare_loop do (t()).
CONTEXT_COLUMNS = [
    ("reference gemms", "R's five products, crossprod (reference BLAS)"),
    ("reference gemms_t", "R's five products, t() (reference BLAS)"),
    ("openblas gemms", "R's five products, crossprod (OpenBLAS)"),
    ("openblas gemms_t", "R's five products, t() (OpenBLAS)"),
]

# Issue 15, item 1: (what, numerator, denominator, at most, the sizes it holds at).
GOALS = [
    ("Python train / bare numpy loop", "python", "numpy", 1.10, lambda s: s.n < 1000),
    ("Python train / bare numpy loop", "python", "numpy", 1.05, lambda s: s.n >= 1000),
    ("Python train / scikit-learn", "python", "sklearn", 1.0, lambda s: s.n >= 1000),
    ("Python train / the five GEMMs", "python", "gemms", 1.3, lambda s: s == LARGEST),
    (
        "R nn_train / bare R loop, reference BLAS",
        "reference nn_train",
        "reference bare_loop",
        1.10,
        lambda s: True,
    ),
    (
        "R nn_train / bare R loop, OpenBLAS",
        "openblas nn_train",
        "openblas bare_loop",
        1.10,
        lambda s: True,
    ),
    ("R on OpenBLAS / Python", "openblas nn_train", "python", 1.3, lambda s: s.n >= 1797),
]


# The sizes at which the steps of an epoch are timed alone, and the calls of each.
STEPS_REPEATS = {TOY: 100_000, SIZES[2]: 200, SIZES[3]: 20}


# glibc's allocator, told to keep freed memory: big blocks from the heap rather than from
# mmap (which gives them back to the kernel when freed), and the heap never trimmed.
KEEP_FREED_MEMORY = {"MALLOC_MMAP_MAX_": "0", "MALLOC_TRIM_THRESHOLD_": str(2**40)}
# R's vector heap made big from the start, so that its garbage collector runs less often.
BIG_R_HEAP = {"R_VSIZE": "2G"}


def make_data(size):
    """Synthetic data and a network for ``size``: X uniform on [0, 1); y one-hot (or 0/1 for
    one output) of the largest of a random linear map of X; the network from
    nnscratch.init_layers (Glorot), the same to the bit as R's nn_init_layers."""
    rng = np.random.default_rng(SEED)
    X = rng.random((size.n, size.features))
    scores = X @ rng.standard_normal((size.features, size.outputs))
    if size.outputs == 1:
        y = (scores > np.median(scores)).astype(float)
    else:
        y = (scores == scores.max(axis=1, keepdims=True)).astype(float)
    sizes = [size.features, size.hidden, size.outputs]
    layers = nnscratch.init_layers(sizes, "sigmoid", SEED, "glorot")
    return X, y, layers, 1.0 / size.n
