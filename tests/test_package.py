"""What a user gets from the packages: the fixtures by name, their list, the version."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import rpy2.robjects as ro

import nnscratch
from cases import FIXTURES, ROOT
from nnscratch import __main__ as cli
from test_cli import r_cli


def test_the_shipped_fixtures_are_listed_by_name_in_both_languages(r_session):
    names = [path.stem for path in FIXTURES]  # every fixture of fixtures/, schema.json aside
    assert nnscratch.list_fixtures() == names
    assert list(r_session.call("nn_list_fixtures")) == names


@pytest.mark.parametrize("name", ["article", "moons"])
def test_a_fixture_loads_by_its_name_as_by_its_path_in_both_languages(r_session, name):
    path = ROOT / "fixtures" / f"{name}.json"
    by_name, by_path = nnscratch.load_fixture(name), nnscratch.load_fixture(path)
    assert (by_name.name, by_name.X.tobytes()) == (by_path.name, by_path.X.tobytes())
    assert ro.r["identical"](
        r_session.call("nn_load_fixture", name), r_session.call("nn_load_fixture", str(path))
    )[0]


def test_a_file_of_that_name_comes_before_the_shipped_fixture(tmp_path, monkeypatch, r_session):
    mine = nnscratch.load_fixture("xor")
    mine.description = "my own"
    nnscratch.save_fixture(mine, tmp_path / "article")
    monkeypatch.chdir(tmp_path)
    assert nnscratch.load_fixture("article").description == "my own"
    ro.r["setwd"](str(tmp_path))
    try:
        assert r_session.call("nn_load_fixture", "article").rx2("description")[0] == "my own"
    finally:
        ro.r["setwd"](str(ROOT))


def test_an_unknown_name_is_a_missing_file():
    with pytest.raises(nnscratch.FixtureError, match=r"^no_such_fixture: cannot be read"):
        nnscratch.load_fixture("no_such_fixture")


def test_the_command_lines_list_the_fixtures_alike(capsys):
    assert cli.main(["fixtures"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == (
        f"The fixtures shipped with nnscratch, in {ROOT / 'fixtures'}; each loads by its name."
    )
    assert lines[1] == "article             3 x 4  The article's example"
    assert [line.split()[0] for line in lines[1:]] == nnscratch.list_fixtures()
    assert all(len(line) <= 100 for line in lines[1:])
    r = r_cli("fixtures")
    assert (r.returncode, r.stdout, r.stderr) == (0, out, "")


def test_both_command_lines_give_the_version_of_both_packages():
    description = (ROOT / "DESCRIPTION").read_text(encoding="utf-8")
    assert f"\nVersion: {nnscratch.__version__}\n" in description
    environment = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    python = subprocess.run(
        [Path(sys.executable).parent / "nnscratch", "--version"],
        capture_output=True,
        text=True,
        env=environment,
    )
    assert python.stdout == f"nnscratch {nnscratch.__version__}\n"
    assert r_cli("--version").stdout == python.stdout
