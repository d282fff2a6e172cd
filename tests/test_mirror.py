"""The mirror is exact: every public Python name has its R twin, in the same order of
code, taking the same arguments and refusing the same bad ones with the same words."""

import re

import numpy as np
import pytest
import rpy2.robjects as ro

import nnscratch
from cases import ROOT
from nnscratch.rbridge import layers_from_r, layers_to_r

# Python names whose R twin is not nn_<lower-case name>, and those with none: R's results
# are lists, with the classes nn_result, nn_trace and nn_fixture that nn_train and
# nn_load_fixture give them (no constructors of their own), its errors conditions of one
# constructor, and its spreadsheets do not exist (openpyxl is Python's).
R_TWIN = {"InputError": "nn_input_error", "Layer": "nn_layer"}
NO_R_TWIN = {"Activation", "Step", "TrainResult", "Trace", "Fixture", "FixtureError", "Answer"}
PYTHON_ONLY = {"write_explain_xlsx"}
# Public names of Python's modules that import nnscratch does not load (matplotlib).
OTHER_MODULES = {"accuracy": "nn_accuracy", "plot_training": "nn_plot_training"}
# The S3 methods of R's classes; Python's have __repr__ for format and print (an answer:
# its report).
R_METHODS = [
    *(
        f"{generic}.{kind}"
        for kind in ("nn_result", "nn_trace", "nn_fixture")
        for generic in ("format", "print", "summary", "plot")
    ),
    "predict.nn_result",
    "format.nn_answer",
    "print.nn_answer",
]


def r_definitions():
    """The nn_* names r/nnscratch.R defines, in the order it defines them."""
    text = (ROOT / "r" / "nnscratch.R").read_text(encoding="utf-8")
    return re.findall(r"^(nn_\w+) <- ", text, flags=re.MULTILINE)


def test_every_public_python_name_has_its_r_twin_in_the_same_order():
    defined = r_definitions()
    twins = [
        R_TWIN.get(name, f"nn_{name.lower()}")
        for name in nnscratch.__all__
        if name not in NO_R_TWIN | PYTHON_ONLY
    ]
    missing = [twin for twin in twins if twin not in defined]
    assert missing == []
    positions = [defined.index(twin) for twin in twins]
    assert positions == sorted(positions), [twins[i] for i in np.argsort(positions)]


def r_exports():
    """The names r/nnscratch.R marks @export (roxygen2 writes them into the NAMESPACE)."""
    text = (ROOT / "r" / "nnscratch.R").read_text(encoding="utf-8")
    return re.findall(r"^#' @export\n(?:#'.*\n)*?([\w.]+) <- ", text, flags=re.MULTILINE)


def test_r_exports_the_twins_of_the_public_python_names_and_the_methods_of_its_classes():
    twins = [
        R_TWIN.get(name, f"nn_{name.lower()}")
        for name in nnscratch.__all__
        if name not in NO_R_TWIN | PYTHON_ONLY
    ]
    exported = r_exports()
    functions = [name for name in exported if "." not in name]
    assert sorted(functions) == sorted([*twins, *OTHER_MODULES.values()])
    assert sorted(name for name in exported if "." in name) == sorted(R_METHODS)


def test_step_and_train_come_first_in_r():
    lines = (ROOT / "r" / "nnscratch.R").read_text(encoding="utf-8").splitlines()
    for name in ("nn_step", "nn_train"):
        number = next(i for i, line in enumerate(lines, 1) if line.startswith(f"{name} <- "))
        assert number <= 300, f"{name} is defined at line {number}"


def test_step_gives_the_same_quantities_by_the_same_names(r_session):
    f = nnscratch.load_fixture(ROOT / "fixtures" / "two_hidden.json")
    python = nnscratch.step(f.layers, f.X, f.y, f.lr)
    r = r_session.call("nn_step", layers_to_r(f.layers), f.X, f.y, f.lr)
    assert list(r.names) == list(nnscratch.Step._fields)
    for name in nnscratch.Step._fields:
        if name == "layers":
            for p, q in zip(python.layers, layers_from_r(r.rx2("layers")), strict=True):
                np.testing.assert_allclose(q.weights, p.weights, rtol=1e-14, atol=1e-15)
                np.testing.assert_allclose(q.bias, p.bias, rtol=1e-14, atol=1e-15)
            continue
        values = getattr(python, name)
        r_values = r.rx2(name)
        if name in ("error", "loss"):
            np.testing.assert_allclose(
                np.asarray(r_values).reshape(np.shape(values)), values, rtol=1e-14
            )
            continue
        for p, q in zip(values, r_values, strict=True):
            if p is None:
                assert q is ro.NULL
            else:
                np.testing.assert_allclose(np.asarray(q), p, rtol=1e-14, atol=1e-15)


