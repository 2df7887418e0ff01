"""Scenario sweeps: run many ``propose`` scenarios in parallel and compare them in one table and page.

``sweep(scenarios, out_dir)`` runs every scenario (``scenarios.read_scenarios``) and writes:

- ``out_dir/<name>/plan.csv``, ``scorecard.json``, the renderers' maps (``map.html``), any
  ``--format`` files (``plans.gpkg``, ``plans.geojson``), and last ``result.json``: the marker that
  the scenario finished, holding its options and its results-table row;
- ``out_dir/results.csv``: one row per scenario, its options and headline scores, rewritten
  after each scenario so an interrupted sweep keeps what finished;
- ``out_dir/<name>/compare.html``: the scenario beside its status quo, or else beside the first
  scenario (the baseline) when both cover the same municipalities;
- ``out_dir/index.html``: the gallery of maps
  with a trade-off chart of plans against collaboration retained.

A re-run skips scenarios whose ``result.json`` exists with the same options; scenarios that failed
(an exception, recorded with status ``failed`` and its error) run again. ``results.csv`` is always
rebuilt from the scenario folders' ``result.json`` files and the scenarios just run, so it never
describes a plan its folder does not hold. Executors: ``local`` (processes,
``concurrent.futures``; in this process when ``jobs`` is 1) or ``dask`` (a ``distributed``
scheduler at ``scheduler``, or a local cluster of ``jobs`` workers). With Dask on several
machines, every worker must have this package installed, and ``out_dir`` and the scenario's input
files must be on a file system all machines share.

Faults: the output folder is locked for the whole sweep (a second sweep into it is refused), each
scenario folder is written as one unit (``io.output_folder.OutputFolder``: a scenario that fails
leaves its folder as it was), and local worker processes end when the sweep's process ends,
however it ends (killed included), instead of running on unrecorded.

Stopping (``stop``, a ``model.stop.Stop``; Ctrl-C or SIGTERM on the command line): the sweep puts a
stop file in the output folder's state folder, which every scenario running in a worker watches (the
local processes and Dask workers alike, as they share the folder). Running scenarios end their search
and write their best plan with status ``interrupted`` (a re-run runs them again); scenarios not
started yet are not run; finished ones are kept, and ``results.csv`` holds what finished and what was
interrupted. Local workers ignore SIGINT, so Ctrl-C in a terminal (which reaches the whole process
group) stops them through the sweep, not in the middle of writing.
"""

from __future__ import annotations

import ctypes
import html
import json
import logging
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import replace
from functools import partial
from pathlib import Path

import pandas as pd

from lombardy_districts.errors import InputError
from lombardy_districts.io.files import write_atomic
from lombardy_districts.io.output_folder import STATE, FolderLock, OutputFolder
from lombardy_districts.model.options import MAX_JOBS, number_problem
from lombardy_districts.model.plan import Plan
from lombardy_districts.model.scorecard import evaluate
from lombardy_districts.model.stop import Stop, put_stop_file, stop_when_file
from lombardy_districts.workflows.export import parse_formats
from lombardy_districts.workflows.propose import MARKER, solve
from lombardy_districts.workflows.scenarios import (
    KEYS,
    Scenario,
    read_scenarios,
    scenarios_from_dicts,
    selection_problems,
)

log = logging.getLogger(__name__)

EXECUTORS = ("local", "dask")
SCORES = ("plans", "compliant_plans", "population_non_compliant", "effective_plans", "collaboration_retained",
          "unions_split", "municipalities_moved")
RESULT_COLUMNS = ["name", *KEYS, "status", *SCORES, "objective", "gap", "wall_time_s", "error"]
_WHOLE = ("floor", "seed", "workers", "plans", "compliant_plans", "population_non_compliant", "unions_split",
          "municipalities_moved")
DASK_HINT = "the dask executor needs dask.distributed: pip install lombardy-districts[dask]"
STOP_FILE = "stop"
"""File in the output folder's state folder that tells running scenarios to stop (``run_until``)."""


