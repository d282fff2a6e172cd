"""bench/results.md, from what bench.py measured."""

import math
import os
import platform
import time
from pathlib import Path

import numpy as np
from plan import COLUMNS, CONTEXT_COLUMNS, GOALS, RESULTS, SEED, SIZES


def cpu():
    """The processor's model name (Linux), or the machine's kind."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.machine()


def significant(value):
    """Three significant digits, no exponent."""
    return f"{value:.{max(0, 2 - math.floor(math.log10(value)))}f}" if value > 0 else "0"


def milliseconds(seconds):
    """Seconds as milliseconds, three significant digits."""
    return significant(seconds * 1e3)


def markdown_table(heading, rows):
    """A markdown table: list of lines."""
    lines = ["| " + " | ".join(heading) + " |", "|" + "---|" * len(heading)]
    return lines + ["| " + " | ".join(str(value) for value in row) + " |" for row in rows]


def goal_rows(measured):
    """Each goal at each size it holds at: (goal, size, ratio, bound, met)."""
    rows = []
    for what, top, bottom, bound, holds in GOALS:
        for size in filter(holds, SIZES):
            cells = measured[size]
            if top not in cells or bottom not in cells:
                rows.append((what, size, "not measured", f"at most {bound:g}x", "not measured"))
                continue
            ratio = cells[top].per_epoch() / cells[bottom].per_epoch()
            met = "yes" if ratio <= bound else "NO"
            rows.append((what, size, f"{ratio:.2f}x", f"at most {bound:g}x", met))
    return rows


def per_size_table(run, columns, value, sizes=SIZES):
    """A table of one row per size and one column per (key, heading) of ``columns``:
    ``value(cell)`` where the cell was measured."""
    measured = run["measured"]
    return markdown_table(
        ["size", *(heading for _, heading in columns)],
        [
            (
                size,
                *(
                    value(measured[size][key]) if key in measured[size] else "not measured"
                    for key, _ in columns
                ),
            )
            for size in sizes
        ],
    )


def table_section(run):
    """The table of ms per epoch, how it was run, and each cell against the floor."""
    measured = run["measured"]
    floor = {size: measured[size]["gemms"].per_epoch() for size in SIZES}
    r_columns = [(key, heading) for key, heading in COLUMNS if " " in key]
    return [
        "## Milliseconds per epoch",
        "",
        "Full-batch gradient descent, sigmoid hidden and output units, float64, on synthetic "
        f"data made by the bench (seed {SEED}): X uniform on [0, 1), y one-hot (0/1 for one "
        "output) of the largest of a random linear map of X; lr = 1 / rows; the networks' "
        "first weights from `init_layers` / `nn_init_layers` (Glorot), the same in both "
        "languages. Each cell is the median of its runs divided by the epochs of a run (a "
        "run is one call, its checks and copies included); the runs of one size are "
        "interleaved, their order turning by one each round.",
        "",
        *per_size_table(run, COLUMNS, lambda cell: milliseconds(cell.per_epoch())),
        "",
        "Epochs per run x runs per cell: "
        + "; ".join(
            f"{size}: {size.epochs} x {size.repeats} (on R's reference BLAS "
            f"{size.slow[0]} x {size.slow[1]})"
            for size in SIZES
        )
        + ".",
        *(f"Not measured: {why}." for why in run["missing"]),
        "",
        "The machine is shared: the slowest run of each cell over its fastest shows how much "
        "the load varied.",
        "",
        *per_size_table(run, COLUMNS, lambda cell: f"{cell.spread():.2f}"),
        "",
        "Every cell over the five GEMMs alone (numpy), the floor:",
        "",
        *markdown_table(
            ["size", *(heading for key, heading in COLUMNS if key != "gemms")],
            [
                (
                    size,
                    *(
                        f"{measured[size][key].per_epoch() / floor[size]:.2f}x"
                        if key in measured[size]
                        else "not measured"
                        for key, _ in COLUMNS
                        if key != "gemms"
                    ),
                )
                for size in SIZES
            ],
        ),
        "",
        "R's five products of an epoch (ms per epoch), written as nn_train writes them "
        "(`crossprod(A, D)`, `tcrossprod(D, W)`) and as the article and the bare R loop do "
        "(`t(A) %*% D`, `D %*% t(W)`), measured in the same rounds; the numpy floor beside "
        "them:",
        "",
        *per_size_table(
            run,
            [*CONTEXT_COLUMNS, ("gemms", "the five GEMMs (numpy)")],
            lambda cell: milliseconds(cell.per_epoch()),
        ),
        "",
        "R's time per epoch in its garbage collector (ms, `gc.time()`), of the R cells above:",
        "",
        *per_size_table(run, r_columns, lambda cell: milliseconds(cell.per_epoch(3))),
    ]


def python_reasons(run):
    """What Python's train does that the bare numpy loop does not, measured."""
    memory_columns = [
        (key, heading) for key, heading in COLUMNS if key in ("python", "numpy", "sklearn", "torch")
    ]
    lines = [
        "### Python's train against the bare numpy loop and scikit-learn",
        "",
        "Minor page faults per epoch / ms of system (kernel) time per epoch, medians over the "
        "runs of the table:",
        "",
        *per_size_table(
            run,
            memory_columns,
            lambda cell: f"{cell.per_epoch(1):.0f} / {significant(cell.per_epoch(2) * 1e3)}",
            SIZES[2:],
        ),
        "",
        "MB of arrays alive at the peak of a one-epoch run, beyond those alive before it "
        "(numpy's by tracemalloc; R's vectors by `gc()`'s max used):",
        "",
        *markdown_table(
            [
                "size",
                "nnscratch Py",
                "bare numpy loop",
                "scikit-learn",
                "nnscratch R",
                "bare R loop",
            ],
            [
                (
                    size,
                    *(
                        f"{peaks[key]:.1f}" if key in peaks else "not measured"
                        for key in ("python", "numpy", "sklearn", "nn_train", "bare_loop")
                    ),
                )
                for size, peaks in run["peaks"].items()
            ],
        ),
        "",
        "ms of a call of train that trains 0 epochs (its checks and copies): "
        + "; ".join(f"{size}: {milliseconds(run['calls'][size]['python'])}" for size in SIZES)
        + ".",
        "",
    ]
    for title, (rows, total, calls) in run["python_profiles"].items():
        lines += [
            f"cProfile of {title}: {significant(total)} µs per epoch under the profiler "
            f"(which adds a cost to every call it sees), {calls:.1f} calls per epoch; each "
            "function's own time:",
            "",
            *markdown_table(
                ["function", "µs per epoch", "calls per epoch"],
                [(f"`{name}`", significant(us), f"{n:g}") for name, us, n in rows],
            ),
            "",
        ]
    return lines


