"""The planning studio: edit a plan in the browser, see its scorecard live, let the solver repair around you.

``studio(...)`` (``lombardy-districts studio``) loads the territory as every command does, starts a
local web application and opens the browser on it. What lives where:

==============  ======================================================================================
``session``     the plan being edited, its locks, undo/redo history, named versions, the journal
``live``        the scorecard after every edit: ``evaluate``'s numbers, computed in milliseconds
``jobs``        Complete / Repair / Merge: ``solve`` in a background process, locks as rules
``files``       the workspace folder: safe names, atomic writes, uploads
``payload``     shapes, shared borders and ties the page draws
``state``       all of the above behind the page, as JSON-ready calls; a solver's answer as a candidate
                beside the current plan (ids, names and changes by ``model.changes``, matched colours)
``app``         the Starlette application: routes, access token, allowed hosts (the only HTTP code)
``server``      uvicorn on a socket: in the foreground (the command), or in a thread (tests, notebooks)
``static/``     the page: plain HTML, CSS and JavaScript with the Leaflet shipped in ``maps/assets``
==============  ======================================================================================
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

from lombardy_districts.model.options import DataOptions, Selection, SolverOptions

log = logging.getLogger(__name__)

DEFAULT_PORT = 8765
"""Port tried first; a free one is taken when it is busy."""
DEFAULT_WORKSPACE = "studio"


def prepare(plan=None, *, status_quo=None, rules=None, collaboration=None, collaboration_weights=None,
            data: DataOptions | Mapping | None = None, selection: Selection | Mapping | None = None,
            workspace=DEFAULT_WORKSPACE, solver: SolverOptions | Mapping | None = None, **options):
    """Load everything the studio works on, checked as the commands check it, and return its state.

    Parameters are those of :func:`studio`, without the server's.
    """
    from lombardy_districts.io.embedded import load_municipalities
    from lombardy_districts.studio.state import StudioState
    from lombardy_districts.workflows.inputs import data_and_selection, read_inputs

    data, selection = data_and_selection("studio", data, selection, options)
    plan, status_quo = (_as_file(given, workspace, key) for key, given in (("plan", plan), ("status_quo", status_quo)))
    inputs = read_inputs(data, selection, {"plan": plan, "status_quo": status_quo}, rules=rules,
                         collaboration=collaboration, collaboration_weights=collaboration_weights)
    known = load_municipalities(data.region).index if data.municipalities is None else inputs.territory.codes
    solver = SolverOptions.from_mapping(solver or {"time_limit": 30.0, "workers": 1})
    return StudioState(inputs, Path(workspace), known_codes=known, solver=solver,
                       plan_source=Path(plan).name if plan else "")


def _as_file(given, workspace, key: str):
    """A ``Plan`` (from a notebook) written to the workspace as ``given_<key>.csv``: the studio opens files."""
    from lombardy_districts.model.plan import Plan

    if not isinstance(given, Plan):
        return given
    Path(workspace).mkdir(parents=True, exist_ok=True)
    return given.to_csv(Path(workspace) / f"given_{key}.csv")


def studio(plan=None, *, status_quo=None, rules=None, collaboration=None, collaboration_weights=None,
           data: DataOptions | Mapping | None = None, selection: Selection | Mapping | None = None,
           workspace=DEFAULT_WORKSPACE, host: str = "127.0.0.1", port: int | None = None,
           open_browser: bool = True, solver: SolverOptions | Mapping | None = None, **options) -> None:
    """Start the planning studio and open the browser on it; returns when the server stops (Ctrl-C).

    Parameters
    ----------
    plan, status_quo
        Plan CSV files (``municipality_code,plan_id[,plan_name]``), or ``Plan`` objects (written to the
        workspace as ``given_plan.csv``, ``given_status_quo.csv``): the plan to start from, and the current
        plan that changes are measured against. Without a plan the studio starts from the status quo, or
        else from one area plan per province. A session saved in ``workspace`` for the same municipalities
        reopens as it was left (a ``plan`` given then opens as a new step).
    rules, collaboration, collaboration_weights
        As for ``propose``: a rules file, a collaboration CSV, weights per kind of tie.
    data, selection, **options
        Where the municipalities come from and which part to work on (``DataOptions`` and ``Selection``
        fields, e.g. ``province="Bergamo"``).
    workspace
        Folder every file of the studio goes in (created if needed).
    host, port
        Where to listen: ``127.0.0.1`` by default; any other host requires the access token printed with
        the address. Without a port, 8765 or else a free one.

    open_browser
        Open the page in the default browser.
    solver
        ``SolverOptions`` of the Complete, Repair and Merge buttons (default: CP-SAT, 30 s, one thread).
    """
    from lombardy_districts.studio.server import run

    state = prepare(plan, status_quo=status_quo, rules=rules, collaboration=collaboration,
                    collaboration_weights=collaboration_weights, data=data, selection=selection,
                    workspace=workspace, solver=solver, **options)
    run(state, host=host, port=port, open_browser=open_browser)


__all__ = ["prepare", "studio"]
