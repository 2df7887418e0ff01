"""The studio's editing session on a tiny grid: edits, locks, undo/redo, versions, the journal."""

from __future__ import annotations

import pytest

from lombardy_districts.studio.files import workspace_path
from lombardy_districts.studio.session import EditRefused, Session, StaleEdit, clean_name, unique_names


@pytest.fixture
def grid(make_grid):
    """A 2 x 3 grid: left plan A (000001, 000002, 000004, 000005), right plan B (000003, 000006)."""
    return make_grid(2, 3, 10_000)


def _start(territory, journal=None):
    assignment = {c: "B" if c in ("000003", "000006") else "A" for c in territory.codes}
    return Session(territory, assignment, {"A": "West"}, journal=journal)


def test_every_edit_undoes_and_redoes_in_order(grid):
    s = _start(grid)
    s.move(["000002"], "B", 0)
    s.rename("B", "East", 1)
    s.new_plan(["000001"], 2, name="North-west")
    s.lock_plan("new-1", True, 3)
    states = [dict(s.assignment)]
    with pytest.raises(EditRefused, match="is locked; unlock it first"):
        s.merge("B", "new-1", 4)
    for version in (4, 5, 6, 7):
        s.undo(version)
        states.append(dict(s.assignment))
    assert s.assignment == {c: "B" if c in ("000003", "000006") else "A" for c in grid.codes}
    assert s.names == {"A": "West"} and not s.locked_plans
    with pytest.raises(EditRefused, match="nothing to undo"):
        s.undo(8)
    for version in (8, 9, 10, 11):
        s.redo(version)
    assert s.assignment == states[0] and s.names["B"] == "East" and s.locked_plans == {"new-1"}
    assert s.steps()["labels"] == ["move M2 to M3", "rename M2 to East", "new plan North-west with M1",
                                   "lock North-west"]


def test_earlier_gives_the_plan_before_each_step_undo_reaches(grid):
    s = _start(grid)
    plans = [dict(s.assignment)]
    s.move(["000002"], "B", 0)
    plans.append(dict(s.assignment))
    s.move(["000005"], "B", 1)
    plans.append(dict(s.assignment))
    s.move(["000001"], "B", 2)
    s.undo(3)  # the undone step is not an earlier plan
    assert list(s.earlier()) == [plans[1], plans[0]] and s.assignment == plans[2]


def test_labels_name_the_municipalities_and_plans(grid):
    s = _start(grid)
    s.move(["000002", "000005"], "B", 0)
    s.rename("B", "East", 1)
    assert [c.label for c in s.history] == ["move M2, M5 to M3", "rename M2 to East"]
    with pytest.raises(EditRefused, match="is already called 'East'"):  # no empty "rename East to East" step
        s.rename("B", "East", 2)


def test_a_new_edit_after_undo_drops_the_undone_steps(grid):
    s = _start(grid)
    s.move(["000002"], "B", 0)
    s.undo(1)
    s.move(["000005"], "B", 2)
    assert len(s.history) == 1 and s.steps()["redo"] is None


def test_refusals_say_why(grid):
    s = _start(grid)
    with pytest.raises(StaleEdit, match=r"\(another tab or window\): it is at version 0, your page showed version 3"):
        s.move(["000002"], "B", 3)
    with pytest.raises(EditRefused, match="there is no plan 'C'"):
        s.move(["000002"], "C", 0)
    with pytest.raises(EditRefused, match="M2 is already in plan A"):
        s.move(["000002"], "A", 0)
    with pytest.raises(EditRefused, match="unknown municipality codes: 999999"):
        s.move(["999999"], "B", 0)
    with pytest.raises(EditRefused, match="no municipality selected"):
        s.new_plan([], 0)
    with pytest.raises(EditRefused, match="cannot merge plan A .* with itself"):
        s.merge("A", "A", 0)
    s.lock_municipalities(["000002"], True, 0)
    with pytest.raises(EditRefused, match="M2 is locked"):
        s.move(["000002"], "B", 1)
    s.lock_municipalities(["000003"], True, 1)
    with pytest.raises(EditRefused, match="M3 is locked in plan B"):  # B, the smaller, would move into A
        s.merge("A", "B", 2)
    with pytest.raises(EditRefused, match="no version named 'x'; versions: none yet"):
        s.restore_version("x", 2)
    assert s.version == 2  # nothing refused changed anything


def test_names_are_cleaned_and_bounded():
    assert clean_name(" Alto\tLario\u200b  <b>x</b> ") == "Alto Lario <b>x</b>"
    with pytest.raises(EditRefused, match="plan name is empty"):
        clean_name("\u0000 ", "plan name")
    with pytest.raises(EditRefused, match="has 81 characters; at most 80"):
        clean_name("x" * 81)


def test_replace_lifts_the_locks_it_breaks_in_the_same_step(grid):
    s = _start(grid)
    s.lock_plan("B", True, 0)
    s.lock_municipalities(["000001"], True, 1)
    change = s.replace({c: "Z" for c in grid.codes}, {"Z": "All"}, "open all.csv", 2)
    assert change.label == "open all.csv (unlocked 1 lock(s) it breaks)"  # plan B is gone; 000001 did not move
    assert not s.locked_plans and s.locked_municipalities == {"000001"} and s.names == {"Z": "All"}
    split = {c: "Z" if c != "000001" else "W" for c in grid.codes}
    assert "unlocked 1 lock(s)" in s.replace(split, {}, "open split.csv", 3).label  # 000001 moved out
    assert not s.locked_municipalities
    s.undo(4)
    s.undo(5)
    assert s.locked_plans == {"B"} and s.locked_municipalities == {"000001"} and s.names == {"A": "West"}


