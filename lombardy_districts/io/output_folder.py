"""Output folders written as one unit: used by one run at a time, and either as they were or complete.

A run that writes a folder (``propose --out``, each scenario of a sweep, ``frontier --out``) opens
it before its long work and writes every file through it::

    with OutputFolder("out/lombardy", marker="result.json") as out:  # checked and locked here
        proposal = solve(problem, options)                           # minutes, maybe
        out.write("plan.csv", proposal.plan.to_csv)                   # staged
        out.write_json("result.json", record)                         # staged
    # leaving the block normally commits every file at once; an error leaves the folder as it was

How it keeps its promises:

- **Checked before the work.** Opening creates the folder if needed and a staging folder inside
  it, and writes a probe there, so a folder that cannot be written (read-only, a file in the way,
  a full disk) is an ``OutputError`` at once, not after a long solve.
- **One run at a time.** The lock file ``.lombardy-districts/lock`` holds the owner's command, pid,
  host and start time, and is locked with ``flock``. A second run is refused with a message naming
  the owner. The system releases the lock when its process ends, however it ends, so a lock file
  left by a killed run is stale: the next run takes it over with a log line.
- **Either as it was or complete.** Files are written to a private staging folder; only when
  all are written does ``commit`` record what it will do (``commit.json``) and rename them into
  place. The ``marker`` file (``result.json``) is removed first and renamed last, so its presence
  means every other file is complete. A run killed during those renames is finished by the next
  run that opens the folder, from the record.
- **No stale files.** ``.lombardy-districts/files.json`` lists what the last run wrote; a run
  removes the files of the previous one it does not write again (with ``replace=False`` it only
  adds and replaces files). Files the tool did not write are never touched.
- **Errors name the final file** ("no space left on device while writing out/map.html"), never a
  staging or temporary name.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import socket
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

from lombardy_districts.errors import OutputError, expect_path
from lombardy_districts.io.files import errors_naming, output_error, write_json

try:  # POSIX; elsewhere folders are not locked (a warning says so)
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

STATE = ".lombardy-districts"
"""The hidden folder inside an output folder holding the lock, the list of files and staged files."""
_LOCK, _FILES, _JOURNAL, _STAGING, _OUT = "lock", "files.json", "commit.json", "staging-", "out"


class FolderLock:
    """An exclusive lock on an output folder, held by one process; ``OutputError`` when in use.

    Parameters
    ----------
    folder
        The output folder (created if needed).
    command
        What the owner is doing, shown to a run that is refused (default: the command line).
    """

    def __init__(self, folder, command: str | None = None):
        self.folder = Path(folder)
        self.command = command or _command()
        self._path = self.folder / STATE / _LOCK
        self._fd: int | None = None

    def __enter__(self) -> FolderLock:
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()

    def acquire(self) -> None:
        """Take the lock, or raise ``OutputError`` naming the run that holds it."""
        try:
            for _ in range(5):
                self._path.parent.mkdir(parents=True, exist_ok=True)
                if self._try_lock():
                    return
        except OutputError:
            raise
        except OSError as exc:
            raise folder_error(exc, self.folder) from None
        raise OutputError(f"output folder {self.folder}: could not take its lock; try again")

    def _try_lock(self) -> bool:
        """True when locked; False when the lock file was replaced meanwhile (try again)."""
        try:
            fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o666)
        except FileNotFoundError:  # the previous owner removed the empty state folder as we made it
            return False
        if fcntl is None:
            self._unlocked(fd, "this system has no file locks")
            return True
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = _describe(_read_owner(fd))
            os.close(fd)
            raise OutputError(f"output folder {self.folder} is in use by another run ({owner}). Wait for it to "
                              "finish, or choose another folder") from None
        except OSError as exc:  # a file system without locks (some network mounts)
            self._unlocked(fd, exc.strerror or str(exc))
            return True
        try:
            current = os.stat(self._path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            current = False
        if not current:  # the previous owner removed the file as we opened it: lock the new one
            os.close(fd)
            return False
        stale = _read_owner(fd)
        if stale:
            log.info("output folder %s: took over the lock of a run that ended without releasing it (%s)",
                     self.folder, _describe(stale))
        me = {"command": self.command, "pid": os.getpid(), "host": socket.gethostname(),
              "started": time.strftime("%Y-%m-%d %H:%M:%S")}
        self._fd = fd
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps(me).encode(), 0)
        except OSError:  # a full disk: leave no lock file behind
            self.release()
            raise
        return True

    def _unlocked(self, fd: int, why: str) -> None:
        """Go on without a lock (a warning), leaving no lock file behind."""
        os.close(fd)
        self._path.unlink(missing_ok=True)
        log.warning("output folder %s cannot be locked (%s): make sure no other run writes there at the same time",
                    self.folder, why)

    @property
    def held(self) -> bool:
        """Whether this process holds the lock."""
        return self._fd is not None

    def release(self) -> None:
        """Release the lock (removing the lock file first, so it is never left behind)."""
        if self._fd is None:
            return
        try:
            self._path.unlink(missing_ok=True)
            self._path.parent.rmdir()  # only when empty: a folder that holds nothing else of ours
        except OSError:
            pass
        os.close(self._fd)
        self._fd = None


class OutputFolder:
    """An output folder a run writes as one unit (see the module docstring).

    Parameters
    ----------
    path
        The folder; created when it does not exist (and removed again when nothing was written).
    marker
        The file whose presence says the folder is complete (``result.json``): removed first and
        renamed into place last when committing.
    replace
        True: the run writes the whole folder, so files the previous run wrote and this one does
        not are removed. False: only add and replace files.
    command
        What the run is, shown to another run refused by the lock.
    """

    def __init__(self, path, *, marker: str | None = None, replace: bool = True, command: str | None = None):
        expect_path(path, "out_dir", "the output folder")
        self.path = Path(path)
        self.marker = marker
        self.replace = replace
        self._lock = FolderLock(self.path, command)
        self._state = self.path / STATE
        self._staging: Path | None = None
        self._written: list[str] = []
        self._created = False

    def __enter__(self) -> OutputFolder:
        self.open()
        return self

    def __exit__(self, kind, exc, tb) -> None:
        try:
            if kind is None:
                self.commit()
        finally:
            self.close()

    def open(self) -> OutputFolder:
        """Create and lock the folder, finish or clear what an earlier run left, check it can be written."""
        self._created = not self.path.exists()
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise folder_error(exc, self.path) from None
        self._lock.acquire()
        try:
            self._recover()
            self._staging = Path(tempfile.mkdtemp(prefix=_STAGING, dir=self._state))
            probe = self._staging / "probe"
            probe.write_bytes(b"\0" * 4096)
            probe.unlink()
        except OSError as exc:
            self.close()
            raise folder_error(exc, self.path) from None
        return self

    def write(self, name: str, write: Callable[[Path], object]) -> Path:
        """Stage the file ``name`` (a path relative to the folder) by ``write(path)``; returns its final path.

        What ``write`` returns is ignored.
        """
        if self._staging is None:
            raise RuntimeError("OutputFolder.write outside 'with OutputFolder(...)'")
        target = self.path / _relative(name)
        staged = self._staging / _OUT / _relative(name)
        with errors_naming(target, self._staging):  # staged files are private: the commit makes them appear
            staged.parent.mkdir(parents=True, exist_ok=True)
            write(staged)
        if name not in self._written:
            self._written.append(name)
        return target

    def write_json(self, name: str, data) -> Path:
        """Stage ``data`` as indented UTF-8 JSON in ``name``; returns its final path."""
        return self.write(name, lambda p: write_json(p, data))

    def commit(self) -> list[Path]:
        """Move every staged file into place at once (see the module docstring); returns their paths.

        A run that wrote nothing changes nothing.
        """
        if self._staging is None or not self._written:
            return []
        names = list(self._written)
        previous = self._listed()
        self._check_targets(names)
        listed = sorted(set(names) | (set() if self.replace else set(previous)))
        record = {"staging": self._staging.name, "files": names, "marker": self.marker,
                  "remove": sorted(set(previous) - set(names)) if self.replace else []}
        write_json(self._staging / _FILES, {"files": listed}, shown_as=self.path)
        write_json(self._state / _JOURNAL, record, shown_as=self.path)
        self._staging = None  # from here on the record owns the staged files: a later run finishes the commit
        try:
            self._apply(record)
        except OSError as exc:
            raise folder_error(exc, self.path) from None
        log.info("wrote %s to %s", ", ".join(names) or "nothing", self.path)
        return [self.path / n for n in names]

    def close(self) -> None:
        """Drop anything staged and not committed, and release the lock."""
        if self._staging is not None:
            shutil.rmtree(self._staging, ignore_errors=True)
            self._staging = None
        if self._lock.held and not (self._state / _FILES).exists() and not (self._state / _JOURNAL).exists():
            shutil.rmtree(self._state, ignore_errors=True)  # nothing was ever committed here: leave no trace
        self._lock.release()
        if self._created:  # a folder this run created and left empty
            try:
                self.path.rmdir()
            except OSError:
                pass

    def _listed(self) -> list[str]:
        try:
            files = json.loads((self._state / _FILES).read_text(encoding="utf-8"))["files"]
        except (OSError, ValueError, KeyError, TypeError):
            return []
        return [f for f in files if isinstance(f, str)]

    def _check_targets(self, names: list[str]) -> None:
        """Refuse before changing anything when a folder stands where a file goes (or a file where a folder)."""
        for name in names:
            target = self.path / _relative(name)
            if target.is_dir():
                raise OutputError(f"cannot write {target}: a folder of that name is in the way; move it away",
                                  target)
            for parent in target.parents:
                if parent == self.path:
                    break
                if parent.exists() and not parent.is_dir():
                    raise OutputError(f"cannot write {target}: {parent} is a file, not a folder", target)

    def _apply(self, record: dict) -> None:
        """Carry out a commit record; running it again after a crash finishes the same commit."""
        staging = self._state / record["staging"]
        marker = record.get("marker")
        files = record["files"]
        if marker is not None and marker in files:
            (self.path / marker).unlink(missing_ok=True)
        for name in sorted(files, key=lambda n: n == marker):
            source = staging / _OUT / _relative(name)
            if source.exists():
                target = self.path / _relative(name)
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(source, target)
        for name in record.get("remove", []):
            self._remove(name)
        if (staging / _FILES).exists():
            os.replace(staging / _FILES, self._state / _FILES)
        (self._state / _JOURNAL).unlink(missing_ok=True)
        shutil.rmtree(staging, ignore_errors=True)

    def _remove(self, name: str) -> None:
        """Remove a file a previous run wrote, and the folders it leaves empty."""
        try:
            target = self.path / _relative(name)
        except ValueError:
            return
        if target.is_file() or target.is_symlink():
            target.unlink()
            log.info("removed %s, written by the previous run and not by this one", target)
        for parent in target.parents:
            if parent == self.path:
                break
            try:
                parent.rmdir()
            except OSError:
                break

    def _recover(self) -> None:
        """Finish a commit a killed run left half done; drop files staged by runs that never committed."""
        journal = self._state / _JOURNAL
        if journal.exists():
            try:
                self._apply(json.loads(journal.read_text(encoding="utf-8")))
                log.warning("output folder %s: finished writing the files of a run that was stopped while "
                            "moving them into place", self.path)
            except (ValueError, KeyError, TypeError) as exc:
                journal.unlink(missing_ok=True)
                log.warning("output folder %s: the record of an unfinished run is unreadable (%s); ignored",
                            self.path, exc)
        leftovers = sorted(self._state.glob(_STAGING + "*"))
        for folder in leftovers:
            shutil.rmtree(folder, ignore_errors=True)
        if leftovers:
            log.info("output folder %s: removed the partial files of %d run(s) that did not finish", self.path,
                     len(leftovers))


@contextmanager
def writing_into(out, *, marker: str | None = None, replace: bool = True) -> Iterator[OutputFolder]:
    """``out`` when it is an open ``OutputFolder`` (its owner commits), else the folder ``out`` opened now.

    A folder opened here is committed when the block ends without an error (``OutputFolder``
    with ``marker`` and ``replace``).
    """
    if isinstance(out, OutputFolder):
        yield out
        return
    with OutputFolder(out, marker=marker, replace=replace) as folder:
        yield folder


def folder_error(exc: OSError, folder) -> OutputError:
    """``exc`` as an ``OutputError`` about the output folder as a whole (no internal names)."""
    if isinstance(exc, OutputError) and exc.path is not None and Path(exc.path) == Path(folder):
        return exc
    named = output_error(exc, folder)
    return OutputError(f"cannot write to output folder {folder}: {named.reason}", folder, named.reason, exc.errno)


def _relative(name: str) -> Path:
    path = PurePosixPath(str(name).replace(os.sep, "/"))
    if path.is_absolute() or not path.parts or ".." in path.parts or path.parts[0] == STATE:
        raise ValueError(f"output file name {name!r} must be a path inside the folder")
    return Path(*path.parts)


def _command() -> str:
    """What this process is, for another run's message: ``lombardy-districts propose``, ``script.py``."""
    if not sys.argv or not sys.argv[0]:
        return "python"
    name = Path(sys.argv[0]).name
    if name in ("__main__.py", "lombardy-districts"):
        return " ".join(["lombardy-districts", *sys.argv[1:2]])
    return name


def _read_owner(fd: int) -> dict | None:
    try:
        data = json.loads(os.pread(fd, 4096, 0).decode("utf-8") or "null")
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _describe(owner: dict | None) -> str:
    if not owner:
        return "owner unknown"
    host = owner.get("host")
    where = "" if host in (None, socket.gethostname()) else f" on {host}"
    return f"{owner.get('command', 'a run')}, pid {owner.get('pid', '?')}{where}, started {owner.get('started', '?')}"
