"""Files and memory, measured in both languages (issue 11; issue 15's CSV goal).

    .venv/bin/python bench/files_and_memory.py           # about two minutes
    .venv/bin/python bench/files_and_memory.py --long    # also the whole moons trace (~10 min)

- Trace CSV rate: rows per second written by write_trace_csv / nn_write_trace_csv from a
  stored trace (the moons, 20 epochs: 1,128,400 rows), and added to a run by
  train(trace_csv=...) / nn_train(trace_csv = ...): rows / (time with - time without).
- A 50 MB fixture: load_fixture / nn_load_fixture against the bare parser on the same file
  (Python: reading the bytes and json.loads; R: readChar and jsonlite::parse_json), best of
  three, interleaved; two files: 270,000 samples of 8 features, 1,000,000 of 2.
- Peak memory (the maximum resident set, from wait4) of the command lines:
  explain fixtures/moons.json --epoch 2000, check article on the CSV of the article's 5000
  epochs that examples/article_loop.py writes, and with --long,
  train fixtures/moons.json --trace FILE (2000 epochs: 112,840,000 rows, about 5 GB).

Each language runs in its own process; nothing here is a test, and the figures are
printed, not stored (bench/results.md is make bench's).
"""

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import nnscratch

ROOT = Path(__file__).resolve().parents[1]
PYTHON = [sys.executable, "-m", "nnscratch"]
R_CLI = ["Rscript", str(ROOT / "r" / "cli.R")]

PYTHON_CSV = """
import dataclasses, sys, time, nnscratch
f = dataclasses.replace(nnscratch.load_fixture(sys.argv[1]), epochs=20)
trace = nnscratch.train_fixture(f, trace=True).trace
rows = len(nnscratch.trace_table(trace))
best = min(
    (lambda t: (nnscratch.write_trace_csv(trace, sys.argv[2]), time.perf_counter() - t)[1])(
        time.perf_counter()) for _ in range(3))
t = time.perf_counter(); nnscratch.train_fixture(f); bare = time.perf_counter() - t
t = time.perf_counter(); nnscratch.train_fixture(f, trace_csv=sys.argv[2])
streamed = time.perf_counter() - t
print(rows, best, bare, streamed)
"""

R_CSV = """
source(file.path(commandArgs(TRUE)[3], "r", "nnscratch.R"))
f <- nn_load_fixture(commandArgs(TRUE)[1]); f$epochs <- 20
trace <- nn_train_fixture(f, trace = TRUE)$trace
rows <- nrow(nn_trace_table(trace))
best <- min(replicate(3, system.time(nn_write_trace_csv(trace, commandArgs(TRUE)[2]))[["elapsed"]]))
bare <- system.time(nn_train_fixture(f))[["elapsed"]]
streamed <- system.time(nn_train_fixture(f, trace_csv = commandArgs(TRUE)[2]))[["elapsed"]]
cat(rows, best, bare, streamed, "\\n")
"""

PYTHON_LOAD = """
import json, sys, time, nnscratch
path, timings = sys.argv[1], {"parser": [], "load_fixture": []}
for _ in range(3):
    t = time.perf_counter(); json.loads(open(path, "rb").read())
    timings["parser"].append(time.perf_counter() - t)
    t = time.perf_counter(); nnscratch.load_fixture(path)
    timings["load_fixture"].append(time.perf_counter() - t)
print(min(timings["parser"]), min(timings["load_fixture"]))
"""

R_LOAD = """
args <- commandArgs(TRUE)
source(file.path(args[2], "r", "nnscratch.R"))
parser <- loader <- numeric()
for (i in 1:3) {
  parser[i] <- system.time(jsonlite::parse_json(readChar(args[1], file.size(args[1]),
                                                          useBytes = TRUE)))[["elapsed"]]
  loader[i] <- system.time(nn_load_fixture(args[1]))[["elapsed"]]
}
cat(min(parser), min(loader), "\\n")
"""


