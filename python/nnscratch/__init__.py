"""nnscratch: the article's multi-layer perceptron, written to be read.

The same calls exist in R (``source("r/nnscratch.R")``) as ``nn_<name>``.
"""

from .activations import ACTIVATIONS, SLOPES
from .checks import InputError
from .explain import explain, explain_steps, write_explain_xlsx
from .fixtures import (
    Fixture,
    FixtureError,
    load_fixture,
    save_fixture,
    train_fixture,
    write_trace_csv,
)
from .network import (
    INITIALISERS,
    Layer,
    TrainResult,
    forward,
    gradient_check,
    init_layers,
    predict,
    predict_class,
    train,
)
from .trace import Trace, trace_steps, trace_table

__all__ = [
    "ACTIVATIONS",
    "INITIALISERS",
    "SLOPES",
    "Fixture",
    "FixtureError",
    "InputError",
    "Layer",
    "Trace",
    "TrainResult",
    "explain",
    "explain_steps",
    "forward",
    "gradient_check",
    "init_layers",
    "load_fixture",
    "predict",
    "predict_class",
    "save_fixture",
    "trace_steps",
    "trace_table",
    "train",
    "train_fixture",
    "write_explain_xlsx",
    "write_trace_csv",
]
