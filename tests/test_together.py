"""keep_together: groups of municipalities (unions) kept in one plan by the rules, the evaluator, the
feasibility check and every solver; checked on tiny grids against a brute force."""

import itertools

import networkx as nx
import pandas as pd
import pytest

from lombardy_districts.errors import InfeasibleError, InputError
from lombardy_districts.model.collaboration import Collaboration, default_collaboration
from lombardy_districts.model.feasibility import check_feasible
from lombardy_districts.model.plan import Plan
from lombardy_districts.model.problem import Problem
from lombardy_districts.model.rules import Rules
from lombardy_districts.model.together import together_groups
from lombardy_districts.solvers.cpsat import CPSATSolver
from lombardy_districts.solvers.heuristic import HeuristicSolver
from lombardy_districts.solvers.pulp_mip import PulpSolver
from lombardy_districts.solvers.units import Units
from tests.exact_grids import grid, set_partitions

SOLVERS = {"cpsat": CPSATSolver, "pulp": PulpSolver, "heuristic": HeuristicSolver}
TOGETHER = Rules().with_floor(200).with_changes(keep_together=("union",))


def unions(territory, named: dict[str, list[int]], extra: Collaboration | None = None) -> Collaboration:
    """Union ties between grid cells (every pair of members), each union named ``Unione <key>``."""
    codes = territory.codes
    edges, groups = [], []
    for key, cells in named.items():
        members = sorted(codes[i] for i in cells)
        edges += [(a, b, 1.0, "union") for a, b in itertools.combinations(members, 2)]
        groups += [(c, "union", key, f"Unione {key}") for c in members]
    ties = Collaboration(pd.DataFrame(edges, columns=["code_a", "code_b", "weight", "kind"]),
                         groups=pd.DataFrame(groups, columns=["code", "kind", "group_id", "group_name"]))
    return Collaboration.combine(ties, extra) if extra is not None else ties


def by_cells(territory, labels: str) -> Plan:
    return Plan(territory, dict(zip(territory.codes, labels)))


def kept_whole(plan: Plan, territory, cells) -> bool:
    return plan.assignment[[territory.codes[i] for i in cells]].nunique() == 1


def brute_force_max_plans(territory, floor: int, groups: list[list[int]]) -> int:
    """Most plans of a tiny territory: every set partition, contiguous, each plan at least ``floor``."""
    codes, pops = territory.codes, territory.municipalities["population"]
    best, valid = 0, {}

    def ok(block) -> bool:
        key = frozenset(block)
        if key not in valid:
            members = [codes[i] for i in block]
            valid[key] = pops[members].sum() >= floor and nx.is_connected(territory.graph.subgraph(members))
        return valid[key]

    for part in set_partitions(list(range(len(codes)))):
        plan_of = {i: k for k, block in enumerate(part) for i in block}
        if any(len({plan_of[i] for i in g}) > 1 for g in groups):
            continue
        if len(part) > best and all(ok(block) for block in part):
            best = len(part)
    return best


# 2 x 4 grid, 100 inhabitants each, floor 200:    0 1 2 3
#                                                 4 5 6 7
@pytest.fixture
def strip():
    return grid(2, 4, [100] * 8)


def test_rules_read_keep_together_and_check_it():
    rules = Rules.from_dict({"boundaries": {"hard": ["ats"], "keep_together": ["union"]}})
    assert rules.keep_together == ("union",) and rules.hard_boundaries == ("ats",)
    assert Rules.from_dict({"boundaries": {"keep_together": "union"}}).keep_together == ("union",)
    assert Rules.default().keep_together == ()
    with pytest.raises(InputError, match=r"boundaries.keep_together has \[3\]; must be kinds of collaboration tie"):
        Rules.from_dict({"boundaries": {"keep_together": [3]}})
    with pytest.raises(InputError, match="unknown key boundaries.together; allowed: hard, keep_together"):
        Rules.from_dict({"boundaries": {"together": ["union"]}})


def test_groups_join_unions_that_share_a_member(strip):
    ties = unions(strip, {"A": [0, 3], "B": [3, 7], "C": [5, 6]})
    groups = together_groups(ties, ["union"], strip.codes)
    assert [g.members for g in groups] == [("900001", "900004", "900008"), ("900006", "900007")]
    assert groups[0].label == 'union "Unione A" + "Unione B"' and groups[1].label == 'union "Unione C"'
    # a selection keeps the members inside it
    assert [g.members for g in together_groups(ties, ["union"], strip.codes[:4])] == [("900001", "900004")]
    # one union in two lists, once with the newer list's footnote mark: named once, without it
    twice = unions(strip, {"Nord*": [0, 1], "nord": [1, 2]})  # members changed between the lists
    assert together_groups(twice, ["union"], strip.codes)[0].label == 'union "Unione Nord"'
    with pytest.raises(InputError, match="keep_together names kind 'unions', which no collaboration tie has"):
        together_groups(ties, ["unions"], strip.codes)
    with pytest.raises(InputError, match="kind 'status_quo', now called 'current_plan'"):
        together_groups(ties, ["status_quo"], strip.codes)


