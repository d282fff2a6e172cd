"""Results, fixtures and traces as Python users expect them: short reprs (the lines R's
print shows), pandas input, one_hot, plots that return their Figure."""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import rpy2.robjects as ro

import nnscratch
from nnscratch.rbridge import layers_to_r
from reference import article_fixture_loop

# format(x) called where the R session's functions live, so that it finds their methods.
FORMAT = ro.r("function(x, where) eval(quote(format(x)), list(x = x), where)")


def r_lines(r_session, value):
    """R's format() of an R object: the lines its print method shows."""
    return "\n".join(FORMAT(value, r_session.environment))


def test_a_result_a_fixture_and_a_trace_show_the_lines_r_prints(r_session):
    f = nnscratch.load_fixture("article")
    result = nnscratch.train_fixture(f, trace=True)
    losses, _ = article_fixture_loop(f)  # the article's own loop, written out
    assert repr(result) == (
        "Trained network 4 -> 3 sigmoid -> 1 sigmoid\n"
        f"loss {losses[0]:.6g} in epoch 1, {losses[-1]:.6g} in epoch 5000\n"
        "traced iterations: 5000"
    )
    assert repr(f) == (
        "Fixture article: X 3 x 4, y 3 x 1\n"
        "network 4 -> 3 sigmoid -> 1 sigmoid; lr 0.1, epochs 5000, full batch\n"
        "The article's example"
    )
    for name, options in [
        ("article", {"trace": True}),
        ("minibatch", {"trace": True, "trace_every": 100}),
        ("article_no_bias", {}),
    ]:
        f = nnscratch.load_fixture(name)
        r_fixture = r_session.call("nn_load_fixture", name)
        assert repr(f) == r_lines(r_session, r_fixture)
        python = nnscratch.train_fixture(f, **options)
        r = r_session.call("nn_train_fixture", r_fixture, **options)
        assert repr(python) == r_lines(r_session, r)
        if options:
            assert repr(python.trace) == r_lines(r_session, r.rx2("trace"))
    untrained = nnscratch.train(f.layers, f.X, f.y, f.lr, 0)
    assert repr(untrained).splitlines()[1:] == [
        "no epochs: the layers are the initial ones",
        "no trace",
    ]


def test_pandas_data_and_a_categorical_y_train_as_arrays_and_their_one_hot_y(r_session):
    X = pd.DataFrame({"width": [0.1, 0.9, 0.2, 0.8], "height": [0.2, 0.7, 0.1, 0.9]})
    y = pd.Categorical(["small", "large", "small", "large"], categories=["small", "large"])
    layers = nnscratch.init_layers([2, 3, 2], "sigmoid", 5)
    expected = np.array([[1, 0], [0, 1], [1, 0], [0, 1]], dtype=float)
    np.testing.assert_array_equal(nnscratch.one_hot(y), expected)
    from_pandas = nnscratch.train(layers, X, pd.Series(y), 0.5, 30)
    from_arrays = nnscratch.train(layers, X.to_numpy(), expected, 0.5, 30)
    np.testing.assert_array_equal(from_pandas.loss, from_arrays.loss)
    np.testing.assert_array_equal(
        nnscratch.predict(from_pandas.layers, X),
        nnscratch.predict(from_arrays.layers, X.to_numpy()),
    )
    # R: a data.frame and a factor, the same run.
    r_X = ro.r["data.frame"](width=ro.FloatVector(X["width"]), height=ro.FloatVector(X["height"]))
    r_y = ro.r["factor"](ro.StrVector(list(y)), levels=ro.StrVector(["small", "large"]))
    r = r_session.call("nn_train", layers_to_r(layers), r_X, r_y, 0.5, 30)
    np.testing.assert_allclose(np.asarray(r.rx2("loss")), from_pandas.loss, rtol=1e-13)


def test_a_column_that_is_not_numbers_is_refused_alike(r_session):
    X = pd.DataFrame({"length": [5.1, 7.0], "species": ["setosa", "versicolor"]})
    layers = nnscratch.init_layers([2, 1], "sigmoid", 5)
    with pytest.raises(nnscratch.InputError) as python:
        nnscratch.train(layers, X, [[0.0], [1.0]], 0.1, 1)
    r_X = ro.r["data.frame"](
        length=ro.FloatVector(X["length"]), species=ro.r["factor"](ro.StrVector(X["species"]))
    )
    with pytest.raises(nnscratch.InputError) as r:
        r_session.call("nn_train", layers_to_r(layers), r_X, np.array([[0.0], [1.0]]), 0.1, 1)
    assert (
        str(python.value)
        == str(r.value)
        == ("X: column 'species' is not numeric; X takes numbers only (classes go in y, one-hot)")
    )


@pytest.mark.parametrize(
    ("y", "classes"),
    [(["b", "a", "B"], None), ([2, 0, 2], [2, 0, 1]), (["x", "y"], ["y", "x"])],
)
def test_one_hot_gives_the_matrix_of_nn_one_hot(r_session, y, classes):
    to_r = ro.StrVector if isinstance(y[0], str) else ro.FloatVector
    r = r_session.call("nn_one_hot", to_r(y), classes=None if classes is None else to_r(classes))
    np.testing.assert_array_equal(nnscratch.one_hot(y, classes), np.asarray(r))


def test_one_hot_refuses_a_class_it_was_not_given_as_nn_one_hot_does(r_session):
    with pytest.raises(nnscratch.InputError) as python:
        nnscratch.one_hot(["a", "c"], classes=["a", "b"])
    with pytest.raises(nnscratch.InputError) as r:
        r_session.call("nn_one_hot", ro.StrVector(["a", "c"]), classes=ro.StrVector(["a", "b"]))
    assert (
        str(python.value)
        == str(r.value)
        == ("y: sample 2 is of class 'c', which is not one of the classes (a, b)")
    )


def test_plot_training_returns_its_figure_and_leaves_matplotlib_alone(tmp_path):
    """In a process of its own: pyplot never imported, the backend never switched."""
    code = (
        "import sys, matplotlib\n"
        "matplotlib.use('svg')\n"
        "import nnscratch\n"
        "from nnscratch.plots import plot_training\n"
        "f = nnscratch.load_fixture('moons')\n"
        "f.epochs = 20\n"
        "figure = plot_training(nnscratch.train_fixture(f), f, sys.argv[1])\n"
        "print(type(figure).__name__, len(figure.axes), matplotlib.get_backend(),\n"
        "      'matplotlib.pyplot' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "moons.png")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out == "Figure 3 svg False\n"  # the loss, the boundary and its colour bar
    assert (tmp_path / "moons.png").read_bytes()[:4] == b"\x89PNG"


def test_plot_training_draws_on_the_axes_it_is_given():
    from matplotlib.figure import Figure

    from nnscratch.plots import plot_training

    f = nnscratch.load_fixture("moons")
    f.epochs = 20
    result = nnscratch.train_fixture(f)
    figure = Figure()
    loss, boundary = figure.subplots(1, 2)
    assert plot_training(result, f, ax=[loss, boundary]) is figure
    assert loss.get_title() == "loss" and boundary.get_title() == "decision boundary"
    assert len(figure.axes) == 3  # and the boundary's colour bar
    alone = Figure().subplots()
    assert plot_training(result, f, ax=alone) is alone.figure
    assert alone.get_title() == "loss" and len(alone.figure.axes) == 1
