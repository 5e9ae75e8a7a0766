"""Benchmark of the audit on the lab (a script, not a test): prints figures, asserts nothing.

    .venv/bin/python bench/audit_bench.py [--runs N] [--small]

Prints the audit's wall time (a whole pytest run, as a user runs it), the remote commands sent
per machine, and, in the same run, the same checks written the plain testinfra way (one remote
call per assertion) as the baseline.
"""
import argparse
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.figures import add_small, figure  # noqa: E402
from bench.plain_testinfra import run_checks  # noqa: E402
from fixtures.inventory import INVENTORIES, load_inventory  # noqa: E402
from fixtures.lab import bringup  # noqa: E402
from specs import load_requirements, load_spec  # noqa: E402
from specs.architecture import Architecture  # noqa: E402


def audit_once(*args):
    t0 = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "pytest", "checks", "--inventory", "lab", "-q", "-p", "no:randomly", *args],
                          cwd=ROOT, capture_output=True, text=True)
    wall = time.monotonic() - t0
    summary = re.search(r"offsuite: read (\d+) machines with (\d+) remote commands \(at most (\d+)", proc.stdout)
    outcome = proc.stdout.strip().splitlines()[-1]
    return wall, summary.groups() if summary else None, outcome


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    add_small(parser, "one audit of the first requirement's checks, no baseline")
    args = parser.parse_args(argv)
    arch = Architecture(load_spec())
    bringup.up_unless_running(arch, args.small)
    only = [f"--requirement={next(iter(load_requirements()))}"] if args.small else []
    runs = 1 if args.small else args.runs
    walls = []
    for _ in range(runs):
        wall, summary, outcome = audit_once(*only)
        walls.append(wall)
    machines, commands, most = summary
    what = only[0].split("=")[1] + "'s checks" if only else "whole catalogue"
    figure(f"audit ({what}) wall", statistics.median(walls), "s",
           f"median of {runs} runs, min {min(walls):.2f}, max {max(walls):.2f}; {outcome}")
    figure("audit remote commands", int(commands), "commands", f"{machines} machines, at most {most} per machine")
    if args.small:
        return
    t0 = time.monotonic()
    inventory = load_inventory(INVENTORIES / "lab.yaml", arch)
    results, calls = run_checks(arch, inventory.describe)
    base = time.monotonic() - t0
    figure("baseline (plain testinfra, one remote call per assertion) wall", base, "s",
           f"{len(results)} assertions, {sum(calls.values())} remote commands, at most {max(calls.values())} per machine")
    figure("speed-up", base / statistics.median(walls), "x", "baseline wall / audit median wall")


if __name__ == "__main__":
    main()