def peak_memory(command):
    """Run a command; return (seconds, its peak resident memory in MB, exit status).

    GNU time reports it: its own process is small, whereas a child forked from this one
    would count this process's memory too, until it runs the command.
    """
    start = time.perf_counter()
    done = subprocess.run(
        ["/usr/bin/time", "-f", "%M", *command],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    kilobytes = int(done.stderr.strip().splitlines()[-1])
    return time.perf_counter() - start, kilobytes / 1024, done.returncode


def big_fixture(folder, n_samples, n_features):
    rng = np.random.default_rng(0)
    fixture = nnscratch.Fixture(
        name="big",
        description="about 50 MB of samples",
        X=rng.standard_normal((n_samples, n_features)),
        y=(rng.random((n_samples, 1)) > 0.5).astype(float),
        layers=nnscratch.init_layers([n_features, 4, 1], "sigmoid", seed=3),
        lr=0.1,
        epochs=1,
    )
    path = folder / f"big_{n_samples}x{n_features}.json"
    nnscratch.save_fixture(fixture, path)
    return path


def main(long=False):
    moons = ROOT / "fixtures" / "moons.json"
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        csv = folder / "trace.csv"
        print("Trace CSVs (the moons, 20 epochs):")
        for language, command in (
            ("Python", [sys.executable, "-c", PYTHON_CSV, moons, csv]),
            ("R", ["Rscript", "-e", R_CSV, moons, csv, ROOT]),
        ):
            done = subprocess.run(list(map(str, command)), capture_output=True, text=True)
            rows, best, bare, streamed = map(float, done.stdout.split())
            csv.unlink()
            print(
                f"  {language:6s} {rows:,.0f} rows: written from a stored trace at "
                f"{rows / best / 1e3:,.0f}k rows/s; streamed while training, "
                f"{rows / (streamed - bare) / 1e3:,.0f}k rows/s"
            )
        print("A 50 MB fixture, best of 3: the bare parser, then the loader:")
        for shape in ((270_000, 8), (1_000_000, 2)):
            path = big_fixture(folder, *shape)
            size = path.stat().st_size / 1e6
            for language, command in (
                ("Python", [sys.executable, "-c", PYTHON_LOAD, path]),
                ("R", ["Rscript", "-e", R_LOAD, path, ROOT]),
            ):
                done = subprocess.run(list(map(str, command)), capture_output=True, text=True)
                parser, loader = map(float, done.stdout.split())
                print(
                    f"  {language:6s} {shape[0]:,} x {shape[1]} ({size:.0f} MB): parser "
                    f"{parser:.2f} s, loader {loader:.2f} s, {loader / parser:.2f}x"
                )
            path.unlink()
        print("Peak memory of the command lines:")
        learner = (
            folder / "learner.csv"
        )  # the article's 5000 epochs, as a learner's loop writes them
        subprocess.run(
            [
                sys.executable,
                ROOT / "examples" / "article_loop.py",
                ROOT / "fixtures" / "article.json",
                learner,
            ],
            check=True,
        )
        runs = [
            ("explain", ["explain", moons, "--epoch", "2000"]),
            (
                f"check article ({learner.stat().st_size / 1e6:.0f} MB CSV)",
                ["check", "article", learner],
            ),
        ]
        if long:
            runs.append(("train --trace", ["train", moons, "--trace", csv]))
        for name, argv in runs:
            for language, command in (("Python", PYTHON), ("R", R_CLI)):
                seconds, megabytes, status = peak_memory([*command, *map(str, argv)])
                rows = ""
                if csv.exists():
                    with open(csv, "rb") as file:
                        rows = f", {sum(1 for _ in file) - 1:,} rows written"
                    csv.unlink()
                print(
                    f"  {language:6s} {name}: {megabytes:,.0f} MB in {seconds:.1f} s "
                    f"(exit status {status}{rows})"
                )


if __name__ == "__main__":
    main(long="--long" in sys.argv[1:])
