"""Rebuild the processed municipality tables in ``data/`` from their sources.

Run from the repository root with the package installed (``pip install -e .``)::

    python data/scripts/build.py --sources ../shared/data/sources

Writes ``data/lombardy_2023.csv`` (Lombardy, 1,504 municipalities, every attribute
crosswalked to 2023 codes, plus the health protection agency, ``ats``) and
``data/italy_attributes.csv`` (every Italian 2023 code with the attributes whose source code
still exists in 2023; used for other regions), ``data/former_codes.csv`` (the 2017 codes that
changed, and what each became), then ``data/unions.csv``
(``build_unions.py``) and ``data/status_quo_example.csv`` with
``data/ambiti_other_groups.csv`` (``build_status_quo.py``), which read the new table.
The package reads only these outputs, never the sources.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import build_status_quo
import build_unions
import pandas as pd

from lombardy_districts.io.embedded import italy_municipalities

HERE = Path(__file__).resolve().parents[1]  # data/, where the outputs go
LOMBARDY = 3
ZONES = {1: "inland mountain", 2: "coastal mountain", 3: "inland hill", 4: "coastal hill", 5: "plain"}
MOUNTAIN = {"Totalmente montano": "totally", "Parzialmente montano": "partly", "Non montano": "not"}
DEGURBA = {"Elevato": 1, "Medio": 2, "Basso": 3}
# ATS ids of ats_membership_2023.csv -> the short name written in the ``ats`` column
ATS = {"ats_bergamo": "Bergamo", "ats_brescia": "Brescia", "ats_brianza": "Brianza", "ats_insubria": "Insubria",
       "ats_milano": "Milano", "ats_montagna": "Montagna", "ats_padana": "Val Padana", "ats_pavia": "Pavia"}


def _majority(frame: pd.DataFrame, column: str) -> pd.Series:
    """Area-weighted majority of ``column`` per 2023 code."""
    weights = frame.groupby(["code", column])["area_w"].sum().reset_index()
    weights = weights.sort_values(["code", "area_w", column], ascending=[True, False, True])
    return weights.drop_duplicates("code").set_index("code")[column]


def _mountain_status(frame: pd.DataFrame) -> pd.Series:
    """All parts agree: that status. Mixed parts: 'partly' (part of the land is mountain)."""
    statuses = frame.groupby("code")["mountain"].agg(lambda s: sorted(set(s)))
    return statuses.map(lambda s: s[0] if len(s) == 1 else "partly")


def _anpr_recodes(sources: Path) -> pd.Series:
    """Ceased code -> active code of the municipality with the same name and province.

    Catches sources that still use a code a municipality gave up (ANCITEL keeps Bellagio's
    pre-2014 code 013019; ANPR lists it active as 013250 since 2014-02-04).
    """
    anpr = pd.read_csv(sources / "anpr_archivio_comuni.csv", dtype=str)
    key = anpr["DENOMINAZIONE_IT"] + "|" + anpr["IDPROVINCIAISTAT"]
    active = pd.Series(anpr.loc[anpr["STATO"] == "A", "CODISTAT"].values, index=key[anpr["STATO"] == "A"])
    active = active[~active.index.duplicated(keep=False)]
    ceased = pd.Series(key[anpr["STATO"] == "C"].values, index=anpr.loc[anpr["STATO"] == "C", "CODISTAT"])
    ceased = ceased[~ceased.index.duplicated(keep="last")]
    recode = ceased.map(active).dropna()
    return recode[recode.index != recode.values]


def _attributes(sources: Path, codes_2023: set[str], crosswalk: pd.Series) -> pd.DataFrame:
    """Altimetric zone, mountain status, urbanisation and labour market area per 2023 code."""
    anc = pd.read_csv(sources / "ancitel_comuni_2017.csv", sep=";", dtype=str, encoding="utf-8-sig")
    anc = pd.DataFrame({
        "code_old": anc["ISTAT"].str.zfill(6),
        "mountain": anc["IndiceMontanita"].map(MOUNTAIN),
        "degurba": anc["GradoUrbaniz"].map(DEGURBA),
        "area_w": anc["SuperficieKmq"].str.replace(",", ".").astype(float),
    })
    sll = pd.read_csv(sources / "istat_sll2011_comuni_2021codes.csv", dtype={"CMN": str})
    sll = pd.DataFrame({
        "code_old": sll["CMN"].str.zfill(6),
        "altimetric_zone": sll["zona_alti"].map(ZONES),
        "labour_market_area": sll["SLLd"],
        "area_w": sll["area"] / 1e6,
    })
    recodes = _anpr_recodes(sources)
    out = pd.DataFrame(index=sorted(codes_2023))
    out.index.name = "code"
    for frame, columns in ((anc, ["degurba"]), (sll, ["altimetric_zone", "labour_market_area"])):
        frame = frame.copy()
        code = frame["code_old"].map(crosswalk).fillna(frame["code_old"])
        stale = ~code.isin(codes_2023)
        code[stale] = code[stale].map(recodes).fillna(code[stale])
        frame["code"] = code.map(crosswalk).fillna(code)
        frame = frame[frame["code"].isin(codes_2023)]
        for column in columns:
            out[column] = _majority(frame, column)
        if "mountain" in frame:
            out["mountain_status"] = _mountain_status(frame)
    return out


def _ats(sources: Path, table: pd.DataFrame) -> pd.Series:
    """Short ATS name per 2023 code; stops unless the source lists exactly the table's municipalities."""
    ats = pd.read_csv(sources / "ats_membership_2023.csv", dtype=str).set_index("municipality_code")
    problems = []
    codes = set(table["code"])
    if ats.index.duplicated().any():
        problems.append(f"codes listed twice: {sorted(set(ats.index[ats.index.duplicated()]))}")
    if set(ats.index) != codes:
        problems.append(f"codes only in the ATS list: {sorted(set(ats.index) - codes)}; "
                        f"only in the table: {sorted(codes - set(ats.index))}")
    unknown = sorted(set(ats["ats_id"]) - set(ATS))
    if unknown:
        problems.append(f"unknown ATS ids {unknown}; known: {sorted(ATS)}")
    names = table.set_index("code")["name"]
    differ = [c for c in ats.index if c in names.index and ats.at[c, "name"] != names[c]]
    if differ:
        problems.append(f"names differ from the table for {differ[:10]}")
    if problems:
        raise SystemExit("ats_membership_2023.csv does not fit the table:\n  " + "\n  ".join(problems))
    return table["code"].map(ats["ats_id"].map(ATS))


