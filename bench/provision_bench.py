"""Benchmark of the provisioner on the lab (a script, not a test): prints figures, asserts nothing.

    .venv/bin/python bench/provision_bench.py [--small]

Prints the wall time of `python -m provision plan` on the healthy lab, then with every fault that has an
automatic fix put in at once (fixtures/lab/remediable.py), of the `apply` that fixes them (its re-audit
of the affected checks included), and of the second plan; then puts the lab back.
"""
import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.figures import add_small, figure  # noqa: E402
from fixtures.lab import bringup, docker_ops, faults, remediable  # noqa: E402
from specs import load_spec  # noqa: E402
from specs.architecture import Architecture  # noqa: E402


def provision(command, log):
    t0 = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "provision", command, "--log", log], cwd=ROOT,
                          capture_output=True, text=True)
    wall = time.monotonic() - t0
    head = proc.stdout.splitlines()[0] if proc.stdout else proc.stderr.strip()[-200:]
    inner = re.findall(r"provision: (planned|applied) in ([0-9.]+)s", proc.stdout)
    return wall, head, inner, proc.returncode


def _figure(name, result):
    wall, head, inner, rc = result
    figure(name, wall, "s", f"exit {rc}; {', '.join(f'{k} {v}s' for k, v in inner)}; {head}")
    return rc


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_small(parser, "one plan on the healthy lab")
    args = parser.parse_args(argv)
    arch = Architecture(load_spec())
    bringup.up_unless_running(arch, args.small)
    client = docker_ops.client()
    catalogue = faults.catalogue(arch)
    log = tempfile.mktemp(prefix="provision-bench-", suffix=".log")
    _figure("plan, healthy lab", provision("plan", log))
    if args.small:
        return
    applied = []
    try:
        remediable.apply(client, catalogue, remediable.FIXABLE, applied)
        _figure(f"plan, {len(applied)} faults", provision("plan", log))
        _figure("apply (plan + changes + re-audit of the affected checks)", provision("apply", log))
        _figure("second plan", provision("plan", log))
    finally:
        remediable.restore(client, arch, catalogue, applied)


if __name__ == "__main__":
    main()
