"""bench/results.md, from what bench.py measured."""

import math
import os
import platform
import time
from pathlib import Path

import numpy as np
from plan import COLUMNS, CONTEXT_COLUMNS, GOALS, LARGEST, RESULTS, SEED, SIZES


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


def per_size_table(run, columns, value, sizes=None):
    """A table of one row per size (of ``sizes``, or all) and one column per (key, heading)
    of ``columns``: ``value(cell)`` where the cell was measured."""
    measured = run["measured"]
    sizes = SIZES if sizes is None else sizes
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


# The largest difference of trained weights that still counts as the same computation: the
# last bits of float64 sums taken in another order, over 10 epochs.
AGREEMENT = 1e-12


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
        "## Every baseline computes what nnscratch computes"
        if all(difference <= AGREEMENT for _, difference in run["agreement"])
        else "## A baseline does NOT compute what nnscratch computes",
        "",
        "Largest difference of the weights and biases reached from the same start, after 10 "
        f"epochs at {run['agreement_size']} (the same: at most {AGREEMENT:g}):",
        "",
        *(
            f"- {what}: {difference:.2g}" + ("" if difference <= AGREEMENT else " (DIFFERS)")
            for what, difference in run["agreement"]
        ),
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
        "What the figures above say of each goal missed, and what would close it; the "
        "figures quoted are this run's.",
        "",
        *(line for paragraph in reading(run) + kept_reading(run) for line in (paragraph, "")),
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


def duration(ms):
    """Milliseconds as µs below 1 ms, else as ms; three significant digits."""
    return f"{significant(ms * 1e3)} µs" if ms < 1 else f"{significant(ms)} ms"


