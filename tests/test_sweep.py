"""Scenario sweeps: scenario files, parallel runs, skip on re-run, failures recorded, Dask, gallery."""

from __future__ import annotations

import json

import geopandas as gpd
import pandas as pd
import pytest

from lombardy_districts import sweep
from lombardy_districts.cli import main
from lombardy_districts.errors import InputError
from lombardy_districts.model.stop import Stop
from lombardy_districts.workflows.scenarios import KEYS, Scenario, read_scenarios
from tests import unproved

SONDRIO = """
[defaults]
province = "Sondrio"
solver = "heuristic"
time_limit = 3
floor = 25000

[[scenario]]
name = "floor-25k"

[[scenario]]
name = "collab-30k"
objectives = ["max-plans", "collaboration"]
unset = ["floor"]
[scenario.rules.floors]
mountain = 30000
low_density = 30000

[[scenario]]
name = "impossible"
floor = 900000
"""


def _write(tmp_path, text, name="s.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.fixture(scope="module")
def sondrio_sweep(tmp_path_factory):
    """The Sondrio sweep run once through the command (2 jobs, GeoPackage too), with its output folder."""
    root = tmp_path_factory.mktemp("sweep")
    path = _write(root, SONDRIO)
    out = root / "out"
    code = main(["sweep", str(path), "--out", str(out), "--jobs", "2", "--format", "gpkg"])
    return path, out, code


def test_sweep_writes_every_scenario_and_records_the_failure(sondrio_sweep):
    _, out, code = sondrio_sweep
    assert code == 1  # a scenario failed
    table = pd.read_csv(out / "results.csv")
    assert table["name"].tolist() == ["floor-25k", "collab-30k", "impossible"]
    ok = table.set_index("name")
    assert ok.loc["floor-25k", "status"] in ("optimal", "feasible")
    assert ok.loc["floor-25k", "plans"] == ok.loc["floor-25k", "compliant_plans"] >= 5
    assert ok.loc["collab-30k", "plans"] <= ok.loc["floor-25k", "plans"]  # higher floors, no more plans
    assert ok.loc["collab-30k", "objectives"] == "max-plans,collaboration"
    assert ok.loc["impossible", "status"] == "failed"
    assert "below the lowest floor of 900,000" in ok.loc["impossible", "error"]
    assert "\n" not in ok.loc["impossible", "error"]  # one line per cell, for cut and grep
    assert ok.loc["impossible", "error"].startswith("InfeasibleError: no plan can meet the rules: the territory has")
    for name in ("floor-25k", "collab-30k"):
        assert {"plan.csv", "scorecard.json", "result.json", "map.html", "plans.gpkg"} <= {
            p.name for p in (out / name).iterdir()}
        assert json.loads((out / name / "result.json").read_text())["row"]["name"] == name
    assert not (out / "impossible" / "result.json").exists()
    assert not list(out.rglob(".*.tmp"))  # atomic writes leave no temporary files


def test_geopackage_of_a_scenario_reads_back(sondrio_sweep):
    _, out, _ = sondrio_sweep
    gdf = gpd.read_file(out / "floor-25k" / "plans.gpkg")
    card = json.loads((out / "floor-25k" / "scorecard.json").read_text())
    assert gdf.crs.to_epsg() == 32632
    assert len(gdf) == card["summary"]["plans"]
    assert gdf["population"].sum() == card["summary"]["population"] == 178_472
    assert gdf["compliant"].all()


def test_index_has_the_gallery_and_the_tradeoff_chart(sondrio_sweep):
    _, out, _ = sondrio_sweep
    page = (out / "index.html").read_text()
    assert 'href="floor-25k/map.html"' in page and 'href="collab-30k/map.html"' in page
    assert "<svg" in page and "collaboration retained" in page
    assert "impossible" in page and "900,000" in page  # the failure is shown, not hidden
    # what each scenario changed: the options that differ between them, not those they share
    assert '<td data-sort="floor=25000">floor=25000</td>' in page
    assert "rules={&quot;floors&quot;: {&quot;low_density&quot;: 30000, &quot;mountain&quot;: 30000}}; " \
           "objectives=max-plans,collaboration" in page
    assert "province=" not in page and "beside the first scenario (floor-25k)" in page
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")  # no CDN


def test_rerun_skips_finished_scenarios_and_retries_failed_ones(sondrio_sweep):
    path, out, _ = sondrio_sweep
    before = (out / "floor-25k" / "result.json").stat().st_mtime_ns
    seen = []
    table = sweep(path, out, progress=seen.append, maps=False)
    skipped = {s["name"]: s["skipped"] for s in seen}
    assert skipped == {"floor-25k": True, "collab-30k": True, "impossible": False}
    assert [(s["done"], s["total"]) for s in seen] == [(1, 3), (2, 3), (3, 3)]  # each counted once, in turn
    assert (out / "floor-25k" / "result.json").stat().st_mtime_ns == before
    assert table["status"].tolist()[2] == "failed"
    assert len(pd.read_csv(out / "results.csv")) == 3


def test_changed_options_run_again(tmp_path):
    scenario = {"name": "a", "province": "Sondrio", "floor": 25000, "solver": "heuristic", "time_limit": 2}
    sweep([scenario], tmp_path, maps=False)
    seen = []
    sweep([{**scenario, "seed": 7}], tmp_path, maps=False, progress=seen.append)
    assert seen[0]["skipped"] is False
    assert json.loads((tmp_path / "a" / "result.json").read_text())["scenario"]["options"]["seed"] == 7


def test_interrupt_keeps_finished_results(tmp_path):
    scenarios = [{"name": n, "province": "Sondrio", "floor": 25000, "solver": "heuristic", "time_limit": 2}
                 for n in ("first", "second")]

    def stop(info):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        sweep(scenarios, tmp_path, progress=stop, maps=False)
    assert pd.read_csv(tmp_path / "results.csv")["name"].tolist() == ["first"]
    assert (tmp_path / "first" / "result.json").exists()
    assert not (tmp_path / "second").exists()
    seen = []
    sweep(scenarios, tmp_path, progress=seen.append, maps=False)
    assert [(s["name"], s["skipped"]) for s in seen] == [("first", True), ("second", False)]


@pytest.mark.parametrize("executor", ["local", "dask"])
def test_a_stop_from_python_keeps_what_finished_and_starts_nothing_else(tmp_path, executor):
    if executor == "dask":
        distributed = pytest.importorskip("distributed")
    # tests.unproved: the heuristic does not reach the bound, so each would run its 2 s
    scenarios = [{"name": n, "province": unproved.PROVINCE, "solver": "heuristic", "time_limit": 2}
                 for n in ("first", "second", "third")]
    stop = Stop()
    options = {}
    if executor == "dask":  # one worker thread: the scenarios run one after the other, as with jobs=1
        cluster = distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None)
        options = {"executor": "dask", "scheduler": cluster.scheduler_address}
    try:
        table = sweep(scenarios, tmp_path, maps=False, stop=stop, progress=lambda info: stop.set("test"), **options)
    finally:
        if executor == "dask":
            cluster.close()
    # the first finished; the others did not start (or, on Dask, stopped at once: interrupted, no plan kept)
    assert table["name"].tolist()[0] == "first" and table["status"].tolist()[0] != "interrupted"
    assert set(table["status"].tolist()[1:]) <= {"interrupted"}
    assert not (tmp_path / "second" / "result.json").exists() or table["status"].tolist()[1] == "interrupted"
    assert pd.read_csv(tmp_path / "results.csv")["name"].tolist() == table["name"].tolist()
    assert not (tmp_path / ".lombardy-districts").exists()  # no stop file left behind, no lock
    seen = []
    sweep(scenarios, tmp_path, progress=seen.append, maps=False)
    assert [(s["name"], s["skipped"]) for s in seen][0] == ("first", True)
    assert sorted(s["name"] for s in seen if not s["skipped"]) == ["second", "third"]


