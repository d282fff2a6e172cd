"""Hostile input, full disks, interrupted runs: the battery, in both languages.

Each test takes one class of failure and checks what Python and R must give for it:
the same error (field, category and words) or the same result, and nothing lost on the
disk. README's reliability section lists the classes. Files that break the fixture
format one edit at a time are in tests/bad_fixtures/cases.json (run by test_fixtures.py,
test_cli.py and tests/r/test-fixtures.R); this file has the rest: file types, encodings,
nesting, writes that fail, processes that stop, the command lines.
"""

import dataclasses
import errno
import itertools
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

import nnscratch
from cases import ROOT
from nnscratch import __main__ as cli
from nnscratch import files
from nnscratch.rbridge import RSession

ARTICLE = ROOT / "fixtures" / "article.json"
BASE = ROOT / "tests" / "bad_fixtures" / "base.json"
AS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def refusals(r_session, path, **options):
    """What load_fixture says of a file, in Python and in R: two (field, category, problem)."""
    with pytest.raises(nnscratch.FixtureError) as python:
        nnscratch.load_fixture(path, **options)
    with pytest.raises(nnscratch.FixtureError) as r:
        r_session.call("nn_load_fixture", str(path), **options)
    assert python.value.path == r.value.path == str(path)
    return [(e.value.field, e.value.category, e.value.problem) for e in (python, r)]


def same_refusal(r_session, path, field, category, problem, **options):
    """Both languages refuse the file with this field and category, and the same words,
    ``problem`` exactly; or, where it ends with "(", the parser's own words after it."""
    python, r = refusals(r_session, path, **options)
    assert python[:2] == r[:2] == (field, category)
    if problem.endswith("("):
        assert python[2].startswith(problem) and r[2].startswith(problem)
    else:
        assert python[2] == r[2] == problem


def base_text():
    return BASE.read_text(encoding="utf-8")


def r_cli(*argv, **options):
    return subprocess.run(
        ["Rscript", str(ROOT / "r" / "cli.R"), *map(str, argv)],
        capture_output=True,
        text=True,
        **options,
    )


def python_cli(*argv, **options):
    return subprocess.run(
        [sys.executable, "-m", "nnscratch", *map(str, argv)],
        capture_output=True,
        text=True,
        **options,
    )


def both_cli(capsys, *argv):
    """(status, stdout, stderr) of the Python command line (run here) and the R one."""
    status = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    r = r_cli(*argv)
    return (status, out, err), (r.returncode, r.stdout, r.stderr)


def leftovers(folder, *kept):
    """What a folder holds beyond the files ``kept``: temporary files left behind."""
    return sorted(set(os.listdir(folder)) - set(kept))


# ---- Reads: regular files only, bounded, JSON text only ---------------------------


@pytest.mark.parametrize(
    ("where", "problem"),
    [
        ("folder", "is a directory; give the name of a file"),
        (
            "fifo",
            "is not a regular file (a FIFO, a device or a socket); nnscratch reads "
            "regular files only",
        ),
        (
            "/dev/zero",
            "is not a regular file (a FIFO, a device or a socket); nnscratch reads "
            "regular files only",
        ),
        (
            "/dev/null",
            "is not a regular file (a FIFO, a device or a socket); nnscratch reads "
            "regular files only",
        ),
        ("missing", "cannot be read (No such file or directory)"),
        ("below a file", "cannot be read (Not a directory)"),
    ],
)
def test_only_regular_files_are_read_and_nothing_waits(r_session, tmp_path, where, problem):
    path = {
        "folder": tmp_path,
        "fifo": tmp_path / "fifo.json",
        "missing": tmp_path / "missing.json",
        "below a file": tmp_path / "file.json" / "x.json",
    }.get(where, where)
    if where == "fifo":
        os.mkfifo(path)  # no writer: opening it for reading would wait for ever
    if where == "below a file":
        shutil.copy(ARTICLE, tmp_path / "file.json")
    same_refusal(r_session, path, None, "file", problem)


def test_at_most_max_bytes_and_one_are_read_whatever_the_size_claims(
    r_session, tmp_path, monkeypatch
):
    # Files in /proc claim 0 bytes and hold more: the limit holds all the same.
    same_refusal(
        r_session,
        "/proc/self/maps",
        None,
        "file",
        "is more than 100 bytes, over the limit of 100 (max_bytes)",
        max_bytes=100,
    )
    read = []
    real_read, real_stat = os.read, os.stat
    path = tmp_path / "large.json"
    path.write_bytes(b" " * 5000)

    def counting(descriptor, size):
        piece = real_read(descriptor, size)
        read.append(len(piece))
        return piece

    class Claimed:  # what os.stat says of the file: 0 bytes
        st_mode, st_size = stat.S_IFREG | 0o644, 0

    monkeypatch.setattr(files.os, "read", counting)
    monkeypatch.setattr(
        files.os, "stat", lambda p, *a, **k: Claimed if p == str(path) else real_stat(p, *a, **k)
    )
    with pytest.raises(nnscratch.FixtureError, match="is more than 1000 bytes"):
        nnscratch.load_fixture(path, max_bytes=1000)
    monkeypatch.undo()
    assert sum(read) == 1001


@pytest.mark.parametrize(
    ("max_bytes", "problem"),
    [
        (float("nan"), "must be a whole number, 0 or more; got NaN"),
        ("100", "must be a whole number, 0 or more; got a string"),
        (-1, "must be a whole number, 0 or more; got -1.0"),
    ],
)
def test_max_bytes_is_checked(r_session, max_bytes, problem):
    with pytest.raises(nnscratch.InputError) as python:
        nnscratch.load_fixture(ARTICLE, max_bytes=max_bytes)
    with pytest.raises(nnscratch.InputError) as r:
        r_session.call("nn_load_fixture", str(ARTICLE), max_bytes=max_bytes)
    assert str(python.value) == str(r.value) == f"max_bytes: {problem}"


