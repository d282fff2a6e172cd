"""Plots: PNG files that show the run; the package imports without matplotlib.

The pictures are checked by their pixels: not blank, every class's colour on the
samples, and for one output the two sides of the decision boundary in their tints.
"""

import dataclasses
import subprocess
import sys

import numpy as np
import pytest

import nnscratch
from cases import ROOT
from test_cli import png_size

# The class colours of both languages (Python's CLASS_COLOURS, R's nn_class_colours).
COLOURS = ["#1f77b4", "#d62728", "#2ca02c"]


def pixels(path):
    """The PNG's pixels as an ndarray of shape (height, width, 3), 0 to 255."""
    import matplotlib.image

    return np.round(matplotlib.image.imread(path)[:, :, :3] * 255)


def near(image, colour, tolerance=30):
    """How many pixels are within ``tolerance`` of ``colour`` (#rrggbb) in every channel."""
    rgb = np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)])
    return int((np.abs(image - rgb).max(axis=2) < tolerance).sum())


def assert_shows_the_run(path, fixture, classes):
    """Not blank; for two features, the boundary panel (right half, without the colour bar
    beside it) shows each class's samples in its colour and, for one output, both sides of
    the boundary in light tints."""
    image = pixels(path)
    assert (image.min(axis=2) < 250).mean() > 0.03, "the picture is (nearly) blank"
    if fixture.X.shape[1] != 2:
        return
    panel = image[:, image.shape[1] // 2 : int(0.88 * image.shape[1])]  # left of a colour bar
    for colour in COLOURS[:classes]:
        assert near(panel, colour) > 10, f"no sample drawn in {colour}"
    if fixture.y.shape[1] == 1:
        light = panel.min(axis=2) > 100
        red, blue = panel[..., 0], panel[..., 2]
        # Each side covers about a fifth of the panel; the samples' pale edges alone, 2%.
        for side in (light & (blue - red > 25), light & (red - blue > 25)):
            assert side.mean() > 0.05, "one side of the boundary is missing"


def trained(name, epochs):
    fixture = nnscratch.load_fixture(ROOT / "fixtures" / f"{name}.json")
    return dataclasses.replace(fixture, epochs=min(fixture.epochs, epochs))


@pytest.mark.parametrize(
    ("name", "classes", "size"),
    [("moons", 2, (1100, 450)), ("blobs", 3, (1100, 450)), ("article", 2, (600, 450))],
)
def test_python_draws_the_loss_and_for_two_features_the_boundary(tmp_path, name, classes, size):
    from nnscratch.plots import plot_training

    fixture = trained(name, 300)
    plot_training(nnscratch.train_fixture(fixture), fixture, tmp_path / "plot.png")
    assert png_size(tmp_path / "plot.png") == size
    assert_shows_the_run(tmp_path / "plot.png", fixture, classes)
    assert [path.name for path in tmp_path.iterdir()] == ["plot.png"]


@pytest.mark.parametrize(("name", "classes"), [("moons", 2), ("blobs", 3)])
def test_r_draws_the_same_picture(r_session, tmp_path, name, classes):
    from nnscratch.rbridge import layers_to_r

    fixture = trained(name, 300)
    result = r_session.call(
        "nn_train",
        layers_to_r(fixture.layers),
        fixture.X,
        fixture.y,
        fixture.lr,
        fixture.epochs,
        **fixture.batching(),
    )
    fixture_in_r = r_session.call("nn_load_fixture", str(ROOT / "fixtures" / f"{name}.json"))
    r_session.call("nn_plot_training", result, fixture_in_r, str(tmp_path / "r.png"))
    assert png_size(tmp_path / "r.png") == (1100, 450)
    assert_shows_the_run(tmp_path / "r.png", fixture, classes)


def test_an_untrained_network_shows_one_side_only(tmp_path):
    """The pixel check can fail: a network that says 1 everywhere has no boundary."""
    from nnscratch.plots import plot_training

    fixture = trained("moons", 0)
    constant = [nnscratch.Layer(np.zeros((2, 1)), np.array([50.0]))]
    result = nnscratch.TrainResult(constant, np.array([0.5]), None, None)
    plot_training(result, fixture, tmp_path / "plot.png")
    with pytest.raises(AssertionError, match="one side of the boundary is missing"):
        assert_shows_the_run(tmp_path / "plot.png", fixture, 2)


def moons_in_both(r_session, epochs=5):
    """The moons trained a few epochs in each language: (fixture, result) for each."""
    path = ROOT / "fixtures" / "moons.json"
    fixture = dataclasses.replace(nnscratch.load_fixture(path), epochs=epochs)
    r_fixture = r_session.call("nn_load_fixture", str(path))
    r_fixture.rx2["epochs"] = epochs
    return (fixture, nnscratch.train_fixture(fixture)), (
        r_fixture,
        r_session.call("nn_train_fixture", r_fixture),
    )


def draw(r_session, language, run, path, **options):
    from nnscratch.plots import plot_training

    if language == "python":
        plot_training(run[1], run[0], path, **options)
    else:
        r_session.call("nn_plot_training", run[1], run[0], str(path), **options)
    return path


def test_the_title_gives_the_settings_and_the_accuracy(r_session):
    from nnscratch.plots import plot_title

    (fixture, result), r_run = moons_in_both(r_session)
    # The share of samples on the right side of 0.5, counted here rather than by the code.
    right = (nnscratch.predict(result.layers, fixture.X)[:, 0] >= 0.5) == (fixture.y[:, 0] == 1)
    expected = f"moons: lr 0.05, 5 epochs, batches of 100, accuracy {right.mean():.4f}"
    assert plot_title(result, fixture) == expected
    assert str(r_session.call("nn_plot_title", r_run[1], r_run[0])[0]) == expected
    linear = nnscratch.load_fixture(ROOT / "fixtures" / "linear_output.json")
    linear = dataclasses.replace(linear, epochs=3)
    assert plot_title(nnscratch.train_fixture(linear), linear) == "linear_output: lr 0.02, 3 epochs"


@pytest.mark.parametrize("language", ["python", "R"])
def test_dpi_log_scale_and_the_same_bytes_for_the_same_run(r_session, tmp_path, language):
    run = moons_in_both(r_session)[language == "R"]
    first = draw(r_session, language, run, tmp_path / "1.png", log_scale=True, dpi=150)
    second = draw(r_session, language, run, tmp_path / "2.png", log_scale=True, dpi=150)
    linear = draw(r_session, language, run, tmp_path / "3.png", dpi=150)
    assert png_size(first) == (1650, 675)
    assert first.read_bytes() == second.read_bytes()
    assert first.read_bytes() != linear.read_bytes()


@pytest.mark.parametrize("language", ["python", "R"])
def test_one_output_gets_a_colour_bar_from_blue_to_red(r_session, tmp_path, language):
    from matplotlib.image import imread

    run = moons_in_both(r_session)[language == "R"]
    pixels = imread(draw(r_session, language, run, tmp_path / "moons.png"))[..., :3]
    strip = pixels[:, int(0.85 * pixels.shape[1]) :]  # right of the boundary's middle
    top, bottom = strip[int(0.3 * len(strip))], strip[int(0.75 * len(strip))]
    reddish, bluish = top[:, 0] > top[:, 2] + 0.1, bottom[:, 2] > bottom[:, 0] + 0.1
    # A narrow bar, red at the top and blue below, on the picture's white background.
    assert (reddish & bluish).any()
    assert 3 < reddish.sum() < 40
    assert (top > 0.99).all(axis=1).any()


def test_the_package_imports_without_matplotlib():
    code = (
        "import sys; sys.modules['matplotlib'] = None\n"
        "import nnscratch\n"
        "from nnscratch.plots import plot_training\n"
        "try:\n"
        "    plot_training(None, None, 'x.png')\n"
        "except ImportError as error:\n"
        "    print(error)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.startswith("plots need matplotlib: pip install 'nnscratch[plots]'")
