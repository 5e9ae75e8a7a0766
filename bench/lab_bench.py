"""Benchmark of the lab itself (a script, not a test): prints figures, asserts nothing.

    .venv/bin/python bench/lab_bench.py [--cold | --small]

Run it under the lab lock (see the README). It tears the lab down and brings it up again (warm: the
images are kept); --cold also removes every `offlab/*` image first, so the bring-up builds the image
from an empty image store (mmdebstrap + docker build). Prints the bring-up wall time, a second
bring-up (nothing to do), the image size, and the memory of the lab's containers
(`docker stats --no-stream`), in total and per role.
"""
import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.figures import add_small, figure  # noqa: E402
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
    figure(step, took, "s")
    return took


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cold", action="store_true", help="remove the offlab/* images and the lab first")
    add_small(parser, "a bring-up of the lab already up (nothing to do), its image and memory")
    args = parser.parse_args(argv)
    arch = Architecture(load_spec(DEFAULT_SPEC))
    client = docker_ops.client()
    if args.small:   # up already (as when the tests run it): the one bring-up timed is the one with nothing to do
        bringup.up_unless_running(arch, small=True)
    elif args.cold:
        bringup.down()
        for img in client.images.list():
            for tag in [t for t in img.tags if t.startswith("offlab/")]:
                client.images.remove(tag, force=True)
        timed("cold bring-up (empty image store: image build + bring-up)", lambda: bringup.up(arch))
    else:
        bringup.down()
        timed("warm bring-up (images kept, lab down)", lambda: bringup.up(arch))
    timed("second bring-up (nothing changed)", lambda: bringup.up(arch))
    size = client.images.get(image.base_tag()).attrs["Size"]
    figure(f"image {image.base_tag()}", size / 2**20, "MiB")
    usage = memory()
    per_role = {}
    for role, used in usage.values():
        per_role.setdefault(role, []).append(used)
    figure("memory of the lab", sum(u for _, u in usage.values()) / 2**20, "MiB", f"{len(usage)} containers")
    for role, values in sorted(per_role.items()):
        figure(f"memory of the {role} containers", sum(values) / 2**20, "MiB",
               f"{len(values)} containers, {max(values) / 2**20:.0f} MiB at most")


if __name__ == "__main__":
    main()
