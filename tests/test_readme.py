"""What README.md claims, checked: its figures, and its Python blocks, run as written."""

import contextlib
import io
import re

import numpy as np
import pytest

import nnscratch
from cases import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def readme_blocks(language):
    """The ```{language} blocks of README.md, each as its text."""
    return re.findall(rf"^```{language}\n(.*?)^```$", README, flags=re.MULTILINE | re.DOTALL)


def shows(shown, printed):
    """Whether the lines printed are those shown, a line "..." standing for any lines."""
    pattern = "".join("(?:.*\n)*?" if line == "..." else re.escape(line) + "\n" for line in shown)
    return re.fullmatch(pattern, "".join(line + "\n" for line in printed)) is not None


def session(block):
    """A block of ">>> " lines as (code, lines shown under it) pairs."""
    commands = []
    for line in block.splitlines():
        if line.startswith(">>> "):
            commands.append(([line[4:]], []))
        elif line.startswith("... "):
            commands[-1][0].append(line[4:])
        else:
            commands[-1][1].append(line)
    return [("\n".join(code), shown) for code, shown in commands]


@pytest.fixture
def root(tmp_path, monkeypatch):
    """The repository root as the README's blocks see it: its r/ and fixtures/, in a folder
    of its own so that what the blocks write stays out of the checkout."""
    for name in ("r", "fixtures"):
        (tmp_path / name).symlink_to(ROOT / name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_every_python_block_of_the_readme_runs_as_written_and_prints_what_it_shows(root):
    blocks = readme_blocks("python")
    assert len(blocks) >= 4
    for block in blocks:
        if not block.startswith(">>> "):
            exec(compile(block, "README.md", "exec"), {})
            continue
        names = {}
        for code, shown in session(block):
            printed = io.StringIO()
            with contextlib.redirect_stdout(printed):  # as the console prints
                exec(compile(code, "README.md", "single"), names)
            lines = [line.rstrip() for line in printed.getvalue().splitlines()]
            assert shows(shown, lines), f"{code}\nprinted:\n" + "\n".join(lines)


def test_the_check_of_printed_lines_can_fail():
    assert shows(["a", "...", "d"], ["a", "b", "c", "d"])
    assert shows([], [])
    assert not shows(["a", "...", "d"], ["a", "b", "c"])
    assert not shows([], ["anything"])
    assert not shows(["a"], ["a", "b"])


def test_the_accuracy_table_is_what_training_gives_in_both_languages(r_session):
    table = README.split("<!-- accuracy table: tests/test_readme.py checks it -->")[1]
    table = table.split("<!-- end of the accuracy table -->")[0]
    rows = re.findall(r"^\| (\w+) \|.*\| ([\d.]+) \| ([\d.]+) \|$", table, flags=re.MULTILINE)
    assert [name for name, _, _ in rows] == ["xor", "moons", "blobs", "iris"]
    for name, python_accuracy, r_accuracy in rows:
        path = ROOT / "fixtures" / f"{name}.json"
        f = nnscratch.load_fixture(path)
        expected = f.y.argmax(axis=1) if f.y.shape[1] > 1 else f.y[:, 0]
        python = nnscratch.predict_class(nnscratch.train_fixture(f).layers, f.X)
        r = r_session.predict_class(r_session.train_fixture(f).layers, f.X)
        r = r - 1 if f.y.shape[1] > 1 else r  # R counts classes from 1
        assert f"{np.mean(python == expected):.4f}" == python_accuracy, name
        assert f"{np.mean(r == expected):.4f}" == r_accuracy, name
