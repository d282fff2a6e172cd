"""make bench: nnscratch's speed beside the bare loops, scikit-learn and torch, and its memory.

Issue 15's table: milliseconds per epoch of full-batch gradient descent with sigmoid units,
at five sizes, on synthetic data made here with a fixed seed, every BLAS on one thread. Each
cell is the median of repeated runs; at each size the runs of all cells are interleaved (one
run of each in turn, the order turning by one every round), so that the same load of a noisy
machine falls on all of them. R runs in two Rscript processes that bench/r_worker.R drives,
one on Debian's reference BLAS and one on Debian's OpenBLAS, whatever the machine's R uses
by default. The goals are ratios of figures of this one run. The tables, the goals, the
measured reasons for the missed ones and the figures kept from before (trace, cross-check,
peak memory) are printed and written to bench/results.md.

plan.py says what is measured (sizes, columns, goals, data), baselines.py holds what
nnscratch is measured against, workers.py the R processes, report.py the writing of
results.md; this file measures.
"""

import cProfile
import dataclasses
import json
import math
import os
import pstats
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
import rpy2.robjects as ro
from baselines import (
    article_numpy_loop,
    five_gemms,
    import_torch,
    mlp_regressor,
    scikit_learn_target,
    torch_loop,
)
from plan import (
    BIG_R_HEAP,
    COLUMNS,
    CONTEXT_COLUMNS,
    KEEP_FREED_MEMORY,
    LARGEST,
    ONE_THREAD,
    RESULTS,
    ROOT,
    SEED,
    SIZES,
    STEPS_REPEATS,
    TOY,
    make_data,
)
from report import milliseconds, write_results
from workers import RWorker, r_run, start_r_workers

import nnscratch
from nnscratch.compare import crosscheck


def timed_python(run, epochs):
    """Seconds, minor page faults, seconds of system time of one ``run(epochs)``, and 0 (the
    seconds of R's garbage collector in an R run)."""
    before = resource.getrusage(resource.RUSAGE_SELF)
    start = time.perf_counter()
    run(epochs)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_SELF)
    return seconds, after.ru_minflt - before.ru_minflt, after.ru_stime - before.ru_stime, 0.0


def python_runs(X, y, layers, lr, torch):
    """The table's Python cells: key -> function of the epochs (untimed)."""
    (w_hidden, b_hidden), (w_out, b_out) = ((layer.weights, layer.bias) for layer in layers)
    target = scikit_learn_target(y)

    def scikit_learn(epochs):
        model = mlp_regressor(w_hidden.shape[1], lr, epochs, X.shape[0])
        model.fit(X, target)
        assert model.n_iter_ == epochs, "scikit-learn stopped early"

    runs = {
        "python": lambda epochs: nnscratch.train(layers, X, y, lr, epochs),
        "numpy": lambda epochs: article_numpy_loop(
            X, y, w_hidden, b_hidden, w_out, b_out, lr, epochs
        ),
        "sklearn": scikit_learn,
        "gemms": five_gemms(X, layers),
    }
    if torch is not None:
        runs["torch"] = lambda epochs: torch_loop(
            torch, X, y, w_hidden, b_hidden, w_out, b_out, lr, epochs
        )
    return runs


@dataclasses.dataclass
class Cell:
    """One cell's runs: ``epochs`` per run; per run (seconds, minor faults, system seconds,
    seconds of R's garbage collector)."""

    epochs: int
    repeats: int
    runs: list = dataclasses.field(default_factory=list)

    def per_epoch(self, column=0):
        """The median over the runs of a run's ``column`` (0: seconds, 1: minor faults, 2:
        system seconds, 3: R's garbage collector's seconds), per epoch."""
        return float(np.median([run[column] for run in self.runs])) / self.epochs

    def spread(self):
        """The slowest run's seconds over the fastest's."""
        seconds = [run[0] for run in self.runs]
        return max(seconds) / min(seconds)


def load_size(size, workers, data_dir):
    """Make the data and network of ``size``, hand them to the R workers: (X, y, layers, lr)."""
    X, y, layers, lr = make_data(size)
    X.T.tofile(data_dir / "X.bin")  # column after column, as R reads it
    y.T.tofile(data_dir / "y.bin")
    for worker in workers.values():
        if worker is not None:
            worker.load(data_dir, size.n, size.features, size.hidden, size.outputs, repr(lr), SEED)
    return X, y, layers, lr


