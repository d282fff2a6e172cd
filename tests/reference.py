"""An independent reference for tests: the article's two-layer loop, written out.

Its numbers come from the article's algorithm, line by line, with the article's
variable names, and from nothing in nnscratch: tests compare what nnscratch prints
or returns with it instead of with numbers nnscratch itself once printed.
"""

import numpy as np


def article_loop(X, y, wh, bh, wout, bout, lr, epochs):
    """Full-batch training of one sigmoid hidden layer and one sigmoid output.

    Returns
    -------
    losses : list of float
        Per epoch, mean((y - output)^2) / 2 before that epoch's update.
    output : ndarray
        The output of the trained network.
    """
    wh, bh, wout, bout = (np.array(a, dtype=float) for a in (wh, bh, wout, bout))
    losses = []

    def sigmoid(x):
        return 1 / (1 + np.exp(-x))

    for _ in range(epochs):
        hiddenlayer_activations = sigmoid(np.dot(X, wh) + bh)
        output = sigmoid(np.dot(hiddenlayer_activations, wout) + bout)
        E = y - output
        losses.append(float(np.mean(E**2) / 2))
        slope_output_layer = output * (1 - output)
        slope_hidden_layer = hiddenlayer_activations * (1 - hiddenlayer_activations)
        d_output = E * slope_output_layer
        Error_at_hidden_layer = np.dot(d_output, wout.T)
        d_hiddenlayer = Error_at_hidden_layer * slope_hidden_layer
        wout = wout + np.dot(hiddenlayer_activations.T, d_output) * lr
        bout = bout + np.sum(d_output, axis=0) * lr
        wh = wh + np.dot(X.T, d_hiddenlayer) * lr
        bh = bh + np.sum(d_hiddenlayer, axis=0) * lr
    output = sigmoid(np.dot(sigmoid(np.dot(X, wh) + bh), wout) + bout)
    return losses, output


def article_fixture_loop(fixture, epochs=None):
    """:func:`article_loop` on a fixture of two layers with bias."""
    (hidden, out) = fixture.layers
    return article_loop(
        fixture.X,
        fixture.y,
        hidden.weights,
        hidden.bias,
        out.weights,
        out.bias,
        fixture.lr,
        fixture.epochs if epochs is None else epochs,
    )
