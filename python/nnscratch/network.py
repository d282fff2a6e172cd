"""The network: layers, their initialisation, the forward and backward passes, one
step of training, training, prediction."""

import contextlib
import copy
import itertools
import math
import sys
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from .activations import ACTIVATIONS
from .checks import (
    InputError,
    as_matrix,
    check_finite,
    check_memory,
    check_network,
    check_recording,
    check_seed,
    check_training,
    check_whole,
)
from .files import TraceCSV
from .lehmer import batches, lehmer_uniform
from .trace import Recording, Trace, kept_steps, new_recorder, record


@dataclass
class Layer:
    """One layer of weights.

    Attributes
    ----------
    weights : ndarray of shape (n_inputs, n_units)
    bias : ndarray of shape (n_units,), or None for a layer without bias
    activation : str
        A key of :data:`nnscratch.activations.ACTIVATIONS`.

    The arrays are kept as given (converted to floats); nothing in nnscratch changes
    them in place: training makes new layers.
    """

    weights: np.ndarray
    bias: np.ndarray | None
    activation: str = "sigmoid"

    def __post_init__(self):
        self.weights = np.asarray(self.weights, dtype=float)
        if self.bias is not None:
            self.bias = np.asarray(self.bias, dtype=float)


class Step(NamedTuple):
    """What :func:`step` returns: one iteration, by the names of the step table.

    Every list has one entry per layer, in order; per-sample quantities have
    shape (n_samples, n_units).
    """

    layers: list
    """Steps 10 and 11: the layers after the update (new objects)."""
    layer_input: list
    """Steps 2 and 4: Z_l = A_{l-1} W_l + b_l."""
    activation: list
    """Steps 3 and 4: A_l = f(Z_l); the last is the output."""
    error: np.ndarray
    """Step 5: E = y - output, shape (n_samples, n_outputs)."""
    loss: float
    """Step 5: mean(E^2) / 2."""
    slope: list
    """Step 6: f'(Z_l), computed from A_l."""
    delta: list
    """Steps 7 and 9: D_L = E * slope_L; D_l = error_at_layer_l * slope_l."""
    error_at_layer: list
    """Step 8: D_{l+1} W_{l+1}^T; None for the output layer."""


class TrainResult(NamedTuple):
    """What :func:`train` returns (shown in a few lines)."""

    layers: list
    """The trained layers (new objects; the ones given are left as they were)."""
    loss: np.ndarray
    """Shape (epochs,): the loss of each epoch, over all its batches, each before its update."""
    trace: Trace | None
    """Every quantity of every iteration, or None when ``trace=False``."""
    state: int | None
    """The generator's state at the end: as ``seed``, it continues the run's shuffles."""

    def __repr__(self):
        """A few lines, the same as R's print of an nn_result."""
        epochs = len(self.loss)
        return "\n".join(
            [
                f"Trained network {describe_network(self.layers)}",
                "no epochs: the layers are the initial ones"
                if epochs == 0
                else f"loss {self.loss[0]:.6g} in epoch 1, {self.loss[-1]:.6g} in epoch {epochs}",
                "no trace" if self.trace is None else f"traced iterations: {len(self.trace.loss)}",
            ]
        )


def uniform_init(state, n_inputs, n_units, bias):
    """The article's initialisation: every weight and bias uniform on [0, 1)."""
    weights, state = lehmer_uniform(state, n_inputs * n_units)
    biases = None
    if bias:
        biases, state = lehmer_uniform(state, n_units)
    return weights.reshape(n_inputs, n_units), biases, state


def glorot_init(state, n_inputs, n_units, bias):
    """Glorot (Xavier) uniform: weights uniform on [-limit, limit], biases 0.

    ``limit = sqrt(6 / (n_inputs + n_units))`` keeps the variance of the signal
    about the same from layer to layer.
    """
    draws, state = lehmer_uniform(state, n_inputs * n_units)
    limit = math.sqrt(6 / (n_inputs + n_units))
    weights = limit * (2 * draws - 1)
    return weights.reshape(n_inputs, n_units), np.zeros(n_units) if bias else None, state


