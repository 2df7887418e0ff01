"""Build ``data/status_quo_example.csv`` and ``data/ambiti_other_groups.csv`` from real, partial sources.

The example status quo is made of the **single area plans listed with high confidence** in
``ambiti_membership_assembled.csv`` (one row per municipality, 2023 ISTAT codes): the groups
whose ``group_level`` is ``ambito`` and whose every row has ``confidence`` high. Those are ten
plans: the eight complete plans of ``ambiti_membership_partial.csv`` (Dalmine, Isola Bergamasca,
Romano di Lombardia, Treviglio, Seriate, Valle Imagna - Villa d'Almè, Brescia Est, Alto e Basso
Pavese) plus Lodi and Garbagnate Milanese. It is written as ``municipality_code,plan_id,plan_name``.

Every other group of the assembled file goes to ``ambiti_other_groups.csv`` with a column
``what`` saying what it is: a single plan whose list is not certain (Oglio Ovest, possibly
truncated; Cremasco, six names redacted at the source and inferred; Trezzo sull'Adda, inferred
from a wider list), a health district holding two or three plans, or the consortium that runs two
plans. They are not plans one can put in a status quo as they are.

Checks, each stopping the script: every code is a 2023 municipality of ``data/lombardy_2023.csv``
with the same name and province; no municipality is in two groups; and the eight plans of the
name-based ``ambiti_membership_partial.csv`` are matched again by name (a normaliser and the
``ALIASES`` table, within each plan's province; a name valid only under a 2017 code goes through
``lombardy_codes_2017_to_2023.csv``) and must give exactly the rows of the assembled file. The
script also prints each plan's ATS (every plan should lie inside one).

Run from the repository root::

    python data/scripts/build_status_quo.py [--sources ../shared/data/sources]
"""

from __future__ import annotations

import argparse
import sys
import unicodedata
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parents[1]  # data/, where the outputs go

# ambiti_membership_partial.csv: source ambito name -> (plan_id, plan name, province of its municipalities)
PLANS = {
    "Ambito territoriale di Dalmine": ("bg_dalmine", "Dalmine", "Bergamo"),
    "Ambito territoriale Isola Bergamasca e Bassa Valle San Martino":
        ("bg_isola_bergamasca", "Isola Bergamasca e Bassa Valle San Martino", "Bergamo"),
    "Ambito territoriale di Romano di Lombardia": ("bg_romano", "Romano di Lombardia", "Bergamo"),
    "Ambito territoriale di Treviglio": ("bg_treviglio", "Treviglio", "Bergamo"),
    "Ambito territoriale di Seriate": ("bg_seriate", "Seriate", "Bergamo"),
    "Ambito distrettuale Valle Imagna - Villa d'Almè":
        ("bg_valle_imagna", "Valle Imagna - Villa d'Almè", "Bergamo"),
    "Ambito distrettuale n. 3 Brescia Est": ("bs_brescia_est", "Brescia Est", "Brescia"),
    "Ambito territoriale Alto e Basso Pavese": ("pv_alto_basso_pavese", "Alto e Basso Pavese", "Pavia"),
}

# normalised source spelling -> normalised official 2023 name (only where the normaliser is not enough)
ALIASES = {
    "caprinobsco": "caprinobergamasco",  # "Caprino b. sco"
    "faraolivanasola": "faraolivanaconsola",  # "Fara Olivana/Sola"
    "fornovosgiovanni": "fornovosangiovanni",  # "Fornovo s. Giovanni"
    "albanosalessandro": "albanosantalessandro",  # "Albano S.Alessandro"
    "brembatesopra": "brembatedisopra",  # "Brembate Sopra"
    "sottoilmonte": "sottoilmontegiovannixxiii",  # "Sotto il Monte"
    "misanogeradadda": "misanodigeradadda",  # "Misano Gera d'adda"
}


def normalise(name: str) -> str:
    """Lower-case ASCII letters and digits only: ``"Villa d'Almè"`` -> ``"villadalme"``."""
    text = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode()
    return "".join(ch for ch in text.lower() if ch.isalnum())