def sweep(
    scenarios,
    out_dir,
    jobs: int = 1,
    executor: str = "local",
    scheduler=None,
    progress: Callable[[dict], None] | None = None,
    formats: Iterable[str] = (),
    maps: bool = True,
    defaults: Mapping | None = None,
    stop: Stop | None = None,
) -> pd.DataFrame:
    """Run scenarios, skipping finished ones, and write every output (see the module docstring).

    Parameters
    ----------
    scenarios
        A scenario file path, or a list of ``Scenario`` or option dicts (``name`` plus ``KEYS``;
        relative paths are taken from the current folder).
    out_dir
        Output folder (created if needed).
    jobs
        Scenarios run at the same time (processes, or Dask workers of a local cluster).
    executor
        ``"local"`` or ``"dask"``.
    scheduler
        With ``executor="dask"``: a scheduler address (``"tcp://host:8786"``), a
        ``distributed.Client``, or None for a local cluster of ``jobs`` single-threaded workers.
    progress
        Called after each scenario with ``{"name", "status", "done", "total", "skipped"}``.
    formats
        GIS files to write per scenario: ``gpkg``, ``geojson`` (see ``export``).
    maps
        Write each scenario's map and the gallery page.
    defaults
        Options every scenario starts from, under a scenario file's own ``[defaults]`` and each
        scenario's values: both win over these.
    stop
        When set (from another thread, or by Ctrl-C on the command line), the running scenarios end
        early and keep their best plan, and no other scenario starts (see the module docstring).

    Returns
    -------
    pandas.DataFrame
        The results table (``RESULT_COLUMNS``), one row per scenario in the order given.
    """
    scenarios = _as_scenarios(scenarios, defaults)
    formats = parse_formats(formats)
    problems = []
    if bad := number_problem("jobs", jobs, 1, MAX_JOBS, whole=True):
        problems.append(bad + " (scenarios run at the same time)")
    if executor not in EXECUTORS:
        problems.append(f"executor = {executor!r}: allowed: {', '.join(EXECUTORS)}")
    if scheduler is not None and executor != "dask":
        problems.append(f"scheduler = {scheduler!r} needs executor = \"dask\" (--executor dask)")
    problems += selection_problems(scenarios)
    if problems:
        raise InputError(problems)
    out = Path(out_dir)
    with FolderLock(out, command="lombardy-districts sweep"):
        return _sweep(scenarios, out, jobs, executor, scheduler, progress, formats, maps,
                      stop if stop is not None else Stop())


def _sweep(scenarios: list[Scenario], out: Path, jobs, executor, scheduler, progress, formats, maps,
           stop: Stop) -> pd.DataFrame:
    """``sweep`` once its options are checked and its folder locked."""
    rows: dict[str, dict] = {}
    todo = []
    for s in scenarios:
        row = finished_row(out / s.name, s)
        if row is None:
            todo.append(s)
        else:
            rows[s.name] = row
    state = {"done": 0, "total": len(scenarios)}
    log.info("sweep: %d scenarios, %d finished before, %d to run (%s, %d jobs)", len(scenarios), len(rows),
             len(todo), executor, jobs)
    for name in rows:  # counted one by one, as those run now are: [1/3], [2/3]
        state["done"] += 1
        if progress:
            progress({"name": name, "status": rows[name]["status"], "skipped": True, **state})

    def record(row: dict) -> None:
        rows[row["name"]] = row
        state["done"] += 1
        write_results(out, scenarios, rows)
        if progress:
            progress({"name": row["name"], "status": row["status"], "skipped": False, **state})

    flag = out / STATE / STOP_FILE
    flag.unlink(missing_ok=True)  # left by a sweep that was killed
    try:
        with stop.hook(partial(put_stop_file, flag, stop)):
            _run(todo, out, jobs, executor, scheduler, formats, maps, record, stop)
    finally:  # an interrupted sweep still leaves a results table of what finished
        flag.unlink(missing_ok=True)
        table = write_results(out, scenarios, rows)
    if stop.is_set():
        log.info("sweep: stopped (%s); %d of %d scenarios have a row, a re-run runs the others", stop.reason,
                 len(table), len(scenarios))
    if maps:
        if not stop.is_set():  # comparisons take a while: the next run writes them
            write_baseline_comparisons(out, scenarios, rows)
        write_index(out, scenarios, rows)
    return table



