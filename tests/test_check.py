"""The grader: check_trace and check_step, and R's nn_check_trace and nn_check_step.

The learners' loops are the student-style loops of examples/, run as they are and with
each mistake of the catalogue planted (tests/mistakes.json); where the first divergence
must be comes from that file, worked out from the eleven steps, not from the grader.
"""

import dataclasses
import json
import re
import subprocess
import types

import numpy as np
import pandas as pd
import pytest
import rpy2.robjects as ro

import nnscratch
from cases import ATOL, ROOT, RTOL
from nnscratch import __main__ as cli
from nnscratch import compare
from nnscratch.rbridge import trace_to_r

ARTICLE = ROOT / "fixtures" / "article.json"
PLANTS = json.loads((ROOT / "tests" / "mistakes.json").read_text(encoding="utf-8"))["mistakes"]
BAD = json.loads((ROOT / "tests" / "bad_traces" / "cases.json").read_text(encoding="utf-8"))
LOOPS = {"python": ROOT / "examples" / "article_loop.py", "r": ROOT / "examples" / "article_loop.R"}

# The catalogue of issue 13, in its order.
CATALOGUE = [
    "bias-per-sample",
    "bias-by-column",
    "lr-twice",
    "hidden-bias-output-delta",
    "slope-from-input",
    "sign-flipped",
    "update-before-backprop",
    "mean-not-sum",
    "no-lr-on-bias",
    "missing-bias-update",
]


def loop_source(language, case=None):
    """A student-style loop of examples/, with a mistake of tests/mistakes.json planted."""
    text = LOOPS[language].read_text(encoding="utf-8")
    for old, new in [] if case is None else case[language]:
        assert text.count(old) == 1, (case["id"], old)
        text = text.replace(old, new)
    return text


def python_loop(case=None):
    """examples/article_loop.py (planted) as a module: its one_iteration and main."""
    module = types.ModuleType("article_loop")
    exec(compile(loop_source("python", case), str(LOOPS["python"]), "exec"), module.__dict__)
    return module


def r_loop(case=None):
    """examples/article_loop.R (planted), evaluated in an R environment of its own."""
    environment = ro.r["new.env"]()
    ro.r["eval"](ro.r["parse"](text=loop_source("r", case)), envir=environment)
    return environment


def run_loop(language, path, epochs, case=None):
    """Run a loop on the article's fixture for some epochs; it writes its CSV to path."""
    if language == "python":
        python_loop(case).main(str(ARTICLE), str(path), epochs)
    else:
        r_loop(case)["main"](str(ARTICLE), str(path), epochs)


class RAnswer:
    """What R's nn_check_trace or nn_check_step answered, read through rpy2."""

    def __init__(self, answer, r_session):
        # The method, as the session's functions are not where R looks for methods.
        self.report = r_session.function("format.nn_answer")(answer)[0]
        self.ok = bool(answer.rx2("ok")[0])
        self.diagnosis = list(answer.rx2("diagnosis"))
        d = answer.rx2("divergence")
        self.divergence = None if d is ro.NULL else {name: d.rx2(name)[0] for name in d.names}


def where(divergence):
    """(epoch, iteration, step, the learner's name, layer) of a divergence."""
    d = divergence
    if isinstance(d, dict):
        return (d["epoch"], d["iteration"], d["step"], d["name"], d["layer"])
    return (d.epoch, d.iteration, d.step, d.name, d.layer)


def test_the_catalogue_is_the_issue_s_in_both_languages(r_session):
    assert list(nnscratch.MISTAKES) == CATALOGUE
    r = r_session.environment["nn_mistakes"]
    assert list(r.rx2("id")) == CATALOGUE
    assert list(r.rx2("what")) == [mistake.what for mistake in nnscratch.MISTAKES.values()]
    assert list(r.rx2("fix")) == [mistake.fix for mistake in nnscratch.MISTAKES.values()]
    assert [case["id"] for case in PLANTS] == CATALOGUE


def test_readme_s_catalogue_is_the_catalogue_and_where_each_mistake_shows():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split("<!-- catalogue: tests/test_check.py checks it -->")[1]
    table = table.split("<!-- end of the catalogue -->")[0]
    rows = re.findall(r"^\| `([a-z-]+)` \|.*\| (\d+), `(\w+)` \|$", table, flags=re.MULTILINE)
    assert [(id, int(step), name) for id, step, name in rows] == [
        (case["id"], case["step"], case["quantity"]) for case in PLANTS
    ]


