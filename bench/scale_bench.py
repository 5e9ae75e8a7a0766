"""Scale: a generated fleet of recorded readings (10 hosts, 400 containers, 200,000 snapshots at full
size; bench/fleet.py) checked offline with every live check, from 1/10 of that fleet to all of it.
Prints wall time and peak memory (each size in its own process) and how they grow; asserts nothing.
Targets: the whole fleet under 10 s and 1 GiB, growth no worse than linear.

    .venv/bin/python -m bench.scale_bench [--fractions 0.1,0.25,0.5,0.75,1] [--small]
"""
import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from bench.figures import add_small, figure


ROOT = Path(__file__).resolve().parent.parent


def child(directory):
    """Measured: load the spec, parse every reading, run every check on every target."""
    from checks.offline import Fleet, load_dir, verdicts
    from specs import load_spec
    from specs.architecture import Architecture
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    from fixtures.archcache import memoized
    from bench.fleet import lab_inventory_facts
    arch = lab_inventory_facts(memoized(Architecture(load_spec(Path(directory) / "spec.yaml"))))
    fleet = Fleet(load_dir(Path(directory) / "readings", arch))
    t1 = time.perf_counter()
    got = verdicts(fleet, arch)
    t2 = time.perf_counter()
    from bench.fleet import LAB, not_modelled
    lab_machines = {p.stem for p in LAB.glob("*.reading")}
    outcomes = Counter("not modelled" if not_modelled(req, target, lab_machines) else v[0]
                       for (req, target), v in got.items())
    print(json.dumps({"load": t1 - t0, "checks": t2 - t1, "total": t2 - t0,
                      "cases": len(got) - outcomes.get("not modelled", 0), "outcomes": outcomes,
                      "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "baseline_mib": base / 1024}))


SMALL = "0.01,0.02"


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--fractions", default="0.1,0.25,0.5,0.75,1")
    parser.add_argument("--child", metavar="DIR")
    add_small(parser, f"fractions {SMALL} of the fleet")
    args = parser.parse_args(argv)
    if args.child:
        return child(args.child)
    if args.small:
        args.fractions = SMALL
    from bench import fleet
    from specs import load_spec
    from specs.architecture import Architecture
    rows = []
    print(f"{'fraction':>8} {'hosts':>5} {'machines':>8} {'snapshots':>9} {'checks':>6} {'load s':>7} {'check s':>7} "
          f"{'total s':>7} {'peak MiB':>8}  outcomes")
    for fraction in [float(f) for f in args.fractions.split(",")]:
        gen, apps, snaps = fleet.sizes(fraction)
        with tempfile.TemporaryDirectory(prefix="offsuite-fleet-") as tmp:
            (Path(tmp) / "spec.yaml").write_text(json.dumps(fleet.spec(gen, apps)))
            arch = Architecture(load_spec(Path(tmp) / "spec.yaml"))
            snapshots = fleet.readings(arch, snaps, Path(tmp) / "readings")
            out = subprocess.run([sys.executable, "-m", "bench.scale_bench", "--child", tmp], cwd=ROOT,
                                 capture_output=True, text=True)
            if out.returncode != 0:
                sys.exit(f"scale_bench: fraction {fraction}: {out.stderr.strip().splitlines()[-1]}")
            r = json.loads(out.stdout.strip().splitlines()[-1])
        machines = len(arch.machines())
        rows.append((fraction, machines, snapshots, r))
        print(f"{fraction:>8.2f} {len(arch.spec.hosts):>5} {machines:>8} {snapshots:>9} {r['cases']:>6} {r['load']:>7.2f} "
              f"{r['checks']:>7.2f} {r['total']:>7.2f} {r['peak_mib']:>8.0f}  "
              + ", ".join(f"{k} {v}" for k, v in sorted(r["outcomes"].items())))
        figure(f"fleet {fraction:g}: checks", r["cases"], "cases", ", ".join(f"{k} {v}" for k, v in sorted(r["outcomes"].items())))
        figure(f"fleet {fraction:g}: wall", r["total"], "s", f"{machines} machines, {snapshots} snapshots")
        figure(f"fleet {fraction:g}: peak memory", r["peak_mib"], "MiB")
    if len(rows) > 1:
        (f0, m0, s0, r0), (f1, m1, s1, r1) = rows[0], rows[-1]
        size = (s1 + m1 * 100) / (s0 + m0 * 100)
        print(f"growth from {f0:g} to {f1:g} of the fleet: size x{size:.1f} (snapshots x{s1 / s0:.1f}, machines "
              f"x{m1 / m0:.1f}); time x{r1['total'] / r0['total']:.1f}; memory above the interpreter's "
              f"x{(r1['peak_mib'] - r1['baseline_mib']) / max(1, r0['peak_mib'] - r0['baseline_mib']):.1f} "
              "(linear or better: time and memory ratios at most the size ratio)")
        figure("growth: size", size, "x")
        figure("growth: time", r1["total"] / r0["total"], "x", "linear or better: at most the size's")


if __name__ == "__main__":
    main()
