"""Writing output files atomically: a reader never sees half a file."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from lombardy_districts.errors import InputError


def write_atomic(path, write: Callable[[Path], object]) -> Path:
    """Call ``write(tmp_path)`` on a temporary file beside ``path``, then rename it over ``path``.

    What ``write`` returns is ignored.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes private files; outputs are ordinary files
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def write_json(path, data) -> Path:
    """Write ``data`` as indented UTF-8 JSON, atomically."""
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    return write_atomic(path, lambda p: p.write_text(text, encoding="utf-8"))


def read_csv_text(path, what: str) -> pd.DataFrame:
    """Read a CSV with every cell as text (empty cells as NA) and stripped column names.

    Accepts what office software writes: a UTF-8 byte-order mark, Windows-1252 text, and ``;`` as
    the separator (Italian spreadsheets). ``what`` names the file in errors ("plan file", ...).
    """
    frame = None
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            frame = _read(path, encoding, ",")
            if len(frame.columns) == 1 and ";" in str(frame.columns[0]):
                frame = _read(path, encoding, ";")
            break
        except FileNotFoundError:
            raise InputError(f"{what} {path} does not exist") from None
        except IsADirectoryError:
            raise InputError(f"{what} {path} is a folder; give the path of a CSV file") from None
        except OSError as exc:
            raise InputError(f"cannot read {what} {path}: {exc.strerror}") from None
        except UnicodeDecodeError:
            continue
        except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            raise InputError(f"{what} {path} is not a readable CSV: {exc}") from None
    if frame is None:
        raise InputError(f"{what} {path} is not text in UTF-8 or Windows-1252; save it as UTF-8 CSV")
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def _read(path, encoding: str, sep: str) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""], encoding=encoding, sep=sep)
