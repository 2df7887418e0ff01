"""CSV files as office software writes them, and atomic writes."""

import zipfile

import pytest

from lombardy_districts.errors import InputError
from lombardy_districts.io.files import read_csv_text, write_atomic
from lombardy_districts.model.plan import read_assignment_csv


@pytest.mark.parametrize(
    "raw",
    [
        "\ufeffmunicipality_code,plan_id,plan_name\n15146,a,Città\n".encode(),  # Excel's UTF-8 with BOM
        "municipality_code;plan_id;plan_name\n015146;a;Città\n".encode(),  # Italian Excel: semicolons
        "municipality_code,plan_id,plan_name\n015146,a,Città\n".encode("cp1252"),  # Windows text
        "municipality_code\tplan_id\tplan_name\n015146\ta\tCittà\n".encode(),  # tab-separated (a copied sheet)
        "Municipality_Code ;PLAN_ID;Plan_Name\n015146;a;Città\n;;\n".encode(),  # headers in any case, a blank row
        "municipality_code,plan_id,plan_name\n15146.0,a,Città\n15146,a,Città\n".encode(),  # a float code, a repeat
    ],
)
def test_office_csv_files_are_read(tmp_path, raw):
    path = tmp_path / "plan.csv"
    path.write_bytes(raw)
    frame = read_assignment_csv(path, istat=True)  # ISTAT codes: Excel's dropped leading zero comes back
    assert frame.to_dict("records") == [{"municipality_code": "015146", "plan_id": "a", "plan_name": "Città"}]


def test_single_column_is_not_split(tmp_path):
    path = tmp_path / "codes.csv"
    path.write_text("municipality_code\n015146\n")
    assert list(read_csv_text(path, "file").columns) == ["municipality_code"]


def test_unreadable_csv_names_the_file(tmp_path):
    path = tmp_path / "plan.csv"
    path.write_text('a,b\n"unclosed,1\n')
    with pytest.raises(InputError, match=r"plan file .*plan.csv is not a readable CSV"):
        read_csv_text(path, "plan file")
    with pytest.raises(InputError, match=r"plan file nowhere.csv does not exist"):
        read_csv_text("nowhere.csv", "plan file")


def test_write_atomic_leaves_no_partial_file(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")

    def fail(path):
        path.write_text("half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        write_atomic(target, fail)
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


@pytest.mark.parametrize("name, start", [("plan.xlsx", b"PK\x03\x04"), ("plan.xls", b"\xd0\xcf\x11\xe0\xa1\xb1")])
def test_a_workbook_is_refused_with_the_way_to_save_it_as_csv(tmp_path, name, start):
    path = tmp_path / name
    if name.endswith("xlsx"):  # a real zip, as Excel writes one
        with zipfile.ZipFile(path, "w") as book:
            book.writestr("xl/workbook.xml", "<workbook/>")
    else:
        path.write_bytes(start + bytes(506))
    with pytest.raises(InputError, match=f"plan file .*{name} is a spreadsheet workbook .*, not a CSV file; "
                                         "fix: save the sheet as 'CSV UTF-8 \\(comma delimited\\)'"):
        read_assignment_csv(path)


def test_folder_instead_of_file(tmp_path):
    with pytest.raises(InputError, match="is a folder; give the path of a CSV file"):
        read_csv_text(tmp_path, "plan file")


def test_a_municipality_in_two_plans_is_refused_with_its_rows(tmp_path):
    path = tmp_path / "plan.csv"
    path.write_text("municipality_code,plan_id\n015146,a\n016024,b\n15146,c\n")
    with pytest.raises(InputError, match=r"plan.csv: municipality 015146 is in more than one plan: a \(row 2\), "
                                         r"c \(row 4\)\. Fix: keep one row per municipality$"):
        read_assignment_csv(path, istat=True)
    with pytest.raises(InputError, match=r"path is a dict: expected the path of a plan CSV file"):
        read_assignment_csv({"015146": "a"})
