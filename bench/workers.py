"""The R processes make bench drives: bench/r_worker.R on a BLAS chosen per process."""

import os
import subprocess

from plan import ROOT


def debian_library_dir(package, library):
    """The directory in which Debian's ``package`` keeps ``library``, or None."""
    try:
        listed = subprocess.run(["dpkg", "-L", package], capture_output=True, text=True)
    except FileNotFoundError:
        return None
    for line in listed.stdout.splitlines():
        if line.endswith("/" + library):
            return os.path.dirname(line)
    return None


class RWorker:
    """An Rscript running bench/r_worker.R on the BLAS (and LAPACK) in ``directories``,
    with the variables ``extra_env`` added to its environment.

    R's start-up script puts its own library directories before LD_LIBRARY_PATH, so that
    the machine's libblas.so.3 (the one Debian's alternatives choose) would win; directories
    put first in R_LD_LIBRARY_PATH win over it. Which BLAS the process really loaded is read
    from its /proc/self/maps: ``blas`` (and ``problem``, if it is not the one asked for).
    """

    def __init__(self, directories, extra_env=None):
        self.directories = directories
        default = subprocess.run(
            ["Rscript", "-e", 'cat(Sys.getenv("LD_LIBRARY_PATH"))'],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        env = dict(os.environ, **(extra_env or {}))
        env["R_LD_LIBRARY_PATH"] = ":".join([*directories, default])
        self.process = subprocess.Popen(
            ["Rscript", "bench/r_worker.R"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env=env,
        )
        self.blas = dict(line.split("\t", 1) for line in self.ask("blas"))
        loaded = self.blas["loaded"].split()
        wanted = os.path.join(directories[0], "libblas.so")
        self.problem = (
            ""
            if any(path.startswith(wanted) for path in loaded)
            else f"R loaded {' '.join(loaded)}, not {wanted}.3"
        )

    def load(self, *words):
        """The ``data`` command: this worker's data and network from now on."""
        self.data = words
        self.ask("data", *words)

    def ask(self, *words):
        """Send one command; its answer's lines."""
        self.process.stdin.write(" ".join(str(word) for word in words) + "\n")
        self.process.stdin.flush()
        lines = []
        while (line := self.process.stdout.readline()) != "end\n":
            if not line:
                raise RuntimeError(f"bench/r_worker.R stopped while answering {words}")
            lines.append(line.rstrip("\n"))
        if lines and lines[0] == "error":
            raise RuntimeError(f"bench/r_worker.R, {' '.join(map(str, words))}: {lines[1:]}")
        return lines

    def close(self):
        self.process.stdin.close()
        self.process.wait()


def start_r_workers():
    """{"reference": RWorker or None, "openblas": ...} and, for a missing one, why."""
    wanted = {
        "reference": [("libblas3", "libblas.so.3"), ("liblapack3", "liblapack.so.3")],
        "openblas": [("libopenblas0-pthread", "libblas.so.3")],
    }
    workers, missing = {}, {}
    for name, libraries in wanted.items():
        directories = [debian_library_dir(package, library) for package, library in libraries]
        if None in directories:
            packages = " ".join(package for package, _ in libraries)
            workers[name] = None
            missing[name] = f"Debian's {packages} is not installed (scripts/setup --bench)"
            continue
        workers[name] = RWorker(directories)
        if workers[name].problem:
            missing[name] = workers[name].problem
            workers[name].close()
            workers[name] = None
    return workers, missing


def r_run(worker, what):
    """A function of the epochs that times one run of ``what`` in an R worker."""
    return lambda epochs: tuple(float(v) for v in worker.ask("time", what, epochs)[0].split("\t"))