def test_the_evaluator_flags_a_plan_that_splits_a_union(strip):
    ties = unions(strip, {"A": [0, 3]})
    plan = by_cells(strip, "aabbccdd")
    assert plan.violations(Rules().with_floor(200), collaboration=ties) == []
    broken = plan.violations(TOGETHER, collaboration=ties)
    assert broken == ['union "Unione A" (cell0_0, cell0_3) is split between plans a (cell0_0), b (cell0_2); '
                      'keep_together = ["union"] keeps it in one plan']
    assert by_cells(strip, "aaaabbcc").violations(TOGETHER, collaboration=ties) == []


def test_feasibility_names_the_union_and_the_border():
    territory = grid(2, 4, [100] * 8)
    territory.municipalities["province"] = ["A", "A", "B", "B"] * 2
    ties = unions(territory, {"A": [1, 2]})
    rules = TOGETHER.with_changes(hard_boundaries=("province",))
    with pytest.raises(InfeasibleError, match=r"union \"Unione A\" \(cell0_1, cell0_2\) lies across the hard boundary "
                                              r"province: cell0_1 \(900002\) in province=A; cell0_2 \(900003\) in "
                                              r"province=B. No plan can keep it whole"):
        check_feasible(Problem(territory, rules, ties))


def test_feasibility_finds_a_union_whose_parts_cannot_meet():
    territory = grid(2, 4, [100] * 8)
    territory.municipalities["province"] = ["A", "B", "B", "A", "B", "B", "B", "B"]
    # 0 and 3 are in province A, but only province B lies between them
    rules = Rules().with_floor(100).with_changes(keep_together=("union",), hard_boundaries=("province",))
    with pytest.raises(InfeasibleError, match=r"union \"Unione A\" \(cell0_0, cell0_3\) cannot be joined into one "
                                              "contiguous plan"):
        check_feasible(Problem(territory, rules, unions(territory, {"A": [0, 3]})))


@pytest.mark.parametrize("name", SOLVERS)
def test_every_solver_keeps_a_union_whose_members_do_not_touch(strip, name):
    ties = unions(strip, {"A": [0, 3]})
    problem = Problem(strip, TOGETHER, ties)
    result = SOLVERS[name].from_problem(problem, {"time_limit": 20, "workers": 1, "seed": 1}).solve()
    assert result.plan is not None and result.plan.violations(TOGETHER, collaboration=ties) == []
    assert kept_whole(result.plan, strip, [0, 3])
    assert brute_force_max_plans(strip, 200, [[0, 3]]) == 3
    assert len(result.plan) == 3  # 0 and 3 joined through 1 and 2; 4-5 and 6-7 apart
    if name != "heuristic":
        assert result.status == "optimal"
    free = SOLVERS[name].from_problem(Problem(strip, Rules().with_floor(200), ties),
                                      {"time_limit": 20, "workers": 1, "seed": 1}).solve()
    assert len(free.plan) == 4 and not kept_whole(free.plan, strip, [0, 3])  # without the rule: pairs


def _grid_3x5():
    pops = [(7 * k) % 13 * 40 + 30 for k in range(15)]
    territory = grid(3, 5, pops)
    lm = Collaboration(pd.DataFrame(
        [(territory.codes[a], territory.codes[b], w, "labour_market")
         for a, b, w in [(0, 1, 2.5), (1, 2, 1.0), (5, 6, 1.0), (6, 7, 2.0), (13, 14, 3.0), (3, 4, 1.5),
                         (8, 9, 1.0), (10, 11, 1.0), (2, 7, 4.0), (9, 14, 2.0)]],
        columns=["code_a", "code_b", "weight", "kind"]))
    groups = {"A": [0, 10], "B": [4, 9], "C": [6, 7, 12]}
    return territory, unions(territory, groups, lm), list(groups.values())