def test_a_path_is_one_name(r_session):
    for path, problem in ((3, "got 3.0"), ("", "got an empty string")):
        with pytest.raises(nnscratch.InputError) as python:
            nnscratch.load_fixture(path)
        with pytest.raises(nnscratch.InputError) as r:
            r_session.call("nn_load_fixture", path)
        assert str(python.value) == str(r.value) == f"path: must be the name of a file; {problem}"


def test_names_r_would_read_otherwise_are_plain_files(r_session, tmp_path, monkeypatch):
    # R's file() reads "stdin" from the standard input and "~/x" from the home folder;
    # a relative path is a file in the working folder, in both languages.
    monkeypatch.chdir(tmp_path)
    (tmp_path / "~").mkdir()
    for name in ("stdin", "~/x.json", "clipboard"):
        shutil.copy(ARTICLE, tmp_path / name)
        assert r_session.load_fixture(name).name == nnscratch.load_fixture(name).name == "article"


@pytest.mark.parametrize("kind", ["path", "url", "file url"])
def test_text_that_names_a_file_or_a_url_is_not_followed(r_session, tmp_path, kind):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(0.2)
    text = {
        "path": str(ARTICLE),
        "url": f"http://127.0.0.1:{listener.getsockname()[1]}/fixture.json",
        "file url": f"file://{ARTICLE}",
    }[kind]
    path = tmp_path / "names.json"
    path.write_text(text)
    same_refusal(r_session, path, None, "json", "is not valid JSON (")
    with pytest.raises(TimeoutError):
        listener.accept()  # nobody came
    listener.close()


@pytest.mark.parametrize(
    ("encoding", "problem"),
    [
        (
            "utf-16-le",
            "has a NUL byte at byte 2; JSON is UTF-8 text without NUL bytes "
            "(UTF-16 and UTF-32 are refused)",
        ),
        (
            "utf-16-be",
            "has a NUL byte at byte 1; JSON is UTF-8 text without NUL bytes "
            "(UTF-16 and UTF-32 are refused)",
        ),
        (
            "utf-16",
            "has a NUL byte at byte 4; JSON is UTF-8 text without NUL bytes "
            "(UTF-16 and UTF-32 are refused)",
        ),
        (
            "utf-32",
            "has a NUL byte at byte 3; JSON is UTF-8 text without NUL bytes "
            "(UTF-16 and UTF-32 are refused)",
        ),
        ("latin-1", "is not UTF-8 text"),
        ("surrogates in UTF-8", "is not UTF-8 text"),
    ],
)
def test_other_encodings_are_refused(r_session, tmp_path, encoding, problem):
    text = base_text().replace('"base"', '"bäse"')
    path = tmp_path / "encoded.json"
    if encoding == "surrogates in UTF-8":  # \ud800 written as UTF-8 bytes, which is not UTF-8
        path.write_bytes(text.replace("bäse", "b\ud800se").encode("utf-8", "surrogatepass"))
    else:
        path.write_bytes(text.encode(encoding))
    same_refusal(r_session, path, None, "json", problem)


def test_nesting_is_refused_before_either_parser_meets_it(r_session, tmp_path):
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    same_refusal(
        r_session,
        path,
        None,
        "json",
        "is nested 100000 levels deep, more than 64; a fixture needs 5",
    )


def test_a_surrogate_pair_is_a_character_in_both(r_session, tmp_path):
    path = tmp_path / "pair.json"
    path.write_text(base_text().replace('"base"', '"b\\ud83d\\ude00se"'))
    assert nnscratch.load_fixture(path).name == r_session.load_fixture(path).name == "b\U0001f600se"


def test_a_long_string_beside_a_nan(r_session, tmp_path):
    # R's reading of NaN scans the text with a regular expression: 5 MB in one string
    # must not exhaust it.
    text = base_text().replace("A small valid", "x" * 5_000_000).replace("[1.0, 1.0]", "[1.0, NaN]")
    path = tmp_path / "long.json"
    path.write_text(text)
    same_refusal(
        r_session, path, "X", "value", "row 3, column 2 is not finite; NaN and Infinity are refused"
    )


def test_an_integer_minus_zero_reads_as_r_reads_it(r_session, tmp_path):
    path = tmp_path / "zero.json"
    path.write_text(base_text().replace("[0.0, 1.0],", "[-0, -0.0],"))
    python, r = nnscratch.load_fixture(path), r_session.load_fixture(path)
    assert python.X.tobytes() == r.X.tobytes()
    assert not np.signbit(python.X[0, 0]) and np.signbit(python.X[0, 1])


# ---- Writes: one path, nothing lost ----------------------------------------------


def python_writes(fixture, result):
    from nnscratch.plots import plot_training

    return {
        "model": lambda path: nnscratch.save_fixture(fixture, path),
        "trace": lambda path: nnscratch.write_trace_csv(result.trace, path),
        "plot": lambda path: plot_training(result, fixture, path),
    }


def r_writes(r_session, fixture):
    """The same writes in R, each a function of the target."""
    r_fixture = r_session.call("nn_load_fixture", str(fixture))
    r_result = r_session.call("nn_train_fixture", r_fixture, trace=True)
    return {
        "model": lambda path: r_session.call("nn_save_fixture", r_fixture, str(path)),
        "trace": lambda path: r_session.call(
            "nn_write_trace_csv", r_result.rx2("trace"), str(path)
        ),
        "plot": lambda path: r_session.call("nn_plot_training", r_result, r_fixture, str(path)),
    }


