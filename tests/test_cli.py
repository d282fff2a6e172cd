"""The command line, in Python (python -m nnscratch) and in R (Rscript r/cli.R)."""

import struct
import subprocess

import numpy as np
import pandas as pd
import pytest

import nnscratch
from cases import BAD_CASES, ROOT, bad_fixture_text
from nnscratch import __main__ as cli
from nnscratch.rbridge import RSession
from reference import article_fixture_loop

ARTICLE = str(ROOT / "fixtures" / "article.json")
CASES = str(ROOT / "tests" / "bad_fixtures" / "cases.json")  # JSON, but not a fixture


def png_size(path):
    """(width, height) of a PNG file, after checking its signature."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def run(capsys, *argv):
    status = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


def test_train_prints_the_loss_like_the_article_and_writes_its_files(capsys, tmp_path):
    files = {"trace": tmp_path / "t.csv", "plot": tmp_path / "p.png", "save": tmp_path / "m.json"}
    status, out, err = run(
        capsys,
        "train",
        ARTICLE,
        "--every",
        "1000",
        *(part for name, path in files.items() for part in (f"--{name}", path)),
    )
    assert (status, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == "article: 3 samples, 5000 epochs, lr 0.1"
    # The losses as the article's own loop, written out in tests/reference.py, gives them.
    losses, output = article_fixture_loop(nnscratch.load_fixture(ARTICLE))
    shown = (1, 1000, 2000, 3000, 4000, 5000)
    assert lines[1:8] == [
        *(f"epoch {epoch:6d}  loss {losses[epoch - 1]:.6f}" for epoch in shown),
        f"final loss {losses[-1]:.6f}",
    ]
    assert lines[8] == "accuracy 1.0000"
    assert ((output >= 0.5) == [[1], [1], [0]]).all()  # the reference's accuracy is 1 too
    assert (
        len(
            nnscratch.trace_table(
                nnscratch.train_fixture(nnscratch.load_fixture(ARTICLE), trace=True).trace
            )
        )
        == len(files["trace"].read_text().splitlines()) - 1
    )
    assert png_size(files["plot"]) == (600, 450)
    saved = nnscratch.load_fixture(files["save"])
    trained = nnscratch.train_fixture(nnscratch.load_fixture(ARTICLE)).layers
    assert saved.layers[0].weights.tobytes() == trained[0].weights.tobytes()


@pytest.mark.parametrize("language", ["python", "R"])
def test_the_plot_takes_a_log_scale_and_a_dpi(capsys, tmp_path, language):
    xor = ROOT / "fixtures" / "xor.json"
    argv = ["train", xor, "--epochs", "20", "--plot", tmp_path / "p.png", "--dpi", "150"]

    def status(*words):
        return run(capsys, *words)[0] if language == "python" else r_cli(*words).returncode

    assert status(*argv, "--log-scale") == 0
    log_scale = (tmp_path / "p.png").read_bytes()
    assert png_size(tmp_path / "p.png") == (1650, 675)
    assert status(*argv) == 0
    assert (tmp_path / "p.png").read_bytes() != log_scale


def test_train_overrides_the_fixture_settings(capsys):
    status, out, _ = run(
        capsys,
        "train",
        ROOT / "fixtures" / "sgd.json",
        "--epochs",
        "7",
        "--lr",
        "0.3",
        "--batch-size",
        "3",
        "--seed",
        "11",
        "--every",
        "7",
    )
    assert status == 0
    assert (
        out.splitlines()[0] == "sgd: 10 samples, 7 epochs, lr 0.3, batches of 3, shuffled (seed 11)"
    )
    f = nnscratch.load_fixture(ROOT / "fixtures" / "sgd.json")
    loss = nnscratch.train(f.layers, f.X, f.y, 0.3, 7, batch_size=3, shuffle=True, seed=11).loss
    assert f"epoch      7  loss {loss[-1]:.6f}" in out


def test_explain_prints_the_walkthrough(capsys, tmp_path):
    status, out, _ = run(capsys, "explain", ARTICLE, "--epoch", "2", "--digits", "4")
    assert status == 0
    assert out == nnscratch.explain(nnscratch.load_fixture(ARTICLE), epoch=2, digits=4)
    status, out, _ = run(capsys, "explain", ARTICLE, "--xlsx", tmp_path / "steps.xlsx")
    assert out.endswith(f"wrote {tmp_path / 'steps.xlsx'}\n")
    assert (tmp_path / "steps.xlsx").read_bytes()[:2] == b"PK"  # a zip, as .xlsx files are


def test_explain_writes_the_page_in_both_languages(capsys, tmp_path):
    from test_page import assert_same_data, page_json

    argv = ["explain", ROOT / "fixtures" / "sgd.json", "--epoch", "3", "--html"]
    status, out, _ = run(capsys, *argv, tmp_path / "python.html")
    assert (status, out.splitlines()[-1]) == (0, f"wrote {tmp_path / 'python.html'}")
    r = r_cli(*argv, tmp_path / "r.html")
    assert (r.returncode, r.stdout.splitlines()[-1]) == (0, f"wrote {tmp_path / 'r.html'}")
    python = page_json(tmp_path / "python.html")
    assert python["opened"] == 21  # the first iteration of epoch 3: 10 batches of 1 an epoch
    assert_same_data(python, page_json(tmp_path / "r.html"))


def test_crosscheck_exits_0_when_the_languages_agree_and_1_when_not(capsys, monkeypatch, plant):
    # Small runs: tests/test_crosscheck.py cross-checks every fixture whole.
    status, out, _ = run(capsys, "crosscheck", "article_no_bias", ROOT / "fixtures" / "sgd.json")
    assert status == 0
    assert out.count("agree: every one within") == 2

    class Planted(RSession):
        def __init__(self):
            super().__init__()
            self.replace_function("nn_step", plant(self.function("nn_step"), "error", "TRUE", 1e-9))

    monkeypatch.setattr("nnscratch.rbridge.RSession", Planted)
    status, out, _ = run(capsys, "crosscheck", "sgd")
    assert status == 1
    assert "first divergence: epoch 1, iteration 1, step 5, layer 2, quantity error," in out


def test_a_long_run_on_a_terminal_gets_a_progress_bar(monkeypatch, capsys):
    class Terminal:
        written = ""

        def isatty(self):
            return True

        def write(self, text):
            self.written += text

        def flush(self):
            pass

    monkeypatch.setattr(cli, "PROGRESS_AFTER_SECONDS", 0.0)
    terminal = Terminal()
    progress = cli.Progress(epochs=1000, every=500, stream=terminal)
    progress.shown -= 1  # as if the last bar were drawn a second ago
    progress(1, 0.5)
    assert "[" in terminal.written and "1/1000" in terminal.written
    progress(500, 0.25)  # a loss line first clears the bar
    assert capsys.readouterr().out.splitlines()[-1] == "epoch    500  loss 0.250000"
    progress.finish()
    assert terminal.written.endswith("\r")
    # Not on a terminal, or a short run: no bar.
    monkeypatch.setattr(cli, "PROGRESS_AFTER_SECONDS", 1e9)
    quiet = Terminal()
    cli.Progress(epochs=1000, every=500, stream=quiet)(1, 0.5)
    assert quiet.written == ""


def r_cli(*argv):
    return subprocess.run(
        ["Rscript", str(ROOT / "r" / "cli.R"), *map(str, argv)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )


def test_r_prints_what_python_prints(capsys, tmp_path):
    for argv in (
        ["train", ARTICLE, "--every", "500"],
        ["train", ROOT / "fixtures" / "minibatch.json", "--seed", "3", "--epochs", "40"],
        ["explain", ROOT / "fixtures" / "two_hidden.json", "--epoch", "3"],
    ):
        status, out, _ = run(capsys, *argv)
        r = r_cli(*argv)
        assert (r.returncode, r.stdout, r.stderr) == (status, out, "")


def test_r_writes_the_files_python_writes(capsys, tmp_path):
    """The same trace rows and model (numbers within the harness's tolerance, as the two
    languages' arithmetic differs in the last bits), a picture of the same size."""
    files = {}
    for language in ("python", "r"):
        files[language] = {kind: tmp_path / f"{language}.{kind}" for kind in ("csv", "png", "json")}
        argv = ["train", ROOT / "fixtures" / "xor.json", "--epochs", "500"]
        for option, kind in (("--trace", "csv"), ("--plot", "png"), ("--save", "json")):
            argv += [option, files[language][kind]]
        if language == "python":
            assert run(capsys, *argv)[0] == 0
        else:
            assert r_cli(*argv).returncode == 0
    python, r = (pd.read_csv(files[language]["csv"]) for language in ("python", "r"))
    pd.testing.assert_frame_equal(python.drop(columns="value"), r.drop(columns="value"))
    np.testing.assert_allclose(r["value"], python["value"], rtol=1e-12, atol=1e-12)
    python, r = (nnscratch.load_fixture(files[language]["json"]) for language in ("python", "r"))
    for setting in ("name", "description", "lr", "epochs", "batch_size", "shuffle", "seed"):
        assert getattr(python, setting) == getattr(r, setting), setting
    assert python.X.tobytes() == r.X.tobytes() and python.y.tobytes() == r.y.tobytes()
    for p, q in zip(python.layers, r.layers, strict=True):
        np.testing.assert_allclose(q.weights, p.weights, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(q.bias, p.bias, rtol=1e-12, atol=1e-12)
    assert png_size(files["r"]["png"]) == png_size(files["python"]["png"]) == (1100, 450)


# Every failure prints one line, the same in both command lines, and exits 2.
ERRORS = [
    (["train", "missing.json"], "error: missing.json: cannot be read ("),
    (
        ["train", ARTICLE, "--epochs", "-3"],
        "error: epochs: must be a whole number, 0 or more; got -3.0",
    ),
    (["train", ARTICLE, "--epochs", "x"], "error: argument --epochs: invalid int value: 'x'"),
    (["trian"], "error: unknown command 'trian'; the commands are train, crosscheck, explain"),
    (["train", ARTICLE, "--colour", "red"], "error: unrecognized argument: --colour"),
    (
        ["explain", ARTICLE, "--epoch", "0"],
        "error: epoch: must be a whole number, 1 or more; got 0.0",
    ),
    (["train", CASES], f"error: {CASES}: cases: is not a field"),
]


@pytest.mark.parametrize("language", ["python", "R"])
@pytest.mark.parametrize(
    ("argv", "message"), ERRORS, ids=[" ".join(a[:1] + a[2:]) for a, _ in ERRORS]
)
def test_errors_are_one_line_and_exit_2(capsys, language, argv, message):
    if language == "python":
        status, out, err = run(capsys, *argv)
    else:
        r = r_cli(*argv)
        status, out, err = r.returncode, r.stdout, r.stderr
    assert (status, out) == (2, "")
    assert err.startswith(message)
    assert err.count("\n") == 1


def test_r_crosscheck_runs_the_harness():
    r = r_cli("crosscheck", ROOT / "fixtures" / "sgd.json")
    assert r.returncode == 0
    assert "sgd: every number of every iteration of all 100 epochs (44,000 numbers)" in r.stdout
    assert "agree: every one within" in r.stdout


@pytest.mark.parametrize("case", BAD_CASES, ids=lambda case: case["name"])
def test_every_bad_fixture_is_one_line_and_exit_2(capsys, tmp_path, case):
    path = tmp_path / "bad.json"
    path.write_text(bad_fixture_text(case), encoding="utf-8")
    status, out, err = run(capsys, "train", path)
    assert (status, out) == (2, "")
    where = "" if case["field"] is None else f"{case['field']}: "
    assert err.startswith(
        f"error: {path}: {where}{case.get('problem', case.get('problem_starts'))}"
    )
    assert err.count("\n") == 1
    assert [p.name for p in tmp_path.iterdir()] == ["bad.json"]