def test_the_tolerance_is_the_harness_s_in_both_languages(r_session):
    ulps = r_session.environment["nn_tolerance_ulps"]
    assert dict(zip(ulps.names, ulps, strict=True)) == {
        quantity: tolerance.ulps for quantity, tolerance in compare.TOLERANCES.items()
    }
    assert r_session.environment["nn_tolerance_rule"][0] == nnscratch.check.TOLERANCE_RULE


@pytest.mark.parametrize("name", ["two_hidden", "minibatch", "saturated", "article_no_bias"])
def test_r_gives_every_number_the_harness_s_scale(r_session, name):
    """R's grader compares without Python: its noise scales are Python's, number by number."""
    f = nnscratch.load_fixture(ROOT / "fixtures" / f"{name}.json")
    f = dataclasses.replace(f, epochs=3)
    python = nnscratch.train_fixture(f, trace=True).trace
    r = r_session.train_fixture(f, trace=True).trace
    expected = compare.noise_scales(python, r, f.X)
    made = r_session.call("nn_noise_scales", trace_to_r(python), trace_to_r(r), f.X)
    got = {tuple(key.split(" ", 1)): np.asarray(made.rx2(key)) for key in made.names}
    assert {(int(layer), quantity) for layer, quantity in got} == set(expected)
    for (layer, quantity), scale in got.items():
        np.testing.assert_allclose(
            scale, expected[int(layer), quantity], rtol=1e-13, atol=0, err_msg=quantity
        )


@pytest.mark.parametrize("language", ["python", "r"])
@pytest.mark.parametrize("case", PLANTS, ids=[case["id"] for case in PLANTS])
def test_each_mistake_planted_in_a_loop_is_named_at_its_step(r_session, tmp_path, case, language):
    path = tmp_path / "mine.csv"
    run_loop(language, path, 3, case)
    expected = (1, 1, case["step"], case["quantity"], case["layer"])
    python = nnscratch.check_trace(ARTICLE, path)
    assert where(python.divergence) == expected
    assert python.diagnosis == [case["id"]]
    assert f"looks like {case['id']}: " in python.report()
    # Its iteration is epoch 1's: the epochs compared are 1 to 1, of the 3 recorded.
    assert python.report().startswith(f"checked {path} against article, epochs 1 to 1\n")
    r = RAnswer(r_session.call("nn_check_trace", str(ARTICLE), str(path)), r_session)
    assert r.report == python.report()
    # The same loop's one_iteration, driven by nnscratch, in its own language.
    if language == "python":
        driven = nnscratch.check_step(ARTICLE, python_loop(case).one_iteration, epochs=3)
    else:
        one_iteration = r_loop(case)["one_iteration"]
        driven = RAnswer(
            r_session.call("nn_check_step", str(ARTICLE), one_iteration, epochs=3), r_session
        )
    assert where(driven.divergence) == expected
    assert driven.diagnosis == [case["id"]]


@pytest.mark.parametrize("language", ["python", "r"])
def test_a_correct_loop_agrees_in_both_languages(r_session, tmp_path, language):
    path = tmp_path / "mine.csv"
    epochs = 120  # the windows 1, 2 to 10, 11 to 100 and 101 to 120
    run_loop(language, path, epochs)
    python = nnscratch.check_trace(ARTICLE, path)
    assert python.ok and python.diagnosis == []
    # Per epoch: 9 + 9 + 3 + 3 + 3 + 9 + 3 + 3 + 9 + 9 numbers per sample, wh 12, wout 3, and
    # the biases, one row (3 + 1) in Python, one row per sample (9 + 3) in R.
    per_epoch = 60 + 12 + 3 + (4 if language == "python" else 12)
    assert python.numbers == epochs * per_epoch
    assert python.report().endswith(
        f"agree: all {epochs * per_epoch} numbers within the harness's tolerance, "
        f"{nnscratch.check.TOLERANCE_RULE}\n"
    )
    r = RAnswer(r_session.call("nn_check_trace", str(ARTICLE), str(path)), r_session)
    assert r.report == python.report()
    if language == "python":
        assert nnscratch.check_step(ARTICLE, python_loop().one_iteration, epochs=epochs).ok
    else:
        one_iteration = r_loop()["one_iteration"]
        driven = r_session.call("nn_check_step", str(ARTICLE), one_iteration, epochs=epochs)
        assert RAnswer(driven, r_session).ok