def reading(run):
    """Paragraphs on the goals this run missed, each from the figures measured above."""
    measured = run["measured"]
    big, toy, mid = LARGEST, SIZES[0], SIZES[3]

    def per_epoch(size, key, column):
        cell = measured[size].get(key)
        return None if cell is None else cell.per_epoch(column)

    def ms(size, key, column=0):
        """ms per epoch of the seconds (0), system seconds (2) or GC seconds (3) column."""
        value = per_epoch(size, key, column)
        return None if value is None else value * 1e3

    def ratio(size, top, bottom):
        return ms(size, top) / ms(size, bottom)

    def steps(size):
        return {step: (numpy, r) for step, numpy, r in run["steps"].get(size, [])}

    def other_setting(found):
        return next(cells for setting, cells in found.items() if setting != "as it is")

    probes = {title: found for title, _, found in run["probes"]}
    paragraphs = []
    python_probe = probes.get(f"Python, {big}")
    if python_probe and (
        ratio(big, "python", "numpy") > 1.05 or ratio(big, "python", "gemms") > 1.3
    ):
        kept, as_is = other_setting(python_probe), python_probe["as it is"]
        peaks = run["peaks"][big]
        extra = ms(big, "python") - ms(big, "numpy")
        extra_system = ms(big, "python", 2) - ms(big, "numpy", 2)
        paragraphs.append(
            f"**Python at {big}** ({ratio(big, 'python', 'numpy'):.2f}x the bare loop, "
            f"{ratio(big, 'python', 'sklearn'):.2f}x scikit-learn, "
            f"{ratio(big, 'python', 'gemms'):.2f}x the GEMMs). Of the {duration(extra)} per "
            f"epoch that train adds to the loop, {duration(extra_system)} "
            f"({extra_system / extra:.0%}) is system time: {duration(ms(big, 'python', 2))} "
            f"against the loop's {duration(ms(big, 'numpy', 2))} and scikit-learn's "
            f"{duration(ms(big, 'sklearn', 2))}, with "
            f"{per_epoch(big, 'python', 1):.0f} minor page faults per epoch against "
            f"{per_epoch(big, 'numpy', 1):.0f} and {per_epoch(big, 'sklearn', 1):.0f}. train "
            f"keeps {peaks['python']:.0f} MB of arrays at its peak against the loop's "
            f"{peaks['numpy']:.0f} MB and scikit-learn's {peaks['sklearn']:.0f} MB. An array of "
            f"rows x hidden units is {big.n * big.hidden * 8 / 1e6:.0f} MB, above the 32 MB up "
            "to which glibc's malloc serves blocks from its heap: each is mapped when made and "
            "unmapped when freed, and the next epoch's arrays fault their pages in again, "
            "zeroed by the kernel. What a fault costs the kernel varies with the state of the "
            "machine's memory: in the probe's fresh process as it is, train's "
            f"{as_is['python'].per_epoch(1):.0f} faults per epoch cost "
            f"{duration(as_is['python'].per_epoch(2) * 1e3)} of system time, and it ran at "
            f"{as_is['python'].per_epoch() / as_is['numpy'].per_epoch():.2f}x the loop. In a "
            "process whose allocator keeps freed memory there are none to pay: train makes "
            f"{kept['python'].per_epoch(1):.0f} faults per epoch and runs at "
            f"{kept['python'].per_epoch() / kept['numpy'].per_epoch():.2f}x the bare loop. "
            "What would close it: fewer arrays of rows x hidden units made per epoch, and "
            "those made kept from epoch to epoch and written into (out=, in-place operators), "
            "so that their memory stays mapped, as scikit-learn, which works in place, does."
        )
    middle = [size for size in SIZES[1:-1] if ratio(size, "python", "numpy") > 1.05]
    if middle:
        extra = {size: ms(size, "python") - ms(size, "numpy") for size in middle}
        toy_extra = ms(toy, "python") - ms(toy, "numpy")
        paragraphs.append(
            "**Python from 1000 to 20000 rows** ("
            + ", ".join(f"{ratio(size, 'python', 'numpy'):.2f}x at {size}" for size in middle)
            + "). What train adds to the loop per epoch: "
            + ", ".join(
                f"{duration(extra[size])} at {size} (minor page faults "
                f"{per_epoch(size, 'python', 1):.0f} against {per_epoch(size, 'numpy', 1):.0f})"
                for size in middle
            )
            + f", against {duration(toy_extra)} on the toy"
            + (
                ": it grows with the data, so it is array work, not the cost of calls"
                if min(extra.values()) > 3 * toy_extra
                else ""
            )
            + ". train keeps more arrays alive at its peak ("
            + ", ".join(
                f"{run['peaks'][size]['python']:.1f} MB against "
                f"{run['peaks'][size]['numpy']:.1f} MB at {size}"
                for size in middle
                if size in run["peaks"]
            )
            + "), each a pass over memory that the loop does not make. What would close it: "
            "as at the largest size, fewer full-size arrays per epoch."
        )
    train_profile = run["python_profiles"].get(f"train, {toy}, 20000 epochs")
    loop_profile = run["python_profiles"].get(f"the bare numpy loop, {toy}, 20000 epochs")
    if ratio(toy, "python", "numpy") > 1.10 and train_profile and loop_profile:
        numpy_steps = {step: numpy for step, (numpy, _) in steps(toy).items()}
        paragraphs.append(
            f"**Python on the toy** ({ratio(toy, 'python', 'numpy'):.2f}x): train adds "
            f"{duration(ms(toy, 'python') - ms(toy, 'numpy'))} per epoch to the loop's "
            f"{duration(ms(toy, 'numpy'))}. cProfile sees {train_profile[2]:.0f} Python calls "
            f"per epoch in train against {loop_profile[2]:.0f} in the loop; the most time of "
            "their own (under the profiler, which inflates each call) goes to "
            + ", ".join(
                f"`{name}` ({us:.3g} µs, {calls:g} calls)"
                for name, us, calls in train_profile[0][:4]
            )
            + ". Timed alone, a Python call costs "
            f"{numpy_steps['a call of an empty function']:.2f} µs, the loss with its check "
            f"{numpy_steps['the loss']:.2f} µs and slicing X and y "
            f"{numpy_steps['the batch rows']:.2f} µs. What would close it: fewer calls per "
            f"epoch; the 10% allowed is {duration(ms(toy, 'numpy') * 0.1)}."
        )
    slow_toy = [
        name for name in run["workers"] if ratio(toy, f"{name} nn_train", f"{name} bare_loop") > 1.1
    ]
    r_toy = run["r_profiles"].get(f"nn_train on {run.get('profiled')}, {toy}, 100000 epochs")
    if slow_toy and r_toy:
        name = slow_toy[0]
        r_steps = {step: r for step, (_, r) in steps(toy).items()}
        paragraphs.append(
            "**R on the toy** ("
            + ", ".join(
                f"{ratio(toy, f'{blas} nn_train', f'{blas} bare_loop'):.2f}x on {blas}"
                for blas in slow_toy
            )
            + "): nn_train adds "
            f"{duration(ms(toy, f'{name} nn_train') - ms(toy, f'{name} bare_loop'))} per epoch "
            f"to the bare loop's {duration(ms(toy, f'{name} bare_loop'))} (on {name}). Rprof "
            "gives the most time of their own to the lines "
            + ", ".join(f"`{text}` ({us:.3g} µs)" for _, text, us in r_toy["lines"][:4])
            + " and to the functions "
            + ", ".join(f"`{function}` ({us:.3g} µs)" for function, us in r_toy["functions"][:4])
            + ". Timed alone, an R call costs "
            f"{r_steps['a call of an empty function']:.2f} µs, `colSums` "
            f"{r_steps['column sums']:.2f} µs against `.colSums`'s "
            f"{r_steps['column sums, .colSums']:.2f} µs, and the batch's row numbers "
            f"{r_steps['the batch rows']:.2f} µs. What would close it: fewer R calls, lists "
            f"and checks per epoch; the 10% allowed is "
            f"{duration(ms(toy, f'{name} bare_loop') * 0.1)}."
        )
    if "reference" in run["workers"]:
        slower = [
            size
            for size in SIZES[2:]
            if ratio(size, "reference nn_train", "reference bare_loop") > 1.10
            and ms(size, "reference gemms") > ms(size, "reference gemms_t")
        ]
        if slower:

            def products(size, blas):
                return (
                    f"{duration(ms(size, f'{blas} gemms'))} against "
                    f"{duration(ms(size, f'{blas} gemms_t'))}"
                )

            paragraphs.append(
                "**R on the reference BLAS** ("
                + ", ".join(
                    f"{ratio(size, 'reference nn_train', 'reference bare_loop'):.2f}x at {size}"
                    for size in slower
                )
                + "). nn_train multiplies with `crossprod(A, D)` and `tcrossprod(D, W)` where "
                "the bare loop writes `t(A) %*% D` and `D %*% t(W)`, and on the reference BLAS "
                "the first are the slower. R's five products of an epoch, written as nn_train "
                "writes them against written with t(): "
                + "; ".join(
                    f"at {size}, {products(size, 'reference')} on the reference BLAS"
                    + (
                        f", {products(size, 'openblas')} on OpenBLAS"
                        if "openblas" in run["workers"]
                        else ""
                    )
                    for size in slower
                )
                + ". What would close it on the reference BLAS: the spelling that is the "
                "faster there, which need not be the faster on OpenBLAS."
            )
    collections = run["collections"].get(mid, {})
    slow_mid = [
        name for name in run["workers"] if ratio(mid, f"{name} nn_train", f"{name} bare_loop") > 1.1
    ]
    if collections and slow_mid:
        ours, bare = collections["nn_train"], collections["bare_loop"]
        blas = run["profiled"]
        heap_probe = probes.get(f"R on OpenBLAS, {mid}")
        big_heap = ""
        if heap_probe:
            cells = other_setting(heap_probe)
            big_heap = (
                " Started with R_VSIZE=2G, so that no collection is needed, nn_train runs at "
                f"{cells['nn_train'].per_epoch() / cells['bare_loop'].per_epoch():.2f}x the "
                "bare loop (the probe above)."
            )
        paragraphs.append(
            f"**R at {mid}** ("
            + ", ".join(
                f"{ratio(mid, f'{name} nn_train', f'{name} bare_loop'):.2f}x on {name}"
                for name in slow_mid
            )
            + f"): R's garbage collector takes {duration(ms(mid, f'{blas} nn_train', 3))} per "
            f"epoch of nn_train against {duration(ms(mid, f'{blas} bare_loop', 3))} of the "
            f"bare loop (on {blas}). In {mid.epochs} epochs gcinfo counts "
            f"{ours['levels'][2][0]} full collections for nn_train against "
            f"{bare['levels'][2][0]}; after its level-0 collections "
            f"{ours['levels'][0][1]:.0f} MB of vectors are still in use against "
            f"{bare['levels'][0][1]:.0f} MB, though both allocate about as much per epoch "
            f"({ours['allocations'][1]:.0f} MB against {bare['allocations'][1]:.0f} MB, "
            "Rprofmem): nn_train's large matrices outlive a young collection, and only full "
            f"ones free them.{big_heap} What would close it: nn_train's matrices of an epoch "
            "no longer referenced when the next epoch allocates, as the bare loop's are "
            "(which reference keeps them is not measured here)."
        )
    if "openblas" in run["workers"]:
        for size in SIZES[2:]:
            if ratio(size, "openblas nn_train", "python") <= 1.3 or size not in run["steps"]:
                continue
            elementwise = [steps(size)[step] for step in ("exp(-z)", "1 / (1 + e)", "a * (1 - a)")]
            r_elementwise = sum(r for _, r in elementwise) / 1e3
            floor = ms(size, "openblas gemms") + r_elementwise
            allowed = 1.3 * ms(size, "python")
            gc = ms(size, "openblas nn_train", 3)
            paragraphs.append(
                f"**R on OpenBLAS against Python at {size}** "
                f"({ratio(size, 'openblas nn_train', 'python'):.2f}x). R's five products on "
                f"Debian's OpenBLAS take {duration(ms(size, 'openblas gemms'))} per epoch "
                f"against numpy's {duration(ms(size, 'gemms'))} on its own OpenBLAS; the "
                "sigmoid's and its slope's elementwise steps on the hidden layer, timed alone, "
                f"{duration(r_elementwise)} in R against "
                f"{duration(sum(numpy for numpy, _ in elementwise) / 1e3)} in numpy"
                + (
                    f"; R's garbage collector {duration(gc)}"
                    if gc > 0.1 * ms(size, "python")
                    else ""
                )
                + f". The products and those steps alone make {duration(floor)}, "
                + (
                    f"more than the {duration(allowed)} that 1.3x Python's epoch allows: the "
                    "goal is out of reach of R's own arithmetic here, whatever nn_train does."
                    if floor > allowed
                    else f"within the {duration(allowed)} that 1.3x Python's epoch allows; "
                    "the rest is nn_train's own (above)."
                )
            )
    return paragraphs or ["Every goal of the table is met."]