INITIALISERS = {"uniform": uniform_init, "glorot": glorot_init}


def init_layers(sizes, activations, seed, method="uniform", bias=True):
    """Layers with seeded random weights, the same to the bit as R's ``nn_init_layers``.

    Parameters
    ----------
    sizes : sequence of int
        Units per layer, from the input features to the outputs: ``[4, 3, 1]``
        is 4 features, 3 hidden units, 1 output.
    activations : str or sequence of str
        One per layer of weights (``len(sizes) - 1``), or one for all.
    seed : int
        From 1 to 2^31 - 2: the first state of the Lehmer generator.
    method : {"uniform", "glorot"}
        A key of :data:`INITIALISERS`. Layer by layer, the weights are drawn row
        by row, then the bias.
    bias : bool
        Give each layer a bias, or none.

    Returns
    -------
    list of Layer
    """
    if isinstance(activations, str):
        activations = [activations]
    if len(activations) == 1:
        activations = list(activations) * (len(sizes) - 1)
    if len(sizes) < 2:
        raise InputError("sizes", "must give at least two sizes (inputs and outputs)")
    for number, size in enumerate(sizes, start=1):
        check_whole(size, f"sizes[{number}]", 1)
    if len(activations) != len(sizes) - 1:
        raise InputError(
            "activations",
            f"has {len(activations)} names, but there are {len(sizes) - 1} layers; "
            "give one per layer, or one for all",
            category="shape",
        )
    check_seed(seed)
    if method not in INITIALISERS:
        raise InputError("method", f"unknown method '{method}'; known: {', '.join(INITIALISERS)}")
    numbers = sum(
        (int(n_inputs) + 1) * int(n_units) for n_inputs, n_units in itertools.pairwise(sizes)
    )
    check_memory("sizes", "the layers", 8 * numbers)
    state, layers = seed, []
    for (n_inputs, n_units), activation in zip(itertools.pairwise(sizes), activations):
        weights, layer_bias, state = INITIALISERS[method](state, int(n_inputs), int(n_units), bias)
        layers.append(Layer(weights, layer_bias, activation))
    check_network(layers, np.zeros((1, int(sizes[0]))))
    return layers


def forward(layers, X):
    """Steps 2 to 4: the forward pass.

    Parameters
    ----------
    layers : list of Layer
    X : ndarray of shape (n_samples, n_features)

    Returns
    -------
    layer_input, activation : list of ndarray of shape (n_samples, n_units)
        Per layer, Z_l = A_{l-1} W_l + b_l and A_l = f(Z_l), with A_0 = X.
    """
    layer_input, activation = [], []
    for l, layer in enumerate(layers):
        previous = X if l == 0 else activation[l - 1]
        z = previous.dot(layer.weights)
        # Step 2 (step 4 for the output layer): the layer's input.
        layer_input.append(z if layer.bias is None else z + layer.bias)
        # Step 3 (step 4 for the output layer): its activation.
        activation.append(ACTIVATIONS[layer.activation].f(layer_input[l]))
    return layer_input, activation


def backward(layers, activation, error):
    """Steps 6 to 9: the backward pass, with the weights from before the update.

    Parameters
    ----------
    layers : list of Layer
    activation : list of ndarray of shape (n_samples, n_units)
        The forward pass's A_l, from :func:`forward`.
    error : ndarray of shape (n_samples, n_outputs)
        Step 5: E = y - output.

    Returns
    -------
    slope, delta, error_at_layer : list of ndarray of shape (n_samples, n_units)
        Per layer; ``error_at_layer`` is None for the output layer.
    """
    n_layers = len(layers)
    # Step 6: the slope of every layer's activation, from its output.
    slope = [ACTIVATIONS[layer.activation].slope(a) for layer, a in zip(layers, activation)]
    delta = [None] * n_layers
    error_at_layer = [None] * n_layers
    # Step 7: the output layer's delta.
    delta[-1] = error * slope[-1]
    for l in range(n_layers - 2, -1, -1):  # from the last hidden layer back to the first
        # Step 8: the error sent back to hidden layer l through the weights above it.
        error_at_layer[l] = delta[l + 1].dot(layers[l + 1].weights.T)
        # Step 9: hidden layer l's delta.
        delta[l] = error_at_layer[l] * slope[l]
    return slope, delta, error_at_layer


