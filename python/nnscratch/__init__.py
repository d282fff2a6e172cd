"""nnscratch: the article's multi-layer perceptron, written to be read.

The same calls exist in R (``source("r/nnscratch.R")``) as ``nn_<name>``.
"""

from .activations import ACTIVATIONS, SLOPES
from .checks import InputError
from .fixtures import Fixture, FixtureError, load_fixture, save_fixture
from .network import Layer, TrainResult, forward, predict, train
from .trace import Trace, trace_steps, trace_table

__all__ = [
    "ACTIVATIONS",
    "SLOPES",
    "Fixture",
    "FixtureError",
    "InputError",
    "Layer",
    "Trace",
    "TrainResult",
    "forward",
    "load_fixture",
    "predict",
    "save_fixture",
    "trace_steps",
    "trace_table",
    "train",
]