@pytest.mark.parametrize("objectives", [("max-plans",), ("max-plans", "collaboration"), ("collaboration",)])
def test_exact_solvers_agree_with_keep_together(objectives):
    territory, ties, groups = _grid_3x5()
    rules = Rules().with_floor(600).with_changes(keep_together=("union",), ceiling=2000)
    problem = Problem(territory, rules, ties, objectives=objectives)
    results = {name: SOLVERS[name].from_problem(problem, {"time_limit": 60, "workers": 1}).solve()
               for name in ("cpsat", "pulp")}
    for result in results.values():
        assert result.status == "optimal"
        assert result.plan.violations(rules, collaboration=ties) == []
        assert all(kept_whole(result.plan, territory, g) for g in groups)
    assert results["cpsat"].objective == pytest.approx(results["pulp"].objective)
    heuristic = HeuristicSolver.from_problem(problem, {"time_limit": 10, "seed": 2}).solve()
    assert heuristic.plan.violations(rules, collaboration=ties) == []
    if objectives[0] == "max-plans":
        assert len(heuristic.plan) <= results["cpsat"].objective


def test_max_plans_with_keep_together_matches_a_brute_force():
    territory = grid(2, 5, [300, 120, 250, 90, 310, 200, 160, 280, 140, 230])
    groups = [[0, 4], [6, 7]]
    ties = unions(territory, {"A": groups[0], "B": groups[1]})
    rules = Rules().with_floor(400).with_changes(keep_together=("union",))
    best = brute_force_max_plans(territory, 400, groups)
    assert best < brute_force_max_plans(territory, 400, [])  # the rule costs plans here
    for name in ("cpsat", "pulp"):
        result = SOLVERS[name].from_problem(Problem(territory, rules, ties), {"time_limit": 30, "workers": 1}).solve()
        assert result.status == "optimal" and len(result.plan) == best, name


def test_units_contract_touching_members_and_list_the_rest(strip):
    ties = unions(strip, {"A": [0, 1, 3], "B": [6, 7]})
    units = Units.from_problem(Problem(strip, TOGETHER, ties))
    ids = units.ids
    assert "900001+900002" in ids and "900007+900008" in ids and len(units) == 6
    assert units.together == ((ids.index("900001+900002"), ids.index("900004")),)
    joined = units.joined()
    assert joined.together == () and len(joined) == 4  # 0, 1, 3 and the 2 between them are one unit
    assert sorted(joined.members[0]) == ["900001", "900002", "900003", "900004"]


def _merge_case():
    # status quo: a = {0,1,4,5}, b = {2,3,6,7}, c = {8..11}; every plan complies alone (floor 300)
    territory = grid(3, 4, [100] * 12)
    sq = by_cells(territory, "aabbaabbcccc")
    return territory, sq


@pytest.mark.parametrize("name", SOLVERS)
def test_merge_mode_merges_plans_a_union_spans(name):
    territory, sq = _merge_case()
    ties = unions(territory, {"A": [0, 3]}, default_collaboration(territory, sq))  # a union across a and b
    rules = Rules().with_floor(300)
    free = SOLVERS[name].from_problem(Problem(territory, rules, ties, status_quo=sq, mode="merge",
                                              objectives=("max-plans", "collaboration")),
                                      {"time_limit": 20, "workers": 1}).solve()
    assert len(free.plan) == 3
    rules = rules.with_changes(keep_together=("union",))
    problem = Problem(territory, rules, ties, status_quo=sq, mode="merge", objectives=("max-plans", "collaboration"))
    result = SOLVERS[name].from_problem(problem, {"time_limit": 20, "workers": 1}).solve()
    assert result.plan.violations(rules, collaboration=ties) == []
    assert len(result.plan) == 2 and kept_whole(result.plan, territory, [0, 1, 2, 3, 4, 5, 6, 7])
    if name == "cpsat":
        assert result.status == "optimal" and "merge_groups" in result.details  # set partitioning did it


@pytest.mark.parametrize("name", ["cpsat", "heuristic"])
def test_repair_mode_mends_a_split_union(name):
    territory, sq = _merge_case()
    ties = unions(territory, {"A": [1, 2]}, default_collaboration(territory, sq))  # neighbours in a and b
    rules = Rules().with_floor(300).with_changes(keep_together=("union",))
    assert sq.violations(rules, collaboration=ties)  # the status quo splits the union
    problem = Problem(territory, rules, ties, status_quo=sq, mode="repair", objectives=("disruption", "max-plans"))
    result = SOLVERS[name].from_problem(problem, {"time_limit": 20, "workers": 1}).solve()
    assert result.plan.violations(rules, collaboration=ties) == []
    assert kept_whole(result.plan, territory, [1, 2])


def test_a_misspelt_kind_is_refused_when_the_problem_is_built(strip):
    from lombardy_districts.workflows.propose import build_problem

    rules = TOGETHER.with_changes(keep_together=("unions",))
    with pytest.raises(InputError, match="keep_together names kind 'unions', which no collaboration tie has; "
                                         "kinds: current_plan, labour_market, union"):
        build_problem(strip, rules=rules)
