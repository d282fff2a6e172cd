"""The command line: nnscratch (or python -m nnscratch) train | crosscheck | explain | check.

Also fixtures, the list of the fixtures shipped with nnscratch. R has the same commands
with the same arguments: Rscript r/cli.R ... Both read their arguments by the same rules,
from the same table (COMMANDS; r/cli.R's commands), and print the same help. Errors print
one line and exit with status 2; a crosscheck that finds the two languages apart, and a
check that finds a learner's numbers apart from nnscratch's, exit with status 1; Ctrl-C
ends with one line and status 130, a closed output pipe quietly with status 141.
"""

import dataclasses
import importlib.util
import os
import re
import sys
import time
from typing import NamedTuple

import numpy as np

from . import __version__
from .check import check_trace
from .checks import InputError, check_recording, check_training, check_whole
from .explain import explain
from .files import file_error, output_mode, same_file
from .fixtures import FIXTURE_FOLDER, list_fixtures, load_fixture, save_fixture, train_fixture
from .page import explain_html
from .plots import accuracy
from .spreadsheet import write_explain_xlsx
from .trace import Recording

# A run whose epochs take longer than this, on a terminal, gets a progress bar.
PROGRESS_AFTER_SECONDS = 2.0

PROGRAM = "nnscratch"


class Option(NamedTuple):
    """A command's option: ``--name VALUE``, or ``--name=VALUE``."""

    name: str
    value: str
    """The value's name in the help: N, X, FILE.csv, ..."""
    kind: str
    """How the value is read: a key of :data:`KINDS`."""
    help: str
    python_only: bool = False


class Command(NamedTuple):
    summary: str
    arguments: tuple
    """The names of its arguments in the help; one ending with ... takes one or more."""
    options: list


# The commands, their options and their help; r/cli.R holds the same table.
COMMANDS = {
    "train": Command(
        "train a fixture, printing the loss",
        ("FIXTURE",),
        [
            Option("epochs", "N", "int", "train this many epochs, instead of the fixture's"),
            Option("lr", "X", "float", "this learning rate, instead of the fixture's"),
            Option("batch-size", "N", "int", "batches of N samples, instead of the fixture's"),
            Option("seed", "N", "int", "shuffle the samples every epoch, from this seed"),
            Option("every", "N", "int", "print the loss every N epochs (default: ten lines)"),
            Option("trace", "FILE.csv", "file", "write every number of the run, as it runs"),
            Option("trace-every", "K", "int", "with --trace: only every K-th epoch"),
            Option(
                "trace-quantities",
                "A,B",
                "names",
                "with --trace: only these quantities (and the samples and the loss)",
            ),
            Option("plot", "FILE.png", "file", "draw the loss (and the decision boundary)"),
            Option("log-scale", "", "flag", "with --plot: the loss on a log axis"),
            Option("dpi", "N", "int", "with --plot: pixels per inch (default: 100)"),
            Option("save", "MODEL.json", "file", "save the trained network as a fixture"),
        ],
    ),
    "crosscheck": Command("train in Python and in R, compare every number", ("FIXTURE...",), []),
    "explain": Command(
        "the eleven steps of one iteration, with their numbers",
        ("FIXTURE",),
        [
            Option("epoch", "K", "int", "the epoch to show (default: 1)"),
            Option("iteration", "I", "int", "the iteration of that epoch (default: 1)"),
            Option("digits", "D", "int", "decimals to round to (default: 3)"),
            Option("xlsx", "FILE.xlsx", "file", "also write the steps as a spreadsheet", True),
            Option("html", "FILE.html", "file", "also write the walkthrough page, opening there"),
        ],
    ),
    "check": Command(
        "check your own network's numbers (a CSV) against nnscratch's",
        ("FIXTURE", "MINE.csv"),
        [],
    ),
    "fixtures": Command("list the fixtures shipped with nnscratch", (), []),
}

# How option values are read, in both languages: decimal numbers only (no 0x10, no 1_000).
KINDS = {
    "int": re.compile(r"[+-]?[0-9]+"),
    "float": re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?"),
    "file": re.compile(r".+", re.DOTALL),
    "names": re.compile(r"[a-z_]+(,[a-z_]+)*"),
    "flag": None,
}

# What each option needs that Python may lack, and how to get it.
NEEDS = {
    "plot": ("matplotlib", "pip install 'nnscratch[plots]' (or pip install matplotlib)"),
    "xlsx": ("openpyxl", "pip install 'nnscratch[xlsx]' (or pip install openpyxl)"),
}


class UsageError(Exception):
    """Arguments the command line does not take."""


class Interruption(Exception):  # noqa: N818 - Ctrl-C is not an error of ours
    """Ctrl-C: the line to print."""


class Arguments(NamedTuple):
    command: str
    arguments: list
    """The fixture files (and, for check, the learner's CSV)."""
    options: dict


