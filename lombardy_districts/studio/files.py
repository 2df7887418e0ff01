"""The workspace folder: every file the studio reads from the page or writes goes there, and nowhere else.

A file name from the page is a plain name (letters of any language, such as ``piano_è``, digits, spaces
and ``- _ . ( ) +``), never a path: ``../x.csv``, ``/etc/passwd`` or ``a/b.csv`` are refused with a message
saying what is allowed, and so are the names Windows keeps for devices (``con``, ``nul``, ``com1``...). Files
are written atomically (a temporary file beside the target, then a rename), so a reader never sees
half a file. Uploads are capped at ``MAX_UPLOAD`` bytes and kept under ``uploads/`` when they read as a plan.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from lombardy_districts.errors import InputError
from lombardy_districts.io.files import write_atomic
from lombardy_districts.model.plan import WITHIN_HINT, Plan, read_assignment_csv
from lombardy_districts.model.selection import plan_for
from lombardy_districts.model.territory import Territory

MAX_UPLOAD = 5_000_000
"""Largest plan file accepted from the page, in bytes (a whole-region plan is about 40 kB)."""
EXPORTS = {"csv": ".csv", "gpkg": ".gpkg", "geojson": ".geojson", "html": ".html", "changes": ".csv"}
"""What the studio writes, by format, with the file name ending each needs."""
_NAME = re.compile(r"[^\W_][\w .()+-]{0,99}")  # \w: letters and digits of any language, and _
WINDOWS_DEVICES = {"con", "prn", "aux", "nul",
                   *(f"{port}{k}" for port in ("com", "lpt") for k in "123456789\u00b9\u00b2\u00b3")}
"""Names Windows keeps for devices, with any extension: a file so named cannot be opened there."""
UPLOADS = "uploads"


def workspace_path(workspace: Path, name: str, suffix: str, folder: str = "") -> Path:
    """The path of file ``name`` in the workspace (``suffix`` added when missing).

    Raises
    ------
    InputError
        When ``name`` is not a plain file name, or would leave the workspace.
    """
    if isinstance(name, str):
        name = unicodedata.normalize("NFC", name)  # "è" typed on a Mac arrives as "e" and an accent
    if not isinstance(name, str) or not _NAME.fullmatch(name.strip()) or ".." in name:
        raise InputError(f"file name {name!r}: use a plain name of letters (accents too), digits, spaces and "
                         f"- _ . ( ) + (at most 100 characters, no folders), e.g. bergamo-v2{suffix}")
    name = name.strip()
    device = name.split(".")[0].strip().lower()
    if device in WINDOWS_DEVICES:
        raise InputError(f"file name {name!r}: {device.upper()} is a name Windows keeps for a device (as are CON, "
                         f"PRN, AUX, NUL, COM1-COM9 and LPT1-LPT9, with any extension), so the file could not be "
                         f"opened there; use another name, e.g. plan-{device}{suffix}")
    if not name.lower().endswith(suffix):
        name += suffix
    root = workspace.resolve()
    path = (root / folder / name).resolve()
    if path.parent != (root / folder).resolve():
        raise InputError(f"file name {name!r} leads outside the workspace {root}; use a plain name")
    return path


def save_plan_csv(workspace: Path, name: str, plan: Plan) -> Path:
    """Write ``municipality_code,plan_id,plan_name`` (the format every command reads), atomically."""
    return write_atomic(workspace_path(workspace, name, ".csv"), plan.to_csv)


def read_upload(workspace: Path, name: str, data: bytes, territory: Territory, known_codes) -> tuple[Plan, int]:
    """Keep an uploaded plan CSV under ``uploads/`` and read it over ``territory`` as the commands do.

    Returns the plan and how many of the file's municipalities lie outside ``territory`` (left out, as
    the commands leave them out of a selection).

    Raises
    ------
    InputError
        With the command line's messages (the file named as the user named it) when the file is too
        large or is not a plan of these municipalities.
    """
    if len(data) > MAX_UPLOAD:
        raise InputError(f"{name}: {len(data):,} bytes is more than the {MAX_UPLOAD:,} accepted; a plan file "
                         "lists municipality_code,plan_id[,plan_name] and is far smaller")
    path = workspace_path(workspace, name, ".csv", UPLOADS)
    staged = path.with_name(f".{path.name}.upload")  # hidden: a file that fails to read is not kept or listed
    write_atomic(staged, lambda tmp: tmp.write_bytes(data))
    try:
        frame = read_assignment_csv(staged, istat=territory.istat, names=territory.municipalities["name"])
        unknown = sorted(set(frame["municipality_code"]) - set(known_codes))
        if unknown:
            more = f" and {len(unknown) - 10:,} more" if len(unknown) > 10 else ""
            raise InputError(f"{staged}: unknown municipality codes {', '.join(unknown[:10])}{more} (no municipality "
                             f"of the data loaded has them; this studio plans {len(territory.codes):,} "
                             "municipalities). Fix: use their 2023 ISTAT codes, as a plan saved from the studio does.")
        plan = plan_for(territory, frame, known_codes, what=str(staged))
    except InputError as exc:
        staged.unlink(missing_ok=True)
        raise InputError([_studio_words(p.replace(str(staged), path.name), len(territory.codes), path.name)
                          for p in exc.problems]) from None
    except BaseException:
        staged.unlink(missing_ok=True)
        raise
    staged.replace(path)
    return plan, len(set(frame["municipality_code"]) - set(territory.codes))


def _studio_words(problem: str, count: int, name: str) -> str:
    """A problem of the command line's reading (``Plan``) with a fix the planner can make from the page.

    The command line's fix for a file that leaves municipalities out is an option (``--within-status-quo``)
    that a running studio cannot take.
    """
    if WITHIN_HINT not in problem:
        return problem
    said = problem.split(" Fix:", 1)[0].rstrip(".")
    return (f"{said}. Fix: this studio plans {count:,} municipalities, so the file must give each of them a plan id "
            f"(a plan saved from the studio lists them all); to plan just the municipalities {name} lists, start the "
            f"studio again on them: lombardy-districts studio --status-quo {name} --within-status-quo")


def list_files(workspace: Path) -> list[dict]:
    """The files in the workspace and its ``uploads/`` folder a person may download.

    Each has ``name``, ``bytes`` and ``plan``: a CSV whose header has ``municipality_code``, which the
    page offers to open.
    """
    out = []
    for folder in (workspace, workspace / UPLOADS):
        if not folder.is_dir():
            continue
        for path in sorted(folder.iterdir()):
            if path.is_file() and not path.name.startswith(".") and path.suffix in EXPORTS.values():
                out.append({"name": str(path.relative_to(workspace).as_posix()), "bytes": path.stat().st_size,
                            "plan": path.suffix == ".csv" and _has_codes(path)})
    return out


def _has_codes(path: Path) -> bool:
    """Whether the CSV's first line names a ``municipality_code`` column (any case), as a plan file does."""
    try:
        with path.open(encoding="utf-8-sig", errors="replace") as f:
            return "municipality_code" in f.readline(4096).lower()
    except OSError:
        return False


def download_path(workspace: Path, name: str) -> Path:
    """The file ``name`` (as ``list_files`` gives it) inside the workspace; refused outside it."""
    folder, _, base = name.rpartition("/")
    if folder not in ("", UPLOADS):
        raise InputError(f"no file {name!r} in the workspace")
    suffix = Path(base).suffix
    if suffix not in EXPORTS.values():
        raise InputError(f"no file {name!r} in the workspace")
    path = workspace_path(workspace, base, suffix, folder)
    if not path.is_file():
        raise InputError(f"no file {name!r} in the workspace")
    return path