def resolve(source: pd.DataFrame, table: pd.DataFrame, codes_2017: pd.DataFrame) -> pd.DataFrame:
    """Map every (plan, name) row of ``source`` to a 2023 code; raise listing every failure."""
    table = table.assign(key=table["name"].map(normalise))
    old = codes_2017.assign(key=codes_2017["name_2017"].map(normalise))
    rows, problems = [], []
    for ambito, (plan_id, plan_name, province) in PLANS.items():
        members = source[source["ambito_name"] == ambito]
        if members.empty:
            problems.append(f"plan {ambito!r} has no rows in the source")
        for raw in members["comune_name"]:
            key = ALIASES.get(normalise(raw), normalise(raw))
            hits = table[(table["key"] == key) & (table["province"] == province)]
            if len(hits) == 1:
                code = hits.index[0]
            else:
                # a name valid in the triennium but not in 2023 (merger, province change)
                moved = old[old["key"] == key]
                if len(moved) != 1 or table.at[moved["code_2023"].iloc[0], "province"] != province:
                    problems.append(f"{ambito}: {raw!r} (key {key!r}) matches {len(hits)} municipalities "
                                    f"of {province} in 2023; add it to ALIASES")
                    continue
                code = moved["code_2023"].iloc[0]
                print(f"{raw}: 2017 code {moved['code_2017'].iloc[0]} -> 2023 code {code}")
            rows.append((code, plan_id, plan_name, raw))
    out = pd.DataFrame(rows, columns=["municipality_code", "plan_id", "plan_name", "source_name"])
    doubled = out[out["municipality_code"].duplicated(keep=False)]
    for code, group in doubled.groupby("municipality_code"):
        problems.append(f"{code} {table.at[code, 'name']} is listed in {sorted(group['plan_id'])}")
    # codes that changed between 2017 and 2023 must agree with the crosswalk
    changed = codes_2017[codes_2017["code_2017"] != codes_2017["code_2023"]]
    for _, row in changed[changed["code_2023"].isin(out["municipality_code"])].iterrows():
        print(f"note: {row['name_2023']} ({row['code_2023']}) had 2017 code {row['code_2017']}: {row['how']}")
    if problems:
        raise SystemExit("cannot build the status quo example:\n  " + "\n  ".join(problems))
    return out




# assembled group_id of the plans kept in the example -> (plan_id, plan name written)
EXAMPLE = {
    "amb_bg_dalmine": ("bg_dalmine", "Dalmine"),
    "amb_bg_isola_bergamasca": ("bg_isola_bergamasca", "Isola Bergamasca e Bassa Valle San Martino"),
    "amb_bg_romano": ("bg_romano", "Romano di Lombardia"),
    "amb_bg_treviglio": ("bg_treviglio", "Treviglio"),
    "amb_bg_seriate": ("bg_seriate", "Seriate"),
    "amb_bg_valle_imagna": ("bg_valle_imagna", "Valle Imagna - Villa d'Almè"),
    "amb_bs_brescia_est": ("bs_brescia_est", "Brescia Est"),
    "amb_pv_alto_basso_pavese": ("pv_alto_basso_pavese", "Alto e Basso Pavese"),
    "amb_lo_lodi": ("lo_lodi", "Lodi"),
    "amb_mi_garbagnate": ("mi_garbagnate", "Garbagnate Milanese"),
}
# group_level of the assembled file -> what the group is, in ambiti_other_groups.csv
WHAT = {
    "ambito": "one area plan; its list is not certain (see confidence and note)",
    "ambito (inferred)": "one area plan, inferred: no source names its members",
    "ASST distretto (union of ambiti)": "a health district holding several area plans, not one plan",
    "ente gestore of 2 ambiti": "a consortium running two area plans, not one plan",
}
OTHER_COLUMNS = ["municipality_code", "name", "group_id", "group_name", "what", "confidence", "source_date",
                 "source", "note"]


def example_groups(assembled: pd.DataFrame) -> list[str]:
    """Group ids of the single area plans whose every row has high confidence."""
    level = assembled.groupby("group_id")["group_level"].agg(set)
    confidence = assembled.groupby("group_id")["confidence"].agg(set)
    return sorted(g for g in level.index if level[g] == {"ambito"} and confidence[g] == {"high"})