def step(layers, X, y, lr):
    """One iteration of gradient descent: the article's steps 2 to 11, on one batch.

    Parameters
    ----------
    layers : list of Layer
        The network before the update; left unchanged.
    X : ndarray of shape (n_samples, n_features)
        The batch's samples (all of the data in full-batch training).
    y : ndarray of shape (n_samples, n_outputs)
    lr : float

    Returns
    -------
    Step
        The updated layers and every quantity the iteration computed.
    """
    # Steps 2 to 4: the forward pass.
    layer_input, activation = forward(layers, X)
    # Step 5: the error at the output, and the loss: the mean of its squares, halved.
    error = y - activation[-1]
    loss = float(np.vdot(error, error)) / error.size / 2
    # Steps 6 to 9: the backward pass.
    slope, delta, error_at_layer = backward(layers, activation, error)
    updated = []
    for l, layer in enumerate(layers):
        previous = X if l == 0 else activation[l - 1]
        # Step 10: the weights move by lr times the gradient summed over the batch.
        weights = layer.weights + lr * previous.T.dot(delta[l])
        # Step 11: the bias moves by lr times the delta summed over the batch.
        bias = None if layer.bias is None else layer.bias + lr * delta[l].sum(axis=0)
        updated.append(Layer(weights, bias, layer.activation))
    return Step(updated, layer_input, activation, error, loss, slope, delta, error_at_layer)


# A loss that is not finite stops training (below); numpy need not warn on the way there.
@np.errstate(over="ignore", invalid="ignore")
def train(
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
    progress=None,
    trace_every=1,
    trace_quantities=None,
    trace_limit=1e9,
    trace_csv=None,
):
    """Train by gradient descent: :func:`step` on every batch of every epoch.

    Parameters
    ----------
    layers : list of Layer
        The initial network; left unchanged.
    X : array-like of shape (n_samples, n_features)
        A pandas DataFrame too, of numeric columns.
    y : array-like of shape (n_samples, n_outputs)
        Or a pandas Categorical (or Series of that dtype), one class per sample, which
        trains as its one-hot matrix (:func:`one_hot`: one output per category, in their
        order; :func:`predict_class` then gives each sample's category by number).
    lr : float
        Learning rate, above 0.
    epochs : int
        Number of passes over the data, 0 or more.
    trace : bool
        Record every quantity of every step of every iteration.
    batch_size : int or None
        Samples per update: None (or n_samples or more) is full-batch gradient
        descent, 1 is stochastic gradient descent, anything between mini-batches.
        The last batch of an epoch holds what is left.
    shuffle : bool
        Shuffle the samples before each epoch (with the Lehmer generator, as R
        does); otherwise batches follow the order of the data.
    seed : int or None
        The generator's first state; needed to shuffle. A run's ``state`` given as
        ``seed`` continues its shuffles where it stopped.
    first_epoch : int
        The number of this call's first epoch, from 1. A run that stopped after
        epoch k continues with its layers, its ``state`` as ``seed`` and
        ``first_epoch=k + 1``: then traces, ``progress``, ``trace_every`` and errors
        count epochs from the run's start, and the epochs it trains are exactly
        those of one call that trains them all.
    progress : callable or None
        Called after every epoch as ``progress(epoch, loss)``, the epoch counted as
        ``first_epoch`` counts it.
    trace_every : int
        With ``trace``, record the epochs whose number is a multiple of this.
    trace_quantities : str, list of str, or None
        With ``trace``, record only these of :data:`nnscratch.trace.LAYER_QUANTITIES`
        (the samples and the loss always); None: all.
    trace_limit : float
        Bytes the trace may take; a run whose trace would take more is refused before
        it starts, with the estimate.
    trace_csv : str, os.PathLike or None
        Write the trace's long table (:func:`nnscratch.trace_table`) to this CSV file as
        training makes it, keeping nothing in memory (``trace_every`` and
        ``trace_quantities`` apply). The file is put in place when training ends; if it
        stops on an error (or Ctrl-C), the old file is left as it was.

    Returns
    -------
    TrainResult
        ``layers`` (trained), ``loss`` of shape (epochs,), ``trace`` (or None), and
        the generator's ``state`` at the end.

    Raises
    ------
    InputError
        For bad arguments, naming the argument; and for ``lr`` when training diverges:
        at the first update that gives a number that is not finite, naming its epoch
        and iteration.
    """
    if _categorical(y):
        y = one_hot(y)
    X, y = as_matrix(X, "X"), as_matrix(y, "y")
    recording = Recording(trace, trace_every, trace_quantities, trace_limit, trace_csv)
    check_training(layers, X, y, lr, epochs, batch_size, shuffle, seed, first_epoch, progress)
    check_recording(recording, layers, X, batch_size, epochs, first_epoch)
    layers = copy.deepcopy(list(layers))  # new objects, even after 0 epochs
    n_samples, epochs, first_epoch = X.shape[0], int(epochs), int(first_epoch)
    batch_size = n_samples if batch_size is None else min(int(batch_size), n_samples)
    loss = np.zeros(epochs)
    state = seed
    with open_recorder(recording, layers, n_samples, batch_size, epochs, first_epoch) as recorder:
        for epoch in range(first_epoch, first_epoch + epochs):
            # Step 0: the batches of this epoch (the same every epoch, unless shuffled).
            if shuffle or epoch == first_epoch:
                epoch_batches, state = batches(X, y, batch_size, shuffle, state)
            epoch_loss = 0.0
            for iteration, batch in enumerate(epoch_batches, start=1):
                now = step(layers, batch.X, batch.y, lr)
                check_finite(now, epoch, iteration)
                layers = now.layers
                # The epoch's loss: the mean over its samples, each batch weighed by its size.
                epoch_loss += now.loss * (len(batch.X) / n_samples)
                if recorder is not None:
                    record(recorder, epoch, iteration, batch.rows, now)
            loss[epoch - first_epoch] = epoch_loss
            if progress is not None:
                progress(epoch, epoch_loss)
    return TrainResult(layers, loss, None if recorder is None else recorder.trace, state)


