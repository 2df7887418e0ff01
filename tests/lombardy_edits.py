"""A planner's edits of ``tests/data/lombardy_154_plans.csv`` that the repair tests share."""

NO_REPAIR_BY_MOVES = {
    "013111": "P026", "014021": "P034", "015139": "P062", "016017": "P045", "016038": "P081",
    "016089": "P078", "016093": "P084", "016131": "P074", "016174": "P068", "017035": "P045",
    "018014": "P121", "018016": "P126", "018030": "P127", "018064": "P128", "019066": "P075",
    "019105": "P134", "097053": "P035", "108012": "P056", "108035": "P030", "108045": "P028",
}
"""20 moves drawn with seed 13 by ``benchmarks/bench_repair.py``: a plan left at 24,000 of its 80,000
among plans at their floors; no attempt of the heuristic repairs it by moves, while the plan before
the edits complies (a plan to fall back on)."""
