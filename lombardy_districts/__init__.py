"""Propose area social plans for Lombardy's municipalities that meet the regional floors."""

from .api import Proposal, build_problem, load, propose, read_plan, solve
from .load import load_municipalities
from .plan import Plan
from .rules import Rules
from .scenarios import Scenario, read_scenarios
from .scorecard import Scorecard, evaluate
from .sweep import sweep
from .territory import Territory

__all__ = [
    "Plan", "Proposal", "Rules", "Scenario", "Scorecard", "Territory", "build_problem", "evaluate", "load",
    "load_municipalities", "propose", "read_plan", "read_scenarios", "solve", "sweep",
]
__version__ = "0.1.0"
