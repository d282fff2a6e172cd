"""nnscratch: the article's multi-layer perceptron, written to be read.

The same calls exist in R (``source("r/nnscratch.R")``) as ``nn_<name>``. The names
below, like the modules and R's sections, follow one order: activations; the network
(initialisation, forward, backward, step, train, predict); the trace; checks; the
generator; files; explain (the text, the spreadsheet, the page); check (the grader). (Plots:
``nnscratch.plots``, which needs matplotlib.)
"""

from importlib.metadata import version

from .activations import ACTIVATIONS, Activation
from .network import (
    INITIALISERS,
    Layer,
    Step,
    TrainResult,
    backward,
    forward,
    gradient_check,
    init_layers,
    one_hot,
    predict,
    predict_class,
    step,
    train,
)
from .trace import Trace, trace_steps, trace_table
from .checks import InputError
from .lehmer import batches
from .fixtures import (
    Fixture,
    FixtureError,
    list_fixtures,
    load_fixture,
    save_fixture,
    train_fixture,
    write_trace_csv,
)
from .explain import explain, explain_steps
from .spreadsheet import write_explain_xlsx
from .page import explain_html
from .check import MISTAKES, Answer, check_step, check_trace

__version__ = version("nnscratch")

__all__ = [
    "ACTIVATIONS",
    "Activation",
    "Layer",
    "INITIALISERS",
    "init_layers",
    "forward",
    "backward",
    "Step",
    "step",
    "TrainResult",
    "train",
    "predict",
    "predict_class",
    "one_hot",
    "gradient_check",
    "Trace",
    "trace_steps",
    "trace_table",
    "InputError",
    "batches",
    "Fixture",
    "FixtureError",
    "list_fixtures",
    "load_fixture",
    "train_fixture",
    "save_fixture",
    "write_trace_csv",
    "explain_steps",
    "explain",
    "write_explain_xlsx",
    "explain_html",
    "MISTAKES",
    "Answer",
    "check_trace",
    "check_step",
]
