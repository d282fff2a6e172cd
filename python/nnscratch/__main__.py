"""The command line: nnscratch (or python -m nnscratch) train | crosscheck | explain | check.

Also fixtures, the list of the fixtures shipped with nnscratch. R has the same commands
with the same arguments: Rscript r/cli.R ...
Errors print one line and exit with status 2; a crosscheck that finds the two
languages apart, and a check that finds a learner's numbers apart from nnscratch's,
exit with status 1.
"""

import argparse
import dataclasses
import re
import sys
import time

from . import __version__
from .check import check_trace
from .checks import InputError, check_training
from .explain import explain
from .fixtures import (
    FIXTURE_FOLDER,
    list_fixtures,
    load_fixture,
    save_fixture,
    train_fixture,
    write_trace_csv,
)
from .page import explain_html
from .plots import accuracy
from .spreadsheet import write_explain_xlsx

# A run whose epochs take longer than this, on a terminal, gets a progress bar.
PROGRESS_AFTER_SECONDS = 2.0


class UsageError(Exception):
    """Arguments the command line does not take."""


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line, like every other error here."""

    def error(self, message):
        raise UsageError(f"{message} (see {self.prog} --help)")


def parser():
    main = OneLineParser(prog="nnscratch", description=__doc__.splitlines()[0])
    main.add_argument("--version", action="version", version=f"nnscratch {__version__}")
    commands = main.add_subparsers(dest="command", required=True, parser_class=OneLineParser)

    train = commands.add_parser("train", help="train a fixture, printing the loss")
    train.add_argument("fixture")
    train.add_argument("--epochs", type=int, help="instead of the fixture's")
    train.add_argument("--lr", type=float, help="instead of the fixture's")
    train.add_argument("--batch-size", type=int, help="instead of the fixture's")
    train.add_argument("--seed", type=int, help="shuffle every epoch, from this seed")
    train.add_argument("--every", type=int, help="print the loss every N epochs")
    train.add_argument("--trace", metavar="FILE.csv", help="write the trace")
    train.add_argument("--plot", metavar="FILE.png", help="draw the loss (and the boundary)")
    train.add_argument("--log-scale", action="store_true", help="the plot's loss on a log axis")
    train.add_argument("--dpi", type=int, default=100, help="the plot's pixels per inch")
    train.add_argument("--save", metavar="MODEL.json", help="save the trained network")

    crosscheck = commands.add_parser("crosscheck", help="train in Python and in R, compare")
    crosscheck.add_argument("fixture", nargs="+")

    explain_command = commands.add_parser("explain", help="the eleven steps of one iteration")
    explain_command.add_argument("fixture")
    explain_command.add_argument("--epoch", type=int, default=1)
    explain_command.add_argument("--iteration", type=int, default=1)
    explain_command.add_argument("--digits", type=int, default=3)
    explain_command.add_argument(
        "--xlsx", metavar="FILE.xlsx", help="also write the steps as a spreadsheet (Python only)"
    )
    explain_command.add_argument(
        "--html", metavar="FILE.html", help="also write the walkthrough page, opening there"
    )

    check = commands.add_parser("check", help="check your own network's numbers (a CSV)")
    check.add_argument("fixture")
    check.add_argument("trace", metavar="MINE.csv")

    commands.add_parser("fixtures", help="list the fixtures shipped with nnscratch")
    return main


def main(argv=None):
    """Run one command; return the exit status (0; 1 when a crosscheck or a check finds
    numbers apart; 2 for bad input)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        if argv and not argv[0].startswith("-") and argv[0] not in COMMANDS:
            raise UsageError(f"unknown command '{argv[0]}'; the commands are {', '.join(COMMANDS)}")
        arguments, unknown = parser().parse_known_args(argv)
        if unknown:
            raise UsageError(f"unrecognized argument: {unknown[0]}")
        return COMMANDS[arguments.command](arguments)
    except (UsageError, InputError, OSError, ImportError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


def train_command(arguments):
    fixture = load_fixture(arguments.fixture)
    changes = {
        "epochs": arguments.epochs,
        "lr": arguments.lr,
        "batch_size": arguments.batch_size,
        "seed": arguments.seed,
    }
    fixture = dataclasses.replace(
        fixture, **{key: value for key, value in changes.items() if value is not None}
    )
    if arguments.seed is not None:
        fixture.shuffle = True
    f = fixture
    check_training(f.layers, f.X, f.y, f.lr, f.epochs, f.batch_size, f.shuffle, f.seed)
    every = arguments.every or max(1, fixture.epochs // 10)
    batches = "" if fixture.batch_size is None else f", batches of {fixture.batch_size}"
    shuffled = f", shuffled (seed {fixture.seed})" if fixture.shuffle else ""
    print(
        f"{fixture.name}: {fixture.X.shape[0]} samples, {fixture.epochs} epochs, "
        f"lr {fixture.lr:g}{batches}{shuffled}"
    )
    report = Progress(fixture.epochs, every)
    result = train_fixture(fixture, trace=arguments.trace is not None, progress=report)
    report.finish()
    print(f"final loss {result.loss[-1]:.6f}" if fixture.epochs else "no epochs")
    score = accuracy(result.layers, fixture.X, fixture.y)
    if score is not None:  # classes, not a regression
        print(f"accuracy {score:.4f}")
    if arguments.trace:
        write_trace_csv(result.trace, arguments.trace)
        print(f"wrote {arguments.trace}")
    if arguments.plot:
        from .plots import plot_training

        plot_training(result, fixture, arguments.plot, arguments.log_scale, arguments.dpi)
        print(f"wrote {arguments.plot}")
    if arguments.save:
        save_fixture(dataclasses.replace(fixture, layers=result.layers), arguments.save)
        print(f"wrote {arguments.save}")
    return 0


class Progress:
    """Prints the loss every ``every`` epochs; on a terminal, a long run also gets a bar."""

    def __init__(self, epochs, every, stream=None):
        self.epochs, self.every = epochs, every
        self.stream = sys.stderr if stream is None else stream
        self.start = self.shown = time.monotonic()
        self.bar = False

    def __call__(self, epoch, loss):
        if epoch % self.every == 0 or epoch == 1:
            self.clear()
            print(f"epoch {epoch:6d}  loss {loss:.6f}", flush=True)
        now = time.monotonic()
        long_run = (now - self.start) / epoch * self.epochs > PROGRESS_AFTER_SECONDS
        if long_run and self.stream.isatty() and now - self.shown > 0.1:
            filled = round(30 * epoch / self.epochs)
            self.stream.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] {epoch}/{self.epochs}")
            self.stream.flush()
            self.shown, self.bar = now, True

    def clear(self):
        if self.bar:
            self.stream.write("\r" + " " * 60 + "\r")
            self.bar = False

    def finish(self):
        self.clear()


def crosscheck_command(arguments):
    from .compare import crosscheck
    from .rbridge import RSession

    fixtures = [load_fixture(path) for path in arguments.fixture]
    r_session = RSession()
    agree = True
    for path, fixture in zip(arguments.fixture, fixtures):
        checked = crosscheck(fixture, r_session)
        print(f"{path}:")
        print(checked.report())
        print()
        agree = agree and checked.ok
    return 0 if agree else 1


def explain_command(arguments):
    fixture = load_fixture(arguments.fixture)
    print(explain(fixture, arguments.epoch, arguments.iteration, arguments.digits), end="")
    if arguments.xlsx:
        write_explain_xlsx(fixture, arguments.xlsx, arguments.epoch, arguments.iteration)
        print(f"wrote {arguments.xlsx}")
    if arguments.html:
        explain_html(fixture, arguments.html, arguments.epoch, arguments.iteration)
        print(f"wrote {arguments.html}")
    return 0


def check_command(arguments):
    answer = check_trace(arguments.fixture, arguments.trace)
    print(answer.report(), end="")
    return 0 if answer.ok else 1


def fixtures_command(arguments):
    print(f"The fixtures shipped with nnscratch, in {FIXTURE_FOLDER}; each loads by its name.")
    for name in list_fixtures():
        f = load_fixture(name)
        summary = re.split("[.:] ", f.description)[0]
        line = f"{name:<16} {f.X.shape[0]:>4} x {f.X.shape[1]:<2} {summary}"
        print(line if len(line) <= 100 else line[:97] + "...")
    return 0


COMMANDS = {
    "train": train_command,
    "crosscheck": crosscheck_command,
    "explain": explain_command,
    "check": check_command,
    "fixtures": fixtures_command,
}

if __name__ == "__main__":
    sys.exit(main())