def measure_size(size, data, workers, torch):
    """Every cell of one size, their runs interleaved: {key: Cell}."""
    timed = {
        key: (lambda epochs, run=run: timed_python(run, epochs))
        for key, run in python_runs(*data, torch).items()
    }
    for key, _ in COLUMNS + CONTEXT_COLUMNS:
        name, _, what = key.partition(" ")
        if workers.get(name) is not None:
            timed[key] = r_run(workers[name], what)
    cells = {
        key: Cell(*(size.slow if key.startswith("reference") else (size.epochs, size.repeats)))
        for key in timed
    }
    keys = list(timed)
    for turn in range(max(cell.repeats for cell in cells.values())):
        for key in keys[turn % len(keys) :] + keys[: turn % len(keys)]:
            if len(cells[key].runs) < cells[key].repeats:
                cells[key].runs.append(timed[key](cells[key].epochs))
    return cells


def call_seconds(data, workers, repeats=5):
    """Seconds of a call that trains 0 epochs (the checks and copies alone), the median of
    ``repeats``: {"python": s, "reference": s, "openblas": s}."""
    X, y, layers, lr = data
    seconds = {
        "python": np.median(
            [
                timed_python(lambda epochs: nnscratch.train(layers, X, y, lr, epochs), 0)[0]
                for _ in range(repeats)
            ]
        )
    }
    for name, worker in workers.items():
        if worker is not None:
            seconds[name] = np.median([r_run(worker, "nn_train")(0)[0] for _ in range(repeats)])
    return seconds


def check_agreement(size, data, workers, torch, epochs=10):
    """The largest difference between the weights and biases that nnscratch and each
    baseline reach from the same start after ``epochs`` epochs: [(what, difference)].

    scikit-learn's regressor has a linear output layer: it is compared with nnscratch
    given a linear output layer too, and its losses with nnscratch's.
    """
    X, y, layers, lr = data

    def largest(ours, theirs):
        mine = [a for layer in ours for a in (layer.weights, layer.bias)]
        return max(float(np.max(np.abs(a - b))) for a, b in zip(mine, theirs))

    trained = nnscratch.train(layers, X, y, lr, epochs).layers
    start = [a for layer in layers for a in (layer.weights, layer.bias)]
    found = [
        (
            "bare numpy loop against train",
            largest(trained, article_numpy_loop(X, y, *start, lr, epochs)),
        )
    ]
    if torch is not None:
        found.append(
            (
                "torch loop against train",
                largest(trained, torch_loop(torch, X, y, *start, lr, epochs)),
            )
        )
    for name, worker in workers.items():
        if worker is not None:
            found.append(
                (
                    f"bare R loop against nn_train ({name} BLAS)",
                    float(worker.ask("agree", epochs)[0]),
                )
            )
    linear = nnscratch.init_layers(
        [size.features, size.hidden, size.outputs], ["sigmoid", "linear"], SEED, "glorot"
    )
    ours = nnscratch.train(linear, X, y, lr, epochs)
    model = mlp_regressor(size.hidden, lr, 1, size.n).set_params(warm_start=True)
    model.fit(X, scikit_learn_target(y))  # makes its attributes; its start is set next
    model.coefs_ = [layer.weights.copy() for layer in linear]
    model.intercepts_ = [layer.bias.copy() for layer in linear]
    model.set_params(max_iter=epochs, n_iter_no_change=epochs + 1)
    model.fit(X, scikit_learn_target(y))
    theirs = [a for pair in zip(model.coefs_, model.intercepts_) for a in pair]
    found.append(
        (
            "scikit-learn MLPRegressor against train, both with a linear output layer",
            largest(ours.layers, theirs),
        )
    )
    found.append(
        (
            "its loss of each epoch against train's",
            float(np.max(np.abs(np.array(model.loss_curve_[-epochs:]) - ours.loss))),
        )
    )
    return found


def python_profile(run, epochs):
    """cProfile of ``run(epochs)``.

    Returns
    -------
    rows : list of (function, µs per epoch, calls per epoch)
        The ten functions with the most time of their own, the largest first.
    total : float
        µs per epoch of the whole run under the profiler.
    calls : float
        Function calls per epoch that the profiler saw (numpy's operators are not calls).
    """
    profiler = cProfile.Profile()
    profiler.runcall(run, epochs)
    stats = pstats.Stats(profiler)
    rows = []
    for (path, line, name), (_, calls, own, _, _) in stats.stats.items():
        where = f"{Path(path).name}:{line} {name}" if line else name
        rows.append((where, own / epochs * 1e6, calls / epochs))
    rows.sort(key=lambda row: -row[1])
    calls = sum(row[2] for row in rows)
    return rows[:10], stats.total_tt / epochs * 1e6, calls


