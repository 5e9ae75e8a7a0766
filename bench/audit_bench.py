"""Benchmark of the audit on the lab (a script, not a test): prints figures, asserts nothing.

    .venv/bin/python bench/audit_bench.py [--runs N]

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

from bench.plain_testinfra import run_checks  # noqa: E402
from fixtures.inventory import INVENTORIES, load_inventory  # noqa: E402
from fixtures.lab import bringup  # noqa: E402
from specs import load_spec  # noqa: E402
from specs.architecture import Architecture  # noqa: E402


def audit_once():
    t0 = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "pytest", "checks", "--inventory", "lab", "-q", "-p", "no:randomly"],
                          cwd=ROOT, capture_output=True, text=True)
    wall = time.monotonic() - t0
    summary = re.search(r"offsuite: read (\d+) machines with (\d+) remote commands \(at most (\d+)", proc.stdout)
    outcome = proc.stdout.strip().splitlines()[-1]
    return wall, summary.groups() if summary else None, outcome


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    arch = Architecture(load_spec())
    bringup.up(arch)
    walls = []
    for _ in range(args.runs):
        wall, summary, outcome = audit_once()
        walls.append(wall)
    machines, commands, most = summary
    print(f"audit (pytest, whole catalogue on the lab): median {statistics.median(walls):.2f}s wall "
          f"over {args.runs} runs (min {min(walls):.2f}s, max {max(walls):.2f}s); {outcome}")
    print(f"remote commands: {commands} for {machines} machines, at most {most} per machine")
    t0 = time.monotonic()
    inventory = load_inventory(INVENTORIES / "lab.yaml", arch)
    results, calls = run_checks(arch, inventory.describe)
    base = time.monotonic() - t0
    print(f"baseline (plain testinfra, one remote call per assertion): {base:.2f}s wall, {len(results)} assertions, "
          f"{sum(calls.values())} remote commands, at most {max(calls.values())} per machine")
    print(f"speed-up: {base / statistics.median(walls):.1f}x (baseline wall / audit median wall)")


if __name__ == "__main__":
    main()
