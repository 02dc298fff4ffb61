"""Mutation testing of the modules whose arithmetic decides a verdict or a figure (mutmut).

    python scripts/mutation.py [--module NAME ...] [--budget-s 3600] [--out reports/mutation.md] [--rerun]

Targets and their test subsets live in scripts/mutation_targets.toml. Each module runs in
its own scratch copy of the working tree (build/mutation/<name>/, the worktree itself is
never modified) with a generated ``[tool.mutmut]`` section, under ``nice -n 10``, with
``-m "not slow"``. The whole call stops at ``--budget-s`` seconds (a module cut short is
reported as such). The report (Markdown) gives per module: mutants, killed, survived, the
kill rate and the run's wall time, then every survivor's diff; a survivor whose mutant name
appears in docs/testing.md is marked "explained" and leaves the kill rate's denominator
only when that line says "equivalent".

Needs the ``mutation`` extra (``pip install -e ".[mutation]"``). Not part of ``pytest``.
Exit status: 0 when every module finished and reached ``--target`` (default 0.9) after
explained equivalents; 1 otherwise; 2 for a bad argument.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGETS = ROOT / "scripts" / "mutation_targets.toml"
DOC = ROOT / "docs" / "testing.md"
KILLED = {"killed", "timeout", "caught by type check", "segfault"}
SURVIVED = {"survived", "no tests", "suspicious"}
ALSO_COPY = ("suites", "docs", "scripts", "benchmarks", "README.md")
log = logging.getLogger("mutation")


@dataclass
class ModuleResult:
    """One module's run: statuses by mutant name, wall time (s), whether it finished."""

    name: str
    path: str
    wall_s: float
    finished: bool
    statuses: dict[str, str] = field(default_factory=dict)
    diffs: dict[str, str] = field(default_factory=dict)

    def survivors(self) -> list[str]:
        return sorted(k for k, v in self.statuses.items() if v in SURVIVED)

    def counts(self, equivalent: set[str]) -> tuple[int, int, int, float]:
        """(mutants, killed, equivalent survivors, kill rate over non-equivalent mutants)."""
        total = len(self.statuses)
        killed = sum(v in KILLED for v in self.statuses.values())
        eq = sum(k in equivalent for k in self.survivors())
        denom = total - eq
        return total, killed, eq, (killed / denom if denom else float("nan"))


def load_targets(path: Path = TARGETS) -> dict[str, dict]:
    """The ``[modules.*]`` tables of the targets file, by name."""
    return tomllib.loads(path.read_text())["modules"]


def explained(doc: Path = DOC) -> tuple[set[str], set[str]]:
    """(equivalent, accepted) mutant names from docs/testing.md's survivors table."""
    eq: set[str] = set()
    acc: set[str] = set()
    if not doc.exists():
        return eq, acc
    for line in doc.read_text().splitlines():
        m = re.match(r"\|\s*`?([\w.]+__mutmut_\d+)`?\s*\|\s*(equivalent|accepted)", line)
        if m:
            (eq if m.group(2) == "equivalent" else acc).add(m.group(1))
    return eq, acc


def _copy_tree(dest: Path) -> None:
    """The working tree (tracked and untracked-but-not-ignored files) copied to ``dest``."""
    files = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
                           cwd=ROOT, check=True, capture_output=True).stdout.decode().split("\0")
    for rel in filter(None, files):
        src = ROOT / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)


def _toml_list(items: list[str]) -> str:
    return "[" + ", ".join(f'"{i}"' for i in items) + "]"


def prepare(name: str, target: dict, scratch: Path, fresh: bool = True) -> Path:
    """A scratch copy whose pyproject.toml configures mutmut for this one module (``fresh``: made
    anew; else the working tree is copied over the last one, keeping its mutants and results)."""
    work = scratch / name
    if fresh:
        shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True, exist_ok=True)
    _copy_tree(work)
    tests = [t for t in target["tests"] if (ROOT / t.split("::")[0]).exists()]
    for t in set(target["tests"]) - set(tests):
        log.warning("%s: test path %s does not exist; skipped", name, t)
    block = (f"\n[tool.mutmut]\nsource_paths = [\"harness\"]\nonly_mutate = {_toml_list([target['path']])}\n"
             f"pytest_add_cli_args = [\"-m\", \"not slow\", \"-p\", \"no:cacheprovider\", \"-q\"]\n"
             f"pytest_add_cli_args_test_selection = {_toml_list(tests)}\n"
             "use_git_change_detection = false\n"
             # tests run in mutants/: the files they read by relative path go there too
             f"also_copy = {_toml_list([p for p in ALSO_COPY if (work / p).exists()])}\n")
    with (work / "pyproject.toml").open("a") as fh:
        fh.write(block)
    return work


def _mutmut(work: Path, args: list[str], timeout: float | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(work)}
    return subprocess.run(["nice", "-n", "10", sys.executable, "-m", "mutmut", *args], cwd=work, env=env,
                          capture_output=True, text=True, timeout=timeout)