def write_baseline_comparisons(out_dir, scenarios: list[Scenario], rows: Mapping[str, dict]) -> None:
    """Give each finished scenario without a status quo a ``compare.html`` beside the first scenario.

    A scenario with a status quo already compares against it (``Proposal.write``). The first
    finished scenario is the baseline; a scenario over other municipalities is left without one.
    """
    from lombardy_districts.maps.compare import write_comparison  # folium: loaded only when maps are written
    out = Path(out_dir)
    finished = [s for s in scenarios if _has_plan(rows.get(s.name)) and (out / s.name / "plan.csv").exists()]
    if len(finished) < 2:
        return
    base = finished[0]
    base_problem = base.problem()
    territory = base_problem.territory
    base_plan = Plan.from_csv(out / base.name / "plan.csv", territory)
    base_card = evaluate(base_plan, base_problem.rules, base_problem.collaboration)
    for s in finished[1:]:
        target = out / s.name / "compare.html"
        if target.exists() or s.get("status_quo"):
            continue
        frame = pd.read_csv(out / s.name / "plan.csv", dtype=str)
        if set(frame["municipality_code"]) != set(territory.codes):
            log.info("scenario %s covers other municipalities than %s: no comparison", s.name, base.name)
            continue
        plan = Plan.from_csv(out / s.name / "plan.csv", territory)
        rules = s.rules_in_force()
        card = evaluate(plan, rules, base_problem.collaboration)
        with OutputFolder(out / s.name, replace=False) as folder:  # added to the scenario's files
            folder.write("compare.html", partial(
                write_comparison, base_plan, plan, scorecard_a=base_card, scorecard_b=card, rules=rules,
                collaboration=base_problem.collaboration, titles=(base.name, s.name)))


def run_scenario(scenario: Scenario, folder, formats: Iterable[str] = (), maps: bool = True,
                 workers: int | None = None, stop: Stop | None = None) -> dict:
    """Solve one scenario and write its folder as one unit (``result.json`` last). Returns its results row.

    Any exception (bad data, an infeasible floor, a solver error, a full disk) is caught and
    recorded in the row as status ``failed`` with the error, so one scenario never stops the
    others; its folder is then left as it was. A ``stop`` set during the search ends it early: the
    best plan found is written with status ``interrupted`` (none found: the folder is left as it was).
    """
    row = {**scenario.row(), "status": None, "error": None}
    start = time.perf_counter()
    try:
        with OutputFolder(folder, marker=MARKER, command=f"lombardy-districts sweep, scenario {scenario.name}") as out:
            problem = scenario.problem()
            options = scenario.solver_options
            if options.workers is None and workers is not None:
                options = replace(options, workers=workers)
            proposal = solve(problem, options, stop=stop)
            result = proposal.result
            row.update(status=result.status, objective=result.objective, gap=result.gap)
            if proposal.scorecard is None:
                row["error"] = result.message or f"no plan found ({result.status})"
            else:
                row.update({key: proposal.scorecard.summary.get(key) for key in SCORES})
            row["wall_time_s"] = round(time.perf_counter() - start, 3)
            if result.status == "interrupted" and proposal.plan is None:
                return row  # nothing worth keeping: the folder stays as it was, and a re-run runs it
            proposal.write(out, maps=maps, formats=formats, extra={
                "scenario": {"name": scenario.name, "options": _jsonable(dict(scenario.options))},
                "row": _jsonable(row)})
    except Exception as exc:  # recorded, never raised: the sweep goes on; the folder is as it was
        log.warning("scenario %s failed: %s: %s", scenario.name, type(exc).__name__, exc)
        said = _one_line(str(exc))  # one line per CSV cell
        row = {**scenario.row(), "status": "failed", "error": f"{type(exc).__name__}: {said}",
               "wall_time_s": round(time.perf_counter() - start, 3)}  # no scores of a plan not written
    return row


def run_until(scenario: Scenario, folder, formats: Iterable[str], maps: bool, workers: int | None,
              stop_file) -> dict | None:
    """``run_scenario`` in a worker, stopped early once ``stop_file`` exists (the sweep was stopped).

    None when the file was there before the scenario started: it is not run.
    """
    if Path(stop_file).exists():
        return None
    with stop_when_file(stop_file) as stop:
        return run_scenario(scenario, folder, formats, maps, workers, stop)


def finished_row(folder, scenario: Scenario) -> dict | None:
    """The results row of a scenario finished before with the same options, else None.

    A scenario stopped before it finished (status ``interrupted``) is not finished: it runs again.
    """
    marker = Path(folder) / MARKER
    try:
        record = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    same = record.get("scenario") == {"name": scenario.name, "options": _jsonable(dict(scenario.options))}
    if not same:
        log.info("scenario %s: options changed since %s was written; running it again", scenario.name, marker)
        return None
    row = record.get("row")
    if isinstance(row, dict) and row.get("status") == "interrupted":
        log.info("scenario %s was stopped before it finished; running it again", scenario.name)
        return None
    return row