@pytest.fixture(scope="module")
def xor_run(tmp_path_factory):
    fixture = nnscratch.load_fixture(ROOT / "fixtures" / "xor.json")
    fixture = dataclasses.replace(fixture, epochs=5)
    path = tmp_path_factory.mktemp("xor") / "xor.json"
    nnscratch.save_fixture(fixture, path)
    return path, fixture, nnscratch.train_fixture(fixture, trace=True)


def writers(r_session, xor_run, language):
    path, fixture, result = xor_run
    return python_writes(fixture, result) if language == "python" else r_writes(r_session, path)


@pytest.mark.parametrize("language", ["python", "R"])
@pytest.mark.parametrize(
    ("target", "problem"),
    [
        ("folder", "is a directory; give the name of a file"),
        (
            "fifo",
            "is not a regular file (a FIFO, a device or a socket); nnscratch writes "
            "regular files only",
        ),
        (
            "/dev/null",
            "is not a regular file (a FIFO, a device or a socket); nnscratch writes "
            "regular files only",
        ),
        ("no folder", "cannot be written (No such file or directory)"),
    ],
)
def test_outputs_that_are_not_files_are_refused(
    r_session, xor_run, tmp_path, language, target, problem
):
    path = {
        "folder": tmp_path / "folder",
        "fifo": tmp_path / "fifo",
        "no folder": tmp_path / "nowhere" / "model.json",
    }.get(target, target)
    if target == "folder":
        path.mkdir()
    if target == "fifo":
        os.mkfifo(path)
    for what, write in writers(r_session, xor_run, language).items():
        with pytest.raises(nnscratch.FixtureError) as raised:
            write(path)
        assert (raised.value.path, raised.value.category, raised.value.problem) == (
            str(path),
            "file",
            problem,
        ), what
    if target == "fifo":
        assert stat.S_ISFIFO(os.stat(path).st_mode)  # still a FIFO, not replaced
    assert leftovers(tmp_path, *{"folder", "fifo"} & {target}) == []


@pytest.mark.parametrize("language", ["python", "R"])
def test_a_file_keeps_its_mode_a_link_is_replaced_a_long_name_fits(
    r_session, xor_run, tmp_path, language
):
    for what, write in writers(r_session, xor_run, language).items():
        private = tmp_path / f"{what}-private"
        private.write_text("old")
        private.chmod(0o600)
        write(private)
        assert stat.S_IMODE(private.stat().st_mode) == 0o600, what
        assert private.read_bytes() != b"old"
        elsewhere = tmp_path / f"{what}-elsewhere"
        elsewhere.write_text("not to be written through")
        link = tmp_path / f"{what}-link"
        link.symlink_to(elsewhere)
        write(link)
        assert not link.is_symlink() and link.stat().st_size > 100, what
        assert elsewhere.read_text() == "not to be written through"
        long = tmp_path / f"{what}-{'n' * 250}"[:250]  # 250 characters, near the limit of 255
        write(long)
        assert long.stat().st_size > 100, what
    assert all(not name.startswith(".nnscratch") for name in os.listdir(tmp_path))


@pytest.mark.parametrize("language", ["python", "R"])
def test_a_link_planted_at_the_temporary_name_is_not_followed(xor_run, tmp_path, language):
    # Someone who guesses the next temporary name puts a link there, to a file of theirs.
    victim = tmp_path / "victim"
    victim.write_text("untouched")
    names = iter([".nnscratch-planted.tmp", ".nnscratch-fresh.tmp"])
    os.symlink(victim, tmp_path / ".nnscratch-planted.tmp")
    target = tmp_path / "model.json"
    path, fixture, _ = xor_run
    if language == "python":
        real = files.temporary_name
        files.temporary_name = lambda: next(names)
        try:
            nnscratch.save_fixture(fixture, target)
        finally:
            files.temporary_name = real
    else:
        import rpy2.robjects as ro

        session = RSession()  # a session of its own, whose temporary names are ours
        ro.r["assign"](
            "nn_temporary_name",
            ro.r(
                "local({ names <- c('.nnscratch-planted.tmp', '.nnscratch-fresh.tmp'); "
                "function() { name <- names[1]; names <<- names[-1]; name } })"
            ),
            envir=session.environment,
        )
        session.call("nn_save_fixture", session.call("nn_load_fixture", str(path)), str(target))
    assert victim.read_text() == "untouched"
    assert nnscratch.load_fixture(target).name == "xor"
    assert leftovers(tmp_path, "victim", "model.json") == [".nnscratch-planted.tmp"]


def test_what_would_not_load_back_is_not_saved(r_session, tmp_path):
    import rpy2.robjects as ro

    target = tmp_path / "model.json"
    shutil.copy(ARTICLE, target)
    before = target.read_bytes()
    article = nnscratch.load_fixture(ARTICLE)
    r_article = r_session.call("nn_load_fixture", str(ARTICLE))
    change = ro.r("function(f, key, value) { f[key] <- list(value); f }")
    bad_expected = {"untrained_half_squared_error": [[1.0, 2.0]], "decimals": 3}
    cases = [
        ("name", None, ro.r("NA_character_"), "name: must be a string; got "),
        (
            "expected",
            bad_expected,
            ro.r("list(untrained_half_squared_error = matrix(1:2, 1), decimals = 3)"),
            "expected.untrained_half_squared_error: must have the shape of y, 3 x 1",
        ),
        ("description", 3, 3, "description: must be a string; got 3.0"),
    ]
    for key, python_value, r_value, message in cases:
        with pytest.raises(nnscratch.InputError) as python:
            nnscratch.save_fixture(dataclasses.replace(article, **{key: python_value}), target)
        with pytest.raises(nnscratch.InputError) as r:
            r_session.call("nn_save_fixture", change(r_article, key, r_value), str(target))
        assert str(python.value).startswith(message) and str(r.value).startswith(message), key
        assert target.read_bytes() == before
    with pytest.raises(nnscratch.InputError, match=r"^name: holds a lone surrogate"):
        nnscratch.save_fixture(dataclasses.replace(article, name="a\ud800"), target)
    assert leftovers(tmp_path, "model.json") == []


