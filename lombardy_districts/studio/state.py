"""The studio's state behind the web page: the session, its live scorecard, colours, solver job and candidate.

``StudioState`` knows nothing of HTTP: ``app.py`` turns requests into calls of its methods, which return
plain JSON-ready dicts. Tests drive it directly too.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from lombardy_districts.errors import InputError
from lombardy_districts.io.files import write_atomic
from lombardy_districts.maps.colouring import colour_graph, colour_pair
from lombardy_districts.model.changes import change_table, describe_changes
from lombardy_districts.model.options import SolverOptions
from lombardy_districts.model.plan import Plan
from lombardy_districts.model.scorecard import Scorecard, evaluate
from lombardy_districts.studio import files
from lombardy_districts.studio.jobs import Job, Spare, solver_problem
from lombardy_districts.studio.live import LiveScore
from lombardy_districts.studio.payload import territory_payload
from lombardy_districts.studio.session import Change, EditRefused, Session, unique_names
from lombardy_districts.workflows.inputs import Inputs

log = logging.getLogger(__name__)

SESSIONS = ".studio"
"""Workspace folder holding the session journals (one per set of municipalities)."""
FALLBACK_STEPS = 20
"""Steps of the history a repair looks back through for a complying plan to fall back on (each plan
checked takes about 35 ms on the whole region, in the request that starts the repair)."""


def start_plan(inputs: Inputs) -> tuple[Plan, str]:
    """The plan a new session starts from: the plan file, else the status quo, else one plan per province."""
    for key, what in (("plan", "the plan file"), ("status_quo", "the status quo")):
        if key in inputs.plans:
            return inputs.plans[key], what
    gdf = inputs.territory.municipalities
    if "province" in gdf.columns:
        return Plan(inputs.territory, gdf["province"].astype(str)), "one area plan per province"
    return Plan(inputs.territory, dict.fromkeys(gdf.index, "all")), "one area plan for everything"


def page_version(value: object) -> int:
    """The version number an edit from the page was made on."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise EditRefused(f"the page sent version {value!r} with its edit; reload the page and edit again")
    return value


def page_text(value: object, what: str) -> str:
    """A name typed in the page."""
    if not isinstance(value, str):
        raise EditRefused(f"{what} must be text, got {value!r}")
    return value


def page_codes(value: object) -> list[str]:
    """Municipality codes selected in the page."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(c, str) for c in value):
        raise EditRefused(f"the page sent municipalities {value!r}; expected a list of ISTAT codes")
    return value


def card_json(card: Scorecard) -> dict:
    """``Scorecard.to_dict()`` without its change rows, built column by column (the page asks for it after every edit).

    The headline in words (``scorecard.headline``) comes first, as ``evaluate`` prints it.
    """
    table = card.plans
    columns = {}
    for name in table.columns:
        values = table[name].tolist()
        if pd.api.types.is_float_dtype(table[name]):
            values = [None if v != v else v for v in values]  # NaN is not JSON
        columns[name] = values
    keys = list(columns)
    plans = [dict(zip(keys, row)) for row in zip(*columns.values())]
    return {"headline": list(card.headline), "plans": plans, "summary": _plain(card.summary)}


def _plain(value):
    """JSON types only: numpy scalars unwrapped, NaN as None."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str):
        value = value.item()
    return None if isinstance(value, float) and value != value else value


MAX_STUDIO_SECONDS = 3600
"""Longest time limit a button runs (the page's field allows as much)."""