def write_results(out_dir, scenarios: list[Scenario], rows: Mapping[str, dict]) -> pd.DataFrame:
    """Write ``results.csv`` (atomically) with the rows known so far, in scenario order."""
    table = pd.DataFrame([rows[s.name] for s in scenarios if s.name in rows], columns=RESULT_COLUMNS)
    for column in _WHOLE:
        table[column] = pd.to_numeric(table[column]).round().astype("Int64")  # whole numbers even with gaps
    write_atomic(Path(out_dir) / "results.csv", lambda p: table.to_csv(p, index=False))
    return table


def write_index(out_dir, scenarios: list[Scenario], rows: Mapping[str, dict]) -> Path:
    """Write ``index.html``: the gallery of every scenario's map with the trade-off chart."""
    from lombardy_districts.maps.chart import tradeoff_svg  # the maps package, as above
    from lombardy_districts.maps.gallery import write_gallery  # the maps package, as above

    out = Path(out_dir)
    done = [rows[s.name] for s in scenarios if s.name in rows]
    points = [{"x": r.get("plans"), "y": r.get("collaboration_retained"), "label": r["name"],
               "href": f"{r['name']}/map.html" if _has_plan(r) and (out / r["name"] / "map.html").exists() else None,
               "tooltip": f"{r['name']}: {r.get('plans')} plans, {_pct(r.get('collaboration_retained'))} "
                          f"collaboration retained, {r.get('compliant_plans')} compliant"}
              for r in done if r.get("status") != "failed"]
    section = (
        '<section class="ld-tradeoff"><h2>Trade-off: more area plans or more collaboration kept</h2>'
        "<p>Each point is a scenario. Up and to the right is better on both counts; a planner picks a "
        "point on the outer edge. Click a point to open its map. A scenario's <i>compare</i> page sets it beside "
        f"its status quo, or else beside the first scenario ({html.escape(scenarios[0].name)}).</p>"
        + tradeoff_svg(points, title="number of area plans against collaboration retained")
        + _failed_html(done) + "</section>"
    )
    settings = _differing_options(scenarios)
    entries = [{"name": r["name"], "map": out / r["name"] / "map.html",
                "compare": out / r["name"] / "compare.html" if (out / r["name"] / "compare.html").exists() else None,
                "scores": {"settings": settings.get(r["name"], ""),
                           **{k: r.get(k) for k in (*SCORES, "status", "wall_time_s") if r.get(k) is not None}}}
               for r in done if _has_plan(r) and (out / r["name"] / "map.html").exists()]
    path = out / "index.html"

    def write(tmp: Path) -> None:
        write_gallery(entries, tmp, title="Scenario sweep")
        page = tmp.read_text(encoding="utf-8")
        cut = page.rfind("<script>") if "<script>" in page else page.rfind("</body>")
        tmp.write_text(page[:cut] + section + page[cut:], encoding="utf-8")

    return write_atomic(path, write)


def _run(todo, out: Path, jobs, executor, scheduler, formats, maps, record, stop: Stop) -> None:
    if not todo:
        return
    flag = str(out / STATE / STOP_FILE)
    if executor == "dask":
        _run_dask(todo, out, jobs, scheduler, formats, maps, record, flag)
        return
    workers = max(1, (os.cpu_count() or 1) // jobs)  # solver threads per scenario unless it sets workers
    if jobs == 1:
        for s in todo:
            if stop.is_set():
                break
            record(run_scenario(s, out / s.name, formats, maps, workers, stop))
        return
    # spawn, not fork: solvers and Dask start threads, and forking a threaded process can deadlock
    pool = ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn"),
                               initializer=end_with_parent, initargs=(os.getpid(),))
    try:
        futures = {pool.submit(run_until, s, out / s.name, formats, maps, workers, flag): s for s in todo}
        for future in as_completed(futures):
            row = _outcome(future, futures[future])
            if row is not None:  # None: not run, the sweep was stopped first
                record(row)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _run_dask(todo, out: Path, jobs, scheduler, formats, maps, record, flag: str) -> None:
    try:
        from distributed import Client, LocalCluster
        from distributed import as_completed as dask_completed
    except ImportError:
        raise InputError(DASK_HINT) from None
    cluster = client = None
    if scheduler is None:
        cluster = LocalCluster(n_workers=jobs, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster)
    elif isinstance(scheduler, str):
        client = Client(scheduler)
    else:
        client = scheduler  # a Client the caller owns and closes
    try:
        futures = {client.submit(run_until, s, str(out / s.name), formats, maps, 1, flag, pure=False): s
                   for s in todo}
        for future in dask_completed(list(futures)):
            row = _outcome(future, futures[future])
            if row is not None:  # None: not run, the sweep was stopped first
                record(row)
    finally:
        if client is not scheduler:
            client.close()
        if cluster is not None:
            cluster.close()