def disk_full(*arguments):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def disk_takes_nothing(*arguments):
    return 0


def disk_fails(*arguments):
    raise OSError(errno.EIO, os.strerror(errno.EIO))


@pytest.mark.parametrize(
    ("call", "failure", "reason"),
    [
        ("write", disk_full, "No space left on device"),
        ("write", disk_takes_nothing, "the disk took no more bytes"),
        ("fsync", disk_fails, "Input/output error"),
        ("replace", disk_fails, "Input/output error"),
    ],
    ids=["write, full half-way", "write takes nothing", "fsync", "rename"],
)
def test_a_failed_write_in_python_leaves_the_old_file(
    xor_run, tmp_path, monkeypatch, call, failure, reason
):
    real = getattr(os, call)
    calls = []

    def broken(*arguments):
        calls.append(arguments)
        if call == "write" and len(calls) == 1:  # the first write goes half-way
            return real(arguments[0], bytes(arguments[1])[: len(arguments[1]) // 2])
        return failure(*arguments)

    for what, write in python_writes(xor_run[1], xor_run[2]).items():
        target = tmp_path / f"old-{what}"
        target.write_bytes(b"the old file")
        calls.clear()
        monkeypatch.setattr(files.os, call, broken)
        with pytest.raises(nnscratch.FixtureError) as raised:
            write(target)
        monkeypatch.undo()
        assert str(raised.value) == f"{target}: cannot be written ({reason})", what
        assert raised.value.category == "file"
        assert target.read_bytes() == b"the old file", what
    assert all(name.startswith("old-") for name in os.listdir(tmp_path))


def test_a_short_write_that_is_not_a_failure_writes_the_rest(xor_run, tmp_path, monkeypatch):
    real = os.write
    monkeypatch.setattr(files.os, "write", lambda fd, data: real(fd, bytes(data)[:100]))
    nnscratch.save_fixture(xor_run[1], tmp_path / "model.json")
    monkeypatch.undo()
    assert nnscratch.load_fixture(tmp_path / "model.json").name == "xor"


# R's write path, with R's own writers shadowed in a session of its own: writeLines stops
# half-way as R does on a full disk; writeBin writes half and warns, as R does; a writeBin
# that writes half and says nothing is caught by the size check; a rename that fails.
R_FAILURES = {
    "writeLines": (
        "function(text, con, sep, useBytes) { base::writeBin(charToRaw(substr(text[1], 1, "
        "nchar(text[1]) %/% 2)), con); stop('Error writing to connection:  No space left on "
        "device') }",
        "No space left on device",
    ),
    "writeBin": (
        "function(object, con) { base::writeBin(object[seq_len(length(object) %/% 2)], con); "
        "warning('problem writing to connection') }",
        "problem writing to connection",
    ),
    "silent writeBin": (
        "function(object, con) base::writeBin(object[seq_len(length(object) %/% 2)], con)",
        "the disk took ",
    ),
    "file.rename": (
        "function(from, to) { warning(sprintf(\"cannot rename file '%s' to '%s', reason "
        "'Input/output error'\", from, to)); FALSE }",
        "Input/output error",
    ),
}


@pytest.mark.parametrize("failure", list(R_FAILURES))
def test_a_failed_write_in_r_leaves_the_old_file(xor_run, tmp_path, failure):
    import rpy2.robjects as ro

    code, reason = R_FAILURES[failure]
    session = RSession()
    writes = r_writes(session, xor_run[0])
    ro.r["assign"](failure.split()[-1], ro.r(code), envir=session.environment)
    # Text (models, traces) goes through writeLines, a PNG through writeBin.
    written_by = {"writeLines": ("model", "trace"), "writeBin": ("plot",)}
    for what, write in writes.items():
        if what not in written_by.get(failure.split()[-1], ("model", "trace", "plot")):
            continue
        target = tmp_path / f"old-{what}"
        target.write_bytes(b"the old file")
        with pytest.raises(nnscratch.FixtureError) as raised:
            write(target)
        assert str(raised.value).startswith(f"{target}: cannot be written ({reason}"), what
        assert raised.value.category == "file"
        assert target.read_bytes() == b"the old file", what
    assert all(name.startswith("old-") for name in os.listdir(tmp_path))


@pytest.fixture
def small_disk(tmp_path):
    """A file system of 64 KiB (a tmpfs), with a file on it; root only."""
    if not AS_ROOT:
        pytest.skip("mounting a small tmpfs needs root; the injected failures above cover it")
    folder = tmp_path / "disk"
    folder.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(folder)], check=True)
    yield folder
    subprocess.run(["umount", str(folder)], check=True)


@pytest.mark.parametrize("language", ["python", "R"])
def test_a_full_disk_loses_nothing(r_session, small_disk, language):
    old = bytes(range(256)) * 100  # 25,600 bytes: the old file
    target = small_disk / "old"
    target.write_bytes(old)
    # A fixture of 2000 samples: about 130 KB of JSON, more than the disk has left.
    rng = np.random.default_rng(3)
    big = nnscratch.Fixture(
        "big",
        "",
        rng.random((2000, 2)),
        rng.random((2000, 1)),
        nnscratch.init_layers([2, 3, 1], "sigmoid", seed=3),
        0.1,
        2,
    )
    source = small_disk.parent / "big.json"
    nnscratch.save_fixture(big, source)
    result = nnscratch.train_fixture(big)
    from nnscratch.plots import plot_training

    writes = {
        "python": {
            "model": lambda: nnscratch.save_fixture(big, target),
            "trace": lambda: nnscratch.train_fixture(big, trace_csv=target),
            "plot": lambda: plot_training(result, big, target),
        },
        "R": r_writes(r_session, source)
        | {
            "trace": lambda: r_session.call(
                "nn_train_fixture",
                r_session.call("nn_load_fixture", str(source)),
                trace_csv=str(target),
            )
        },
    }[language]
    for what, write in writes.items():
        with pytest.raises(nnscratch.FixtureError) as raised:
            write() if language == "python" or what == "trace" else write(target)
        # R's writeBin, which writes a PNG, does not say why it failed.
        reason = (
            "problem writing to connection"
            if (language, what) == ("R", "plot")
            else ("No space left on device")
        )
        assert str(raised.value) == f"{target}: cannot be written ({reason})", what
        assert target.read_bytes() == old, what
        assert os.listdir(small_disk) == ["old"], what