def check_assembled(assembled: pd.DataFrame, table: pd.DataFrame) -> list[str]:
    """Codes, names and provinces against the municipality table; one group per municipality."""
    problems = []
    unknown = assembled[~assembled["municipality_code"].isin(table.index)]
    problems += [f"{r.municipality_code} {r.name} is not a 2023 Lombard municipality" for r in unknown.itertuples()]
    known = assembled[assembled["municipality_code"].isin(table.index)]
    for r in known.itertuples():
        row = table.loc[r.municipality_code]
        if normalise(r.name) != normalise(row["name"]) or r.province != row["province"]:
            problems.append(f"{r.municipality_code}: the source says {r.name} ({r.province}), "
                            f"2023 says {row['name']} ({row['province']})")
    doubled = assembled[assembled["municipality_code"].duplicated(keep=False)]
    for code, group in doubled.groupby("municipality_code"):
        problems.append(f"{code} is in several groups: {sorted(group['group_id'])}")
    return problems


def check_by_name(sources: Path, table: pd.DataFrame, example: pd.DataFrame) -> list[str]:
    """The eight name-based plans of ``ambiti_membership_partial.csv`` must give the same rows."""
    source = pd.read_csv(sources / "ambiti_membership_partial.csv", dtype=str)
    codes_2017 = pd.read_csv(sources / "lombardy_codes_2017_to_2023.csv", dtype=str)
    by_name = resolve(source, table, codes_2017)
    problems = []
    for plan_id in sorted(set(by_name["plan_id"])):
        named = set(by_name.loc[by_name["plan_id"] == plan_id, "municipality_code"])
        coded = set(example.loc[example["plan_id"] == plan_id, "municipality_code"])
        if named != coded:
            problems.append(f"{plan_id}: matched by name {len(named)} municipalities, the assembled file has "
                            f"{len(coded)}; only by name: {sorted(named - coded)}, "
                            f"only by code: {sorted(coded - named)}")
    return problems


def build(sources: Path, out: Path = HERE) -> pd.DataFrame:
    """Write ``status_quo_example.csv`` and ``ambiti_other_groups.csv`` into ``out``; return the example."""
    table = pd.read_csv(out / "lombardy_2023.csv", dtype={"code": str}).set_index("code")
    assembled = pd.read_csv(sources / "ambiti_membership_assembled.csv", dtype=str)
    problems = check_assembled(assembled, table)
    kept = example_groups(assembled)
    if kept != sorted(EXAMPLE):
        problems.append(f"the high-confidence single plans are {kept}; EXAMPLE lists {sorted(EXAMPLE)}")
    inside = assembled[assembled["group_id"].isin(EXAMPLE)]
    example = pd.DataFrame({
        "municipality_code": inside["municipality_code"],
        "plan_id": inside["group_id"].map(lambda g: EXAMPLE[g][0]),
        "plan_name": inside["group_id"].map(lambda g: EXAMPLE[g][1]),
    })
    if not problems:
        problems += check_by_name(sources, table, example)
    if problems:
        raise SystemExit("cannot build the status quo example:\n  " + "\n  ".join(problems))
    example = example.sort_values(["plan_id", "municipality_code"])
    example.to_csv(out / "status_quo_example.csv", index=False)
    other = assembled[~assembled["group_id"].isin(EXAMPLE)].assign(what=lambda f: f["group_level"].map(WHAT))
    if other["what"].isna().any():
        levels = sorted(set(other.loc[other["what"].isna(), "group_level"]))
        raise SystemExit(f"no description in WHAT for group levels {levels}")
    other = other.sort_values(["group_id", "municipality_code"])
    other[OTHER_COLUMNS].to_csv(out / "ambiti_other_groups.csv", index=False)

    pops = table["population"].groupby(example.set_index("municipality_code")["plan_id"]).sum()
    ats = table["ats"].groupby(example.set_index("municipality_code")["plan_id"]).agg(lambda s: sorted(set(s)))
    print(f"status_quo_example.csv: {len(example)} municipalities in {example['plan_id'].nunique()} plans")
    for plan_id, pop in pops.items():
        count = int((example["plan_id"] == plan_id).sum())
        print(f"  {plan_id}: {count} municipalities, {int(pop):,} inhabitants (2023), ATS {', '.join(ats[plan_id])}")
    for group_id, group in other.groupby("group_id"):
        print(f"ambiti_other_groups.csv: {group_id}: {len(group)} municipalities, {group['what'].iloc[0]}")
    return example


def main(argv: list[str] | None = None) -> int:
    """Read the shared sources and write the two files."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", type=Path, default=HERE.parent.parent / "shared" / "data" / "sources")
    build(parser.parse_args(argv).sources)
    return 0


if __name__ == "__main__":
    sys.exit(main())
