"""Rebuild the processed municipality tables in ``data/`` from their sources.

Run from the repository root with the package installed (``pip install -e .``)::

    python data/scripts/build.py --sources ../shared/data/sources

Writes ``data/lombardy_2023.csv`` (Lombardy, 1,504 municipalities, every attribute
crosswalked to 2023 codes) and ``data/italy_attributes.csv`` (every Italian 2023 code
with the attributes whose source code still exists in 2023; used for other regions).
The package reads only these outputs, never the sources.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from lombardy_districts.io.embedded import italy_municipalities

HERE = Path(__file__).resolve().parents[1]  # data/, where the outputs go
LOMBARDY = 3
ZONES = {1: "inland mountain", 2: "coastal mountain", 3: "inland hill", 4: "coastal hill", 5: "plain"}
MOUNTAIN = {"Totalmente montano": "totally", "Parzialmente montano": "partly", "Non montano": "not"}
DEGURBA = {"Elevato": 1, "Medio": 2, "Basso": 3}


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
    table["area_km2"] = table["area_km2"].round(4)
    table["density"] = table["density"].round(2)
    missing = table[table.isna().any(axis=1)]
    if len(missing):
        raise SystemExit(f"attributes missing for {list(missing['code'])}")
    table.sort_values("code").to_csv(out / "lombardy_2023.csv", index=False)

    nat = _attributes(sources, set(base.index), crosswalk)
    nat = nat.drop(index=list(lom.index))
    nat = nat.dropna(how="all").rename_axis("code").reset_index()
    nat["degurba"] = nat["degurba"].astype("Int64")
    nat.to_csv(out / "italy_attributes.csv", index=False)
    print(f"Lombardy: {len(table)} municipalities, {int(table['population'].sum()):,} inhabitants")
    print(f"Other regions: {len(nat)} municipalities with attributes")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", type=Path, default=HERE.parent.parent / "shared" / "data" / "sources")
    build(parser.parse_args().sources)