@pytest.mark.parametrize("language", ["python", "R"])
def test_the_command_line_on_a_full_disk(small_disk, language):
    target = small_disk / "trace.csv"
    target.write_text("old")
    run = python_cli if language == "python" else r_cli
    done = run("train", ROOT / "fixtures" / "xor.json", "--epochs", "100", "--trace", target)
    assert done.returncode == 2
    assert done.stderr == f"error: {target}: cannot be written (No space left on device)\n"
    assert "wrote" not in done.stdout
    assert target.read_text() == "old" and os.listdir(small_disk) == ["trace.csv"]


def test_r_draws_no_plot_over_the_old_one_when_its_temporary_folder_is_full(small_disk, tmp_path):
    # R's PNG device draws into tempdir() and says nothing when it cannot write there
    # (Python draws in memory): a picture cut short must not replace the old one.
    (small_disk / "filler").write_bytes(b"x" * 60_000)
    target = tmp_path / "plot.png"
    target.write_bytes(b"old")
    done = r_cli(
        "train",
        ROOT / "fixtures" / "moons.json",
        "--epochs",
        "5",
        "--plot",
        target,
        env={**os.environ, "TMPDIR": str(small_disk)},
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith(
        f"error: {target}: cannot be written (the picture could not be drawn in full in "
    )
    assert "wrote" not in done.stdout
    assert target.read_bytes() == b"old"


@pytest.mark.parametrize("language", ["python", "R"])
def test_files_without_permission(tmp_path, language):
    secret = tmp_path / "secret.json"
    shutil.copy(ROOT / "fixtures" / "xor.json", secret)
    secret.chmod(0)
    theirs = tmp_path / "theirs"
    theirs.mkdir(mode=0o555)
    # Root reads and writes whatever the permissions say, unless it gives that power up.
    drop = ["setpriv", "--bounding-set=-dac_override,-dac_read_search"] if AS_ROOT else []
    command = [
        *drop,
        *(
            [sys.executable, "-m", "nnscratch"]
            if language == "python"
            else ["Rscript", str(ROOT / "r" / "cli.R")]
        ),
    ]
    done = subprocess.run([*command, "train", str(secret)], capture_output=True, text=True)
    assert (done.returncode, done.stderr) == (
        2,
        f"error: {secret}: cannot be read (Permission denied)\n",
    )
    model = theirs / "model.json"
    done = subprocess.run(
        [
            *command,
            "train",
            str(ROOT / "fixtures" / "xor.json"),
            "--epochs",
            "3",
            "--save",
            str(model),
        ],
        capture_output=True,
        text=True,
    )
    assert (done.returncode, done.stderr) == (
        2,
        f"error: {model}: cannot be written (Permission denied)\n",
    )
    assert done.stdout == ""  # refused before training, not after it
    theirs.chmod(0o755)
    assert os.listdir(theirs) == []


@pytest.mark.parametrize("language", ["python", "R"])
def test_a_read_only_file_system(r_session, xor_run, tmp_path, language):
    if not AS_ROOT:
        pytest.skip("mounting a read-only file system needs root")
    folder = tmp_path / "read-only"
    folder.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(folder)], check=True)
    try:
        for what, write in writers(r_session, xor_run, language).items():
            with pytest.raises(nnscratch.FixtureError) as raised:
                write(folder / what)
            assert (
                str(raised.value) == f"{folder / what}: cannot be written (Read-only file system)"
            )
    finally:
        subprocess.run(["umount", str(folder)], check=True)


def test_threads_saving_one_file_at_once(xor_run, tmp_path):
    fixtures = [xor_run[1], nnscratch.load_fixture(ARTICLE)]
    target, errors = tmp_path / "model.json", []

    def save(fixture):
        try:
            for _ in range(10):
                nnscratch.save_fixture(fixture, target)
        except Exception as error:
            errors.append(error)

    threads = [threading.Thread(target=save, args=(fixtures[n % 2],)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert nnscratch.load_fixture(target).name in ("xor", "article")
    assert leftovers(tmp_path, "model.json") == []


def test_two_processes_writing_one_file_while_it_is_read(tmp_path):
    """A Python and an R process save one file over and over; every read in between
    finds a whole fixture, theirs or the other's."""
    target = tmp_path / "model.json"
    shutil.copy(ARTICLE, target)
    python = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, nnscratch; f = nnscratch.load_fixture(sys.argv[1])\n"
            "for _ in range(30): nnscratch.save_fixture(f, sys.argv[2])",
            str(ROOT / "fixtures" / "xor.json"),
            str(target),
        ]
    )
    r = subprocess.Popen(
        [
            "Rscript",
            "-e",
            f"source('{ROOT / 'r' / 'nnscratch.R'}'); "
            f"f <- nn_load_fixture('{ROOT / 'fixtures' / 'tanh.json'}'); "
            f"for (i in 1:30) nn_save_fixture(f, '{target}')",
        ]
    )
    seen = set()
    while python.poll() is None or r.poll() is None:
        seen.add(nnscratch.load_fixture(target).name)
    assert python.returncode == r.returncode == 0
    seen.add(nnscratch.load_fixture(target).name)
    assert seen <= {"article", "xor", "tanh"} and {"xor", "tanh"} & seen
    assert leftovers(tmp_path, "model.json") == []