def end_with_parent(parent: int) -> None:
    """Start-up of a local sweep worker: end this process when the sweep's process ends, however it ends.

    On Linux the kernel kills the worker as its parent dies (``PR_SET_PDEATHSIG``); everywhere a
    thread checks once a second that the parent is still there. So a killed sweep leaves no
    worker running on, writing results nobody records. The worker ignores SIGINT: Ctrl-C in a
    terminal reaches every process of the group, and the sweep stops its workers itself (the stop
    file, ``run_until``), so that none is cut off in the middle of writing its folder.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG
        except (OSError, AttributeError):  # pragma: no cover - a libc without prctl
            pass
    if os.getppid() != parent:  # the parent ended before we asked
        os._exit(1)
    threading.Thread(target=_watch_parent, args=(parent,), name="end-with-parent", daemon=True).start()


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(1)


def _differing_options(scenarios: list[Scenario]) -> dict[str, str]:
    """Per scenario, the options whose values differ between scenarios, as ``key=value; ...``."""
    rows = {s.name: s.row() for s in scenarios}
    keys = [k for k in KEYS if len({row[k] for row in rows.values()}) > 1]
    return {name: "; ".join(f"{k}={row[k]}" for k in keys if row[k] is not None) for name, row in rows.items()}


def _one_line(text: str) -> str:
    """A message of several lines ("...:" then "- ..." items) as one: "...: a; b"."""
    lines = [line.strip().removeprefix("- ") for line in text.splitlines() if line.strip()]
    if len(lines) > 1 and lines[0].endswith(":"):
        return f"{lines[0]} {'; '.join(lines[1:])}"
    return "; ".join(lines)


def _has_plan(row: Mapping | None) -> bool:
    """Whether a results row stands for a plan written in its folder (not a failure, not "no plan")."""
    if not row:
        return False
    return row.get("status") != "failed" and row.get("plans") is not None


def _outcome(future, scenario: Scenario) -> dict:
    """The row a finished future returned, or a failed row when its process died."""
    try:
        return future.result()
    except Exception as exc:  # the worker process crashed (memory, a signal): record it, go on
        return {**scenario.row(), "status": "failed", "error": f"{type(exc).__name__}: {exc}"}


def _as_scenarios(scenarios, defaults: Mapping | None = None) -> list[Scenario]:
    if isinstance(scenarios, str | os.PathLike):
        scenarios = read_scenarios(scenarios)
    tables = [{"name": s.name, **s.options} if isinstance(s, Scenario) else s for s in scenarios]
    if defaults and ("name" in defaults or "unset" in defaults):
        raise InputError("defaults cannot set name or unset; set them in each scenario")
    scenarios = scenarios_from_dicts(tables, defaults=defaults)
    if not scenarios:
        raise InputError("no scenarios to run; give a scenario file or a list of option dicts with a name")
    return scenarios


def _failed_html(rows) -> str:
    failed = [r for r in rows if r.get("status") == "failed" or (r.get("error") and r.get("plans") is None)]
    if not failed:
        return ""
    items = "".join(f"<li><b>{html.escape(r['name'])}</b>: {html.escape(str(r.get('error')))}</li>" for r in failed)
    return f"<h3>Scenarios without a plan</h3><ul>{items}</ul>"


def _pct(value) -> str:
    return f"{value:.1%}" if isinstance(value, int | float) else "-"


def _jsonable(value):
    """Plain JSON types: numpy scalars unwrapped, NaN as None, tuples as lists."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        value = value.item()
    if isinstance(value, float) and value != value:
        return None
    return value