R_SOURCES = {
    "nnscratch.R": ROOT / "r" / "nnscratch.R",
    "article_loops.R": ROOT / "bench" / "article_loops.R",
}


def r_profile(worker, what, epochs):
    """Rprof of ``what`` (nn_train or bare_loop) for ``epochs`` epochs.

    Rprof's shares of the run's time are turned into µs per epoch with the run's own
    measured time (its counts of samples are not: the kernel's timer ticks more coarsely
    than the 1 ms asked for).

    Returns
    -------
    dict
        ``functions``: (function, µs per epoch) and ``lines``: (file#line, the line, µs per
        epoch), each the ten with the most time of their own, the largest first.
    """
    found = {"functions": [], "lines": []}
    seconds = None
    for line in worker.ask("profile", what, epochs):
        kind, *fields = line.split("\t")
        if kind == "seconds":
            seconds = float(fields[0])
            continue
        name, share = fields[0].strip('"'), float(fields[1]) / 100
        us = share * seconds / epochs * 1e6
        if kind == "function":
            found["functions"].append((name, us))
        else:
            file, _, number = name.partition("#")
            text = (
                R_SOURCES[file].read_text().splitlines()[int(number) - 1].strip()
                if file in R_SOURCES
                else ""
            )
            found["lines"].append((name, text, us))
    return {kind: rows[:10] for kind, rows in found.items()}


def python_steps(data):
    """A few steps of an epoch, each a function of no argument, named as bench/r_worker.R
    names its own: the sigmoid's and its slope's elementwise steps on a matrix of rows x
    hidden units (z), its column sums, the batch that is the whole data, the loss (with
    the check that it is finite) on a matrix of rows x outputs, and an empty call."""
    X, y, layers, _ = data
    z = X @ layers[0].weights
    e = y - 0.5
    rows = slice(0, X.shape[0])
    return {
        "exp(-z)": lambda: np.exp(-z),
        "1 / (1 + e)": lambda: 1 / (1 + z),
        "a * (1 - a)": lambda: z * (1 - z),
        "column sums": lambda: z.sum(axis=0),
        "the batch rows": lambda: (X[rows], y[rows]),
        "the loss": lambda: math.isfinite(float(np.vdot(e, e))),
        "a call of an empty function": lambda: None,
    }


def measure_steps(data, worker, repeats):
    """µs per call of each step of :func:`python_steps` in numpy and in R (None where a
    language has no such step): [(step, numpy µs, R µs)]."""

    def repeated(run):
        def run_them(repeats):
            for _ in range(repeats):
                run()

        return run_them

    numpy = {}
    for step, run in python_steps(data).items():
        run()  # as in R, a first call outside the timing
        numpy[step] = timed_python(repeated(run), repeats)[0] / repeats * 1e6
    r = {}
    if worker is not None:
        for line in worker.ask("steps", repeats):
            step, seconds = line.split("\t")
            r[step] = float(seconds) * 1e6
    return [(step, numpy.get(step), r.get(step)) for step in {**numpy, **r}]


def peak_megabytes(data, worker):
    """MB of arrays alive at the peak of a one-epoch run, beyond those alive before it:
    numpy's (tracemalloc sees its allocations) for train, the bare numpy loop and
    scikit-learn; R's vectors for nn_train and the bare R loop. {key: MB}."""
    runs = python_runs(*data, None)
    peaks = {}
    for key in ("python", "numpy", "sklearn"):
        runs[key](1)  # once before: what a first call imports or caches is not the run's
        tracemalloc.start()
        runs[key](1)
        peaks[key] = tracemalloc.get_traced_memory()[1] / 1e6
        tracemalloc.stop()
    if worker is not None:
        for what in ("nn_train", "bare_loop"):
            peaks[what] = float(worker.ask("peak", what)[0])
    return peaks


def python_probe(repeats):
    """train and the bare numpy loop at the largest size, interleaved, in this process (run
    with --probe by :func:`probe_python`): {key: Cell's fields}."""
    runs = python_runs(*make_data(LARGEST), None)
    cells = {key: Cell(LARGEST.epochs, repeats) for key in ("python", "numpy")}
    for _ in range(repeats):
        for key, cell in cells.items():
            cell.runs.append(timed_python(runs[key], LARGEST.epochs))
    return {key: dataclasses.asdict(cell) for key, cell in cells.items()}


