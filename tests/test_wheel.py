"""The wheel carries the whole product: built, installed into a fresh venv in a temporary
directory, it trains, explains, runs the demo and cross-checks with R from there.

The fresh venv borrows the third-party packages (numpy, pandas, matplotlib, rpy2) of the
venv running the tests, read-only, instead of downloading them again: everything else,
nnscratch itself, comes from the wheel alone, installed by pip without an index, which
also checks that the wheel's dependencies are what it declares. NNSCRATCH_WHEEL_FROM_INDEX=1
(make test-wheel) installs them from the package index instead, as a user's pip would.
"""

import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

import nnscratch
from cases import FIXTURES, ROOT, SCHEMA

FROM_INDEX = os.environ.get("NNSCRATCH_WHEEL_FROM_INDEX") == "1"


def run(*command, cwd, check=True):
    """Run a command as a user would: no PYTHONPATH, in ``cwd``, outside the checkout."""
    environment = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    return subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        check=check,
    )


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    """The wheel of this checkout, built as pip builds it."""
    folder = tmp_path_factory.mktemp("dist")
    run(
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "--no-deps",
        "--no-build-isolation",
        "-w",
        folder,
        ROOT,
        cwd=folder,
    )
    (built,) = folder.glob("nnscratch-*.whl")
    return built


def borrow_site_packages(venv, folder):
    """Let ``venv`` see this venv's third-party packages, but not its nnscratch."""
    for entry in Path(sysconfig.get_paths()["purelib"]).iterdir():
        if "nnscratch" not in entry.name.lower():
            (folder / entry.name).symlink_to(entry)
    site = run(
        venv / "bin" / "python", "-c", "import site; print(site.getsitepackages()[0])", cwd=folder
    ).stdout.strip()
    Path(site, "borrowed.pth").write_text(f"{folder}\n", encoding="utf-8")


@pytest.fixture(scope="module")
def venv(wheel, tmp_path_factory):
    """A fresh venv in a temporary directory with the wheel installed, and a folder to work in."""
    home = tmp_path_factory.mktemp("user")
    venv = home / "venv"
    run(sys.executable, "-m", "venv", *([] if FROM_INDEX else ["--without-pip"]), venv, cwd=home)
    if FROM_INDEX:
        rpy2 = next(
            line
            for line in run(sys.executable, "-m", "pip", "freeze", cwd=home).stdout.splitlines()
            if line.lower().startswith("rpy2==")
        )
        run(
            venv / "bin" / "python",
            "-m",
            "pip",
            "install",
            "--quiet",
            f"{wheel}[r,plots]",
            rpy2,
            cwd=home,
        )
    else:
        borrowed = home / "borrowed"
        borrowed.mkdir()
        borrow_site_packages(venv, borrowed)
        run(
            sys.executable,
            "-m",
            "pip",
            "--python",
            venv / "bin" / "python",
            "install",
            "--quiet",
            "--no-index",
            f"{wheel}[r,plots]",
            cwd=home,
        )
    run(sys.executable, "-m", "pip", "--python", venv / "bin" / "python", "check", cwd=home)
    work = home / "work"
    work.mkdir()
    return venv, work


def test_the_wheel_holds_the_package_the_fixtures_and_the_r_code_and_nothing_else(wheel):
    """The package's modules and its page template, the fixtures, r/nnscratch.R."""
    names = {name for name in zipfile.ZipFile(wheel).namelist() if ".dist-info/" not in name}
    expected = {
        *(f"nnscratch/{path.name}" for path in (ROOT / "python" / "nnscratch").glob("*.py")),
        "nnscratch/data/page.html",
        *(f"nnscratch/data/fixtures/{path.name}" for path in [*FIXTURES, SCHEMA]),
        "nnscratch/data/r/nnscratch.R",
    }
    assert names == expected
    shipped = zipfile.ZipFile(wheel).read("nnscratch/data/r/nnscratch.R")
    assert shipped == (ROOT / "r" / "nnscratch.R").read_bytes()


def test_installed_from_the_wheel_it_works_outside_the_checkout(venv):
    venv, work = venv
    nnscratch_command, python = venv / "bin" / "nnscratch", venv / "bin" / "python"
    where = run(
        python,
        "-c",
        "import nnscratch, nnscratch.rbridge as r; print(nnscratch.__file__); print(r.R_SOURCE)",
        cwd=work,
    ).stdout.split()
    assert all(Path(path).is_relative_to(venv) for path in where), where

    assert run(nnscratch_command, "--version", cwd=work).stdout == (
        f"nnscratch {nnscratch.__version__}\n"
    )
    listed = run(nnscratch_command, "fixtures", cwd=work).stdout.splitlines()
    assert str(venv) in listed[0]
    assert [line.split()[0] for line in listed[1:]] == nnscratch.list_fixtures()

    trained = run(
        nnscratch_command, "train", "article", "--every", "1000", "--plot", "a.png", cwd=work
    ).stdout
    assert trained.startswith("article: 3 samples, 5000 epochs, lr 0.1\n")
    assert "accuracy 1.0000\nwrote a.png\n" in trained
    assert (work / "a.png").read_bytes()[:4] == b"\x89PNG"

    explained = run(nnscratch_command, "explain", "xor", "--epoch", "2", cwd=work).stdout
    assert explained == nnscratch.explain(nnscratch.load_fixture("xor"), epoch=2)

    # The demo (of the small sgd fixture: tests/test_demo.py runs the article's) and a
    # cross-check, with the R code the wheel carries.
    demo = run(python, "-m", "nnscratch.demo", "sgd", cwd=work).stdout
    assert "sgd: every number of every iteration of all 100 epochs" in demo
    assert "\nagree: every one within" in demo

    crosscheck = run(nnscratch_command, "crosscheck", "article_no_bias", cwd=work)
    assert "article_no_bias: every number of every iteration of all 1000 epochs" in (
        crosscheck.stdout
    )
    assert "\nagree: every one within" in crosscheck.stdout
    assert sorted(path.name for path in work.iterdir()) == ["a.png"]


def test_without_rpy2_the_cross_check_says_what_to_install_in_one_line(venv):
    venv, work = venv
    code = (
        "import sys\n"
        "sys.modules['rpy2'] = None  # as if rpy2 were not installed\n"
        "from nnscratch.__main__ import main\n"
        "sys.exit(main(['crosscheck', 'article']))\n"
    )
    result = run(venv / "bin" / "python", "-c", code, cwd=work, check=False)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("error: R through rpy2 cannot start here (No module named")
    assert "pip install 'nnscratch[r]'" in result.stderr
