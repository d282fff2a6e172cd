"""Pictures of training: the loss curve, and for two features the decision boundary.

Needs matplotlib (``pip install nnscratch[plots]``); ``import nnscratch`` does not.
R's ``nn_plot_*`` draw the same pictures with base graphics.
"""

import io

import numpy as np

from .fixtures import write_atomically
from .network import predict, predict_class

# One colour per class, as in R's nn_class_colours.
CLASS_COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd"]


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg")  # files only, never a window
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError(
            "plots need matplotlib: pip install 'nnscratch[plots]' (or pip install matplotlib)"
        ) from None
    return plt


def plot_training(result, fixture, path):
    """Write a PNG: the loss of every epoch, and beside it, for data of two features,
    the decision boundary of the trained network with the samples.

    Parameters
    ----------
    result : TrainResult
    fixture : Fixture
        The data the network was trained on.
    path : str or os.PathLike
    """
    plt = _pyplot()
    two_features = fixture.X.shape[1] == 2
    figure, axes = plt.subplots(
        1, 2 if two_features else 1, figsize=(11 if two_features else 6, 4.5)
    )
    axes = np.atleast_1d(axes)
    _draw_loss(axes[0], result.loss, fixture.name)
    if two_features:
        _draw_boundary(axes[1], result.layers, fixture.X, fixture.y)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    plt.close(figure)
    write_atomically(path, buffer.getvalue())


def _draw_loss(axis, loss, name):
    axis.plot(np.arange(1, len(loss) + 1), loss, color="black")
    axis.set_xlabel("epoch")
    axis.set_ylabel("loss, mean of (y - output)^2 / 2")
    axis.set_title(f"{name}: loss")


def _draw_boundary(axis, layers, X, y):
    low, high = X.min(axis=0), X.max(axis=0)
    margin = 0.1 * (high - low)
    grid_x, grid_y = np.meshgrid(
        np.linspace(low[0] - margin[0], high[0] + margin[0], 200),
        np.linspace(low[1] - margin[1], high[1] + margin[1], 200),
    )
    grid = np.column_stack([grid_x.ravel(), grid_y.ravel()])
    classes = y.argmax(axis=1) if y.shape[1] > 1 else (y[:, 0] >= 0.5).astype(int)
    colours = [CLASS_COLOURS[c % len(CLASS_COLOURS)] for c in range(max(classes.max() + 1, 2))]
    if y.shape[1] == 1:
        surface = predict(layers, grid)[:, 0].reshape(grid_x.shape)
        axis.contourf(
            grid_x, grid_y, surface, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.35
        )
        axis.contour(grid_x, grid_y, surface, levels=[0.5], colors="black")
    else:
        regions = predict_class(layers, grid).reshape(grid_x.shape)
        for c, colour in enumerate(colours):
            axis.contourf(
                grid_x,
                grid_y,
                (regions == c).astype(float),
                levels=[0.5, 1.5],
                colors=[colour],
                alpha=0.25,
            )
    for c, colour in enumerate(colours):
        axis.scatter(
            *X[classes == c].T,
            s=12,
            color=colour,
            edgecolors="white",
            linewidths=0.3,
            label=f"class {c}",
        )
    axis.set_xlabel("feature 1")
    axis.set_ylabel("feature 2")
    axis.set_title("decision boundary")
