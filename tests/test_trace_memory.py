"""Bounded traces: every k-th epoch, some quantities, a size limit checked before the run."""

import numpy as np
import pytest

import nnscratch
from cases import ROOT
from nnscratch.compare import compare_traces
from nnscratch.trace import LAYER_QUANTITIES, trace_bytes


def fixture(name):
    return nnscratch.load_fixture(ROOT / "fixtures" / f"{name}.json")


def trace_nbytes(trace):
    arrays = [trace.samples, trace.loss, *(a for q in trace.layers for a in q.values())]
    return sum(array.nbytes for array in arrays)


def test_every_kth_epoch_and_some_quantities():
    f = fixture("minibatch")  # 300 epochs of 3 batches
    every = nnscratch.train_fixture(f, trace=True, trace_every=7)
    assert every.trace.epoch.tolist()[:6] == [7, 7, 7, 14, 14, 14]
    assert len(every.trace.loss) == 300 // 7 * 3
    full = nnscratch.train_fixture(f, trace=True).trace
    assert (every.trace.layers[1]["weights"][3] == full.layers[1]["weights"][3 * 13]).all()
    assert (every.trace.loss == full.loss[(full.epoch % 7) == 0]).all()
    some = nnscratch.train_fixture(f, trace=True, trace_quantities=["weights", "delta"]).trace
    assert [set(q) for q in some.layers] == [{"weights", "delta"}] * 2
    assert set(nnscratch.trace_table(some)["quantity"]) == {"samples", "loss", "weights", "delta"}


@pytest.mark.parametrize("options", [{}, {"trace_every": 7}, {"trace_quantities": ["bias"]}])
def test_the_estimate_is_the_size_of_the_trace(options):
    f = fixture("minibatch")
    trace = nnscratch.train_fixture(f, trace=True, **options).trace
    iterations = len(trace.loss)
    assert trace_bytes(f.layers, 4, iterations, options.get("trace_quantities")) == trace_nbytes(
        trace
    )


def test_a_trace_over_the_limit_is_refused_before_the_run():
    f = fixture("moons")
    f.epochs = 10_000
    calls = []
    with pytest.raises(nnscratch.InputError) as raised:
        nnscratch.train_fixture(f, trace=True, progress=lambda *a: calls.append(a))
    assert calls == []
    # By hand: per iteration (2 -> 10 -> 1, batches of 100) 100 samples + 1 loss; layer 1:
    # five per-sample quantities of 100 x 10 and weights 2 x 10 and bias 10, 5030; layer 2:
    # five of 100 x 1, weights 10, bias 1, 511: 5642 numbers of 8 bytes, 100,000 iterations.
    assert 8 * (100 + 1 + 5030 + 511) * 100_000 / 1e6 == 4513.6
    assert str(raised.value) == (
        "trace: would take about 4514 MB, over the limit of 1000 MB (trace_limit): record "
        "every k-th epoch (trace_every), fewer quantities (trace_quantities), or raise "
        "trace_limit"
    )
    with pytest.raises(nnscratch.InputError, match="over the limit of 1 MB"):
        nnscratch.train_fixture(fixture("article"), trace=True, trace_limit=1e6)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"trace_every": 0}, "trace_every: must be a whole number, 1 or more; got 0.0"),
        (
            {"trace_quantities": ["gradient"]},
            "trace_quantities: unknown quantity 'gradient'; known: " + ", ".join(LAYER_QUANTITIES),
        ),
        ({"trace_limit": -1}, "trace_limit: must be a number above 0; got -1.0"),
    ],
)
def test_bad_trace_options(options, message):
    with pytest.raises(nnscratch.InputError) as raised:
        nnscratch.train_fixture(fixture("article"), trace=True, **options)
    assert str(raised.value) == message


@pytest.mark.parametrize(
    "options",
    [
        {"trace_every": 7},
        {"trace_quantities": ["weights", "delta"]},
        {"trace_every": 3, "trace_quantities": ["slope", "error"]},
    ],
)
def test_python_and_r_record_the_same_bounded_trace(r_session, options):
    """Each language's bounded trace is its full trace's epochs and quantities, to the bit;
    the full traces agree."""
    f = fixture("minibatch")
    every, quantities = options.get("trace_every", 1), options.get("trace_quantities")
    full = {}
    for language, train in (("python", nnscratch.train_fixture), ("R", r_session.train_fixture)):
        bounded = train(f, trace=True, **options).trace
        full[language] = train(f, trace=True).trace
        rows = full[language].epoch % every == 0
        assert bounded.epoch.tolist() == full[language].epoch[rows].tolist()
        for kept, full_kept in zip(bounded.layers, full[language].layers, strict=True):
            assert set(kept) == set(full_kept) & set(quantities or full_kept)
            for quantity, block in kept.items():
                assert np.array_equal(block, full_kept[quantity][rows], equal_nan=True)
    assert compare_traces(full["python"], full["R"], f.X).ok


def test_only_full_traces_are_compared():
    f = fixture("minibatch")
    some = nnscratch.train_fixture(f, trace=True, trace_quantities=["weights", "delta"]).trace
    with pytest.raises(ValueError, match="needs traces of every quantity"):
        compare_traces(some, some, f.X)


def test_r_refuses_the_same_trace(r_session):
    f = fixture("moons")
    f.epochs = 10_000
    with pytest.raises(nnscratch.InputError) as python:
        nnscratch.train_fixture(f, trace=True)
    with pytest.raises(nnscratch.InputError) as r:
        r_session.train_fixture(f, trace=True)
    assert str(r.value) == str(python.value)