def probe_python(extra_env, repeats=3):
    """:func:`python_probe` in a fresh process as it is and in one with ``extra_env``:
    {setting: {key: Cell}}."""
    found = {}
    for setting, extra in (("as it is", {}), (environment_text(extra_env), extra_env)):
        out = subprocess.run(
            [sys.executable, __file__, "--probe", str(repeats)],
            capture_output=True,
            text=True,
            check=True,
            env=dict(os.environ, **extra),
        )
        found[setting] = {key: Cell(**fields) for key, fields in json.loads(out.stdout).items()}
    return found


def probe_r(plain, extra_env, epochs, repeats=3):
    """nn_train and the bare R loop in the worker ``plain`` (which holds the data) and in
    one started the same way with ``extra_env``, interleaved: {setting: {what: Cell}}."""
    changed = RWorker(plain.directories, extra_env=extra_env)
    changed.load(*plain.data)
    workers = {"as it is": plain, environment_text(extra_env): changed}
    found = {setting: {} for setting in workers}
    for _ in range(repeats):
        for setting, worker in workers.items():
            for what in ("nn_train", "bare_loop"):
                cell = found[setting].setdefault(what, Cell(epochs, repeats))
                cell.runs.append(r_run(worker, what)(epochs))
    changed.close()
    return found


def environment_text(variables):
    """NAME=value NAME=value."""
    return " ".join(f"{name}={value}" for name, value in variables.items())


def time_pair(first, second, repeats):
    """Seconds of each run of ``first`` and ``second``, interleaved: array (repeats, 2)."""
    times = np.zeros((repeats, 2))
    for i in range(repeats):
        for j, run in enumerate((first, second)):
            start = time.perf_counter()
            run()
            times[i, j] = time.perf_counter() - start
    return times


def other_rows(repeats=9):
    """The figures kept from before the table: a full trace against none and what it adds
    per recorded number, the article's and the moons' cross-checks, trace CSVs streamed,
    peak memory. [(what, first, second, ratio or None, goal, met)]."""
    from nnscratch.rbridge import RSession, layers_to_r

    r_session = RSession()
    ro.r["source"](str(ROOT / "bench" / "article_loops.R"), local=r_session.environment)
    article = nnscratch.load_fixture(ROOT / "fixtures" / "article.json")
    rows = []
    python = np.median(
        time_pair(
            lambda: nnscratch.train_fixture(article, trace=True),
            lambda: nnscratch.train_fixture(article),
            repeats,
        ),
        axis=0,
    )
    r = np.median(
        np.asarray(
            r_session.call(
                "time_r_trace",
                layers_to_r(article.layers),
                article.X,
                article.y,
                article.lr,
                article.epochs,
                repeats,
            )
        ),
        axis=0,
    )
    numbers = len(nnscratch.trace_table(nnscratch.train_fixture(article, trace=True).trace))
    for language, (traced, plain) in (("Python", python), ("R", r)):
        ratio = traced / plain
        rows.append(
            (
                f"{language}, full trace against none, article (3 x 4, 5000 epochs)",
                f"{traced:.3f} s",
                f"{plain:.3f} s",
                f"{ratio:.2f}x",
                "at most 3x",
                "yes" if ratio <= 3 else "NO",
            )
        )
        per_number = (traced - plain) / numbers * 1e6
        rows.append(
            (
                f"{language}, what the trace adds per recorded number, article ({numbers:,})",
                f"{per_number:.2f} µs",
                "",
                "",
                "at most 0.7 µs" if language == "R" else "",
                ("yes" if per_number <= 0.7 else "NO") if language == "R" else "",
            )
        )
    seconds = float(
        np.median([timed_python(lambda _: crosscheck(article, r_session), 0)[0] for _ in range(5)])
    )
    rows.append(
        (
            "cross-check of the article (Python + R + transfer + comparison, R running)",
            f"{seconds:.2f} s",
            "",
            "",
            "under 1 s",
            "yes" if seconds < 1 else "NO",
        )
    )
    rows += moons_crosscheck_rows(r_session)
    rows += trace_csv_rows()
    for language in ("Python", "R"):
        megabytes = peak_memory(language)
        rows.append(
            (
                f"{language}: peak memory of two moons, 10,000 epochs, traced every 100 "
                "epochs, beyond the interpreter's",
                f"{megabytes:.1f} MB",
                "",
                "",
                "under 100 MB",
                "yes" if megabytes < 100 else "NO",
            )
        )
    blas = ro.r('extSoftVersion()[["BLAS"]]')[0]
    return rows, blas