# ---- Interrupted runs: Ctrl-C, a killed process, a closed pipe --------------------


def start(language, *argv):
    command = (
        [sys.executable, "-m", "nnscratch"]
        if language == "python"
        else ["Rscript", str(ROOT / "r" / "cli.R")]
    )
    return subprocess.Popen(
        [*command, *map(str, argv)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # Ctrl-C reaches the process (a child of a background job would ignore it).
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def wait_for_temporary(folder, process):
    """Until the run has a temporary file beside its target (training has begun)."""
    while not any(name.startswith(".nnscratch") for name in os.listdir(folder)):
        assert process.poll() is None, process.communicate()
        time.sleep(0.05)


@pytest.mark.parametrize("language", ["python", "R"])
def test_ctrl_c_says_where_it_stopped_and_leaves_the_old_file(tmp_path, language):
    target = tmp_path / "trace.csv"
    target.write_text("old")
    process = start(
        language,
        "train",
        ROOT / "fixtures" / "moons.json",
        "--trace",
        target,
        "--save",
        tmp_path / "model.json",
    )
    wait_for_temporary(tmp_path, process)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130
    epochs = err.removeprefix("error: interrupted after epoch ").split(" of 2000; no file")
    assert err.endswith(" of 2000; no file written\n") and epochs[0].isdigit(), err
    assert err.count("\n") == 1
    assert target.read_text() == "old"
    assert leftovers(tmp_path, "trace.csv") == []


@pytest.mark.parametrize("language", ["python", "R"])
def test_a_killed_process_leaves_the_old_file(tmp_path, language):
    target = tmp_path / "trace.csv"
    target.write_text("old")
    process = start(language, "train", ROOT / "fixtures" / "moons.json", "--trace", target)
    wait_for_temporary(tmp_path, process)
    process.kill()  # no chance to clean up: its temporary file stays, named as such
    process.communicate()
    assert target.read_text() == "old"
    (left,) = leftovers(tmp_path, "trace.csv")
    assert left.startswith(".nnscratch-") and left.endswith(".tmp")


@pytest.mark.parametrize("language", ["python", "R"])
def test_a_closed_pipe_ends_quietly(language):
    process = start(language, "train", ARTICLE, "--every", "1")
    process.stdout.readline()
    process.stdout.close()  # as `| head -1` does
    err = process.stderr.read()
    process.wait(timeout=60)
    assert (process.returncode, err) == (141, "")


# ---- Training: the first number that is not finite; sizes that cannot fit ---------


def test_the_last_update_overflowing_is_caught(r_session, capsys, tmp_path):
    # Issue 11, case 5: a linear output, y = +-100, lr 1e307, one epoch: the loss before
    # the update is finite; the update is not.
    f = nnscratch.load_fixture(ROOT / "fixtures" / "linear_output.json")
    y = np.where(np.arange(len(f.y))[:, np.newaxis] % 2 == 0, 100.0, -100.0)
    message = (
        "lr: training diverged: in epoch 1, iteration 1, the update made layers[1].bias not "
        "finite; a smaller lr may help"
    )
    with pytest.raises(nnscratch.InputError) as python:
        nnscratch.train(f.layers, f.X, y, 1e307, 1)
    with pytest.raises(nnscratch.InputError) as r:
        r_session.train(f.layers, f.X, y, 1e307, 1)
    assert str(python.value) == str(r.value) == message
    assert python.value.category == r.value.category == "training"
    path = tmp_path / "huge.json"
    nnscratch.save_fixture(dataclasses.replace(f, y=y, lr=1e307, epochs=1), path)
    python_run, r_run = both_cli(capsys, "train", path, "--save", tmp_path / "model.json")
    assert python_run[0] == r_run[0] == 2
    assert python_run[2] == r_run[2] == f"error: {message}\n"
    assert not (tmp_path / "model.json").exists()


def test_finite_weights_whose_sum_overflows_train_on(r_session):
    # The check's quick sum (of squares in Python, of the numbers in R) overflows for
    # weights of 1.5e308; every number is finite, so training goes on in both languages.
    layers = [nnscratch.Layer(np.full((2, 1), 1.5e308), np.zeros(1), "linear")]
    X, y = np.zeros((1, 2)), np.zeros((1, 1))
    for train in (nnscratch.train, r_session.train):
        result = train(layers, X, y, 1e-300, 2)
        np.testing.assert_array_equal(result.layers[0].weights, layers[0].weights)


def test_sizes_that_cannot_fit_are_refused_before_anything_is_allocated(r_session):
    from nnscratch.trace import trace_bytes

    f = nnscratch.load_fixture(ARTICLE)
    memory = nnscratch.checks.memory_bytes()
    assert trace_bytes(f.layers, 3, 10**8) > memory, "a machine this large needs larger cases"
    cases = [
        (
            "train",
            {"epochs": 10**10},
            "epochs: the losses of 10000000000 epochs would take "
            f"about 80000 MB, more than the {memory / 1e6:.0f} MB of memory this machine has",
        ),
        (
            "train",
            {"trace": True, "trace_limit": 1e15, "epochs": 10**8},
            "trace: the trace would "
            f"take about {trace_bytes(f.layers, 3, 10**8) / 1e6:.0f} MB, more than the "
            f"{memory / 1e6:.0f} MB",
        ),
        ("init", {"sizes": [10**6, 10**6, 1]}, "sizes: the layers would take about 8000016 MB"),
    ]
    for kind, arguments, message in cases:
        arguments = dict(arguments)
        if kind == "init":
            with pytest.raises(nnscratch.InputError) as python:
                nnscratch.init_layers(arguments["sizes"], "sigmoid", seed=1)
            with pytest.raises(nnscratch.InputError) as r:
                r_session.init_layers(arguments["sizes"], "sigmoid", 1)
        else:
            epochs = arguments.pop("epochs")
            with pytest.raises(nnscratch.InputError) as python:
                nnscratch.train(f.layers, f.X, f.y, f.lr, epochs, **arguments)
            with pytest.raises(nnscratch.InputError) as r:
                r_session.train(f.layers, f.X, f.y, f.lr, float(epochs), **arguments)
        assert str(python.value) == str(r.value)
        assert str(python.value).startswith(message)


def test_a_batch_size_past_r_integers_is_a_number_in_both(r_session, tmp_path):
    path = tmp_path / "big_batch.json"
    path.write_text(base_text().replace('"epochs": 10', '"epochs": 10, "batch_size": 2147483648'))
    python, r = nnscratch.load_fixture(path), r_session.load_fixture(path)
    assert python.batch_size == r.batch_size == 2**31
    trained = nnscratch.train_fixture(python).loss, r_session.train_fixture(r).loss
    np.testing.assert_allclose(trained[1], trained[0], rtol=1e-13)
    full = nnscratch.train_fixture(dataclasses.replace(python, batch_size=None)).loss
    assert (trained[0] == full).all()


def test_the_trace_csv_is_written_as_training_runs(tmp_path):
    """With trace_csv, each recorded iteration's rows reach the file before the next
    epoch starts, and nothing of the trace stays in memory."""
    f = nnscratch.load_fixture(ROOT / "fixtures" / "minibatch.json")
    sizes = []

    def progress(epoch, loss):
        (temporary,) = [p for p in tmp_path.iterdir() if p.name.startswith(".nnscratch")]
        sizes.append(temporary.stat().st_size)

    result = nnscratch.train_fixture(f, trace_csv=tmp_path / "trace.csv", progress=progress)
    assert result.trace is None
    assert all(b > a for a, b in itertools.pairwise(sizes))  # it grew every epoch
    full = nnscratch.train_fixture(f, trace=True).trace
    nnscratch.write_trace_csv(full, tmp_path / "whole.csv")
    assert (tmp_path / "trace.csv").read_bytes() == (tmp_path / "whole.csv").read_bytes()


def test_r_streams_the_same_csv(r_session, tmp_path):
    f = nnscratch.load_fixture(ROOT / "fixtures" / "minibatch.json")
    r_fixture = r_session.call("nn_load_fixture", str(ROOT / "fixtures" / "minibatch.json"))
    options = {"trace_every": 3, "trace_quantities": ["delta", "weights"]}
    nnscratch.train_fixture(f, trace_csv=tmp_path / "python.csv", **options)
    import rpy2.robjects as ro

    r_session.call(
        "nn_train_fixture",
        r_fixture,
        trace_csv=str(tmp_path / "r.csv"),
        trace_every=3,
        trace_quantities=ro.StrVector(options["trace_quantities"]),
    )
    python = (tmp_path / "python.csv").read_text().splitlines()
    r = (tmp_path / "r.csv").read_text().splitlines()
    assert [line.rsplit(",", 1)[0] for line in python] == [line.rsplit(",", 1)[0] for line in r]
    values = [
        np.array([float(line.rsplit(",", 1)[1]) for line in lines[1:]]) for lines in (python, r)
    ]
    np.testing.assert_allclose(values[1], values[0], rtol=1e-12, atol=1e-12)
    assert len(python) - 1 == len(
        nnscratch.trace_table(nnscratch.train_fixture(f, trace=True, **options).trace)
    )


def test_csv_numbers_are_format_numbers(r_session):
    """The fast text of the CSV is the text of fixtures, number for number, the hard
    ones included, and R's text; not finite: Inf, -Inf, NaN, as R writes them."""
    rng = np.random.default_rng(11)
    values = np.concatenate(
        [
            rng.standard_normal(20_000) * np.exp(rng.standard_normal(20_000) * 30),
            rng.random(1000) * 2.2250738585072014e-308,  # subnormal
            rng.random(1000) * 1e17,
            10.0 ** np.arange(-20, 25),
            -(10.0 ** np.arange(-20, 25)),
            np.arange(-5, 5) * 1.0,
            [-0.0, 5e-324, 1.7976931348623157e308, 0.1, 1 / 3],
        ]
    )
    python = files.csv_numbers(values)
    assert python == nnscratch.checks.format_numbers(values).tolist()
    assert list(r_session.call("nn_csv_numbers", values)) == python  # R writes the same text
    assert files.csv_numbers([np.inf, -np.inf, np.nan]) == ["Inf", "-Inf", "NaN"]
    r = list(r_session.call("nn_csv_numbers", np.array([np.inf, -np.inf, np.nan, 0.1])))
    assert r == ["Inf", "-Inf", "NaN", "0.1"]


# ---- The command lines: the same rules, the same words, one line, status 2 --------


@pytest.mark.parametrize("command", [None, "train", "explain", "crosscheck"])
def test_the_help_is_the_same_in_both(capsys, command):
    argv = ["--help"] if command is None else [command, "--help"]
    python, r = both_cli(capsys, *argv)
    assert python[0] == r[0] == 0
    assert python[1] == r[1].replace("Rscript r/cli.R", "nnscratch")
    assert "options:" in python[1] or command is None


CLI_CASES = [
    (["--epochs", "0x10"], "error: argument --epochs: invalid int value: '0x10'"),
    (["--epochs", "1e1"], "error: argument --epochs: invalid int value: '1e1'"),
    (["--epochs", "1_0"], "error: argument --epochs: invalid int value: '1_0'"),
    (["--lr", "0x1p-3"], "error: argument --lr: invalid float value: '0x1p-3'"),
    (["--lr", "inf"], "error: argument --lr: invalid float value: 'inf'"),
    (["--epo", "5"], "error: unrecognized argument: --epo (see PROGRAM train --help)"),
    (["--every", "0"], "error: --every: must be a whole number, 1 or more; got 0.0"),
    (["--epochs"], "error: argument --epochs: expected one argument"),
    (
        ["--trace-every", "0", "--trace", "t.csv"],
        "error: trace_every: must be a whole number, 1 or more; got 0.0",
    ),
    (
        ["--trace-quantities", "Delta"],
        "error: argument --trace-quantities: invalid names value: 'Delta'",
    ),
    (
        ["--trace", "same.csv", "--plot", "./same.csv"],
        "error: argument --plot: ./same.csv is also the file of --trace; give each output its "
        "own file",
    ),
]


@pytest.mark.parametrize(
    ("options", "message"), CLI_CASES, ids=lambda c: " ".join(c) if isinstance(c, list) else None
)
def test_options_are_read_by_the_same_rules(capsys, tmp_path, monkeypatch, options, message):
    monkeypatch.chdir(tmp_path)
    python, r = both_cli(capsys, "train", ARTICLE, *options)
    for (status, out, err), program in ((python, "nnscratch"), (r, "Rscript r/cli.R")):
        assert (status, out, err) == (2, "", message.replace("PROGRAM", program) + "\n")
    assert os.listdir(tmp_path) == []


def test_equals_signs_and_double_dashes_are_read_alike(capsys, tmp_path):
    odd = tmp_path / "-odd name.json"
    shutil.copy(ROOT / "fixtures" / "xor.json", odd)
    python, r = both_cli(capsys, "train", "--epochs=7", "--every=7", "--lr", "+5e-1", "--", odd)
    assert python == r
    assert python[0] == 0 and python[1].startswith("xor: 4 samples, 7 epochs, lr 0.5\n")


def test_trace_options_on_the_command_lines(capsys, tmp_path):
    argv = [
        "train",
        ROOT / "fixtures" / "minibatch.json",
        "--epochs",
        "9",
        "--trace-every",
        "3",
        "--trace-quantities",
        "weights,delta",
    ]
    assert cli.main([*map(str, argv), "--trace", str(tmp_path / "python.csv")]) == 0
    assert r_cli(*argv, "--trace", tmp_path / "r.csv").returncode == 0
    f = dataclasses.replace(nnscratch.load_fixture(ROOT / "fixtures" / "minibatch.json"), epochs=9)
    table = nnscratch.trace_table(
        nnscratch.train_fixture(
            f, trace=True, trace_every=3, trace_quantities=["weights", "delta"]
        ).trace
    )
    for name in ("python.csv", "r.csv"):
        lines = (tmp_path / name).read_text().splitlines()
        assert len(lines) - 1 == len(table)
        assert {line.split(",")[4] for line in lines[1:]} == {"samples", "loss", "weights", "delta"}
        assert {int(line.split(",")[0]) for line in lines[1:]} == {3, 6, 9}


def test_a_python_only_option_is_named_so_in_r(capsys, tmp_path):
    r = r_cli("explain", ARTICLE, "--xlsx", tmp_path / "steps.xlsx")
    assert (r.returncode, r.stdout) == (2, "")
    assert r.stderr == (
        "error: argument --xlsx: is Python's alone (openpyxl writes the spreadsheet): "
        "python -m nnscratch explain ... --xlsx FILE.xlsx\n"
    )


@pytest.mark.parametrize(("option", "module"), [("--plot", "matplotlib"), ("--xlsx", "openpyxl")])
def test_missing_packages_are_named_before_anything_runs(
    capsys, tmp_path, monkeypatch, option, module
):
    real = cli.importlib.util.find_spec
    monkeypatch.setattr(
        cli.importlib.util, "find_spec", lambda name: None if name == module else real(name)
    )
    command = "train" if option == "--plot" else "explain"
    status = cli.main([command, str(ARTICLE), option, str(tmp_path / "out")])
    out, err = capsys.readouterr()
    assert (status, out) == (2, "")
    assert err.startswith(f"error: argument {option}: needs {module}: pip install 'nnscratch[")


@pytest.mark.parametrize("case", ["no epochs", "one point"])
def test_plots_of_odd_runs_are_drawn(capsys, tmp_path, case):
    fixture = nnscratch.load_fixture(ROOT / "fixtures" / "xor.json")
    if case == "one point":
        fixture = dataclasses.replace(fixture, X=np.full_like(fixture.X, 0.5), epochs=3)
    else:
        fixture = dataclasses.replace(fixture, epochs=0)
    path = tmp_path / "odd.json"
    nnscratch.save_fixture(fixture, path)
    assert cli.main(["train", str(path), "--plot", str(tmp_path / "python.png")]) == 0
    r = r_cli("train", path, "--plot", tmp_path / "r.png")
    assert (r.returncode, r.stderr) == (0, "")
    for name in ("python.png", "r.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_an_error_is_one_line_and_keeps_the_name_it_was_given(capsys, tmp_path):
    for name, shown in (
        (f"{tmp_path}/no\nsuch.json", f"{tmp_path}/no such.json"),
        (f"{tmp_path}/two  spaces.json", f"{tmp_path}/two  spaces.json"),
    ):
        python_run, r_run = both_cli(capsys, "train", name)
        assert python_run[0] == r_run[0] == 2
        assert (
            python_run[2]
            == r_run[2]
            == (f"error: {shown}: cannot be read (No such file or directory)\n")
        )