def main(argv=None):
    """Run one command; return the exit status: 0, 1 when a crosscheck disagrees, 2 for
    any error, 130 on Ctrl-C, 141 when the output pipe is closed."""
    argv = sys.argv[1:] if argv is None else [str(word) for word in argv]
    try:
        arguments = parse(argv)
        if arguments is None:
            return 0  # the help was asked for
        return RUN[arguments.command](arguments)
    except (UsageError, InputError) as error:
        say_error(error)
        return 2
    except BrokenPipeError:
        # The reader of our output has gone (| head): stop quietly, and let the final
        # flush of standard output go nowhere instead of failing again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except (OSError, ImportError, ValueError) as error:
        say_error(error)
        return 2
    except Interruption as interrupted:
        say_error(interrupted)
        return 130
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130


def parse(words):
    """The command, its arguments and its options, read by the rules R's cli.R follows
    too; None after printing the help or the version."""
    if not words:
        raise UsageError(f"give a command: {', '.join(COMMANDS)} (see {PROGRAM} --help)")
    if words[0] in ("-h", "--help"):
        print(help_text(None), end="")
        return None
    if words == ["--version"]:
        print(f"nnscratch {__version__}")
        return None
    if words[0] not in COMMANDS:
        raise UsageError(f"unknown command '{words[0]}'; the commands are {', '.join(COMMANDS)}")
    command = COMMANDS[words[0]]
    known = {option.name: option for option in command.options}
    given, options, rest = [], {}, list(words[1:])
    while rest:
        word = rest.pop(0)
        if word == "--":  # what follows is arguments, even if it starts with -
            given.extend(rest)
            break
        if word in ("-h", "--help"):
            print(help_text(words[0]), end="")
            return None
        if not word.startswith("-") or word == "-":
            given.append(word)
            continue
        name, equals, value = word[2:].partition("=") if word.startswith("--") else (word, "", "")
        if name not in known:
            raise UsageError(f"unrecognized argument: {word} (see {PROGRAM} {words[0]} --help)")
        option = known[name]
        if option.kind == "flag":
            if equals:
                raise UsageError(f"argument --{name}: takes no value")
            options[name.replace("-", "_")] = True
            continue
        if not equals:
            if not rest:
                raise UsageError(f"argument --{name}: expected one argument")
            value = rest.pop(0)
        options[name.replace("-", "_")] = read_value(option, value)
    several = command.arguments[-1:] and command.arguments[-1].endswith("...")
    if len(given) < len(command.arguments) or (len(given) > len(command.arguments) and not several):
        raise UsageError(
            f"{words[0]} takes {' '.join(command.arguments) or 'no arguments'}; "
            f"got {len(given)} (see {PROGRAM} {words[0]} --help)"
        )
    return Arguments(words[0], given, options)


def read_value(option, text):
    """An option's value, read by its kind; numbers as R reads them (decimal text)."""
    if not KINDS[option.kind].fullmatch(text):
        raise UsageError(f"argument --{option.name}: invalid {option.kind} value: '{text}'")
    if option.kind == "names":
        return text.split(",")
    if option.kind in ("int", "float"):
        value = float(text)
        return int(value) if option.kind == "int" and np.isfinite(value) else value
    return text


def help_text(name):
    """The help of one command (or, for None, of the command line), as R prints it too."""
    if name is None:
        commands = [
            (" ".join((command, *spec.arguments)), spec) for command, spec in COMMANDS.items()
        ]
        width = max(len(left) for left, _ in commands) + 4
        lines = [
            f"usage: {PROGRAM} COMMAND [ARGUMENTS...] [options]",
            "",
            "The multi-layer perceptron of 'Neural Networks From Scratch in Python & R', in",
            "Python and in R, with the same commands, options and output in both.",
            "",
            "commands:",
            *(f"  {left.ljust(width)}{spec.summary}" for left, spec in commands),
            "",
            f"{PROGRAM} COMMAND --help says more; {PROGRAM} --version, the version. Errors",
            "print one line and exit with status 2.",
        ]
        return "\n".join(lines) + "\n"
    command = COMMANDS[name]
    options = [
        (
            f"--{option.name} {option.value}".rstrip(),
            option.help + (" (Python only)" if option.python_only else ""),
        )
        for option in command.options
    ]
    options.append(("-h, --help", "print this help"))
    width = max(len(left) for left, _ in options) + 4
    lines = [
        " ".join(["usage:", PROGRAM, name, *command.arguments, "[options]"]),
        "",
        f"{command.summary[0].upper()}{command.summary[1:]}.",
        "",
        "options:",
        *(f"  {left.ljust(width)}{right}" for left, right in options),
    ]
    return "\n".join(lines) + "\n"


def say_error(error):
    """The error in one line on standard error: line breaks (a file name may hold one)
    become spaces; nothing else changes."""
    print("error: " + re.sub(r"[\r\n]+", " ", str(error)), file=sys.stderr)