def test_dask_executor_with_a_local_cluster(tmp_path):
    distributed = pytest.importorskip("distributed")
    scenarios = [{"name": "dask-25k", "province": "Sondrio", "floor": 25000, "solver": "heuristic",
                  "time_limit": 2},
                 {"name": "dask-bad", "province": "Sondrio", "floor": 900000, "solver": "heuristic"}]
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster:
        table = sweep(scenarios, tmp_path, executor="dask", scheduler=cluster.scheduler_address, maps=False)
    assert table.set_index("name")["status"].to_dict()["dask-bad"] == "failed"
    assert table.set_index("name").loc["dask-25k", "plans"] >= 5
    assert (tmp_path / "dask-25k" / "plan.csv").exists()


def test_read_scenarios_resolves_paths_and_defaults(tmp_path):
    (tmp_path / "sq.csv").write_text("municipality_code,plan_id\n")
    path = _write(tmp_path, '[defaults]\nsolver = "heuristic"\n[[scenario]]\nname = "a"\nstatus_quo = "sq.csv"\n'
                            'objectives = "max-plans, disruption"\nselect = { province = ["Sondrio", "Lecco"] }\n'
                            '[[scenario]]\nname = "b"\nsolver = "heuristic"\nweights = { max-plans = 2 }\n')
    a, b = read_scenarios(path)
    assert a.options["status_quo"] == str((tmp_path / "sq.csv").resolve())
    assert a.options["objectives"] == ["max-plans", "disruption"] and a.options["solver"] == "heuristic"
    assert a.problem_options.objectives == ("max-plans", "disruption")
    assert a.selection.select == {"province": ("Sondrio", "Lecco")}
    assert b.options["weights"] == {"max-plans": 2.0}
    assert b.row()["weights"] == '{"max-plans": 2.0}'


