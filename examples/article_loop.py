"""A network written from scratch in the manner of the article, checked with nnscratch.

    python examples/article_loop.py fixtures/article.json mine.csv [EPOCHS]
    nnscratch check fixtures/article.json mine.csv

One hidden layer of sigmoid units with bias, full-batch gradient descent, the article's
steps and variable names; it starts from the fixture's initial weights so that its run
can be compared with nnscratch's, and writes every number of every epoch as the long
table nnscratch reads: epoch, iteration, quantity, row, col, value (the article's names
imply the layers). It needs numpy alone: nnscratch does the checking.
"""

import json
import sys

import numpy as np


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def derivatives_sigmoid(x):
    # The slope of the sigmoid, written from its output x = sigmoid(z).
    return x * (1 - x)


def one_iteration(X, y, wh, bh, wout, bout, lr):
    """One epoch of the article's eleven steps; every matrix it makes, by the article's names."""
    # Forward propagation: steps 2 to 4.
    hidden_layer_input = np.dot(X, wh) + bh
    hiddenlayer_activations = sigmoid(hidden_layer_input)
    output_layer_input = np.dot(hiddenlayer_activations, wout) + bout
    output = sigmoid(output_layer_input)
    # Backpropagation: steps 5 to 9.
    E = y - output
    slope_output_layer = derivatives_sigmoid(output)
    slope_hidden_layer = derivatives_sigmoid(hiddenlayer_activations)
    d_output = E * slope_output_layer
    Error_at_hidden_layer = np.dot(d_output, wout.T)
    d_hiddenlayer = Error_at_hidden_layer * slope_hidden_layer
    # Updates: steps 10 and 11.
    wout = wout + np.dot(hiddenlayer_activations.T, d_output) * lr
    bout = bout + np.sum(d_output, axis=0, keepdims=True) * lr
    wh = wh + np.dot(X.T, d_hiddenlayer) * lr
    bh = bh + np.sum(d_hiddenlayer, axis=0, keepdims=True) * lr
    return {
        "hidden_layer_input": hidden_layer_input,
        "hiddenlayer_activations": hiddenlayer_activations,
        "output_layer_input": output_layer_input,
        "output": output,
        "E": E,
        "slope_hidden_layer": slope_hidden_layer,
        "slope_output_layer": slope_output_layer,
        "d_output": d_output,
        "Error_at_hidden_layer": Error_at_hidden_layer,
        "d_hiddenlayer": d_hiddenlayer,
        "wh": wh,
        "bh": bh,
        "wout": wout,
        "bout": bout,
    }


def main(fixture_path, csv_path, epochs=None):
    with open(fixture_path, encoding="utf-8") as file:
        fixture = json.load(file)
    X = np.array(fixture["X"])
    y = np.array(fixture["y"])
    hidden, out = fixture["layers"]
    wh, bh = np.array(hidden["weights"]), np.array([hidden["bias"]])
    wout, bout = np.array(out["weights"]), np.array([out["bias"]])
    lr = fixture["lr"]
    epochs = fixture["epochs"] if epochs is None else epochs
    with open(csv_path, "w", encoding="utf-8") as csv:
        csv.write("epoch,iteration,quantity,row,col,value\n")
        for epoch in range(1, epochs + 1):
            numbers = one_iteration(X, y, wh, bh, wout, bout, lr)
            wh, bh, wout, bout = numbers["wh"], numbers["bh"], numbers["wout"], numbers["bout"]
            for name, matrix in numbers.items():
                for (row, col), value in np.ndenumerate(matrix):
                    csv.write(f"{epoch},1,{name},{row + 1},{col + 1},{float(value)!r}\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else None)