def check_ready(arguments):
    """Before anything runs: what the options need is installed, every output's folder
    exists and this user may write in it, and no file is named twice."""
    for option, (module, install) in NEEDS.items():
        if option in arguments.options and importlib.util.find_spec(module) is None:
            raise UsageError(f"argument --{option}: needs {module}: {install}")
    outputs = [
        name for name in ("trace", "plot", "save", "xlsx", "html") if name in arguments.options
    ]
    for number, name in enumerate(outputs):
        path = arguments.options[name]
        output_mode(path)
        folder = os.path.dirname(path) or os.curdir
        if not os.path.isdir(folder):
            raise file_error(path, "cannot be written (No such file or directory)")
        if not os.access(folder, os.W_OK | os.X_OK):
            raise file_error(path, "cannot be written (Permission denied)")
        for other in outputs[:number]:
            if same_file(path, arguments.options[other]):
                raise UsageError(
                    f"argument --{name}: {path} is also the file of --{other}; "
                    "give each output its own file"
                )


def train_command(arguments):
    check_ready(arguments)
    options = arguments.options
    fixture = load_fixture(arguments.arguments[0])
    changes = {
        key: options[key] for key in ("epochs", "lr", "batch_size", "seed") if key in options
    }
    fixture = dataclasses.replace(fixture, **changes)
    if "seed" in options:
        fixture.shuffle = True
    f = fixture
    recording = Recording(
        every=options.get("trace_every", 1),
        quantities=options.get("trace_quantities"),
        csv=options.get("trace"),
    )
    check_training(f.layers, f.X, f.y, f.lr, f.epochs, f.batch_size, f.shuffle, f.seed)
    check_recording(recording, f.layers, f.X, f.batch_size, f.epochs, first_epoch=1)
    every = options.get("every", max(1, fixture.epochs // 10))
    check_whole(every, "--every", 1)
    batches = "" if fixture.batch_size is None else f", batches of {fixture.batch_size}"
    shuffled = f", shuffled (seed {fixture.seed})" if fixture.shuffle else ""
    print(
        f"{fixture.name}: {fixture.X.shape[0]} samples, {fixture.epochs} epochs, "
        f"lr {fixture.lr:g}{batches}{shuffled}"
    )
    report = Progress(fixture.epochs, every)
    try:
        result = train_fixture(
            fixture,
            progress=report,
            trace_csv=recording.csv,
            trace_every=recording.every,
            trace_quantities=recording.quantities,
        )
    except KeyboardInterrupt:
        report.finish()
        raise Interruption(
            f"interrupted after epoch {report.reached} of {fixture.epochs}; no file written"
        ) from None
    report.finish()
    print(f"final loss {result.loss[-1]:.6f}" if fixture.epochs else "no epochs")
    score = accuracy(result.layers, fixture.X, fixture.y)
    if score is not None:  # classes, not a regression
        print(f"accuracy {score:.4f}")
    if "trace" in options:
        print(f"wrote {options['trace']}")
    if "plot" in options:
        from .plots import plot_training

        plot_training(
            result,
            fixture,
            options["plot"],
            options.get("log_scale", False),
            options.get("dpi", 100),
        )
        print(f"wrote {options['plot']}")
    if "save" in options:
        save_fixture(dataclasses.replace(fixture, layers=result.layers), options["save"])
        print(f"wrote {options['save']}")
    return 0


class Progress:
    """Prints the loss every ``every`` epochs; on a terminal, a long run also gets a bar."""

    def __init__(self, epochs, every, stream=None):
        self.epochs, self.every = epochs, every
        self.stream = sys.stderr if stream is None else stream
        self.start = self.shown = time.monotonic()
        self.bar = False
        self.reached = 0
        """The last epoch done."""

    def __call__(self, epoch, loss):
        self.reached = epoch
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
    # Importing these starts R, or says in one line what is missing, before anything runs.
    from .compare import crosscheck
    from .rbridge import RSession

    fixtures = [load_fixture(path) for path in arguments.arguments]
    r_session = RSession()
    agree = True
    for path, fixture in zip(arguments.arguments, fixtures):
        checked = crosscheck(fixture, r_session)
        print(f"{path}:")
        print(checked.report())
        print()
        agree = agree and checked.ok
    return 0 if agree else 1


def explain_command(arguments):
    check_ready(arguments)
    options = arguments.options
    fixture = load_fixture(arguments.arguments[0])
    epoch, iteration = options.get("epoch", 1), options.get("iteration", 1)
    print(explain(fixture, epoch, iteration, options.get("digits", 3)), end="")
    if "xlsx" in options:
        write_explain_xlsx(fixture, options["xlsx"], epoch, iteration)
        print(f"wrote {options['xlsx']}")
    if "html" in options:
        explain_html(fixture, options["html"], epoch, iteration)
        print(f"wrote {options['html']}")
    return 0


def check_command(arguments):
    answer = check_trace(*arguments.arguments)
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


RUN = {
    "train": train_command,
    "crosscheck": crosscheck_command,
    "explain": explain_command,
    "check": check_command,
    "fixtures": fixtures_command,
}

if __name__ == "__main__":
    sys.exit(main())
