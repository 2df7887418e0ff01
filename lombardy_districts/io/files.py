"""Reading CSV files as office software writes them, and writing every output file atomically.

``write_atomic`` is the one way the tool writes a file: a reader never sees half a file, the
previous good file survives any failure, and a failure is an ``OutputError`` naming the file and
the cause ("no space left on device while writing out/map.html"), never a temporary name.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from lombardy_districts.errors import InputError, OutputError


def write_atomic(path, write: Callable[[Path], object], *, shown_as=None) -> Path:
    """Call ``write(tmp_path)`` on a temporary file beside ``path``, then rename it over ``path``.

    Parameters
    ----------
    path
        The file to write; its folder is created if needed.
    write
        Writes the whole file at the path it is given; what it returns is ignored.
    shown_as
        The name errors give instead of ``path`` (a staged file is shown by its final name).

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    OutputError
        When the folder or the file cannot be written (full disk, no permission, a file where a
        folder should be): the message names ``shown_as`` (or ``path``) and the cause. The file
        that was there before is left as it was.
    """
    path = Path(path)
    tmp = None
    try:
        with errors_naming(path if shown_as is None else shown_as, path.parent):
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
            tmp = Path(name)
            os.close(fd)
            os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes private files; outputs are ordinary files
            write(tmp)
            _sync(tmp)
            os.replace(tmp, path)
            tmp = None
    finally:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
    return path


@contextmanager
def errors_naming(shown, folder) -> Iterator[None]:
    """Turn a failure to write into an ``OutputError`` naming the file ``shown`` and the cause.

    Any ``OSError`` (full disk, no permission, ...) is translated; any other error is too when the
    disk of ``folder`` is full (libraries such as GDAL wrap the system's error), else it passes.
    """
    try:
        yield
    except OSError as exc:
        raise output_error(exc, shown) from None
    except Exception as exc:
        if disk_full(folder):
            raise output_error(OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)), shown) from exc
        raise


def write_json(path, data, *, shown_as=None) -> Path:
    """Write ``data`` as indented UTF-8 JSON, atomically (``write_atomic``)."""
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    return write_atomic(path, lambda p: p.write_text(text, encoding="utf-8"), shown_as=shown_as)


def output_error(exc: OSError, path) -> OutputError:
    """``exc`` as an ``OutputError`` naming ``path`` and the cause in words."""
    if isinstance(exc, OutputError):
        return OutputError(f"{exc.reason} while writing {path}", path, exc.reason, exc.errno)
    path = Path(path)
    if exc.errno in (errno.ENOTDIR, errno.EEXIST):
        for parent in (path, *path.parents):
            if parent.exists() and not parent.is_dir():
                reason = f"{parent} is a file, not a folder"
                return OutputError(f"cannot write {path}: {reason}", path, reason, exc.errno)
    if exc.errno == errno.ENOENT:  # a folder that takes no new entries, such as /proc, says "no such file"
        folder = next((a for a in path.parents if a.exists()), None)
        if folder is not None and folder.is_dir():
            reason = f"{folder} takes no new files or folders; choose another folder"
            return OutputError(f"cannot write {path}: {reason}", path, reason, exc.errno)
    if exc.errno == errno.EISDIR:
        reason = "a folder of that name is in the way; give a file name"
        return OutputError(f"cannot write {path}: {reason}", path, reason, exc.errno)
    words = exc.strerror or str(exc) or type(exc).__name__
    reason = words[:1].lower() + words[1:]
    return OutputError(f"{reason} while writing {path}", path, reason, exc.errno)


def disk_full(folder) -> bool:
    """Whether the file system of ``folder`` (or of its nearest existing parent) has no space left."""
    folder = Path(folder)
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    try:
        return shutil.disk_usage(folder).free == 0
    except OSError:
        return False


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _sync(path: Path) -> None:
    """Flush the file to disk before it replaces the previous one (so a crash cannot leave it empty)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def read_csv_text(path, what: str) -> pd.DataFrame:
    """Read a CSV with every cell as text (empty cells as NA) and stripped column names.

    Rows with every cell empty (a line of bare separators, as spreadsheets save a blank row) are left out.

    Accepts what office software writes: a UTF-8 byte-order mark, Windows-1252 text, and ``;`` (Italian
    spreadsheets) or a tab as the separator; a workbook itself (.xlsx, .ods, .xls) is refused with the
    way to save it as CSV. ``what`` names the file in errors ("plan file", ...).
    """
    if _workbook(path):
        raise InputError(f"{what} {path} is a spreadsheet workbook (Excel or LibreOffice), not a CSV file; "
                         "fix: save the sheet as 'CSV UTF-8 (comma delimited)' and give that file")
    frame = None
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            frame = _read(path, encoding, ",")
            for other in (";", "\t"):  # one column holding the separator: another one was used
                if len(frame.columns) == 1 and other in str(frame.columns[0]):
                    frame = _read(path, encoding, other)
            break
        except FileNotFoundError:
            raise InputError(f"{what} {path} does not exist") from None
        except IsADirectoryError:
            raise InputError(f"{what} {path} is a folder; give the path of a CSV file") from None
        except OSError as exc:
            raise InputError(f"cannot read {what} {path}: {exc.strerror}") from None
        except UnicodeDecodeError:
            continue
        except pd.errors.EmptyDataError:
            raise InputError(f"{what} {path} is empty; write a header line and one row per municipality") from None
        except pd.errors.ParserError as exc:
            raise InputError(f"{what} {path} is not a readable CSV: {exc}") from None
    if frame is None:
        raise InputError(f"{what} {path} is not text in UTF-8 or Windows-1252; save it as UTF-8 CSV")
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame.dropna(how="all")


WORKBOOK_STARTS = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0")
"""The first bytes of a zip file (.xlsx, .ods) and of an OLE2 compound file (.xls)."""


def _workbook(path) -> bool:
    """Whether ``path`` starts like a spreadsheet workbook (False when it cannot be read: the caller says why)."""
    try:
        with open(path, "rb") as file:
            return file.read(4) in WORKBOOK_STARTS
    except OSError:
        return False


def _read(path, encoding: str, sep: str) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""], encoding=encoding, sep=sep)