def write_former_codes(cw: pd.DataFrame, table: pd.DataFrame, out: Path = HERE) -> None:
    """``former_codes.csv``: each Lombardy code of 2017 that is no 2023 code, and the 2023 municipality it is part of.

    The package names them when a plan file uses one (mergers and Torre de' Busi's move to Bergamo).
    """
    names = table.set_index("code")["name"]
    changed = cw[cw["code_2017"] != cw["code_2023"]]
    former = pd.DataFrame({"former_code": changed["code_2017"], "former_name": changed["name_2017"].str.title(),
                           "code_2023": changed["code_2023"], "name_2023": changed["code_2023"].map(names)})
    if former["name_2023"].isna().any() or former["former_code"].isin(names.index).any():
        raise SystemExit(f"former codes that are 2023 codes, or 2023 codes unknown: {former.to_dict('records')}")
    former.sort_values("former_code").to_csv(out / "former_codes.csv", index=False)


def build(sources: Path, out: Path = HERE) -> None:
    """Write both tables into ``out`` from the sources folder."""
    gdf = italy_municipalities()
    gdf["area_km2"] = gdf.geometry.area / 1e6
    gdf["density"] = gdf["population"] / gdf["area_km2"]
    cw = pd.read_csv(sources / "lombardy_codes_2017_to_2023.csv", dtype=str)
    crosswalk = cw.set_index("code_2017")["code_2023"]

    columns = ["code", "name", "province", "province_code", "region", "population", "area_km2", "density"]
    base = gdf[columns[1:]]
    lom = base[gdf["region_code"] == LOMBARDY]
    lom_attr = _attributes(sources, set(lom.index), crosswalk)
    table = lom.join(lom_attr).rename_axis("code").reset_index()
    table = table[columns + ["altimetric_zone", "mountain_status", "degurba", "labour_market_area"]]
    table["ats"] = _ats(sources, table)
    table["area_km2"] = table["area_km2"].round(4)
    table["density"] = table["density"].round(2)
    missing = table[table.isna().any(axis=1)]
    if len(missing):
        raise SystemExit(f"attributes missing for {list(missing['code'])}")
    table.sort_values("code").to_csv(out / "lombardy_2023.csv", index=False)
    write_former_codes(cw, table, out)

    nat = _attributes(sources, set(base.index), crosswalk)
    nat = nat.drop(index=list(lom.index))
    nat = nat.dropna(how="all").rename_axis("code").reset_index()
    nat["degurba"] = nat["degurba"].astype("Int64")
    nat.to_csv(out / "italy_attributes.csv", index=False)
    print(f"Lombardy: {len(table)} municipalities, {int(table['population'].sum()):,} inhabitants")
    print(f"Other regions: {len(nat)} municipalities with attributes")
    build_unions.build(sources, out)
    build_status_quo.build(sources, out)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", type=Path, default=HERE.parent.parent / "shared" / "data" / "sources")
    parser.add_argument("--out", type=Path, default=HERE, help="folder to write to (default: data/)")
    args = parser.parse_args()
    build(args.sources, args.out)
