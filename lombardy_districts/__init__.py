"""Propose area social plans for Lombardy's municipalities that meet the regional floors.

The public names, and where they live:

=========================================  =================================================================
``load``, ``read_plan``                    ``workflows.inputs``: a territory (a region, your files, a part)
``DataOptions``, ``Selection``,            ``model.options``: typed options the command line and scenario
``ProblemOptions``, ``SolverOptions``      files build too; unknown keys are refused
``Territory``, ``Plan``, ``Rules``         ``model``: municipalities and graph, a plan, floors and class rule
``evaluate``, ``Scorecard``                ``model.scorecard``: the single judge of a plan
``build_problem``, ``solve``, ``propose``  ``workflows.propose``: solve for a compliant plan, get a ``Proposal``
``Stop``                                   ``model.stop``: end a search early and keep the best plan it has
``Scenario``, ``read_scenarios``, ``sweep``  ``workflows.scenarios``, ``workflows.sweep``: many runs at once
``frontier``                               ``workflows.frontier``: fewer plans against collaboration kept
``studio``                                 ``studio``: edit a plan in the browser, live scorecard, solver
``InputError``, ``InfeasibleError``        ``errors``: bad input (names the value and the fix); no plan can comply
=========================================  =================================================================

Layers, each using only those above it in this list: ``io`` (reading files, the contiguity
graph), ``model`` (territory, rules, plans, measures, scorecard), ``solvers`` and ``maps``,
``workflows`` (the Python API), then the front ends: ``cli`` (the command line, the only place that knows
argparse) and ``studio`` (the web application, the only place that knows HTTP).
"""

import os as _os

# Python started in a clone's top folder finds this folder before the installed package, and the
# repository keeps solvers/, maps/ and data/ beside this folder, not inside it: look there too.
if not _os.path.isdir(_os.path.join(_os.path.dirname(__file__), "solvers")):
    __path__.append(_os.path.dirname(_os.path.dirname(_os.path.abspath(__file__))))

from lombardy_districts.errors import InfeasibleError, InputError
from lombardy_districts.model.options import DataOptions, ProblemOptions, Selection, SolverOptions
from lombardy_districts.model.plan import Plan
from lombardy_districts.model.rules import Rules
from lombardy_districts.model.scorecard import Scorecard, evaluate
from lombardy_districts.model.stop import Stop
from lombardy_districts.model.territory import Territory
from lombardy_districts.studio import studio
from lombardy_districts.workflows.frontier import frontier
from lombardy_districts.workflows.inputs import load, read_plan
from lombardy_districts.workflows.propose import Proposal, build_problem, propose, solve
from lombardy_districts.workflows.scenarios import Scenario, read_scenarios
from lombardy_districts.workflows.sweep import sweep

__all__ = [
    "DataOptions", "InfeasibleError", "InputError", "Plan", "ProblemOptions", "Proposal", "Rules", "Scenario",
    "Scorecard", "Selection", "SolverOptions", "Stop", "Territory", "build_problem", "evaluate", "frontier", "load",
    "propose", "read_plan", "read_scenarios", "solve", "studio", "sweep",
]
__version__ = "0.1.0"