def kept_reading(run):
    """A paragraph on the moons cross-check, when it misses its second, from its rows."""
    prefix = "cross-check of the moons, "
    seconds = {
        what[len(prefix) :].removesuffix(" (R running)"): float(first.split()[0])
        for what, first, *_ in run["other_rows"]
        if what.startswith(prefix)
    }
    whole = seconds.pop("the whole cross-check", None)
    if whole is None or whole < 1:
        return []
    r_free, perturbed, python = seconds.values()
    return [
        f"**The moons cross-check** ({whole:.2f} s, with R running). It traces three windows "
        "in both languages and then, as the harness's free runs do, compares the two runs "
        f"whole. Two runs of all 2000 epochs (20,000 iterations) that no window shares take "
        f"{r_free + perturbed:.2f} s of it ({(r_free + perturbed) / whole:.0%}): R's free run "
        f"{r_free:.2f} s, and Python's run with one ulp changed in every activation and slope, "
        f"the yardstick of how far last bits move the run, {perturbed:.2f} s, "
        f"{perturbed / python:.1f}x Python's plain run ({python:.2f} s), as each of its four "
        "activation and slope calls an iteration adds the nudge's array operations. What "
        "would close it: a cheaper nudge (the last bit flipped by one integer operation) "
        "brings the yardstick near Python's plain run, but R's free run alone plus that "
        f"already take {r_free + python:.2f} s: under 1 s needs an R iteration much cheaper "
        "than nn_step's, or a cross-check that does not compare the whole run, which the "
        "harness promises."
    ]