class StudioState:
    """Everything one studio serves (see the module docstring).

    Parameters
    ----------
    inputs
        Territory, rules, collaboration, and the ``plan`` and ``status_quo`` files read, as ``read_inputs``
        gives them.
    workspace
        Folder the studio reads and writes in (created if needed).
    known_codes
        Every municipality of the region loaded, so a plan file over the whole region opens on a part.
    solver
        Default solver options of the Complete, Repair and Merge buttons.
    plan_source
        How the plan file was named on the command line (for the history's label).
    """

    @property
    def notice(self) -> str:
        """The last action's words for the page's message line."""
        return self._notice

    @notice.setter
    def notice(self, text: str) -> None:
        self._notice = text
        self.notices += 1  # the page shows a notice once, and not again after a reload
        self.warning = False  # a notice the planner must not miss sets it after

    def warn(self, text: str) -> None:
        """A notice the page shows as a warning (a lock lifted, a plan renamed)."""
        self.notice = text
        self.warning = True

    def __init__(self, inputs: Inputs, workspace: Path, known_codes=None, solver: SolverOptions | None = None,
                 plan_source: str = ""):
        self.inputs = inputs
        self.territory, self.rules, self.collaboration = inputs.territory, inputs.rules, inputs.collaboration
        self.status_quo = inputs.plans.get("status_quo")
        self.workspace = Path(workspace)
        self.workspace.mkdir(parents=True, exist_ok=True)
        self.known_codes = list(known_codes) if known_codes is not None else self.territory.codes
        self.solver = solver or SolverOptions(time_limit=30.0, workers=1)
        self.live = LiveScore(self.territory, self.rules, self.collaboration, self.status_quo)
        key = hashlib.sha1(",".join(self.territory.codes).encode()).hexdigest()[:12]
        self.journal = self.workspace / SESSIONS / f"session-{key}.jsonl"
        reopened = self.journal.exists()
        plan, what = start_plan(inputs)
        self.session = Session(self.territory, plan.assignment, plan.names, self.journal, source=what)
        self.notices = 0
        self.notice = (f"Reopened your session ({len(self.session.history)} steps)." if reopened
                       else f"Started from {what}.")
        if reopened and "plan" in inputs.plans:
            try:
                self.session.replace(plan.assignment, plan.names, f"open {plan_source or 'the plan file'}",
                                     self.session.version)
                self.notice += f" Opened {plan_source or 'the plan file'} as a new step (undo to go back)."
            except EditRefused:
                pass  # the plan file is the current plan already
        self.start_notices = self.notices
        self.colours: dict[str, str] = {}
        self._card: tuple[int, Scorecard] | None = None
        self._colour_version = -1
        self.job: Job | None = None
        self.spare = Spare()
        self.candidate: dict | None = None
        self.job_basis: tuple = ()  # ``_basis()`` when the running or last job started
        self._payload: dict | None = None
        self._payload_bytes: tuple[bytes, bytes] | None = None

    # ----- what the page shows ---------------------------------------------------------------------
    def payload(self) -> dict:
        """Shapes, borders and ties to draw (computed once)."""
        if self._payload is None:
            self._payload = territory_payload(self.territory, self.collaboration, self.status_quo)
        return self._payload

    def payload_bytes(self) -> tuple[bytes, bytes]:
        """The payload as JSON bytes, plain and gzipped (computed once: it is large)."""
        if self._payload_bytes is None:
            raw = json.dumps(self.payload(), separators=(",", ":")).encode()
            self._payload_bytes = (raw, gzip.compress(raw, 6))
        return self._payload_bytes

    def warm(self) -> None:
        """Compute what the first page load asks for, before anyone asks, and start the solver's worker."""
        self.payload_bytes()
        self.state()
        self.spare.ready()

    def scorecard(self) -> Scorecard:
        """The live scorecard of the current plan (cached per version)."""
        s = self.session
        if self._card is None or self._card[0] != s.version:
            self._card = (s.version, self.live.score(s.assignment, s.names))
        return self._card[1]

    def _colours(self) -> dict[str, str]:
        if self._colour_version != self.session.version:
            self.colours = colour_graph(self.live.adjacency(self.session.assignment), preferred=self.colours)
            self._colour_version = self.session.version
        return self.colours

    def state(self) -> dict:
        """The whole state the page shows, as JSON."""
        s = self.session
        self._refit_candidate()
        card = card_json(self.scorecard())
        names = {r["plan_id"]: r["name"] for r in card["plans"]}
        return {
            "version": s.version,
            "assignment": [s.assignment[c] for c in s.codes],
            "names": names,
            "colours": self._colours(),
            "locked_plans": sorted(s.locked_plans),
            "locked_municipalities": sorted(s.locked_municipalities),
            "scorecard": card,
            "steps": s.steps(),
            "versions": [{"name": n, "version": v["version"], "saved": v.get("saved")} for n, v in s.versions.items()],
            "files": files.list_files(self.workspace),
            "job": None if self.job is None else self.job.to_json(),
            "candidate": self.candidate,
            "notice": self.notice,
            "notices": self.notices,  # how many notices so far: the page shows each once
            "warning": self.warning,  # the notice needs the planner's attention
            "started": self.notices == self.start_notices,  # no action since the studio started
            "has_status_quo": self.status_quo is not None,
            "floors": self.rules.floors,
            "time_limit": self.solver.time_limit,
        }

    # ----- edits -----------------------------------------------------------------------------------
    def edit(self, op: Mapping) -> dict:
        """Apply one edit from the page (``op`` names it; ``version`` is the version the page showed)."""
        s, kind, version = self.session, op.get("op"), page_version(op.get("version"))
        codes = page_codes(op.get("codes"))
        name = op.get("name")
        actions = {
            "move": lambda: s.move(codes, str(op.get("plan")), version),
            "new_plan": lambda: s.new_plan(codes, version, page_text(name, "plan name") if name else None),
            "merge": lambda: s.merge(str(op.get("plan")), str(op.get("other")), version),
            "rename": lambda: s.rename(str(op.get("plan")), page_text(name, "plan name"), version),
            "lock_plan": lambda: s.lock_plan(str(op.get("plan")), True, version),
            "unlock_plan": lambda: s.lock_plan(str(op.get("plan")), False, version),
            "lock": lambda: s.lock_municipalities(codes, True, version),
            "unlock": lambda: s.lock_municipalities(codes, False, version),
            "undo": lambda: s.undo(version),
            "redo": lambda: s.redo(version),
            "restore_version": lambda: s.restore_version(str(name), version),
        }
        if kind not in actions:
            raise EditRefused(f"unknown edit {kind!r}; allowed: {', '.join(actions)}")
        before = {p: s.plan_name(p) for p in s.locked_plans}
        change = actions[kind]()
        done = {"undo": "Undone: ", "redo": "Redone: "}.get(str(kind), "")  # the label says what the step did
        label = done + change.label if done else change.label[:1].upper() + change.label[1:]
        lifted = self._lifted(change, before) if kind == "restore_version" else ""
        if lifted:
            self.warn(label + "." + lifted)
        else:
            self.notice = label + "."
        return self.state()

    def delete_version(self, name: object) -> dict:
        """Forget a named version."""
        name = page_text(name, "version name")
        self.session.delete_version(name)
        self.notice = f"Version {name!r} deleted."
        return self.state()

    def save_version(self, name: object) -> dict:
        """Keep the current plan as a named version."""
        before = dict(self.session.versions)
        name = self.session.save_version(page_text(name, "version name"))
        old = before.get(name)
        self.notice = (f"Version {name!r} kept" + (f", replacing the one kept at step {old['version']}" if old else "")
                       + ".")
        return self.state()

    # ----- solver ----------------------------------------------------------------------------------
    def start_job(self, action: str, version: object, time_limit: object = None, solver: object = None) -> dict:
        """Run Complete, Repair or Merge on the current plan in the background."""
        s = self.session
        s.check_version(page_version(version))
        if time_limit is not None and (isinstance(time_limit, bool) or not isinstance(time_limit, int | float)
                                       or not 0 < time_limit <= MAX_STUDIO_SECONDS):
            raise EditRefused(f"time limit {time_limit!r}: give a number of seconds from 1 to {MAX_STUDIO_SECONDS}")
        if self.job is not None and self.job.running:
            raise EditRefused(f"{self.job.action} is still running; wait for it or cancel it first")
        problem = solver_problem(action, s.plan(), self.rules, self.collaboration, s.locked_plans,
                                 {c: s.assignment[c] for c in s.locked_municipalities})
        options = SolverOptions.from_mapping({
            "solver": solver or self.solver.solver, "time_limit": time_limit or self.solver.time_limit,
            "seed": self.solver.seed, "workers": self.solver.workers})
        self.candidate = None
        fallback = self._complying_step(problem) if action == "repair" else None
        self.job = Job(action, problem, options, s.version, fallback, self.spare.take())
        self.job_basis = self._basis()
        self.notice = f"{action.capitalize()} started."
        return self.state()

    def _basis(self) -> tuple:
        """What a solver's answer is for: the plan, its names and the locks (not the version number)."""
        s = self.session
        return (tuple(s.assignment[c] for c in s.codes), frozenset(s.names.items()), frozenset(s.locked_plans),
                frozenset(s.locked_municipalities))

    def _refit_candidate(self) -> None:
        """Edits undone (or redone back) while the solver ran leave its answer fitting: say it fits the version now."""
        c = self.candidate
        if c is not None and c["version"] != self.session.version and self._basis() == self.job_basis:
            c["version"] = self.session.version

    def _complying_step(self, problem) -> Plan | None:
        """What a repair may start from (``--warm-start``): an earlier step's plan, or None.

        The latest of the last ``FALLBACK_STEPS`` steps of the history whose plan the repair
        ``problem`` can start from (``Problem.warm_start_problems``: it complies with the rules and
        locks and has the same plans).
        """
        seen = self.session.assignment
        for k, assignment in enumerate(self.session.earlier()):
            if k >= FALLBACK_STEPS:
                break
            if assignment == seen:  # a step that moved nothing (a lock, a name)
                continue
            seen, plan = assignment, Plan(self.territory, assignment)
            if not problem.warm_start_problems(plan):
                return plan
        return None

    def job_status(self) -> dict:
        """The job's progress; when it has just found a plan, that plan becomes the candidate."""
        job = self.job
        if job is None:
            return {"job": None, "candidate": self.candidate, "version": self.session.version}
        job.poll()
        if job.outcome is not None and job.outcome.state == "done" and job.outcome.assignment is not None:
            self.candidate = self._make_candidate(job)
            job.outcome.assignment = None  # used once
        self._refit_candidate()
        if job.outcome is not None:
            self.spare.ready()  # the next job's worker, while the planner looks at this one's answer
        return {"job": job.to_json(), "candidate": self.candidate, "version": self.session.version}

    def finish_job(self) -> dict:
        """End the running job early: its best plan so far becomes the candidate, as a finished job's does."""
        job = self._running_job()
        job.finish()
        self.notice = f"{job.action.capitalize()} stopping: its best plan so far will be the candidate."
        return self.state()

    def cancel_job(self) -> dict:
        """Stop the running job."""
        job = self._running_job()
        job.cancel()
        self.notice = f"{job.action.capitalize()} cancelled; the plan is unchanged."
        return self.state()

    def _running_job(self) -> Job:
        if self.job is None or not self.job.running:
            raise EditRefused("no solver is running")
        return self.job

    def _make_candidate(self, job: Job) -> dict:
        """The solver's plan beside the current one: its changes (``model.changes``) and matched colours.

        The plan has the current plans' ids and names already (``changes.identify``, in the worker's
        ``solve``). Both maps are coloured together (``colour_pair``): each plan has the colour of
        the current plan it continues (a merger its largest predecessor's), and the current map keeps
        its colours except where a plan of either side would touch one of the same colour.
        """
        outcome = job.outcome
        assert outcome is not None and outcome.assignment is not None
        current = self.session.plan()
        assignment, names = outcome.assignment, outcome.names or {}
        plan = Plan(self.territory, assignment, names)
        scorecard = self.live.score(assignment, names)
        table = change_table(plan, current)
        said = describe_changes(table, scorecard.plans.set_index("plan_id")) if not table.empty else []
        self.colours, colours = colour_pair(current, plan, preferred=self._colours())
        card = card_json(scorecard)
        return {"action": job.action, "version": job.version,
                "assignment": [assignment[c] for c in self.territory.codes],
                "names": {r["plan_id"]: r["name"] for r in card["plans"]}, "colours": colours,
                "current_colours": self.colours, "explicit_names": names, "scorecard": card, "changes": said,
                "change_table": _plain(table.to_dict(orient="records")), "result": outcome.result,
                "words": outcome.words or []}

    def accept(self, version: object) -> dict:
        """Make the candidate the current plan (one step of the history)."""
        c = self.candidate
        if c is None:
            raise EditRefused("there is no candidate to accept; run Complete, Repair or Merge first")
        version = page_version(version)
        self.session.check_version(version)
        self._refit_candidate()
        if c["version"] != self.session.version:
            raise EditRefused("the plan changed since the solver started, so its answer no longer fits; "
                              "run it again")
        assignment = dict(zip(self.territory.codes, c["assignment"]))
        self.session.replace(assignment, {**self.session.names, **c["explicit_names"]}, f"accept {c['action']}",
                             version, solved=True)
        self.colours = dict(c["colours"])  # each plan keeps the colour it had beside the current plan
        self.candidate = None
        self.notice = f"{c['action'].capitalize()} accepted (undo to go back)."
        return self.state()

    def discard(self) -> dict:
        """Forget the candidate."""
        self.candidate = None
        self.notice = "Candidate discarded."
        return self.state()

    # ----- files -----------------------------------------------------------------------------------
    def open_upload(self, name: object, data: bytes, version: object) -> dict:
        """Open an uploaded plan CSV as the current plan (one step of the history)."""
        name, version = page_text(name, "file name"), page_version(version)
        self.session.check_version(version)
        plan, outside = files.read_upload(self.workspace, name, data, self.territory, self.known_codes)
        shown = {**plan.names, **{p: plan.name(p) for p in plan.plan_ids if p not in plan.names}}
        names, renamed = unique_names(shown)
        names = {**plan.names, **{p: n for p, n in names.items() if n != shown[p]}}
        before = {p: self.session.plan_name(p) for p in self.session.locked_plans}
        change = self.session.replace(plan.assignment, names, f"open {Path(name).name}", version)
        lifted = self._lifted(change, before)
        same = (f" Plans with the same name (case and spaces aside) are numbered: {'; '.join(renamed)}."
                if renamed else "")
        left = (f" {outside:,} of its municipalities lie outside the {len(self.territory.codes):,} this studio plans "
                "and were left out." if outside else "")
        text = f"Opened {Path(name).name}.{left}{same}{lifted}"
        if same or lifted:
            self.warn(text)
        else:
            self.notice = text
        return self.state()

    def _lifted(self, change: Change, names: Mapping[str, str]) -> str:
        """The locks a new plan broke and ``Session.replace`` lifted, in words ('' when none).

        ``names``: the locked plans' names before the change.
        """
        municipality = self.territory.municipalities["name"]
        locks = [f"plan {names.get(p, p)} ({p})" for p in sorted(change.locked_plans)]
        locks += [f"{municipality[c]} ({c})" for c in sorted(change.locked_municipalities)]
        if not locks:
            return ""
        shown = ", ".join(locks[:8]) + (f" and {len(locks) - 8:,} more" if len(locks) > 8 else "")
        return (f" It breaks {len(locks)} lock{'s' if len(locks) > 1 else ''} you set, now lifted: {shown}. "
                "Lock again what still holds, or undo to go back to the plan with its locks.")

    def open_file(self, name: object, version: object) -> dict:
        """Open a plan CSV already in the workspace."""
        path = files.download_path(self.workspace, page_text(name, "file name"))
        return self.open_upload(path.name, path.read_bytes(), version)

    def snapshot(self) -> tuple[Plan, Scorecard]:
        """The current plan and its full ``evaluate`` scorecard (for files written from it)."""
        plan = self.session.plan()
        return plan, evaluate(plan, self.rules, self.collaboration, self.status_quo)

    def write(self, kind: object, name: object, plan: Plan, card: Scorecard) -> Path:
        """Write the plan as ``csv``, ``gpkg``, ``geojson``, an offline ``html`` map, or its ``changes``.

        The notice says so, and whether it replaced a file of that name.
        """
        from lombardy_districts.maps.render import write_plan_map
        from lombardy_districts.workflows.export import write_plans

        if kind not in files.EXPORTS:
            raise InputError(f"unknown format {kind!r}; allowed: {', '.join(files.EXPORTS)}")
        kind = str(kind)
        name = page_text(name, "file name")
        if kind == "changes" and not name.strip().lower().removesuffix(".csv").endswith("changes"):
            name = f"{name.strip().removesuffix('.csv')}-changes"  # "plan" must not overwrite plan.csv
        path = files.workspace_path(self.workspace, name, files.EXPORTS[kind])
        replaced = path.exists()
        if kind == "changes":  # every change from the status quo, as propose's changes.csv
            if card.changes is None:
                raise InputError("the changes are from the status quo, and this studio has none; start it with "
                                 "--status-quo SQ.csv")
            table = card.changes
            path = write_atomic(path, lambda tmp: table.to_csv(tmp, index=False))
        elif kind == "csv":
            path = files.save_plan_csv(self.workspace, path.name, plan)
        elif kind == "html":  # written atomically, with its scripts inside
            path = write_plan_map(plan, card, path, rules=self.rules, status_quo=self.status_quo,
                                  collaboration=self.collaboration, title=path.stem)
        else:
            path = write_plans(plan, card, path)
        self.notice = f"Wrote {path.name} in the workspace" + (", replacing the file of that name." if replaced
                                                               else ".")
        return path

    def close(self) -> None:
        """Stop a running solver and the waiting worker (the server is shutting down)."""
        if self.job is not None:
            self.job.close()
        self.spare.close()
