"""``harness env``: the machine and what it can measure (energy counters, GPUs, TDP)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from harness.collectors import CollectorConfig, describe_environment
from harness.errors import EXIT_OK


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("env", help="show the machine and its measurement capabilities")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.add_argument("--tdp-w", type=float, default=None,
                   help="the CPU package's TDP in W for the estimate (overrides the table)")
    p.add_argument("--tdp-threads", type=int, default=None,
                   help="hardware threads per package sharing --tdp-w (default: table, else this machine)")
    p.add_argument("--region", default=None, metavar="CODE",
                   help="where the machine draws its power (ISO 3166-1 code or provider:region): shows the "
                        "grid carbon intensity reports would use, with its source and year")
    p.add_argument("--carbon-intensity", type=float, default=None, metavar="G_PER_KWH",
                   help="a grid carbon intensity in gCO2e/kWh (overrides --region)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from harness import carbon

    config = CollectorConfig(tdp_w=args.tdp_w, tdp_origin="cli" if args.tdp_w is not None else None,
                             tdp_threads=args.tdp_threads)
    grid, notes = carbon.resolve(args.region, args.carbon_intensity)
    env = describe_environment(config)
    env["carbon"] = {"g_co2e_per_kwh": grid.g_co2e_per_kwh, "code": grid.code, "source": grid.source,
                     "year": grid.year, "origin": grid.origin, "label": grid.label(), "notes": notes}
    print(json.dumps(env, indent=2, default=str) if args.json else render(env))
    return EXIT_OK


def render(env: dict[str, Any]) -> str:
    cpu, pc, gpu = env["cpu"], env["powercap"], env["nvml"]
    lines = [
        f"host      {env['host']}  ({env['os']}, Python {env['python']})",
        f"cpu       {cpu['model'] or 'unknown'}: {cpu['logical_cpus']} logical / {cpu['physical_cores']} physical, "
        f"{cpu['threads_per_package']} threads per package",
        f"cpu tdp   {cpu['tdp_w']:g} W ({cpu['tdp_origin']})" if cpu["tdp_w"] else f"cpu tdp   {cpu['tdp_reason']}",
        f"estimate  {cpu['estimate']}",
        f"          estimate_j = W per thread x CPU-seconds of the benchmark's processes "
        f"({cpu['w_per_thread']:.3g} W per thread)",
        *([f"warning   {cpu['estimate_warning']}"] if cpu.get("estimate_warning") else []),
        f"memory    {env['memory_total_bytes'] / 2**30:.1f} GiB",
        f"powercap  {pc['root']}: " + (pc["reason"] or f"{len(pc['zones'])} zone(s)"),
    ]
    for z in pc["zones"]:
        state = "readable" if z["readable"] else z["error"]
        lines.append(f"            {z['zone']:<20} {z['name']:<10} {z['kind']:<8} {state}")
    lines.append(f"gpu       CUDA_VISIBLE_DEVICES={gpu['cuda_visible_devices']}: "
                 + (f"driver {gpu.get('driver')}" if gpu["available"] else str(gpu["reason"])))
    for g in gpu["gpus"]:
        counter = "energy counter" if g["energy_counter"] else "power sampling"
        lines.append(f"            {g['index']}: {g['name']} {g['uuid']} ({counter})")
    lines.append("collectors")
    for name, c in env["collectors"].items():
        lines.append(f"  {'yes' if c['available'] else 'no ':<4} {name:<13} {c['reason']}")
    if "carbon" in env:
        lines.append(f"carbon    {env['carbon']['label']}")
    versions = ", ".join(f"{k} {v}" for k, v in env["packages"].items() if v)
    lines.append(f"packages  {versions}")
    return "\n".join(lines)
