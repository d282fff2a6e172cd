"""The R package that make r-package builds from r/nnscratch.R: installed, it exports what
the file marks @export, has a help page for each, and ships the fixtures; the root of the
checkout is not a package; sourced, the file leaves only the same names behind.

(make r-check runs R CMD check on it, and so the testthat suite, which takes longer.)
"""

import re
import subprocess

import pytest

from cases import ROOT
from test_mirror import r_exports


def rscript(code, cwd=ROOT):
    result = subprocess.run(["Rscript", "-e", code], capture_output=True, text=True, cwd=cwd)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    """A library holding the package, built as make r-package builds it."""
    build, library = tmp_path_factory.mktemp("build"), tmp_path_factory.mktemp("library")
    subprocess.run([ROOT / "scripts" / "r-package", build], check=True, capture_output=True)
    (tarball,) = build.glob("nnscratch_*.tar.gz")
    # Without byte-compiling (half the install's time): what is checked here is what the
    # package holds and exports, which compiling does not change.
    subprocess.run(
        ["R", "CMD", "INSTALL", "--no-byte-compile", "-l", library, tarball],
        check=True,
        capture_output=True,
    )
    return library


def test_the_namespace_exports_what_the_file_marks_export(library):
    namespace = (library / "nnscratch" / "NAMESPACE").read_text(encoding="utf-8")
    functions = re.findall(r"^export\((\w+)\)$", namespace, flags=re.MULTILINE)
    methods = re.findall(r"^S3method\((\w+),(\w+)\)$", namespace, flags=re.MULTILINE)
    exported = r_exports()
    assert sorted(functions) == sorted(name for name in exported if "." not in name)
    assert sorted(f"{generic}.{kind}" for generic, kind in methods) == sorted(
        name for name in exported if "." in name
    )


def test_library_attaches_the_functions_with_their_help_pages_and_the_fixtures(library, tmp_path):
    out = rscript(
        f'library(nnscratch, lib.loc = "{library}")\n'
        'cat("global:", ls(globalenv()), "\\n")\n'
        'cat(ls("package:nnscratch"), sep = "\\n")\n'
        'pages <- vapply(ls("package:nnscratch"), function(name) {\n'
        f'  length(utils::help(name, package = "nnscratch", lib.loc = "{library}")) > 0\n'
        "}, TRUE)\n"
        'cat("help pages:", sum(pages), "\\n")\n'
        'print(nn_train_fixture(nn_load_fixture("article")))\n'
        'cat("fixtures:", nn_list_fixtures(), "\\n")\n',
        cwd=tmp_path,
    ).splitlines()
    assert out[0] == "global:  "  # library() puts nothing there
    exported = sorted(name for name in r_exports() if "." not in name)
    assert out[1 : len(exported) + 1] == exported
    rest = out[len(exported) + 1 :]
    assert rest[0] == f"help pages: {len(exported)} "
    assert rest[1] == "Trained network 4 -> 3 sigmoid -> 1 sigmoid"
    names = sorted(path.stem for path in (ROOT / "fixtures").glob("*.json"))
    assert rest[4] == "fixtures: " + " ".join(n for n in names if n != "schema") + " "


def test_r_cmd_install_at_the_root_says_to_build_the_package(tmp_path):
    result = subprocess.run(
        ["R", "CMD", "INSTALL", "-l", tmp_path, "."], capture_output=True, text=True, cwd=ROOT
    )
    assert result.returncode != 0
    assert "build it with 'make r-package', then install it with 'make r-install'" in (
        result.stderr
    )
    assert list(tmp_path.iterdir()) == []


def test_sourced_into_the_global_environment_the_file_leaves_only_what_it_exports(tmp_path):
    out = rscript(
        f'source("{ROOT / "r" / "nnscratch.R"}")\n'
        'cat(ls(), sep = "\\n")\n'
        'print(nn_train_fixture(nn_load_fixture("article")))\n',
        cwd=tmp_path,
    ).splitlines()
    exported = sorted(name for name in r_exports() if "." not in name)
    assert out[: len(exported)] == exported
    assert out[len(exported)] == "Trained network 4 -> 3 sigmoid -> 1 sigmoid"
