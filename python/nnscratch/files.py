"""Files, read and written so that nothing is read that should not be and nothing is lost.

Reads take regular files only and never more than ``max_bytes`` + 1 bytes, whatever the
file's size claims. Writes go to a new file beside the target, created under a random
name that no link can stand in for, every byte checked written and flushed to the disk,
then renamed over the target: a write that fails, or is interrupted, leaves the old file
as it was and no temporary file behind. Errors name the file the user gave, never the
temporary one. R's Files section does the same with the same words.
"""

import contextlib
import os
import secrets
import stat

import numpy as np

from .checks import FixtureError, InputError, check_whole, describe, format_numbers

# Read a file in pieces of this many bytes once its size, as it claims it, has been read.
READ_CHUNK = 1 << 20

# os.open's flags where the platform has them (O_NOFOLLOW and O_NONBLOCK are POSIX).
_NO_LINK = getattr(os, "O_NOFOLLOW", 0)
_READ_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_NOCTTY", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)
_WRITE_FLAGS = (
    os.O_WRONLY
    | os.O_CREAT
    | os.O_EXCL
    | _NO_LINK
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)


def file_error(path, problem):
    """The error for a file that cannot be used: names the file, category ``file``."""
    return FixtureError(path, None, problem, category="file")


def _reason(error):
    """The system's words for an OSError: ``No space left on device``."""
    return error.strerror or str(error)


def check_path(path):
    """The name of a file: one string (or path object), not empty."""
    if not isinstance(path, (str, os.PathLike)) or os.fspath(path) == "":
        got = "an empty string" if isinstance(path, str) else describe(path)
        raise InputError("path", f"must be the name of a file; got {got}", category="structure")


def read_file(path, max_bytes=100_000_000):
    """The bytes of a regular file, refused when it holds more than ``max_bytes``.

    Parameters
    ----------
    path : str or os.PathLike
    max_bytes : int
        A file larger than this is refused; at most ``max_bytes + 1`` bytes are read,
        whatever size the file claims (a file in /proc claims 0).

    Returns
    -------
    bytes

    Raises
    ------
    FixtureError
        Category ``file``: the file is missing or unreadable, a directory, not a
        regular file (a FIFO, a device, a socket: nothing waits on them), or too large.
    """
    check_path(path)
    check_whole(max_bytes, "max_bytes", 0)
    path, limit = os.fspath(path), int(max_bytes)
    try:
        status = os.stat(path)
    except OSError as error:
        raise file_error(path, f"cannot be read ({_reason(error)})") from None
    _check_regular(path, status.st_mode, "reads")
    if status.st_size > limit:
        raise file_error(path, f"is {status.st_size} bytes, over the limit of {limit} (max_bytes)")
    try:
        # Never waits: a FIFO put there since the check opens at once, and is refused.
        descriptor = os.open(path, _READ_FLAGS)
    except OSError as error:
        raise file_error(path, f"cannot be read ({_reason(error)})") from None
    try:
        _check_regular(path, os.fstat(descriptor).st_mode, "reads")
        pieces, size = [], 0
        wanted = min(status.st_size, limit) + 1
        while size <= limit:
            piece = os.read(descriptor, wanted)
            if not piece:
                break
            pieces.append(piece)
            size += len(piece)
            wanted = min(READ_CHUNK, limit + 1 - size)
    except OSError as error:
        raise file_error(path, f"cannot be read ({_reason(error)})") from None
    finally:
        os.close(descriptor)
    if size > limit:
        raise file_error(path, f"is more than {limit} bytes, over the limit of {limit} (max_bytes)")
    return b"".join(pieces)


def _check_regular(path, mode, verb):
    """Refuse a directory, and anything else that is not a regular file."""
    if stat.S_ISDIR(mode):
        raise file_error(path, "is a directory; give the name of a file")
    if not stat.S_ISREG(mode):
        raise file_error(
            path,
            f"is not a regular file (a FIFO, a device or a socket); nnscratch {verb} "
            "regular files only",
        )


