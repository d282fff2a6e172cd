"""Property-based cross-check: random networks, data and settings, Python against R.

Every example is drawn from a seed (with the structure drawn beside it), so a failing
example is reported with everything needed to replay it: pass the printed ``run`` to
``replay(run)``; hypothesis also prints a @reproduce_failure blob.

Weights are drawn at the scale of Glorot's initialisation. Some runs are unstable all
the same (a chain of linear layers trained one sample at a time at lr 0.5, say): they
amplify the last-bit differences of the two languages' arithmetic past any relative
tolerance, though every step is computed the same (hypothesis found such runs). So an
example counts only if it is stable: if nudging its initial weights by a relative
1e-15, about the size of those differences, moves no number of its Python trace by more
than 1e-13. A run that diverges must stop with the same error in both languages.
"""

import dataclasses

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import nnscratch
from nnscratch.activations import ACTIVATIONS
from nnscratch.compare import compare_traces

# What every example found, for the summary line (conftest.py prints it).
FOUND = {
    "examples": 0,
    "diverged": 0,
    "unstable": 0,
    "largest_difference": 0.0,
    "tolerance_used": 0.0,
}


@st.composite
def runs(draw):
    """A random run: 1 to 3 hidden layers of 1 to 6 units, activations, bias or none,
    1 to 8 samples, batches and shuffling, and the seed of its data and weights."""
    hidden = draw(st.integers(1, 3))
    sizes = draw(st.lists(st.integers(1, 6), min_size=hidden + 2, max_size=hidden + 2))
    samples = draw(st.integers(1, 8))
    batch_size = draw(st.one_of(st.none(), st.integers(1, samples)))
    return {
        "seed": draw(st.integers(1, 2**31 - 2)),
        "sizes": sizes,
        "activations": draw(
            st.lists(st.sampled_from(sorted(ACTIVATIONS)), min_size=hidden + 1, max_size=hidden + 1)
        ),
        "bias": draw(st.booleans()),
        "samples": samples,
        "batch_size": batch_size,
        "shuffle": batch_size is not None and draw(st.booleans()),
        "lr": draw(st.sampled_from([0.01, 0.1, 0.5])),
        "epochs": draw(st.integers(1, 4)),
    }


def replay(run):
    """The fixture a run stands for: its data and weights drawn from its seed."""
    rng = np.random.default_rng(run["seed"])
    sizes = run["sizes"]
    layers = []
    for n_in, n_out, activation in zip(sizes[:-1], sizes[1:], run["activations"]):
        limit = np.sqrt(6 / (n_in + n_out))
        bias = rng.uniform(-limit, limit, n_out) if run["bias"] else None
        weights = rng.uniform(-limit, limit, (n_in, n_out))
        layers.append(nnscratch.Layer(weights, bias, activation))
    return nnscratch.Fixture(
        name="random",
        description="a property-based example",
        X=rng.normal(0, 1, (run["samples"], sizes[0])),
        y=rng.uniform(0, 1, (run["samples"], sizes[-1])),
        layers=layers,
        lr=run["lr"],
        epochs=run["epochs"],
        batch_size=run["batch_size"],
        shuffle=run["shuffle"],
        seed=run["seed"] if run["shuffle"] else None,
    )


def stable(fixture, trace):
    """Whether nudging the run's initial weights by a relative 1e-15 moves no number of its
    trace by more than 1e-13 (plus 1e-13 of its size)."""
    nudged = dataclasses.replace(
        fixture,
        layers=[
            nnscratch.Layer(layer.weights * (1 + 1e-15), layer.bias, layer.activation)
            for layer in fixture.layers
        ],
    )
    try:
        nudged_trace = nnscratch.train_fixture(nudged, trace=True).trace
    except nnscratch.InputError:
        return False
    return compare_traces(trace, nudged_trace, atol=1e-13, rtol=1e-13).ok


@settings(max_examples=200, deadline=None, print_blob=True)
@given(run=runs())
def test_python_and_r_agree_on_random_runs(r_session, run):
    fixture = replay(run)
    outcomes = []
    for train in (nnscratch.train_fixture, r_session.train_fixture):
        try:
            outcomes.append(train(fixture, trace=True))
        except nnscratch.InputError as error:  # a run that diverges
            outcomes.append(str(error))
        python_ran = train is nnscratch.train_fixture and not isinstance(outcomes[0], str)
        if python_ran and not stable(fixture, outcomes[0].trace):
            FOUND["unstable"] += 1
            assume(False)
    python, r = outcomes
    if isinstance(python, str) or isinstance(r, str):
        assert python == r
        FOUND["diverged"] += 1
        return
    comparison = compare_traces(python.trace, r.trace)
    assert comparison.ok, comparison.report()
    FOUND["examples"] += 1
    for key in ("largest_difference", "tolerance_used"):
        FOUND[key] = max(FOUND[key], float(comparison.maxima[key].max()))
