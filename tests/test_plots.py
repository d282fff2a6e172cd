"""Plots: PNG files; the package imports without matplotlib."""

import dataclasses
import subprocess
import sys

import pytest

import nnscratch
from cases import ROOT
from test_cli import png_size


@pytest.mark.parametrize(
    ("name", "size"), [("xor", (1100, 450)), ("blobs", (1100, 450)), ("article", (600, 450))]
)
def test_the_loss_and_for_two_features_the_boundary(tmp_path, name, size):
    from nnscratch.plots import plot_training

    fixture = nnscratch.load_fixture(ROOT / "fixtures" / f"{name}.json")
    fixture = dataclasses.replace(fixture, epochs=50)
    plot_training(nnscratch.train_fixture(fixture), fixture, tmp_path / "plot.png")
    assert png_size(tmp_path / "plot.png") == size
    assert [path.name for path in tmp_path.iterdir()] == ["plot.png"]


def test_r_draws_its_plot_too(r_session, tmp_path):
    path = ROOT / "fixtures" / "moons.json"
    fixture = r_session.call("nn_load_fixture", str(path))
    result = r_session.call(
        "nn_train",
        fixture.rx2("layers"),
        fixture.rx2("X"),
        fixture.rx2("y"),
        0.05,
        5,
        batch_size=100,
    )
    r_session.call("nn_plot_training", result, fixture, str(tmp_path / "r.png"))
    assert png_size(tmp_path / "r.png") == (1100, 450)


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