def test_a_municipality_lock_follows_its_companions_not_the_plan_id(grid):
    s = _start(grid)
    s.lock_municipalities(["000001", "000002"], True, 0)
    renumbered = {c: "X" if p == "A" else "Y" for c, p in s.assignment.items()}
    s.replace(renumbered, {}, "accept complete", 1)
    assert s.locked_municipalities == {"000001", "000002"}
    apart = {**renumbered, "000002": "Y"}
    change = s.replace(apart, {}, "open apart.csv", 2)
    assert not s.locked_municipalities and "unlocked 2 lock(s)" in change.label


def test_the_journal_reopens_the_session_and_survives_a_cut_last_line(grid, tmp_path):
    journal = tmp_path / "session.jsonl"
    s = _start(grid, journal)
    s.move(["000002"], "B", 0)
    s.save_version("two plans")
    s.new_plan(["000001"], 1)
    s.undo(2)
    with journal.open("a") as out:
        out.write('{"kind": "do", "change": {"label"')  # the studio stopped while writing
    again = _start(grid, journal)
    assert again.assignment == s.assignment and again.version == s.version == 3
    assert again.steps() == s.steps() and "two plans" in again.versions
    assert again.versions["two plans"]["saved"] == s.versions["two plans"]["saved"]
    again.save_version("gone")
    again.delete_version("gone")
    assert "gone" not in _start(grid, journal).versions  # a deleted version stays deleted
    again.redo(3)
    assert again.assignment["000001"] == "new-1"


def test_a_journal_over_other_municipalities_is_an_error(grid, make_grid, tmp_path):
    _start(grid, tmp_path / "s.jsonl")
    other = make_grid(1, 2, 10_000)
    with pytest.raises(ValueError, match="covers other municipalities"):
        Session(other, dict.fromkeys(other.codes, "A"), journal=tmp_path / "s.jsonl")


@pytest.mark.parametrize("name", ["../up", "/etc/passwd", "a/b", "a\\b", "..", "", "x" * 101, "~user", ".hidden"])
def test_file_names_from_the_page_stay_in_the_workspace(tmp_path, name):
    with pytest.raises(ValueError, match="plain name"):
        workspace_path(tmp_path, name, ".csv")


def test_a_plain_name_gets_its_ending(tmp_path):
    assert workspace_path(tmp_path, "Bergamo v2 (agreed)", ".csv") == (tmp_path / "Bergamo v2 (agreed).csv").resolve()
    assert workspace_path(tmp_path, "plan.CSV", ".csv").name == "plan.CSV"


def test_a_merge_keeps_the_larger_plan_whichever_card_it_starts_from(grid):
    s = _start(grid)
    s.new_plan(["000001"], 0, name="Small")
    before_a = len(s.members("A"))
    s.merge("new-1", "A", 1)  # from the small plan's card: A, the larger, continues
    assert "new-1" not in s.assignment.values() and len(s.members("A")) == before_a + 1
    assert s.names["A"] == "West" and s.steps()["labels"][-1] == "merge Small into West"


def test_a_name_another_plan_has_is_refused(grid):
    s = _start(grid)
    with pytest.raises(EditRefused, match="plan A .*is already called 'West'; give each plan its own name"):
        s.rename("B", "West", 0)
    assert s.version == 0


def test_a_name_another_plan_has_in_another_case_is_refused_too(grid):
    s = _start(grid)
    with pytest.raises(EditRefused, match=r"plan A \(West\) is already called 'West' \(the same name but for case "
                                          r"or spaces\); give each plan its own name, e.g. 'west \(2\)'"):
        s.rename("B", "  west ", 0)
    assert s.version == 0


def test_a_new_plan_is_called_by_its_name_in_the_history(grid):
    s = _start(grid)
    s.new_plan(["000001"], 0)  # no name given: the scorecard calls it after its municipality, and so does the step
    assert s.steps()["labels"][-1] == "new plan M1 of M1 alone" and "new-1" not in s.steps()["labels"][-1]


def test_repeated_names_of_a_file_are_numbered_as_new_plans_are():
    names, said = unique_names({"a": "Dalmine", "b": " dalmine ", "c": "Seriate", "d": "DALMINE"})
    assert names == {"a": "Dalmine", "b": "dalmine (2)", "c": "Seriate", "d": "DALMINE (3)"}
    assert said == ["plan b is called 'dalmine (2)', as 'dalmine' is another plan's name",
                    "plan d is called 'DALMINE (3)', as 'DALMINE' is another plan's name"]
    # a file's own "Dalmine (2)" keeps its name; the repeated ones take numbers no plan has
    names, _ = unique_names({"a": "Dalmine", "b": "dalmine", "c": "Dalmine (2)", "d": "DALMINE"})
    assert names == {"a": "Dalmine", "b": "dalmine (3)", "c": "Dalmine (2)", "d": "DALMINE (4)"}


def test_a_new_plan_does_not_take_another_plans_name(grid):
    s = _start(grid)
    s.rename("B", "M1", 0)  # the name a new plan of 000001 would take
    s.new_plan(["000001"], 1)
    assert s.names["new-1"] == "M1 (2)"
    s.new_plan(["000002"], 2)  # a name no other plan has stays the municipality's own, as before
    assert "new-2" not in s.names