@contextlib.contextmanager
def open_recorder(recording, layers, n_samples, batch_size, epochs, first_epoch):
    """The :class:`nnscratch.trace.Recorder` that :func:`train` fills as ``recording``
    asks, or None when it asks for nothing; its arguments are train's, checked.

    A trace CSV is put in place when the block ends; on an error, or Ctrl-C, its
    temporary file goes and the old file stays as it was.
    """
    trace, every, quantities, _, path = recording
    csv = None
    try:
        if path is not None:
            csv = TraceCSV(path, kept_steps(layers, quantities))
        if not (trace or csv is not None):
            yield None
            return
        yield new_recorder(
            layers, n_samples, batch_size, epochs, first_epoch, trace, every, quantities, csv
        )
        if csv is not None:
            csv.commit()
    finally:
        if csv is not None:  # after the commit, nothing to remove
            csv.abort()


@np.errstate(over="ignore")  # a saturated sigmoid: exp(-z) is Inf, the output exactly 0
def predict(layers, X):
    """The network's output for ``X``.

    Parameters
    ----------
    layers : list of Layer
    X : array-like of shape (n_samples, n_features)
        A pandas DataFrame too, of numeric columns.

    Returns
    -------
    ndarray of shape (n_samples, n_outputs)
    """
    X = as_matrix(X, "X")
    check_network(layers, X)
    return forward(layers, X)[1][-1]


def predict_class(layers, X):
    """The predicted class of each sample, coded as ``y`` codes it.

    One rule in both languages: a network with one output has two classes, 0 and 1,
    as its ``y`` holds them: 1 where the output is 0.5 or more. A network with several
    outputs (``y`` one-hot) has one class per output: the position of the largest
    output (the first of equal ones), counted as the language counts, from 0 here and
    from 1 in R's ``nn_predict_class``.

    Returns
    -------
    ndarray of int, shape (n_samples,)
    """
    output = predict(layers, X)
    if output.shape[1] == 1:
        return (output[:, 0] >= 0.5).astype(int)
    return np.argmax(output, axis=1)


