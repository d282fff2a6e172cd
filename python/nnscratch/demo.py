"""Train a fixture in Python and in R and show that they agree: python -m nnscratch.demo.

With no argument it runs the article's example, the fixture "article": each
language's final output beside the target, then the cross-language report. With
--pictures FOLDER it also draws, in both languages, the loss of that run and of the
two moons (on a log scale), with the moons' decision boundary.
"""

import argparse
import sys
import time
from pathlib import Path

from .compare import crosscheck
from .fixtures import FixtureError, load_fixture, train_fixture
from .network import predict

ARTICLE = "article"
MOONS = "moons"


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m nnscratch.demo", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "fixture",
        nargs="?",
        default=ARTICLE,
        help="a fixture file, or the name of one shipped with nnscratch (default: article)",
    )
    parser.add_argument(
        "--pictures",
        metavar="FOLDER",
        type=Path,
        help="draw the loss, and the two moons' decision boundary, in both languages there",
    )
    arguments = parser.parse_args(argv)
    path = arguments.fixture
    try:
        fixture = load_fixture(path)
    except FixtureError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2

    from .rbridge import RSession  # starts R; only once the fixture is known to be good

    print(f"{fixture.name}: {fixture.description}\n")
    r_session = RSession()
    python = train_fixture(fixture)
    r = r_session.train_fixture(r_session.load_fixture(path))
    batches = "" if fixture.batch_size is None else f", batches of {fixture.batch_size}"
    print(f"after {fixture.epochs} epochs (lr {fixture.lr:g}{batches}):")
    print(f"  {'sample':>6}  {'target':>8}  {'python':>10}  {'R':>10}")
    outputs = zip(
        fixture.y, predict(python.layers, fixture.X), r_session.predict(r.layers, fixture.X)
    )
    for sample, (target, py_out, r_out) in enumerate(outputs, start=1):
        for t, p, q in zip(target, py_out, r_out):
            print(f"  {sample:>6}  {t:>8g}  {p:>10.6f}  {q:>10.6f}")
    print(
        f"  loss: first epoch {python.loss[0]:.6f}, last epoch {python.loss[-1]:.6f} (python); "
        f"{r.loss[0]:.6f}, {r.loss[-1]:.6f} (R)\n"
    )

    start = time.perf_counter()
    checked = crosscheck(fixture, r_session)
    seconds = time.perf_counter() - start
    print(checked.report())
    largest = checked.maxima()["largest_difference"].max()
    print(f"largest difference: {largest:.3g}; the cross-check took {seconds:.2f} s")
    if arguments.pictures:
        print()
        for written in draw_pictures(r_session, [path, MOONS], arguments.pictures):
            print(f"wrote {written}")
    return 0 if checked.ok else 1


def draw_pictures(r_session, paths, folder):
    """Train each fixture in Python and in R and draw each run; return the files written."""
    from .plots import plot_training

    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for path in paths:
        fixture = load_fixture(path)
        python_file = folder / f"{fixture.name}_python.png"
        plot_training(train_fixture(fixture), fixture, python_file, log_scale=True)
        r_file = folder / f"{fixture.name}_r.png"
        r_fixture = r_session.call("nn_load_fixture", str(path))
        r_result = r_session.call("nn_train_fixture", r_fixture)
        r_session.call("nn_plot_training", r_result, r_fixture, str(r_file), log_scale=True)
        written += [python_file, r_file]
    return written


if __name__ == "__main__":
    sys.exit(main())