def moons_crosscheck_rows(r_session, repeats=3):
    """The moons cross-check with R running (three windows, then both free runs whole),
    and the two runs of its free-run comparison that no window shares, timed alone."""
    from nnscratch.compare import last_bits_changed

    moons = nnscratch.load_fixture(ROOT / "fixtures" / "moons.json")
    checked = crosscheck(moons, r_session)
    assert checked.ok, "the moons cross-check disagrees"

    def perturbed():
        with last_bits_changed():
            nnscratch.train_fixture(moons)

    parts = {
        "the whole cross-check": lambda: crosscheck(moons, r_session),
        "of it: R's free run (2000 epochs, batches of 100)": lambda: r_session.train_fixture(moons),
        "of it: Python's run with one ulp changed, the free runs' yardstick": perturbed,
        "for scale: Python's run untraced, as it runs to the windows and between them": (
            lambda: nnscratch.train_fixture(moons)
        ),
    }
    seconds = {
        what: float(np.median([timed(run) for _ in range(repeats)])) for what, run in parts.items()
    }
    rows = []
    for what, value in seconds.items():
        whole = what == "the whole cross-check"
        rows.append(
            (
                f"cross-check of the moons, {what} (R running)",
                f"{value:.2f} s",
                "",
                "",
                "under 1 s" if whole else "",
                ("yes" if value < 1 else "NO") if whole else "",
            )
        )
    return rows


def timed(run):
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def trace_csv_rows():
    """Trace CSVs streamed while training (the moons, 20 epochs), each language in a
    process of its own, as bench/files_and_memory.py measures them."""
    from files_and_memory import PYTHON_CSV, R_CSV

    moons = ROOT / "fixtures" / "moons.json"
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        csv = Path(folder) / "trace.csv"
        for language, command, goal in (
            ("Python", [sys.executable, "-c", PYTHON_CSV, moons, csv], 1e6),
            ("R", ["Rscript", "-e", R_CSV, moons, csv, ROOT], 3e5),
        ):
            done = subprocess.run(
                list(map(str, command)), capture_output=True, text=True, check=True
            )
            count, _, bare, streamed = map(float, done.stdout.split())
            rate = count / (streamed - bare)
            rows.append(
                (
                    f"{language}, a trace CSV streamed while training, the moons' 20 epochs "
                    f"({count:,.0f} rows): rows per second it adds to the run",
                    f"{rate / 1e3:,.0f}k rows/s",
                    "",
                    "",
                    f"at least {goal / 1e3:,.0f}k rows/s",
                    "yes" if rate >= goal else "NO",
                )
            )
    return rows


MEMORY_RUN = {
    "Python": [
        sys.executable,
        "-c",
        """
import nnscratch
f = nnscratch.load_fixture("fixtures/moons.json")
f.epochs = 10_000
def peak():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM"):
            return int(line.split()[1]) / 1024
before = peak()
nnscratch.train_fixture(f, trace=True, trace_every=100)
print(peak() - before)
""",
    ],
    "R": [
        "Rscript",
        "-e",
        """
source("r/nnscratch.R"); source("bench/article_loops.R")
f <- nn_load_fixture("fixtures/moons.json")
f$epochs <- 10000
before <- peak_memory_mb()
invisible(nn_train_fixture(f, trace = TRUE, trace_every = 100))
cat(peak_memory_mb() - before, "\\n")
""",
    ],
}


def peak_memory(language):
    """MB of peak memory a two-moons run of 10,000 epochs, traced every 100, adds to the
    interpreter's own (after its imports and the fixture's loading)."""
    out = subprocess.run(MEMORY_RUN[language], capture_output=True, text=True, check=True, cwd=ROOT)
    return float(out.stdout.split()[-1])


