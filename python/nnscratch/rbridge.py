"""nnscratch's R implementation, run from Python through rpy2.

One embedded R per process: an :class:`RSession` sources ``r/nnscratch.R`` (the copy
shipped in the package) into an environment of its own and calls its ``nn_*``
functions. Data cross as numpy arrays, one conversion per array (never per epoch,
never as a table).
"""

from pathlib import Path

import numpy as np

from .checks import InputError
from .fixtures import SHIPPED, Fixture, FixtureError
from .network import Layer, TrainResult
from .trace import Trace

# rpy2 3.6 and newer need R 4.5 or newer; with an older R they fail to import
# ("undefined symbol: R_getVar"), and rpy2 3.5.17 is the one to take.
NEEDS_R = (
    "install R 4.1 or newer, then pip install 'nnscratch[r]' "
    "(with R older than 4.5, add 'rpy2==3.5.17')"
)

try:
    import rpy2.robjects as ro
    from rpy2.robjects import default_converter, numpy2ri
    from rpy2.robjects.vectors import ListVector
except (ImportError, OSError, ValueError) as error:  # no rpy2, no R, or the wrong rpy2
    cause = str(error).splitlines()[0] if str(error) else type(error).__name__
    raise ImportError(f"R through rpy2 cannot start here ({cause}): {NEEDS_R}") from None

#: The R implementation shipped with this package.
R_SOURCE = SHIPPED / "r" / "nnscratch.R"

_CONVERTER = default_converter + numpy2ri.converter

# Calls f and hands an nnscratch input error back as a value, so that Python can
# raise the same error with the same field (rpy2 would give only the message).
_CALL = ro.r("""
function(f, ...) {
  tryCatch(f(...), nnscratch_input_error = function(e) {
    list(nnscratch_error = TRUE, field = e$field, problem = e$problem, path = e$path,
         category = e$category)
  })
}
""")
_LAYER = ro.r(
    "function(weights, bias, activation) "
    "list(weights = weights, bias = bias, activation = activation)"
)


class RSession:
    """The R implementation, sourced into an R environment of its own.

    Parameters
    ----------
    source : str or Path
        The R file to source; by default the one shipped with this package.
    """

    def __init__(self, source=R_SOURCE):
        if not Path(source).is_file():
            raise FileNotFoundError(f"{source}: the R implementation is not there")
        self.environment = ro.r["new.env"]()
        ro.r["source"](str(source), local=self.environment)

    def function(self, name):
        """The R function ``name`` (e.g. ``"nn_train"``)."""
        return self.environment[name]

    def replace_function(self, name, function):
        """Make ``function`` this session's ``name``, called by its other functions too.

        A test can so plant a change in one step of the R side without editing
        r/nnscratch.R; use a session of its own for that.
        """
        self.environment[name] = ro.r["environment<-"](function, value=self.environment)

    def call(self, name, *args, **kwargs):
        """Call an R function; Python values are converted, R values passed as they are.

        Raises :class:`FixtureError` or :class:`InputError` for R's
        nnscratch_fixture_error and nnscratch_input_error, with the same field.
        """
        args = [_to_r(value) for value in args]
        kwargs = {key: _to_r(value) for key, value in kwargs.items()}
        result = _CALL(self.function(name), *args, **kwargs)
        if isinstance(result, ListVector) and "nnscratch_error" in (result.names or ()):
            keys = ("field", "problem", "path", "category")
            field, problem, path, category = (_string(result.rx2(key)) for key in keys)
            if path is None:
                raise InputError(field, problem, category)
            raise FixtureError(path, field, problem, category)
        return result

    def load_fixture(self, path):
        """``nn_load_fixture(path)``, as a :class:`Fixture`."""
        fixture = self.call("nn_load_fixture", str(path))
        expected = fixture.rx2("expected")
        return Fixture(
            name=_string(fixture.rx2("name")),
            description=_string(fixture.rx2("description")),
            X=_from_r(fixture.rx2("X")),
            y=_from_r(fixture.rx2("y")),
            layers=layers_from_r(fixture.rx2("layers")),
            lr=_scalar(fixture.rx2("lr"), float),
            epochs=_scalar(fixture.rx2("epochs"), int),
            batch_size=_scalar(fixture.rx2("batch_size"), int),
            shuffle=_scalar(fixture.rx2("shuffle"), bool),
            seed=_scalar(fixture.rx2("seed"), int),
            expected=None
            if expected is ro.NULL
            else {
                "untrained_half_squared_error": _from_r(
                    expected.rx2("untrained_half_squared_error")
                ),
                "decimals": _scalar(expected.rx2("decimals"), int),
            },
        )

    def init_layers(self, sizes, activations, seed, method="uniform", bias=True):
        """``nn_init_layers(...)``, as a list of :class:`Layer`."""
        layers = self.call(
            "nn_init_layers",
            ro.IntVector(sizes),
            ro.StrVector([activations] if isinstance(activations, str) else activations),
            seed,
            method=method,
            bias=bias,
        )
        return layers_from_r(layers)

    def train(
        self,
        layers,
        X,
        y,
        lr,
        epochs,
        trace=False,
        batch_size=None,
        shuffle=False,
        seed=None,
        first_epoch=1,
        **trace_options,
    ):
        """``nn_train(...)`` on Python data, as a :class:`TrainResult`.

        ``trace_options``: trace_every, trace_quantities, trace_limit, as in R.
        """
        if trace_options.get("trace_quantities") is not None:
            trace_options["trace_quantities"] = ro.StrVector(trace_options["trace_quantities"])
        result = self.call(
            "nn_train",
            layers_to_r(layers),
            np.asarray(X, dtype=float),
            np.asarray(y, dtype=float),
            lr,
            epochs,
            trace=trace,
            batch_size=batch_size,
            shuffle=shuffle,
            seed=seed,
            first_epoch=first_epoch,
            **trace_options,
        )
        recorded = result.rx2("trace")
        return TrainResult(
            layers=layers_from_r(result.rx2("layers")),
            loss=_from_r(result.rx2("loss")),
            trace=None if recorded is ro.NULL else trace_from_r(recorded),
            state=_scalar(result.rx2("state"), int),
        )

    def train_fixture(self, fixture, trace=False, **trace_options):
        """Train a :class:`Fixture` in R with all its settings: ``nn_train`` given the
        fixture's batching, as R's ``nn_train_fixture`` gives it."""
        f = fixture
        return self.train(
            f.layers, f.X, f.y, f.lr, f.epochs, trace=trace, **f.batching(), **trace_options
        )

    def predict(self, layers, X):
        """``nn_predict(layers, X)``."""
        return _from_r(self.call("nn_predict", layers_to_r(layers), np.asarray(X, dtype=float)))

    def predict_class(self, layers, X):
        """``nn_predict_class(layers, X)``: with several outputs, classes count from 1."""
        return _from_r(
            self.call("nn_predict_class", layers_to_r(layers), np.asarray(X, dtype=float))
        )