def test_bad_scenarios_name_the_scenario_and_the_key(tmp_path):
    path = _write(tmp_path, '[[scenario]]\nname = "x"\nflor = 3\nfloor = -1\nmode = "split"\ntime_limit = 0\n'
                            'status_quo = "missing.csv"\nsolver = "gurobi"\n[scenario.rules.floors]\nhill = 5\n'
                            '[[scenario]]\nname = "x"\n[[scenario]]\nname = "a b"\n')
    with pytest.raises(InputError) as info:
        read_scenarios(path)
    text = str(info.value)
    assert "scenario 1 'x': unknown key 'flor' (did you mean 'floor'?); allowed: name, unset, rules, floor" in text
    assert "scenario 1 'x': floor = -1: must be a whole number of inhabitants from 0 to 10,000,000,000" in text
    assert "scenario 1 'x': mode = 'split': allowed: scratch, merge, repair" in text
    assert "scenario 1 'x': time_limit = 0: must be a number of seconds above 0 and at most 1,000,000" in text
    assert "missing.csv does not exist" in text
    assert "solver = 'gurobi': allowed:" in text and "heuristic" in text
    assert "rules = {'floors': {'hill': 5}}: rules: unknown key floors.hill" in text
    assert "2 scenarios are named 'x'" in text
    assert "name = 'a b'" in text
    with pytest.raises(InputError, match=r"unknown top-level key 'scenarios'"):
        read_scenarios(_write(tmp_path, '[[scenarios]]\nname = "a"\n', "t.toml"))
    with pytest.raises(InputError, match=r"scenario 1: no name: give each scenario a name"):
        read_scenarios(_write(tmp_path, '[[scenario]]\nfloor = 1\n', "u.toml"))


def test_a_bad_default_is_named_once_at_defaults_with_a_suggestion(tmp_path):
    path = _write(tmp_path, '[defaults]\nsolvr = "heuristic"\nsolver = "heuristc"\n'
                            '[[scenario]]\nname = "a"\n[[scenario]]\nname = "b"\n[[scenario]]\nname = "c"\n')
    with pytest.raises(InputError) as info:
        read_scenarios(path)
    problems = info.value.problems
    assert problems[0] == (f"{path}: [defaults]: unknown key 'solvr' (did you mean 'solver'?); allowed: name, unset, "
                           + ", ".join(KEYS))
    assert problems[1].startswith(f"{path}: [defaults]: solver = 'heuristc': allowed: ")
    assert problems[1].endswith("(did you mean 'heuristic'?)")
    assert len(problems) == 2  # not once per scenario


def test_a_misspelt_province_is_refused_before_any_scenario_runs(tmp_path):
    scenarios = [Scenario.from_dict({"name": "ok", "province": "Lodi"}),
                 Scenario.from_dict({"name": "typo", "province": "Lodii", "floor": 25000})]
    with pytest.raises(InputError) as info:
        sweep(scenarios, tmp_path / "out")
    assert info.value.problems[0].startswith("scenario 'typo': province = 'Lodii' is not a province of this "
                                             "territory (did you mean 'Lodi'?); allowed")
    assert not (tmp_path / "out").exists()
    with pytest.raises(InputError, match="does not exist"):
        read_scenarios(tmp_path / "nope.toml")


def test_sweep_options_are_checked(tmp_path):
    s = [Scenario.from_dict({"name": "a"})]
    with pytest.raises(InputError, match=r"jobs = 0: must be a whole number from 1 to 64"):
        sweep(s, tmp_path, jobs=0)
    with pytest.raises(InputError, match=r"jobs = 1000: must be a whole number from 1 to 64"):
        sweep(s, tmp_path, jobs=1000)
    with pytest.raises(InputError, match=r"executor = 'ray': allowed: local, dask"):
        sweep(s, tmp_path, executor="ray")
    with pytest.raises(InputError, match=r"needs executor = \"dask\""):
        sweep(s, tmp_path, scheduler="tcp://localhost:8786")


def test_inline_rules_override_the_shipped_ones():
    scenario = Scenario.from_dict({"name": "r", "rules": {"floors": {"mountain": 30000}, "limits": {"ceiling": 90000}}})
    rules = scenario.rules_in_force()
    assert rules.floors["mountain"] == 30000 and rules.floors["standard"] == 80000 and rules.ceiling == 90000