def test_a_learner_who_records_only_some_numbers_is_checked_on_those(tmp_path):
    case = PLANTS[CATALOGUE.index("bias-per-sample")]
    path = tmp_path / "mine.csv"
    run_loop("python", path, 3, case)
    table = pd.read_csv(path)
    # Only the weights: the bias moved wrong in epoch 1's step 11, after its weights
    # moved; epoch 2's forward pass takes that bias, so epoch 2's weights part first.
    weights = nnscratch.check_trace(ARTICLE, table[table.quantity.isin(["wh", "wout"])])
    assert where(weights.divergence) == (2, 1, 10, "wh", 1)
    assert weights.diagnosis == ["bias-per-sample"]
    assert weights.agreed == [] and weights.iterations_before == 1
    assert weights.report().splitlines()[1] == (
        "recorded, with nnscratch's name and layer: wh (weights 1), wout (weights 2)"
    )
    # Only the output: the loss-level view of the same mistake.
    output = nnscratch.check_trace(ARTICLE, table[table.quantity == "output"])
    assert where(output.divergence) == (2, 1, 4, "output", 2)
    assert output.diagnosis == ["bias-per-sample"]


def test_one_recorded_quantity_is_enough_in_both_languages(r_session, tmp_path):
    # R once took the argument names for base::names when it held one name.
    path = tmp_path / "mine.csv"
    run_loop("python", path, 3)
    table = pd.read_csv(path)
    for name in ("wh", "E", "output"):
        one = tmp_path / f"{name}.csv"
        table[table.quantity == name].to_csv(one, index=False)
        python = nnscratch.check_trace(ARTICLE, one)
        r = RAnswer(r_session.call("nn_check_trace", str(ARTICLE), str(one)), r_session)
        assert python.ok and r.ok, (name, python.report(), r.report)
        assert r.report == python.report()


def test_the_loss_every_epoch_with_the_first_iteration_in_full(tmp_path):
    """A learner's own names are nnscratch's: the loss of every epoch, everything of epoch 1."""
    f = dataclasses.replace(nnscratch.load_fixture(ARTICLE), epochs=30)
    table = nnscratch.trace_table(nnscratch.train_fixture(f, trace=True).trace)
    table = table[(table.epoch == 1) | (table.quantity == "loss")].drop(columns="step")
    answer = nnscratch.check_trace(f, table)
    assert answer.ok and answer.epochs == (1, 30)
    assert answer.numbers == len(table)
    # The error taken as output - y: the loss of epoch 1 agrees (its square is the same),
    # the error does not.
    flipped = table.copy()
    flipped.loc[flipped.quantity == "error", "value"] *= -1
    answer = nnscratch.check_trace(f, flipped)
    assert where(answer.divergence) == (1, 1, 5, "error", 2)
    assert answer.agreed == [
        "samples 0",
        "layer_input 1",
        "activation 1",
        "layer_input 2",
        "activation 2",
    ]


@pytest.mark.parametrize("name", ["minibatch", "two_hidden"])
def test_a_change_is_found_at_its_number_and_last_bits_are_not(tmp_path, name):
    f = dataclasses.replace(nnscratch.load_fixture(ROOT / "fixtures" / f"{name}.json"), epochs=20)
    table = nnscratch.trace_table(nnscratch.train_fixture(f, trace=True).trace)
    # In minibatch, iteration 3 is the smaller last batch of two samples.
    iteration = 3 if name == "minibatch" else 1
    at = (table.epoch == 7) & (table.iteration == iteration) & (table.quantity == "delta")
    at &= (table.layer == 1) & (table.row == 2) & (table.col == 2)
    assert at.sum() == 1
    original = table.loc[at, "value"].item()
    two_ulps = np.nextafter(np.nextafter(original, np.inf), np.inf)
    for changed_to, found in ((original * (1 + 1e-6), True), (two_ulps, False)):
        changed = table.copy()
        changed.loc[at, "value"] = changed_to
        changed.to_csv(tmp_path / "mine.csv", index=False)
        answer = nnscratch.check_trace(f, tmp_path / "mine.csv")
        assert answer.ok is not found
        if found:
            d = answer.divergence
            assert where(d) == (7, iteration, 9, "delta", 1)
            assert (d.row, d.col, d.expected, d.got) == (2, 2, original, changed_to)
            assert answer.iterations_before == (6 * 3 + 2 if name == "minibatch" else 6)


