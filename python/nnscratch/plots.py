"""Pictures of training: the loss curve, and for two features the decision boundary, with
the run's settings and accuracy in the title.

Needs matplotlib (``pip install nnscratch[plots]``); ``import nnscratch`` does not.
R's ``nn_plot_*`` draw the same pictures with base graphics.
"""

import io

import numpy as np

from .checks import check_whole
from .files import write_atomically
from .network import predict, predict_class

# One colour per class, as in R's nn_class_colours.
CLASS_COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd"]


def _figure_class():
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError(
            "plots need matplotlib: pip install 'nnscratch[plots]' (or pip install matplotlib)"
        ) from None
    return Figure


def accuracy(layers, X, y):
    """The share of samples whose class the network predicts, when ``y`` holds classes.

    Parameters
    ----------
    layers : list of Layer
    X : ndarray of shape (n_samples, n_features)
    y : ndarray of shape (n_samples, n_outputs)
        Classes: 0 or 1 in one column, or one-hot in several.

    Returns
    -------
    float, or None when ``y`` holds anything but 0 and 1 (a regression)
    """
    y = np.asarray(y, dtype=float)
    if not np.isin(y, (0, 1)).all():
        return None
    expected = y.argmax(axis=1) if y.shape[1] > 1 else y[:, 0]
    return float(np.mean(predict_class(layers, X) == expected))


def plot_title(result, fixture):
    """The settings of a run and how it ended: name, lr, epochs, batches, accuracy."""
    batches = "" if fixture.batch_size is None else f", batches of {fixture.batch_size}"
    score = accuracy(result.layers, fixture.X, fixture.y)
    ended = "" if score is None else f", accuracy {score:.4f}"
    return f"{fixture.name}: lr {fixture.lr:g}, {len(result.loss)} epochs{batches}{ended}"


def plot_training(result, fixture, path=None, log_scale=False, dpi=100, ax=None):
    """Draw the loss of every epoch, and beside it, for data of two features, the
    decision boundary of the trained network with the samples.

    The title gives the run's settings and its accuracy (for classes); the boundary has
    a colour bar (one output) or a legend of the classes. matplotlib's global state
    (pyplot, its backend) is left alone: the picture is drawn on a Figure of its own, or
    on the axes given; Jupyter shows the Figure returned.

    Parameters
    ----------
    result : TrainResult
    fixture : Fixture
        The data the network was trained on, and its settings.
    path : str or os.PathLike or None
        A PNG file to write, too.
    log_scale : bool
        Draw the loss on a logarithmic axis, where its late drops show.
    dpi : float
        Pixels per inch of the PNG: the picture is 11 x 4.5 inches with a boundary, else
        6 x 4.5.
    ax : matplotlib Axes, a pair of them, or None
        Where to draw: one Axes takes the loss alone; two take the loss and the
        boundary; their figure's title is left as it is. None: a new Figure with one
        panel, or two for two features.

    Returns
    -------
    matplotlib.figure.Figure
    """
    check_whole(dpi, "dpi", 1)
    Figure = _figure_class()
    two_features = fixture.X.shape[1] == 2
    if ax is None:
        figure = Figure(figsize=(11 if two_features else 6, 4.5))
        axes = figure.subplots(1, 2 if two_features else 1, squeeze=False)[0]
        figure.suptitle(plot_title(result, fixture))
    else:
        axes = np.atleast_1d(ax)
        figure = axes[0].figure
    _draw_loss(axes[0], result.loss, log_scale)
    if two_features and len(axes) > 1:
        _draw_boundary(figure, axes[1], result.layers, fixture.X, fixture.y)
    if ax is None:
        figure.tight_layout()
    if path is not None:
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=dpi)
        write_atomically(path, buffer.getvalue())
    return figure


def _draw_loss(axis, loss, log_scale):
    axis.plot(np.arange(1, len(loss) + 1), loss, color="black")
    if log_scale:
        axis.set_yscale("log")
    axis.set_xlabel("epoch")
    axis.set_ylabel("loss, mean of (y - output)^2 / 2" + (", log scale" if log_scale else ""))
    axis.set_title("loss")


def _draw_boundary(figure, axis, layers, X, y):
    low, high = X.min(axis=0), X.max(axis=0)
    margin = 0.1 * (high - low)
    margin[margin == 0] = 0.5  # every sample at one point: a square around it
    grid_x, grid_y = np.meshgrid(
        np.linspace(low[0] - margin[0], high[0] + margin[0], 200),
        np.linspace(low[1] - margin[1], high[1] + margin[1], 200),
    )
    grid = np.column_stack([grid_x.ravel(), grid_y.ravel()])
    classes = y.argmax(axis=1) if y.shape[1] > 1 else (y[:, 0] >= 0.5).astype(int)
    colours = [CLASS_COLOURS[c % len(CLASS_COLOURS)] for c in range(max(classes.max() + 1, 2))]
    if y.shape[1] == 1:
        surface = predict(layers, grid)[:, 0].reshape(grid_x.shape)
        shades = axis.contourf(
            grid_x, grid_y, surface, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.35
        )
        figure.colorbar(shades, ax=axis, label="network output", ticks=np.linspace(0, 1, 6))
        axis.contour(grid_x, grid_y, surface, levels=[0.5], colors="black")
        axis.plot([], [], color="black", label="output 0.5")  # the contour's legend entry
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
    axis.legend(loc="upper right", fontsize="small", framealpha=0.9)
    axis.set_xlabel("feature 1")
    axis.set_ylabel("feature 2")
    axis.set_title("decision boundary")