def measure_reasons(size, data, workers, torch, run):
    """What results.md's reasons show about ``size``, into ``run``."""
    # R's profiles, steps and memory on OpenBLAS, or on the reference BLAS without it.
    run["profiled"] = "openblas" if workers.get("openblas") is not None else "reference"
    profiled = workers.get(run["profiled"])
    runs = python_runs(*data, torch)
    run["calls"][size] = call_seconds(data, workers)
    if size.n >= 1797:
        run["peaks"][size] = peak_megabytes(data, profiled)
    if size == TOY:
        for key, name in (("python", "train"), ("numpy", "the bare numpy loop")):
            run["python_profiles"][f"{name}, {size}, 20000 epochs"] = python_profile(
                runs[key], 20000
            )
    if size == LARGEST:
        run["python_profiles"][f"train, {size}, 2 epochs"] = python_profile(runs["python"], 2)
        run["probes"].append(
            (f"Python, {size}", ("python", "numpy"), probe_python(KEEP_FREED_MEMORY))
        )
    if size in STEPS_REPEATS:
        run["steps"][size] = measure_steps(data, profiled, STEPS_REPEATS[size])
    if profiled is None:
        return
    if size.n >= 1797:
        run["collections"][size] = {}
        for what in ("nn_train", "bare_loop"):
            levels = [line.split("\t") for line in profiled.ask("collections", what, size.epochs)]
            count, total = profiled.ask("allocations", what, size.epochs)[0].split("\t")
            run["collections"][size][what] = {
                "levels": [(int(n), float(megabytes)) for _, n, megabytes in levels],
                "allocations": (int(count) / size.epochs, float(total) / 1e6 / size.epochs),
            }
    if size in (TOY, SIZES[3]):
        epochs = 100_000 if size == TOY else 20
        for what in ("nn_train", "bare_loop"):
            run["r_profiles"][f"{what} on {run['profiled']}, {size}, {epochs} epochs"] = r_profile(
                profiled, what, epochs
            )
    if size in (SIZES[3], LARGEST) and workers.get("openblas") is not None:
        extra_env, epochs = (
            (BIG_R_HEAP, size.epochs) if size == SIZES[3] else (KEEP_FREED_MEMORY, 1)
        )
        run["probes"].append(
            (
                f"R on OpenBLAS, {size}",
                ("nn_train", "bare_loop"),
                probe_r(workers["openblas"], extra_env, epochs),
            )
        )


def main():
    if any(os.environ.get(name) != "1" for name in ONE_THREAD):
        env = dict(os.environ, **dict.fromkeys(ONE_THREAD, "1"))
        os.execve(sys.executable, [sys.executable, *sys.argv], env)
    if sys.argv[1:2] == ["--probe"]:
        print(json.dumps(python_probe(int(sys.argv[2]))))
        return
    started = time.perf_counter()
    import sklearn
    from sklearn.exceptions import ConvergenceWarning
    from threadpoolctl import threadpool_info

    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    torch, torch_missing = import_torch()
    workers, r_missing = start_r_workers()
    run = {
        "measured": {},
        "calls": {},
        "peaks": {},
        "python_profiles": {},
        "r_profiles": {},
        "steps": {},
        "probes": [],
        "collections": {},
        "missing": [torch_missing] * (torch is None)
        + [f"R on the {name} BLAS: {why}" for name, why in r_missing.items()],
        "workers": [name for name, worker in workers.items() if worker is not None],
        "versions": {
            "sklearn": sklearn.__version__,
            "torch": torch.__version__ if torch is not None else "(not installed)",
            "R": subprocess.run(
                ["Rscript", "-e", "cat(R.version.string)"], capture_output=True, text=True
            ).stdout,
        },
    }
    threads = [
        " ".join(filter(None, (info["internal_api"], info.get("version"))))
        + f" in {Path(info['filepath']).name}: {info['num_threads']} thread(s)"
        for info in threadpool_info()
    ]
    if torch is not None:
        threads.append(f"torch.get_num_threads() = {torch.get_num_threads()}")
    for name, worker in workers.items():
        if worker is not None:
            threads.append(
                f"R on the {name} BLAS loaded {worker.blas['loaded']}; its threads: "
                f"{worker.blas['threads']}"
            )
    run["threads"] = threads
    print("\n".join(threads), flush=True)
    with tempfile.TemporaryDirectory() as directory:
        for size in SIZES:
            data = load_size(size, workers, Path(directory))
            if size == SIZES[2]:
                run["agreement_size"] = size
                run["agreement"] = check_agreement(size, data, workers, torch)
            cells = measure_size(size, data, workers, torch)
            run["measured"][size] = cells
            print(
                f"{size}: "
                + ", ".join(
                    f"{key} {milliseconds(cell.per_epoch())}" for key, cell in cells.items()
                ),
                flush=True,
            )
            measure_reasons(size, data, workers, torch, run)
    for worker in workers.values():
        if worker is not None:
            worker.close()
    run["other_rows"], run["rpy2_blas"] = other_rows()
    run["seconds"] = time.perf_counter() - started
    write_results(run)
    print(f"\nwrote {RESULTS.relative_to(ROOT)}")
    print(RESULTS.read_text())


if __name__ == "__main__":
    main()