def test_a_bias_of_one_row_in_some_iterations_and_one_per_sample_in_others(r_session, tmp_path):
    f = dataclasses.replace(nnscratch.load_fixture(ARTICLE), epochs=3)
    table = nnscratch.trace_table(nnscratch.train_fixture(f, trace=True).trace)
    table["value"] = table["value"].map(repr)
    # From epoch 2 on, the biases repeated once per sample, as the article's R listing has them.
    repeated = table[(table.quantity == "bias") & (table.epoch >= 2)]
    per_sample = pd.concat([repeated.assign(row=row) for row in (1, 2, 3)])
    table = pd.concat([table[(table.quantity != "bias") | (table.epoch == 1)], per_sample])
    table.to_csv(tmp_path / "mine.csv", index=False)
    answer = nnscratch.check_trace(f, tmp_path / "mine.csv")
    assert answer.ok, answer.report()
    assert answer.numbers == len(table)
    assert answer.notes[0].startswith("bias has one row per sample, as the article's R listing")
    r = RAnswer(
        r_session.call("nn_check_trace", str(ARTICLE), str(tmp_path / "mine.csv")), r_session
    )
    assert r.ok
    assert r.report == answer.report()


def test_a_bias_kept_per_sample_is_scaled_per_sample_in_both_languages(r_session, tmp_path):
    """A learner's bias of one row per sample: each row goes into its own sample's
    layer_input scale (R once took row 1 for every sample), and a bias recorded only in
    a smaller last batch is laid over the batch's rows (Python once failed on it)."""

    def first_iteration(name, iteration):
        f = nnscratch.load_fixture(ROOT / "fixtures" / f"{name}.json")
        table = nnscratch.trace_table(
            nnscratch.train_fixture(dataclasses.replace(f, epochs=1), trace=True).trace
        )
        return table[(table.iteration == iteration) & (table.layer == 1)]

    def answers(name, table):
        path = tmp_path / "mine.csv"
        table.to_csv(path, index=False)
        python = nnscratch.check_trace(ROOT / "fixtures" / f"{name}.json", path)
        r = RAnswer(
            r_session.call("nn_check_trace", str(ROOT / "fixtures" / f"{name}.json"), str(path)),
            r_session,
        )
        assert r.report == python.report()
        return python

    # The article: the bias of rows 2 and 3 set to 1e6, and sample 2's layer_input moved
    # by 5e-9, within what a bias of 1e6 allows: the bias is the first divergence.
    numbers = first_iteration("article", 1)
    z = numbers[numbers.quantity == "layer_input"].copy()
    z.loc[(z.row == 2) & (z.col == 1), "value"] += 5e-9
    bias = numbers[numbers.quantity == "bias"]
    rows = pd.concat([bias.assign(row=row) for row in (1, 2, 3)])
    rows.loc[rows.row > 1, "value"] = 1e6
    table = pd.concat([z, rows])[["epoch", "iteration", "quantity", "layer", "row", "col", "value"]]
    answer = answers("article", table)
    assert (answer.divergence.step, answer.divergence.quantity, answer.divergence.row) == (
        11,
        "bias",
        2,
    )
    # The minibatch fixture: its last batch holds 2 samples; the bias recorded there, one
    # row per sample, with the weights.
    numbers = first_iteration("minibatch", 3)
    bias = numbers[numbers.quantity == "bias"]
    weights = numbers[numbers.quantity == "weights"]
    table = pd.concat([bias.assign(row=1), bias.assign(row=2), weights])
    assert answers(
        "minibatch", table[["epoch", "iteration", "quantity", "layer", "row", "col", "value"]]
    ).ok


def test_a_number_that_is_not_finite_never_agrees(r_session, tmp_path):
    f = dataclasses.replace(nnscratch.load_fixture(ARTICLE), epochs=3)
    table = nnscratch.trace_table(nnscratch.train_fixture(f, trace=True).trace)
    table["value"] = table["value"].map(repr)
    at = (table.epoch == 2) & (table.quantity == "slope") & (table.layer == 2) & (table.row == 3)
    for text in ("NaN", "NA", "-Inf"):
        table.loc[at, "value"] = text
        table.to_csv(tmp_path / "mine.csv", index=False)
        answer = nnscratch.check_trace(ARTICLE, tmp_path / "mine.csv")
        assert where(answer.divergence) == (2, 1, 6, "slope", 2)
        assert answer.report().count(": expected ") == 1
        assert f", got {'-Inf' if text == '-Inf' else 'NaN'}\n" in answer.report()
        r = RAnswer(
            r_session.call("nn_check_trace", str(ARTICLE), str(tmp_path / "mine.csv")), r_session
        )
        assert r.report == answer.report()