def test_nn_layer_makes_what_layer_makes(r_session):
    layer = r_session.call(
        "nn_layer", ro.r("matrix(1:6, 2)"), ro.IntVector([1, 2, 3]), activation="tanh"
    )
    assert list(layer.names) == ["weights", "bias", "activation"]
    (python,) = layers_from_r(ro.r["list"](layer))
    expected = nnscratch.Layer([[1, 3, 5], [2, 4, 6]], [1, 2, 3], "tanh")
    assert python.weights.dtype == python.bias.dtype == expected.weights.dtype == float
    np.testing.assert_array_equal(python.weights, expected.weights)
    np.testing.assert_array_equal(python.bias, expected.bias)
    assert ro.r["typeof"](layer.rx2("weights"))[0] == "double"
    assert r_session.call("nn_layer", ro.r("matrix(1, 1, 1)"), ro.NULL).rx2("activation")[0] == (
        "sigmoid"
    )


@pytest.mark.parametrize("activations", ["tanh", ["tanh"]])
def test_one_activation_serves_every_layer_in_both(r_session, activations):
    python = nnscratch.init_layers([4, 3, 2, 1], activations, 9)
    r = r_session.init_layers([4, 3, 2, 1], activations, 9)
    assert (
        [layer.activation for layer in python] == [layer.activation for layer in r] == ["tanh"] * 3
    )


# The first layer's activation set to a value that is not a string, in each language.
SET_ACTIVATION = ro.r(
    "function(layers, value) { layers[[1]]['activation'] <- list(value); layers }"
)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"activation": 3}, "layers[1].activation: must be a string; got 3.0"),
        ({"activation": None}, "layers[1].activation: must be a string; got null"),
        ({"trace": "yes"}, "trace: must be true or false; got a string"),
        ({"first_epoch": 1.5}, "first_epoch: must be a whole number, 1 or more; got 1.5"),
        ({"progress": 3}, "progress: must be a function of (epoch, loss); got 3.0"),
        ({"trace_quantities": 3}, "trace_quantities: must be a name or a list of names; got 3.0"),
        ({"trace_quantities": "deltas"}, "trace_quantities: unknown quantity 'deltas'; known: "),
    ],
)
def test_bad_arguments_give_the_same_error_in_both(r_session, change, message):
    f = nnscratch.load_fixture(ROOT / "fixtures" / "article.json")
    layers, r_layers, options = f.layers, layers_to_r(f.layers), dict(change)
    if "activation" in options:
        value = options.pop("activation")
        layers = [nnscratch.Layer(f.layers[0].weights, f.layers[0].bias, value), f.layers[1]]
        r_layers = SET_ACTIVATION(r_layers, ro.NULL if value is None else value)
    with pytest.raises(nnscratch.InputError) as python:
        nnscratch.train(layers, f.X, f.y, f.lr, 2, **options)
    with pytest.raises(nnscratch.InputError) as r:
        r_session.call("nn_train", r_layers, f.X, f.y, f.lr, 2, **options)
    assert str(python.value) == str(r.value)
    assert str(python.value).startswith(message)
    assert python.value.category == r.value.category


def test_a_single_quantity_name_is_one_name_in_both(r_session):
    f = nnscratch.load_fixture(ROOT / "fixtures" / "article.json")
    python = nnscratch.train(f.layers, f.X, f.y, f.lr, 2, trace=True, trace_quantities="delta")
    r = r_session.train(f.layers, f.X, f.y, f.lr, 2, trace=True, trace_quantities=["delta"])
    assert [sorted(layer) for layer in python.trace.layers] == [["delta"], ["delta"]]
    assert [sorted(layer) for layer in r.trace.layers] == [["delta"], ["delta"]]
