"""Benchmark of the prod-shaped audit on the lab, with and without 50 ms added per hop (a script, not a
test): prints figures, asserts nothing.

    .venv/bin/python bench/prod_latency_bench.py [--runs N] [--delay-ms 50]

For each way of reading the lab (the docker inventory; ssh through ProxyJump as `oncall` with sudo; ssh +
`pct exec` on the host) it runs `pytest checks -m prod` as the on-call engineer does and prints the wall
time and the remote commands per machine. Then it adds the delay with tc netem on every interface inside
every lab container's own network namespace (`nsenter -t <pid> -n tc qdisc add dev <if> root netem delay`),
so each packet a lab machine sends waits that long (a round trip to a host +1x, to a container through
its host +3x), runs the two ssh paths again, and removes the delay.
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

from fixtures.lab import access, bringup, docker_ops  # noqa: E402
from fixtures.lab.bringup import LABEL  # noqa: E402
from specs import load_spec  # noqa: E402
from specs.architecture import Architecture  # noqa: E402

SUMMARY = re.compile(r"offsuite: read (\d+) machines with (\d+) remote commands \(at most (\d+)")


def audit(inventory):
    t0 = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "pytest", "checks", "-q", "-m", "prod", "-p", "no:randomly",
                           f"--inventory={inventory}"], cwd=ROOT, capture_output=True, text=True)
    wall = time.monotonic() - t0
    found = SUMMARY.search(proc.stdout + proc.stderr)
    lines = proc.stdout.strip().splitlines()
    return wall, found.groups() if found else None, lines[-1] if lines else proc.stderr.strip()[-200:]


def measure(label, inventory, runs):
    walls, summary, outcome = [], None, ""
    for _ in range(runs):
        wall, summary, outcome = audit(inventory)
        walls.append(wall)
    per = (f"{summary[1]} remote commands for {summary[0]} machines ({int(summary[1]) / int(summary[0]):.1f} per "
           f"machine, at most {summary[2]})") if summary else "no summary line"
    print(f"{label:34} median {statistics.median(walls):5.2f}s wall (min {min(walls):.2f}, max {max(walls):.2f}, "
          f"{runs} runs); {per}; {outcome}", flush=True)


def lab_pids():
    client = docker_ops.client()
    return {c.name: c.attrs["State"]["Pid"] for c in client.containers.list(filters={"label": LABEL})}


def netem_available():
    proc = subprocess.run(["tc", "qdisc", "add", "dev", "lo", "root", "netem", "delay", "1ms"], capture_output=True,
                          text=True)
    if proc.returncode == 0:
        subprocess.run(["tc", "qdisc", "del", "dev", "lo", "root"], capture_output=True)
    return proc.returncode == 0


RELAY_PORT = 2222
REDIRECT = ["-t", "nat", "PREROUTING", "-p", "tcp", "--dport", "22", "-j", "REDIRECT", "--to-ports", str(RELAY_PORT)]


class Relays:
    """Where the kernel has no netem: in every lab machine's network namespace, incoming ssh (port 22) is
    redirected to bench/delay_relay.py, which delays what the machine sends by delay_ms (and, on a container,
    what its host sends it too), as netem on every lab container's egress would for the audit's ssh."""

    def __init__(self, arch, delay_ms):
        from fixtures.lab import hosts
        from fixtures.lab.state import docker_name
        pids = lab_pids()
        self.targets = [(pids[hosts.container_name(h)], "127.0.0.1", 0) for h in arch.spec.hosts]
        self.targets += [(pids[docker_name(c.name)], c.address, delay_ms) for c in arch.containers()]
        self.delay, self.procs, self.rules = delay_ms, [], []

    def __enter__(self):
        relay = str(ROOT / "bench" / "delay_relay.py")
        for pid, target, to_server in self.targets:
            proc = subprocess.Popen(["nsenter", "-t", str(pid), "-n", sys.executable, relay, str(RELAY_PORT), target,
                                     "22", str(to_server), str(self.delay)], stdout=subprocess.PIPE, text=True)
            self.procs.append(proc)
            if proc.stdout.readline().strip() != "ready":
                raise SystemExit(f"delay relay in the namespace of pid {pid} did not start")
            rule = ["nsenter", "-t", str(pid), "-n", "iptables", "-t", "nat"]
            subprocess.run(rule + ["-I"] + REDIRECT[2:], check=True)
            self.rules.append(rule)
        return len(self.targets)

    def __exit__(self, *exc):
        for rule in self.rules:
            subprocess.run(rule + ["-D"] + REDIRECT[2:], capture_output=True)
        for proc in self.procs:
            proc.terminate()
            proc.wait()


def interfaces(pid):
    out = subprocess.run(["nsenter", "-t", str(pid), "-n", "ip", "-o", "link", "show"], capture_output=True,
                         text=True, check=True).stdout
    return [line.split(":")[1].strip().split("@")[0] for line in out.splitlines() if " lo:" not in line]


def netem(delay_ms, on):
    """Add (on) or remove the delay on every interface of every lab container; returns the count."""
    count = 0
    for name, pid in lab_pids().items():
        for dev in interfaces(pid):
            cmd = ["nsenter", "-t", str(pid), "-n", "tc", "qdisc", "replace" if on else "del", "dev", dev, "root"]
            cmd += ["netem", "delay", f"{delay_ms}ms"] if on else []
            proc = subprocess.run(cmd, capture_output=True, text=True)
            if on and proc.returncode != 0:
                raise SystemExit(f"tc netem on {name} {dev}: {proc.stderr.strip()}")
            count += 1
    return count


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--delay-ms", type=int, default=50)
    args = parser.parse_args()
    arch = Architecture(load_spec())
    bringup.up(arch)
    paths = {"ssh + sudo, ProxyJump (jump)": access.ACCESS_DIR / "inventory-jump.yaml",
             "ssh + pct exec on the host (pct)": access.ACCESS_DIR / "inventory-pct.yaml"}
    print("no added latency:")
    measure("docker inventory (lab)", "lab", args.runs)
    for label, inv in paths.items():
        measure(label, inv, args.runs)
    if netem_available():
        n = netem(args.delay_ms, True)
        try:
            print(f"{args.delay_ms} ms added per hop (tc netem on {n} interfaces of the lab's containers):")
            for label, inv in paths.items():
                measure(label, inv, args.runs)
        finally:
            netem(args.delay_ms, False)
        return
    with Relays(arch, args.delay_ms) as n:
        print(f"{args.delay_ms} ms added per hop: this kernel has no netem (CONFIG_NET_SCH_NETEM unset), so a delay "
              f"relay in each of the {n} lab machines' network namespaces delays by {args.delay_ms} ms each packet "
              "of ssh the machine sends (and a host sends its containers), as netem on every lab egress would:")
        for label, inv in paths.items():
            measure(label, inv, args.runs)


if __name__ == "__main__":
    main()