def test_nnscratch_s_own_step_is_a_correct_learner(r_session):
    for name in ("two_hidden", "minibatch", "article_no_bias"):
        f = nnscratch.load_fixture(ROOT / "fixtures" / f"{name}.json")

        def own(layers, X, y, lr):
            return nnscratch.step(layers, X, y, lr)._asdict()

        answer = nnscratch.check_step(f, own, epochs=12)
        assert answer.ok, answer.report()
        r_own = ro.r("function(layers, X, y, lr) nn_step(layers, X, y, lr)")
        r_own = ro.r["environment<-"](r_own, value=r_session.environment)
        path = str(ROOT / "fixtures" / f"{name}.json")
        r = RAnswer(r_session.call("nn_check_step", path, r_own, epochs=12), r_session)
        assert r.ok
        assert r.report == answer.report()


@pytest.mark.parametrize("case", BAD["cases"], ids=[case["name"] for case in BAD["cases"]])
def test_a_bad_table_is_refused_with_one_line_in_both_languages(r_session, tmp_path, case):
    path = tmp_path / "mine.csv"
    path.write_bytes(case["csv"].encode("utf-8"))
    fixture = ROOT / "fixtures" / f"{case['fixture']}.json"
    with pytest.raises(nnscratch.FixtureError) as python:
        nnscratch.check_trace(fixture, path)
    with pytest.raises(nnscratch.FixtureError) as r:
        r_session.call("nn_check_trace", str(fixture), str(path))
    assert str(python.value) == str(r.value) == f"{path}: {case['message']}"
    assert python.value.category == r.value.category


def test_files_that_are_not_text_or_too_large_are_refused(r_session, tmp_path):
    header = b"epoch,iteration,quantity,row,col,value\n"
    for content, message in (
        (header + b"1,1,wh,1,1,0.5\x00\n", "is not text: it holds a NUL byte"),
        (header + b"1,1,wh,1,1,\xff\n", "is not UTF-8 text"),
    ):
        path = tmp_path / "mine.csv"
        path.write_bytes(content)
        for check in (nnscratch.check_trace, lambda f, p: r_session.call("nn_check_trace", f, p)):
            with pytest.raises(nnscratch.FixtureError) as error:
                check(str(ARTICLE), str(path))
            assert str(error.value) == f"{path}: {message}"
    path.write_bytes(header + b"1,1,wh,1,1,0.5\n")
    size = len(header) + 15
    with pytest.raises(nnscratch.FixtureError) as python:
        nnscratch.check_trace(ARTICLE, path, max_bytes=20)
    with pytest.raises(nnscratch.FixtureError) as r:
        r_session.call("nn_check_trace", str(ARTICLE), str(path), max_bytes=20)
    assert str(python.value) == str(r.value)
    assert str(python.value) == f"{path}: is {size} bytes, over the limit of 20 (max_bytes)"


def r_function(text, r_session):
    return ro.r["environment<-"](ro.r(text), value=r_session.environment)


@pytest.mark.parametrize(
    ("python", "r", "message"),
    [
        (
            lambda X, y, alpha: {},
            "function(X, y, alpha) list()",
            "one_iteration: asks for 'alpha', which nnscratch does not give; it gives X, y, lr "
            "(or learning_rate), and the network as wh, bh, wout, bout (the article's) or as "
            "layers (nnscratch's)",
        ),
        (
            lambda X, y, wh, wout, lr: {},
            "function(X, y, wh, wout, lr) list()",
            "one_iteration: must take wh, bh, wout, bout, the network of article",
        ),
        (
            lambda X, y, wh, bh, wout, bout, lr: 3,
            "function(X, y, wh, bh, wout, bout, lr) 3",
            "one_iteration: must return what it computed by name (a dict in Python, a named "
            "list in R); it returned 3.0",
        ),
        (
            lambda X, y, wh, bh, wout, bout, lr: {"wh": wh, "bh": bh, "wout": wout},
            "function(X, y, wh, bh, wout, bout, lr) list(wh = wh, bh = bh, wout = wout)",
            "one_iteration: must return the updated bout, which its next call is given",
        ),
        (
            lambda X, y, wh, bh, wout, bout, lr: {"d_output": X},
            "function(X, y, wh, bh, wout, bout, lr) list(d_output = X)",
            "one_iteration: returned d_output (layer 2) of 3 x 4; nnscratch's is 3 x 1",
        ),
        (
            lambda X, y, wh, bh, wout, bout, lr: {"delta": X},
            "function(X, y, wh, bh, wout, bout, lr) list(delta = X)",
            "one_iteration: returned 'delta', which is not one of the article's names, as the "
            "network it takes is",
        ),
    ],
)
def test_a_bad_function_is_refused_with_the_same_words_in_both_languages(
    r_session, python, r, message
):
    with pytest.raises(nnscratch.InputError) as python_error:
        nnscratch.check_step(ARTICLE, python, epochs=1)
    with pytest.raises(nnscratch.InputError) as r_error:
        r_session.call("nn_check_step", str(ARTICLE), r_function(r, r_session), epochs=1)
    assert str(python_error.value) == str(r_error.value) == message