def output_mode(path):
    """The permissions a new file written to ``path`` keeps: the old file's, or None.

    A directory, a FIFO, a device or a socket at ``path`` is refused. A symbolic link
    at ``path`` is replaced by the new file, never written through (None).
    """
    try:
        status = os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as error:
        raise file_error(path, f"cannot be written ({_reason(error)})") from None
    if stat.S_ISLNK(status.st_mode):
        return None
    _check_regular(path, status.st_mode, "writes")
    return stat.S_IMODE(status.st_mode)


def same_file(first, second):
    """Whether two paths name the same file: the same name in the same folder, once the
    folders' links are followed (the names' own links are replaced, not followed)."""

    def where(path):
        folder, name = os.path.split(os.path.abspath(os.fspath(path)))
        return os.path.join(os.path.realpath(folder), name)

    return where(first) == where(second)


def temporary_name():
    """A name for a temporary file: random, short (a long target name still fits)."""
    return f".nnscratch-{secrets.token_hex(8)}.tmp"


class AtomicFile:
    """A file written beside its target under a temporary name, renamed over it at the end.

    Use it as a context manager: leaving the block normally commits (the target now holds
    every byte written); leaving it with an exception, KeyboardInterrupt included, aborts
    (the temporary file is removed, the target left as it was).

    Parameters
    ----------
    path : str or os.PathLike
        The target. An existing file there keeps its permissions.
    """

    def __init__(self, path):
        self.descriptor = self.temporary = None
        check_path(path)
        self.path = os.fspath(path)
        mode = output_mode(self.path)
        folder = os.path.dirname(self.path) or os.curdir
        while self.descriptor is None:
            temporary = os.path.join(folder, temporary_name())
            try:
                # O_EXCL: a new file, never one that exists, never through a link.
                self.descriptor = os.open(temporary, _WRITE_FLAGS, 0o666)
            except FileExistsError:
                continue  # that name is taken (a link planted there, or a file)
            except OSError as error:
                raise self._failed(error) from None
            self.temporary = temporary  # ours now: abort removes it
        if mode is not None:
            self._guard(os.fchmod, self.descriptor, mode)

    def _failed(self, error):
        return file_error(self.path, f"cannot be written ({_reason(error)})")

    def _guard(self, operation, *arguments):
        """Run an operation on the temporary file; on any failure, abort and name the target."""
        try:
            return operation(*arguments)
        except OSError as error:
            self.abort()
            raise self._failed(error) from None
        except BaseException:
            self.abort()
            raise

    def write(self, content):
        """Write all of ``content`` (bytes, or str written as UTF-8), checking every byte."""
        data = memoryview(content.encode("utf-8") if isinstance(content, str) else content)
        while data:
            written = self._guard(os.write, self.descriptor, data)
            if written == 0:
                self.abort()
                raise file_error(self.path, "cannot be written (the disk took no more bytes)")
            data = data[written:]

    def commit(self):
        """Flush every byte to the disk, then rename the temporary file over the target."""
        self._guard(os.fsync, self.descriptor)
        descriptor, self.descriptor = self.descriptor, None
        self._guard(os.close, descriptor)
        self._guard(os.replace, self.temporary, self.path)
        self.temporary = None
        _sync_folder(os.path.dirname(self.path) or os.curdir)

    def abort(self):
        """Remove the temporary file; the target stays as it was. Nothing after a commit."""
        if self.descriptor is not None:
            descriptor, self.descriptor = self.descriptor, None
            os.close(descriptor)
        if self.temporary is not None:
            temporary, self.temporary = self.temporary, None
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)

    def __enter__(self):
        return self

    def __exit__(self, kind, error, traceback):
        if kind is None:
            self.commit()
        else:
            self.abort()
        return False

    def __del__(self):
        # Ctrl-C can land between two lines of the code that opened this file, before
        # the code that would abort it runs: dropped unfinished, it removes itself.
        self.abort()