def probes_section(run):
    """The probes: nnscratch and its bare loop in processes started with other settings."""
    lines = [
        "### The same runs in processes started with other settings",
        "",
        "nnscratch and its bare loop, interleaved, 3 runs each, in a process as the table's "
        "and in one started with the settings named. `MALLOC_MMAP_MAX_=0 "
        "MALLOC_TRIM_THRESHOLD_=...` tells glibc's allocator to keep the memory that is "
        "freed (big blocks from the heap, not from mmap, which gives them back to the kernel "
        "when they are freed; the heap never trimmed); `R_VSIZE=2G` starts R with a vector "
        "heap so big that its garbage collector need not run to make room. Per epoch: ms, "
        "minor page faults, ms of system time (and in R, ms of its garbage collector).",
        "",
    ]
    for title, keys, found in run["probes"]:
        in_r = keys[0] == "nn_train"
        lines += [
            f"{title}:",
            "",
            *markdown_table(
                ["process", "nnscratch", "bare loop", "nnscratch / bare loop"],
                [
                    (
                        setting,
                        *(
                            f"{milliseconds(cells[key].per_epoch())} ms, "
                            f"{cells[key].per_epoch(1):.0f}, "
                            f"{milliseconds(cells[key].per_epoch(2))} ms"
                            + (f", {milliseconds(cells[key].per_epoch(3))} ms" if in_r else "")
                            for key in keys
                        ),
                        f"{cells[keys[0]].per_epoch() / cells[keys[1]].per_epoch():.2f}x",
                    )
                    for setting, cells in found.items()
                ],
            ),
            "",
        ]
    return lines


def r_reasons(run):
    """What R's nn_train does that the bare R loop does not, measured."""
    r_columns = [(key, heading) for key, heading in COLUMNS if " " in key]
    lines = [
        "### R's nn_train against the bare R loop",
        "",
        "Minor page faults per epoch / ms of system time per epoch / ms of R's garbage "
        "collector per epoch (`gc.time()`), medians over the runs of the table:",
        "",
        *per_size_table(
            run,
            r_columns,
            lambda cell: (
                f"{cell.per_epoch(1):.0f} / {significant(cell.per_epoch(2) * 1e3)} / "
                f"{significant(cell.per_epoch(3) * 1e3)}"
            ),
        ),
        "",
        f"R's memory in a run of the table's epochs (on {run['profiled']}): vectors of 100 kB "
        "or more allocated per epoch (`Rprofmem`: how many, MB); garbage collections of each level "
        "(0, 1, and 2: a full collection) in the run, and the MB of vectors still in use "
        "after them, the mean (`gcinfo()`):",
        "",
        *markdown_table(
            ["size", "epochs", "", "allocated per epoch", "level 0", "level 1", "level 2"],
            [
                (
                    size if what == "nn_train" else "",
                    size.epochs if what == "nn_train" else "",
                    "nnscratch R" if what == "nn_train" else "bare R loop",
                    f"{counts['allocations'][0]:g}, {counts['allocations'][1]:.1f} MB",
                    *(
                        f"{n} ({megabytes:.1f} MB)" if n else "0"
                        for n, megabytes in counts["levels"]
                    ),
                )
                for size, found in run["collections"].items()
                for what, counts in found.items()
            ],
        ),
        "",
        "ms of a call of nn_train that trains 0 epochs (its checks and copies): "
        + "; ".join(
            f"{size}: "
            + ", ".join(
                f"{milliseconds(run['calls'][size][name])} ({name} BLAS)" for name in run["workers"]
            )
            for size in SIZES
        )
        + ".",
        "",
    ]
    for title, found in run["r_profiles"].items():
        lines += [
            f"Rprof of {title}, µs per epoch of each function's own time (`<GC>`: the "
            "garbage collector) and of each line's (its share of the samples times the "
            "run's measured time):",
            "",
            *markdown_table(
                ["function", "µs per epoch"],
                [(f"`{name}`", significant(us)) for name, us in found["functions"]],
            ),
            "",
            *markdown_table(
                ["line", "code", "µs per epoch"],
                [
                    (where, f"`{text}`" if text else "", significant(us))
                    for where, text, us in found["lines"]
                ],
            ),
            "",
        ]
    return lines


