"""Benchmark of the lab itself (a script, not a test): prints figures, asserts nothing.

    .venv/bin/python bench/lab_bench.py [--cold]

Run it under the lab lock (see the README). --cold first removes every `offlab/*` image and tears
the lab down, so the bring-up builds the image from an empty image store (mmdebstrap + docker
build). Prints the bring-up wall time (cold or warm), a second bring-up (nothing to do), the image
size, and the memory of the lab's containers (`docker stats --no-stream`), in total and per role.
"""
import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fixtures.lab import bringup, docker_ops, image  # noqa: E402
from fixtures.lab.state import PREFIX  # noqa: E402
from specs import load_spec  # noqa: E402
from specs.architecture import Architecture  # noqa: E402
from specs.load import DEFAULT_SPEC  # noqa: E402

UNITS = {"KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "B": 1, "kB": 1000, "MB": 10**6, "GB": 10**9}


def _bytes(text):
    for unit in sorted(UNITS, key=len, reverse=True):
        if text.endswith(unit):
            return float(text[:-len(unit)]) * UNITS[unit]
    return float(text)


def memory():
    """{container name: (role, bytes used)} of the lab's running containers."""
    client = docker_ops.client()
    roles = {c.name: c.labels.get("offlab.role", "?") for c in client.containers.list(filters={"label": "offlab"})
             if c.name.startswith(f"{PREFIX}-")}
    out = subprocess.run(["docker", "stats", "--no-stream", "--format", "{{.Name}} {{.MemUsage}}", *roles],
                         capture_output=True, text=True, check=True).stdout
    usage = {}
    for line in out.splitlines():
        name, used = line.split()[0], line.split()[1]
        usage[name] = (roles[name], _bytes(used))
    return usage


def timed(step, fn):
    t0 = time.monotonic()
    fn()
    took = time.monotonic() - t0
    print(f"{step}: {took:.1f} s", flush=True)
    return took


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cold", action="store_true", help="remove the offlab/* images and the lab first")
    args = parser.parse_args(argv)
    arch = Architecture(load_spec(DEFAULT_SPEC))
    client = docker_ops.client()
    if args.cold:
        bringup.down()
        for img in client.images.list():
            for tag in [t for t in img.tags if t.startswith("offlab/")]:
                client.images.remove(tag, force=True)
        timed("cold bring-up (empty image store: image build + bring-up)", lambda: bringup.up(arch))
    else:
        timed("bring-up", lambda: bringup.up(arch))
    timed("second bring-up (nothing changed)", lambda: bringup.up(arch))
    size = client.images.get(image.base_tag()).attrs["Size"]
    print(f"image {image.base_tag()}: {size / 2**20:.0f} MiB")
    usage = memory()
    per_role = {}
    for role, used in usage.values():
        per_role.setdefault(role, []).append(used)
    print(f"memory of the lab: {sum(u for _, u in usage.values()) / 2**20:.0f} MiB in {len(usage)} containers")
    for role, values in sorted(per_role.items()):
        print(f"  {role:15} {len(values):2} x, {sum(values) / 2**20:6.0f} MiB total, "
              f"{max(values) / 2**20:5.0f} MiB at most")


if __name__ == "__main__":
    main()