def _sync_folder(folder):
    """Flush the folder's new entry to the disk, where the platform can open folders."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return  # Windows opens no folders; its rename is flushed with the file
    try:
        os.fsync(descriptor)
    except OSError:
        pass  # some file systems cannot flush a folder; the file itself is on the disk
    finally:
        os.close(descriptor)


def write_atomically(path, content):
    """Write ``content`` (bytes, or str as UTF-8) to ``path`` through an :class:`AtomicFile`.

    A write that fails half-way leaves the file at ``path`` as it was.
    """
    with AtomicFile(path) as file:
        file.write(content)


# ---- Trace CSVs, written as training produces them ---------------------------------

CSV_HEADER = "epoch,iteration,step,layer,quantity,row,col,value\n"

# Below 2^-1022 (subnormal) and from 1e15 to 1e17, repr's text is not format_numbers'.
_SMALLEST_NORMAL = 2.2250738585072014e-308


def csv_numbers(values):
    """Each number as :func:`nnscratch.checks.format_numbers` writes it, fast: a list of str.

    Python's repr is the shortest text that reads back exactly; it has the digits of
    the shortest of %.15g, %.16g, %.17g that does, and writes them the same way, except
    for subnormal numbers (repr may use fewer than 15 digits) and from 1e15 to 1e17
    (repr and %g start their exponents at different powers). Those, and numbers that
    are not finite, take the slow way. Not finite: ``Inf``, ``-Inf``, ``NaN``, as R writes.
    """
    values = np.asarray(values, dtype=float).ravel()
    texts = repr(values.tolist())[1:-1].split(", ") if values.size else []
    size = np.abs(values)
    slow = ~np.isfinite(values) | ((size > 0) & (size < _SMALLEST_NORMAL))
    slow |= (size >= 1e15) & (size < 1e17)
    for index in np.flatnonzero(slow):
        value = values[index]
        if np.isnan(value):
            texts[index] = "NaN"
        elif np.isinf(value):
            texts[index] = "Inf" if value > 0 else "-Inf"
        else:
            texts[index] = str(format_numbers(value))
    return texts


class TraceCSV:
    """The long table of a run, written iteration by iteration to a file as training makes it.

    Each iteration writes its rows (the columns ``epoch, iteration, step, layer, quantity,
    row, col, value`` in the order of :func:`nnscratch.trace.trace_table`) and keeps
    nothing: memory stays the same whatever the run's length. The file is an
    :class:`AtomicFile`: ``commit`` puts it in place; ``abort``, or any error on the way,
    leaves the old file as it was.

    Parameters
    ----------
    path : str or os.PathLike
    quantities : list of (layer, quantity, step)
        What each iteration records, in order, as :func:`nnscratch.trace.trace_quantities`
        lists them.
    """

    def __init__(self, path, quantities):
        self.quantities = quantities
        self.templates = {}
        self.file = AtomicFile(path)
        self.file.write(CSV_HEADER)

    def _template(self, shapes):
        """The text of one iteration's rows, ``%s`` for each value and \\x00 where each
        row's epoch and iteration go; one per shape of the blocks (the last batch of an
        epoch may be smaller)."""
        if shapes not in self.templates:
            self.templates[shapes] = "".join(
                f"\x00{step},{layer},{quantity},{row},{col},%s\n"
                for (layer, quantity, step), (rows, cols) in zip(self.quantities, shapes)
                for row in range(1, rows + 1)
                for col in range(1, cols + 1)
            )
        return self.templates[shapes]

    def write(self, epoch, iteration, blocks):
        """Write one iteration's rows.

        ``blocks``: one ndarray of shape (rows, cols) per entry of ``quantities``, the
        per-sample ones holding the batch's rows only.
        """
        shapes = tuple(block.shape for block in blocks)
        values = np.concatenate([block.ravel() for block in blocks])
        text = self._template(shapes) % tuple(csv_numbers(values))
        self.file.write(text.replace("\x00", f"{epoch},{iteration},"))

    def commit(self):
        """Put the file in place, every row on the disk."""
        self.file.commit()

    def abort(self):
        """Remove what was written; the old file stays as it was."""
        self.file.abort()

    def __enter__(self):
        return self

    def __exit__(self, kind, error, traceback):
        return self.file.__exit__(kind, error, traceback)
