"""The model: territory, rules, plans, collaboration, the one definition of each measure, the scorecard, the problem."""