def steps_section(run):
    """A few steps of an epoch, timed alone in numpy and in R."""

    def us(value):
        return "" if value is None else significant(value)

    return [
        "### Steps of an epoch, timed alone in numpy and in R",
        "",
        "µs per call, on matrices the size of the network's: `z` (and `a`, `e`) rows x hidden "
        "units, the loss's rows x outputs. Each call is made from a loop in its language "
        "(the last row: that loop's cost alone). The batch's rows: Python slices X and y; R "
        "computes the row numbers (nn_train then uses X itself).",
        "",
        *markdown_table(
            ["size", "step", "numpy", "R", "R / numpy"],
            [
                (
                    size,
                    step,
                    us(numpy),
                    us(r),
                    f"{r / numpy:.1f}x" if numpy is not None and r is not None else "",
                )
                for size, steps in run["steps"].items()
                for step, numpy, r in steps
            ],
        ),
        "",
    ]


def write_results(run):
    """bench/results.md, from everything measured (``run``, a dict)."""
    lines = [
        "# nnscratch benchmarks",
        "",
        f"Written by `make bench` on {time.strftime('%Y-%m-%d')}; bench/bench.py ran "
        f"{run['seconds']:.0f} s. {cpu()}, {os.cpu_count()} cores; Python "
        f"{platform.python_version()}, numpy {np.__version__}, scikit-learn "
        f"{run['versions']['sklearn']}, torch {run['versions']['torch']}; "
        f"{run['versions']['R']}. OPENBLAS_CORETYPE="
        f"{os.environ.get('OPENBLAS_CORETYPE', '(not set)')}.",
        "",
        "One thread for every BLAS: " + "; ".join(run["threads"]) + ".",
        "",
        *table_section(run),
        "",
        "## Goals (issue 15, item 1): each a ratio of two cells above",
        "",
        *markdown_table(["goal", "size", "ratio", "bound", "met"], goal_rows(run["measured"])),
        "",
        "## Every baseline computes what nnscratch computes",
        "",
        "Largest difference of the weights and biases reached from the same start, after 10 "
        f"epochs at {run['agreement_size']}:",
        "",
        *(f"- {what}: {difference:.2g}" for what, difference in run["agreement"]),
        "",
        SCIKIT_LEARN_NOTE,
        "",
        "## Figures kept from before the table",
        "",
        *markdown_table(
            ["measurement", "first", "second", "ratio", "goal", "met"], run["other_rows"]
        ),
        "",
        f"(The R of these rows runs inside Python through rpy2, on {run['rpy2_blas']}.)",
        "",
        "## Where a goal is missed: measured reasons",
        "",
        *python_reasons(run),
        *r_reasons(run),
        *probes_section(run),
        *steps_section(run),
        "### Reading",
        "",
        NOTES,
    ]
    RESULTS.write_text("\n".join(lines) + "\n", encoding="utf-8")


SCIKIT_LEARN_NOTE = """scikit-learn's MLPRegressor is set to plain full-batch gradient descent
(solver='sgd', momentum=0, batch_size = rows, learning_rate='constant', alpha=0,
shuffle=False, logistic hidden units). It is the same algorithm up to two things, both
shown by the rows above: its loss is ours (the mean of (y - output)^2 / 2), but its
gradient is that of the summed squared error divided by the rows, where ours is summed, so
`learning_rate_init = lr * rows` makes the same update; and its output layer is linear
(the regressor has no other), where the table's networks have sigmoid outputs: one
sigmoid and one slope of rows x outputs less per epoch for scikit-learn."""

NOTES = """(written from the run above)"""
