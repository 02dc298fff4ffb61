"""``harness list``: optimizers, schedules, engines, datasets, strategies, precisions, suites, collectors."""

from __future__ import annotations

import argparse
import json

from harness.errors import EXIT_OK


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("list", help="what can be named in a suite")
    p.add_argument("what", nargs="?", choices=["optimizers", "schedules", "engines", "datasets", "strategies",
                                               "precisions", "suites", "collectors"], help="one section only")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_list)


def catalog_sections() -> dict[str, dict[str, str]]:
    from harness.components import catalog, datasets
    from harness.suite import available_suites

    sections = {
        "optimizers": {n: e.description for n, e in catalog.optimizer_entries().items()},
        "schedules": {n: s["description"] for n, s in catalog.SCHEDULES.items()},
        "engines": dict(catalog.ENGINES),
        "datasets": dict(datasets.DESCRIPTIONS),
        "strategies": {n: s["description"] for n, s in catalog.STRATEGIES.items()},
        "precisions": dict(catalog.PRECISIONS),
        "suites": {n: str(p) for n, p in available_suites().items()},
    }
    try:
        from harness.collectors import available_collectors
    except ImportError as exc:
        sections["collectors"] = {"(none)": f"collectors package unavailable: {exc}"}
    else:
        sections["collectors"] = {n: ("available" if ok else "unavailable") + (f": {why}" if why else "")
                                  for n, (ok, why) in available_collectors().items()}
    return sections


def cmd_list(args: argparse.Namespace) -> int:
    sections = catalog_sections()
    if args.what:
        sections = {args.what: sections[args.what]}
    if args.json:
        print(json.dumps(sections, indent=2))
        return EXIT_OK
    for title, entries in sections.items():
        print(f"{title}:")
        width = max((len(n) for n in entries), default=0)
        for name, desc in entries.items():
            print(f"  {name:<{width}}  {desc}")
    return EXIT_OK