def _categorical(y):
    """Whether y is a pandas Categorical (or a Series of one): pandas is imported only by a
    caller who has one."""
    pd = sys.modules.get("pandas")
    return pd is not None and isinstance(getattr(y, "dtype", None), pd.CategoricalDtype)


def one_hot(y, classes=None):
    """One column per class: 1 where the sample is of that class, 0 elsewhere.

    The ``y`` that :func:`train` takes for classes: ``train(layers, X, y)`` with a pandas
    Categorical ``y`` trains on ``one_hot(y)``. R's ``nn_one_hot`` gives the same matrix.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        The class of each sample: numbers or strings, or a pandas Categorical.
    classes : sequence or None
        The classes, in the order of the columns; None: the categories of a Categorical,
        or else the distinct values of ``y``, sorted.

    Returns
    -------
    ndarray of shape (n_samples, n_classes)
    """
    dtype = getattr(y, "dtype", None)
    if classes is None:
        classes = dtype.categories if _categorical(y) else np.unique(np.asarray(y))
    labels, classes = np.asarray(y, dtype=object), list(classes)
    encoded = np.array([[label == c for c in classes] for label in labels], dtype=float)
    unknown = np.flatnonzero(encoded.sum(axis=1) == 0)
    if unknown.size:
        raise InputError(
            "y",
            f"sample {unknown[0] + 1} is of class '{labels[unknown[0]]}', which is not one "
            f"of the classes ({', '.join(map(str, classes))})",
        )
    return encoded


def describe_network(layers):
    """A network in one line, ``"4 -> 3 sigmoid -> 1 sigmoid"``: its inputs and each layer's
    units."""
    units = [f"{layer.weights.shape[1]} {layer.activation}" for layer in layers]
    return " -> ".join([str(layers[0].weights.shape[0]), *units])


@np.errstate(over="ignore")  # as in predict
def gradient_check(layers, X, y, h=1e-3):
    """Compare backprop's update with central finite differences, for every weight and bias.

    The backprop side is one :func:`step`: it moves each weight and bias by lr times
    minus the gradient of the summed squared error L = sum((y - output)^2) / 2. It is
    taken with lr = 2^20, a power of two: dividing the move by lr is exact, and the
    rounding of the addition becomes small beside the move. The numerical side moves
    each weight and bias w by steps s of h and h / 2:
    D(s) = (L(w + s) - L(w - s)) / (2 s), and numerical = (4 D(h / 2) - D(h)) / 3
    (Richardson's extrapolation, which cancels the error in s^2, so that s can stay
    large enough for the rounding of L, a sum over every sample, not to matter).

    Parameters
    ----------
    layers : list of Layer
    X : array-like of shape (n_samples, n_features)
    y : array-like of shape (n_samples, n_outputs)
    h : float

    Returns
    -------
    float
        The largest relative error, |backprop - numerical| / max(|backprop|,
        |numerical|, 1e-8), over every weight and bias.
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    check_training(layers, X, y, 1.0, 0)
    layers = copy.deepcopy(list(layers))  # moved one number at a time below
    lr = 2.0**20
    stepped = step(layers, X, y, lr).layers

    def slope_of_loss(values, index, s):
        value = values[index]
        values[index] = value + s
        above = np.sum((y - forward(layers, X)[1][-1]) ** 2) / 2
        values[index] = value - s
        below = np.sum((y - forward(layers, X)[1][-1]) ** 2) / 2
        values[index] = value
        return (above - below) / (2 * s)

    largest = 0.0
    for layer, moved in zip(layers, stepped):
        for name in ("weights", "bias"):
            values = getattr(layer, name)
            if values is None:
                continue
            gradient = (values - getattr(moved, name)) / lr
            for index in np.ndindex(values.shape):
                numerical = (
                    4 * slope_of_loss(values, index, h / 2) - slope_of_loss(values, index, h)
                ) / 3
                error = abs(gradient[index] - numerical)
                largest = max(largest, error / max(abs(gradient[index]), abs(numerical), 1e-8))
    return largest
