"""Build ``data/status_quo_example.csv``: real, complete area plans from a partial public source.

Reads ``../shared/data/sources/ambiti_membership_partial.csv`` (municipality names verbatim
from public pages, some abbreviated) and writes ``municipality_code,plan_id,plan_name`` with
2023 ISTAT codes. Only plans whose source list is complete are kept (see ``PLANS``); Lodi and
Cremasco (names redacted at the source) and Oglio Ovest (possibly truncated) are left out.

Each name is matched to a 2023 code of ``data/lombardy_2023.csv`` within the plan's province,
after a normaliser (accents, case, punctuation, "S." for "San") and an explicit ``ALIASES``
table. Because some lists date from earlier triennia, every plan is also checked against
``lombardy_codes_2017_to_2023.csv``: a name that only exists under a 2017 code (a merger, a
province change such as Torre de' Busi, Lecco -> Bergamo in 2018) is mapped through it, and the
change is printed. Any name that does not resolve to exactly one municipality stops the script.

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

# source ambito name -> (plan_id, plan name written, province of its municipalities)
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


def main(argv: list[str] | None = None) -> int:
    """Read the shared sources, resolve every name, write ``status_quo_example.csv``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", type=Path, default=HERE.parent.parent / "shared" / "data" / "sources")
    parser.add_argument("--out", type=Path, default=HERE / "status_quo_example.csv")
    args = parser.parse_args(argv)
    source = pd.read_csv(args.sources / "ambiti_membership_partial.csv", dtype=str)
    codes_2017 = pd.read_csv(args.sources / "lombardy_codes_2017_to_2023.csv", dtype=str)
    table = pd.read_csv(HERE / "lombardy_2023.csv", dtype={"code": str}).set_index("code")
    out = resolve(source, table, codes_2017)
    expected = {p: int((source["ambito_name"] == a).sum()) for a, (p, _, _) in PLANS.items()}
    got = out["plan_id"].value_counts().to_dict()
    if got != expected:
        raise SystemExit(f"member counts differ from the source: expected {expected}, got {got}")
    out = out.sort_values(["plan_id", "municipality_code"])
    out[["municipality_code", "plan_id", "plan_name"]].to_csv(args.out, index=False)
    pops = table["population"].groupby(out.set_index("municipality_code")["plan_id"]).sum()
    print(f"wrote {args.out}: {len(out)} municipalities in {out['plan_id'].nunique()} plans")
    for plan_id, pop in pops.items():
        print(f"  {plan_id}: {expected[plan_id]} municipalities, {int(pop):,} inhabitants (2023)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