def test_the_command_lines_print_the_same_answer_and_exit_0_1_2(capsys, tmp_path):
    path = tmp_path / "mine.csv"
    for case, status in ((None, 0), (PLANTS[CATALOGUE.index("lr-twice")], 1)):
        run_loop("python", path, 2, case)
        python = cli.main(["check", str(ARTICLE), str(path)])
        out, err = capsys.readouterr()
        r = subprocess.run(
            ["Rscript", str(ROOT / "r" / "cli.R"), "check", str(ARTICLE), str(path)],
            capture_output=True,
            text=True,
        )
        assert (python, err) == (r.returncode, r.stderr) == (status, "")
        assert out == r.stdout == nnscratch.check_trace(ARTICLE, path).report()
    path.write_text("epoch,iteration,quantity,row,col,value\n1,1,wh,1,1,abc\n")
    assert cli.main(["check", str(ARTICLE), str(path)]) == 2
    out, err = capsys.readouterr()
    r = subprocess.run(
        ["Rscript", str(ROOT / "r" / "cli.R"), "check", str(ARTICLE), str(path)],
        capture_output=True,
        text=True,
    )
    message = f"error: {path}: line 2, column value: 'abc' is not a number\n"
    assert (out, err) == (r.stdout, r.stderr) == ("", message)
    assert r.returncode == 2


CONFORMANCE = sorted(
    path.stem for path in (ROOT / "conformance").glob("*.csv") if not path.stem.endswith("-loss")
)


def test_the_conformance_data_cover_the_teaching_fixtures():
    assert {"article", "article_no_bias", "two_hidden", "minibatch", "xor"} <= set(CONFORMANCE)


@pytest.mark.parametrize("name", CONFORMANCE)
def test_the_conformance_data_are_what_python_computes(name):
    """R's tests (tests/r/test-check.R) check them too; tests/test_fixtures.py checks that
    make_fixtures writes them."""
    f = nnscratch.load_fixture(ROOT / "fixtures" / f"{name}.json")
    steps = ROOT / "conformance" / f"{name}.csv"
    answer = nnscratch.check_trace(f, steps)
    assert answer.ok and answer.epochs == (1, f.epochs)
    table = pd.read_csv(steps)
    assert sorted(set(table.epoch)) == [1, 2, f.epochs]
    every = {"samples", "loss", *nnscratch.trace.LAYER_QUANTITIES}
    assert set(table.quantity) == every - ({"bias"} if name == "article_no_bias" else set())
    loss = pd.read_csv(ROOT / "conformance" / f"{name}-loss.csv")
    assert list(loss.columns) == ["epoch", "loss"]
    assert loss.epoch.tolist() == list(range(1, f.epochs + 1))
    computed = nnscratch.train_fixture(f).loss
    np.testing.assert_allclose(computed, loss.loss, rtol=RTOL, atol=ATOL)


def readme_block(title):
    """The text block after a line of README that ends with ``title``."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.search(re.escape(title) + r"\n+```\n(.*?)```", readme, flags=re.DOTALL).group(1)


def test_readme_shows_what_the_command_answers(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for language, case, title in (
        ("python", None, "The loop as it is:"),
        ("r", PLANTS[0], "alike) in `examples/article_loop.R`:"),
    ):
        block = readme_block(title)
        command, shown = block.split("\n", 2)[:2], block.split("\n", 2)[2]
        assert command[1] == "$ nnscratch check fixtures/article.json mine.csv"
        epochs = int(re.search(r"mine\.csv (\d+)$", command[0]).group(1))
        run_loop(language, tmp_path / "mine.csv", epochs, case)
        (tmp_path / "fixtures").mkdir(exist_ok=True)
        (tmp_path / "fixtures" / "article.json").write_bytes(ARTICLE.read_bytes())
        cli.main(["check", "fixtures/article.json", "mine.csv"])
        assert capsys.readouterr().out == shown