def test_a_scenario_value_replaces_the_default_and_unset_drops_one():
    defaults = {"floor": 25000, "province": "Sondrio", "seed": 3}
    own = Scenario.from_dict({"name": "a", "floor": 30000}, defaults=defaults)
    assert own.problem_options.floor == 30000 and own.solver_options.seed == 3
    cleared = Scenario.from_dict({"name": "b", "unset": ["floor", "province"]}, defaults=defaults)
    assert cleared.problem_options.floor is None and not cleared.selection.active
    with pytest.raises(InputError, match=r"unset = \['time_limit'\]: no default sets 'time_limit'"):
        Scenario.from_dict({"name": "c", "unset": ["time_limit"]}, defaults=defaults)


def test_a_default_floor_never_overrides_a_scenario_s_class_floors_silently():
    defaults = {"floor": 25000}
    with pytest.raises(InputError, match=r"scenario 'm': floor = 25000 \(from \[defaults\]\) and rules.floors "
                                         r"\(from the scenario\) conflict"):
        Scenario.from_dict({"name": "m", "rules": {"floors": {"mountain": 30000}}}, defaults=defaults)
    kept = Scenario.from_dict({"name": "m", "unset": ["floor"], "rules": {"floors": {"mountain": 30000}}},
                              defaults=defaults)
    assert kept.rules_in_force().floors["mountain"] == 30000


def test_dask_without_address_starts_and_closes_a_local_cluster(tmp_path, monkeypatch):
    distributed = pytest.importorskip("distributed")
    made = []

    class LightCluster(distributed.LocalCluster):  # threads instead of processes, to stay light in tests
        def __init__(self, **kwargs):
            made.append(kwargs)
            super().__init__(**{**kwargs, "processes": False})

        def close(self, *args, **kwargs):
            made.append("closed")
            return super().close(*args, **kwargs)

    monkeypatch.setattr(distributed, "LocalCluster", LightCluster)
    table = sweep([{"name": "bad", "province": "Sondrio", "floor": 900000}], tmp_path, jobs=1, executor="dask",
                  maps=False)
    assert table["status"].tolist() == ["failed"]
    assert made[0]["n_workers"] == 1 and made[0]["threads_per_worker"] == 1 and made[-1] == "closed"


def test_dask_missing_gives_the_install_hint(tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    with pytest.raises(InputError, match=r"pip install lombardy-districts\[dask\]"):
        sweep([{"name": "a", "province": "Sondrio", "floor": 25000}], tmp_path, executor="dask", maps=False)


def test_scenarios_without_status_quo_are_compared_with_the_first(tmp_path):
    from lombardy_districts.workflows.sweep import sweep

    table = sweep([{"name": "a", "floor": 25_000}, {"name": "b", "floor": 40_000}], tmp_path / "sw", maps=True,
                  defaults={"province": "Sondrio", "solver": "heuristic", "time_limit": 5})
    # the heuristic's plans meet the simple bound, which proves their number: at 25,000 with a cut unit
    # (the status stays "feasible": collaboration, the default's second objective, is not proved)
    assert list(table["status"]) == ["feasible", "feasible"]
    assert list(table["gap"]) == [0.0, 0.0]
    assert (tmp_path / "sw" / "b" / "compare.html").exists()
    assert not (tmp_path / "sw" / "a" / "compare.html").exists()
    assert 'href="b/compare.html"' in (tmp_path / "sw" / "index.html").read_text()


@pytest.mark.parametrize("options", [
    {},
    {"floor": 40_000},
    {"rules": {"floors": {"mountain": 30000}}},
    {"rules": "RULES_FILE", "floor": 60_000},
])
def test_rules_in_force_are_the_rules_the_problem_uses(tmp_path, options):
    from pathlib import Path

    if options.get("rules") == "RULES_FILE":
        options = {**options, "rules": str(Path(__file__).parents[1] / "data" / "rules.toml")}
    scenario = Scenario.from_dict({"name": "r", "province": "Sondrio", **options})
    assert scenario.rules_in_force() == scenario.problem().rules


def test_the_command_says_each_scenario_as_it_ends(tmp_path, capsys):
    path = _write(tmp_path, '[defaults]\nprovince = "Lodi"\nsolver = "heuristic"\ntime_limit = 2\n'
                            'deterministic = true\n[[scenario]]\nname = "a"\n'
                            '[[scenario]]\nname = "b"\nfloor = 500000\n')
    assert main(["sweep", str(path), "--out", str(tmp_path / "out"), "--no-map"]) == 1
    err = capsys.readouterr().err
    assert "[1/2] a: feasible" in err or "[1/2] a: optimal" in err
    assert "[2/2] b: failed" in err
