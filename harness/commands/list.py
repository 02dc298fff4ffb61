"""``harness list``: optimizers, schedules, engines, datasets, models, strategies, precisions, suites, collectors."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable

from harness.errors import EXIT_OK


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("list", help="what can be named in a suite")
    p.add_argument("what", nargs="?", choices=list(SECTIONS), help="one section only")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_list)


def _optimizers() -> dict[str, str]:
    from harness.components import catalog

    entries = catalog.optimizer_entries()
    aliases: dict[str, list[str]] = {}
    for name, entry in entries.items():
        if entry.alias_of:
            aliases.setdefault(entry.alias_of, []).append(name)
    return {n: e.description + (f" (alias: {', '.join(aliases[n])})" if n in aliases else "")
            for n, e in entries.items() if not e.alias_of}


def _schedules() -> dict[str, str]:
    from harness.components import catalog

    return {n: s["description"] for n, s in catalog.SCHEDULES.items()}


def _engines() -> dict[str, str]:
    from harness.components import catalog

    return dict(catalog.ENGINES)


def _datasets() -> dict[str, str]:
    from harness.components import datasets

    return dict(datasets.DESCRIPTIONS)


def _models() -> dict[str, str]:
    from harness.components import models

    return {**models.DESCRIPTIONS, "package.module:function": "your own: f(input_shape, num_classes, seed, "
            "**params) -> a keras.Model whose outputs are logits (checked in preflight)"}


def _strategies() -> dict[str, str]:
    from harness.components import catalog

    return {n: s["description"] for n, s in catalog.STRATEGIES.items()}


def _precisions() -> dict[str, str]:
    from harness.components import catalog

    return dict(catalog.PRECISIONS)


def _suites() -> dict[str, str]:
    from harness.suite import available_suites

    return {n: str(p) for n, p in available_suites().items()}


def _collectors() -> dict[str, str]:
    try:
        from harness.collectors import available_collectors
    except ImportError as exc:
        return {"(none)": f"collectors package unavailable: {exc}"}
    return {n: ("available" if ok else "unavailable") + (f": {why}" if why else "")
            for n, (ok, why) in available_collectors().items()}


# section -> how to build it; each imports only what it needs (`harness list engines` stays quick)
SECTIONS: dict[str, Callable[[], dict[str, str]]] = {
    "optimizers": _optimizers, "schedules": _schedules, "engines": _engines, "datasets": _datasets,
    "models": _models,
    "strategies": _strategies, "precisions": _precisions, "suites": _suites, "collectors": _collectors,
}


def catalog_sections(only: str | None = None) -> dict[str, dict[str, str]]:
    return {name: build() for name, build in SECTIONS.items() if only in (None, name)}


def cmd_list(args: argparse.Namespace) -> int:
    sections = catalog_sections(args.what)
    if args.json:
        print(json.dumps(sections, indent=2))
        return EXIT_OK
    for title, entries in sections.items():
        print(f"{title}:")
        width = max((len(n) for n in entries), default=0)
        for name, desc in entries.items():
            print(f"  {name:<{width}}  {desc}")
    return EXIT_OK