def layers_to_r(layers):
    """A list of :class:`Layer` as an R list of layers."""
    return ro.r["list"](
        *(
            # A 1-d ndarray would cross as a 1-d R array: a bias is a plain vector, or NULL.
            _LAYER(
                _to_r(layer.weights),
                ro.NULL if layer.bias is None else ro.FloatVector(layer.bias),
                _to_r(layer.activation),
            )
            for layer in layers
        )
    )


def layers_from_r(layers):
    """An R list of layers as a list of :class:`Layer`."""
    return [
        Layer(
            _from_r(layer.rx2("weights")),
            _from_r(layer.rx2("bias")),
            _string(layer.rx2("activation")),
        )
        for layer in layers
    ]


def trace_from_r(trace):
    """An R trace as a :class:`Trace`: one conversion per array."""
    return Trace(
        epoch=_from_r(trace.rx2("epoch")),
        iteration=_from_r(trace.rx2("iteration")),
        samples=_from_r(trace.rx2("samples")),
        loss=_from_r(trace.rx2("loss")),
        layers=[
            {name: _from_r(layer.rx2(name)) for name in layer.names}
            for layer in trace.rx2("layers")
        ],
    )


def trace_to_r(trace):
    """A :class:`Trace` as an R trace, the list nn_train records: one conversion per array."""
    return ro.r["list"](
        epoch=_to_r(np.asarray(trace.epoch, dtype=np.int32)),
        iteration=_to_r(np.asarray(trace.iteration, dtype=np.int32)),
        samples=_to_r(np.asarray(trace.samples, dtype=np.int32)),
        loss=_to_r(np.asarray(trace.loss, dtype=float)),
        layers=ro.r["list"](
            *(
                ro.r["list"](**{name: _to_r(block) for name, block in layer.items()})
                for layer in trace.layers
            )
        ),
    )


def _to_r(value):
    if value is None:
        return ro.NULL
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 2**31 - 1:
        value = float(value)  # past R's integers: a double, as R reads such a number
    return value if isinstance(value, ro.RObjectMixin) else _CONVERTER.py2rpy(value)


def _from_r(value):
    # numpy2ri converts R doubles to ndarrays but leaves integers and logicals as
    # rpy2 vectors; np.array reads those through their buffer, dims included, and copies
    # them: a view would read freed memory once R collects the vector.
    return None if value is ro.NULL else np.array(_CONVERTER.rpy2py(value))


def _string(value):
    """An R string (a character vector of length 1) as str; NULL as None."""
    return None if value is ro.NULL else str(_from_r(value)[0])


def _scalar(value, kind):
    """An R vector of length 1 as ``kind`` (int, float or bool); NULL as None."""
    return None if value is ro.NULL else kind(_from_r(value)[0])