def _statuses(work: Path) -> dict[str, str]:
    out = _mutmut(work, ["results", "--all", "true"]).stdout
    found = (re.match(r"\s*([\w.]+__mutmut_\d+): (.+)$", line) for line in out.splitlines())
    return {m.group(1): m.group(2).strip() for m in found if m}


def run_module(name: str, target: dict, scratch: Path, budget_s: float, max_children: int,
               rerun: bool = False) -> ModuleResult:
    """Mutate one module, run its tests against every mutant; statuses and survivors' diffs.

    ``rerun``: only the last run's survivors run again (against the current tests), where
    that run's scratch copy is still there."""
    again = rerun and (scratch / name / "mutants").is_dir()
    work = prepare(name, target, scratch, fresh=not again)
    before = _statuses(work) if again else {}
    names = sorted(k for k, v in before.items() if v in SURVIVED)
    t0 = time.monotonic()
    finished = True
    try:
        proc = _mutmut(work, ["run", "--max-children", str(max_children), *names], timeout=budget_s)
        (work / "mutmut-run.log").write_text(proc.stdout + proc.stderr)
        if proc.returncode != 0:
            log.error("%s: mutmut run exited %d; see %s", name, proc.returncode, work / "mutmut-run.log")
            finished = False
    except subprocess.TimeoutExpired:
        log.error("%s: stopped at the time budget (%.0f s)", name, budget_s)
        finished = False
    now = _statuses(work)
    # a rerun checks only the last survivors; mutmut marks the others "not checked": keep their last status
    statuses = {**before, **{k: now[k] for k in names if k in now}} if again else now
    res = ModuleResult(name, target["path"], time.monotonic() - t0, finished, statuses)
    res.diffs = _diffs(work, res.survivors())
    return res


_DIFFS = """
import json, sys
from mutmut.mutation.diff_apply import find_mutant, get_diff_for_mutant
names = json.loads(sys.stdin.read())
print(json.dumps({k: get_diff_for_mutant(k, path=find_mutant(k).path) for k in names}))
"""


def _diffs(work: Path, names: list[str]) -> dict[str, str]:
    """Each mutant's diff, from one process (``mutmut show`` costs seconds a call)."""
    if not names:
        return {}
    proc = subprocess.run([sys.executable, "-c", _DIFFS], cwd=work, input=json.dumps(names), text=True,
                          capture_output=True, env={**os.environ, "PYTHONPATH": str(work)})
    if proc.returncode != 0:
        log.error("diffs could not be read: %s", proc.stderr[-2000:])
        return {}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def report(results: list[ModuleResult], equivalent: set[str], accepted: set[str]) -> str:
    """The Markdown report: a table per module, then each survivor's diff and its explanation."""
    lines = ["# Mutation testing report", "",
             "| module | mutants | killed | equivalent | kill rate | wall s | finished |",
             "| --- | ---: | ---: | ---: | ---: | ---: | --- |"]
    tk = tn = 0
    for r in results:
        total, killed, eq, rate = r.counts(equivalent)
        tk, tn = tk + killed, tn + total - eq
        lines.append(f"| {r.path} | {total} | {killed} | {eq} | {rate:.1%} | {r.wall_s:.0f} | {r.finished} |")
    lines += ["", f"Overall: {tk}/{tn} non-equivalent mutants killed ({tk / tn:.1%})." if tn else "", ""]
    for r in results:
        for k in r.survivors():
            note = "equivalent" if k in equivalent else "accepted" if k in accepted else "UNEXPLAINED"
            lines += [f"## {k} ({r.statuses[k]}, {note})", "", "```diff", r.diffs.get(k, ""), "```", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    targets = load_targets()
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--module", action="append", choices=sorted(targets), help="default: all")
    ap.add_argument("--budget-s", type=float, default=3600.0, help="time budget for the whole call (s)")
    ap.add_argument("--max-children", type=int, default=2, help="parallel mutant runs")
    ap.add_argument("--rerun", action="store_true",
                    help="run only the last run's survivors again (keeps build/mutation/<module>)")
    ap.add_argument("--target", type=float, default=0.9, help="kill rate to reach per module")
    ap.add_argument("--scratch", type=Path, default=ROOT / "build" / "mutation")
    ap.add_argument("--out", type=Path, default=ROOT / "reports" / "mutation.md")
    args = ap.parse_args(argv)
    equivalent, accepted = explained()
    deadline = time.monotonic() + args.budget_s
    results = []
    for name in args.module or sorted(targets):
        left = deadline - time.monotonic()
        if left <= 0:
            log.error("time budget spent before %s", name)
            break
        r = run_module(name, targets[name], args.scratch, left, args.max_children, args.rerun)
        total, killed, eq, rate = r.counts(equivalent)
        log.info("%s: %d mutants, %d killed, %d equivalent, kill rate %.1f%%, %.0f s",
                 name, total, killed, eq, 100 * rate, r.wall_s)
        results.append(r)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(report(results, equivalent, accepted))  # after each module: a cut run keeps its figures
    log.info("report: %s", args.out)
    ok = len(results) == len(args.module or targets) and all(
        r.finished and r.counts(equivalent)[3] >= args.target for r in results)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
