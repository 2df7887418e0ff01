"""The README's "Scripts and sweeps" example runs as written."""

from __future__ import annotations

import pytest

EXAMPLE = '''
import lombardy_districts as ld


def main():
    # Load part of the region and propose a plan, with the options of `lombardy-districts propose`
    sondrio = ld.load(province="Sondrio")
    proposal = ld.propose(sondrio, floor=25_000, objectives="max-plans,collaboration",
                          solver="heuristic", time_limit=5, seed=1)
    summary = proposal.scorecard.summary
    print(summary["plans"], "area plans, all compliant:", summary["non_compliant_plans"] == 0)
    proposal.write("out/sondrio-25k", formats="gpkg,geojson")  # plan.csv, map.html, plans.gpkg, ...

    # Score any plan (here the one just proposed, read back from its CSV)
    plan = ld.read_plan("out/sondrio-25k/plan.csv", sondrio)
    card = ld.evaluate(plan, proposal.problem.rules)
    print(f"{card.summary['collaboration_retained']:.0%} of collaboration kept")

    # Several scenarios, two at a time in separate processes; a re-run skips finished ones
    results = ld.sweep(
        [{"name": "floor-25k", "floor": 25_000},
         {"name": "floor-40k", "floor": 40_000}],
        "out/sweep", jobs=2, maps=False,
        defaults={"province": "Sondrio", "solver": "heuristic", "time_limit": 5},
    )
    print(results[["name", "status", "plans", "collaboration_retained"]])


if __name__ == "__main__":  # needed when jobs > 1: each process re-imports this script
    main()
'''


def test_readme_example_runs_as_written(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    exec(compile(EXAMPLE, "README example", "exec"), {"__name__": "__main__"})
    out = capsys.readouterr().out
    assert "area plans, all compliant: True" in out
    assert "of collaboration kept" in out and "floor-40k" in out
    assert (tmp_path / "out" / "sondrio-25k" / "plans.gpkg").exists()
    assert (tmp_path / "out" / "sweep" / "results.csv").exists()


@pytest.mark.parametrize("name", ["sweep", "load", "propose", "evaluate", "read_scenarios"])
def test_api_exports(name):
    import lombardy_districts as ld

    assert callable(getattr(ld, name))
