"""Benchmark of the prod-shaped audit on the lab, with and without 50 ms added per hop (a script, not a
test): prints figures, asserts nothing.

    .venv/bin/python bench/prod_latency_bench.py [--runs N] [--delay-ms 50] [--small]

For each way of reading the lab (the docker inventory; ssh through ProxyJump as `oncall` with sudo; ssh +
`pct exec` on the host) it runs `pytest checks -m prod` as the on-call engineer does and prints the wall
time and the remote commands per machine. Then it adds the delay with tc netem on every interface inside
every lab container's own network namespace (`nsenter -t <pid> -n tc qdisc add dev <if> root netem delay`),
so each packet a lab machine sends waits that long (a round trip to a host +1x, to a container through
its host +3x), runs the two ssh paths again, and removes the delay. On a kernel without netem, delay
relays in the hosts' namespaces add the same to the audit's ssh (class Relays).
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
    figure(f"{label} wall", statistics.median(walls), "s",
           f"median of {runs} runs, min {min(walls):.2f}, max {max(walls):.2f}; {per}; {outcome}")


def lab_pids():
    client = docker_ops.client()
    return {c.name: c.attrs["State"]["Pid"] for c in client.containers.list(filters={"label": LABEL})}


def netem_available():
    proc = subprocess.run(["tc", "qdisc", "add", "dev", "lo", "root", "netem", "delay", "1ms"], capture_output=True,
                          text=True)
    if proc.returncode == 0:
        subprocess.run(["tc", "qdisc", "del", "dev", "lo", "root"], capture_output=True)
    return proc.returncode == 0


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


class Relays:
    """Where the kernel has no netem: in each lab host's network namespace, two delay relays on 127.0.0.1
    (bench/delay_relay.py) fed by iptables DNAT: ssh from outside to the host's public address (what the host
    sends back waits delay_ms), and ssh the host opens to its containers' port 22 for the engineer's account
    (ProxyJump's channel: each way waits delay_ms). For the audit's ssh this is what netem on every lab egress
    would add. The lab's `pct` stand-in reaches its container by ssh as root; Proxmox's `pct exec` attaches to
    the container locally with no network hop, so root's connections are not delayed. The relays listen on the
    host's loopback only, so the lab's listeners seen from outside are unchanged."""

    def __init__(self, arch, delay_ms):
        from fixtures.lab import hosts
        pids = lab_pids()
        self.hosts = [(pids[hosts.container_name(h)], str(arch.spec.hosts[h].public_address), str(arch.networks[h]))
                      for h in arch.spec.hosts]
        self.delay, self.procs, self.undo = delay_ms, [], []

    def _relay(self, pid, port, target, to_server, to_client):
        proc = subprocess.Popen(["nsenter", "-t", str(pid), "-n", sys.executable, str(ROOT / "bench" / "delay_relay.py"),
                                 str(port), target, str(to_server), str(to_client)], stdout=subprocess.PIPE, text=True)
        self.procs.append(proc)
        if proc.stdout.readline().strip() != "ready":
            raise SystemExit(f"delay relay in the namespace of pid {pid} did not start")

    def _run(self, pid, *args):
        subprocess.run(["nsenter", "-t", str(pid), "-n", *args], check=True, capture_output=True)

    def __enter__(self):
        d = self.delay
        for pid, public, internal in self.hosts:
            self._relay(pid, 2222, "127.0.0.1:22", 0, d)
            self._relay(pid, 2223, "original", d, d)
            self._run(pid, "sysctl", "-qw", "net.ipv4.conf.all.route_localnet=1")
            self.undo.append((pid, "sysctl", "-qw", "net.ipv4.conf.all.route_localnet=0"))
            for chain, match, port in (("PREROUTING", ["-d", public], 2222),
                                       ("OUTPUT", ["-d", internal, "-m", "mark", "!", "--mark", "0x22",
                                                   "-m", "owner", "!", "--uid-owner", "0"], 2223)):
                rule = [chain, "-p", "tcp", *match, "--dport", "22", "-j", "DNAT", "--to-destination", f"127.0.0.1:{port}"]
                self._run(pid, "iptables", "-t", "nat", "-I", *rule)
                self.undo.append((pid, "iptables", "-t", "nat", "-D", *rule))
        return len(self.hosts)

    def __exit__(self, *exc):
        for pid, *args in reversed(self.undo):
            subprocess.run(["nsenter", "-t", str(pid), "-n", *args], capture_output=True)
        for proc in self.procs:
            proc.terminate()
            proc.wait()


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--delay-ms", type=int, default=50)
    add_small(parser, "one audit through ssh + ProxyJump, no added delay")
    args = parser.parse_args(argv)
    arch = Architecture(load_spec())
    bringup.up_unless_running(arch, args.small)
    paths = {"ssh + sudo, ProxyJump (jump)": access.ACCESS_DIR / "inventory-jump.yaml",
             "ssh + pct exec on the host (pct)": access.ACCESS_DIR / "inventory-pct.yaml"}
    if args.small:
        label, inv = next(iter(paths.items()))
        return measure(label, inv, 1)
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
        print(f"{args.delay_ms} ms added per hop: this kernel has no netem (CONFIG_NET_SCH_NETEM unset), so delay "
              f"relays in the {n} lab hosts' network namespaces delay the audit's ssh as netem on every lab egress "
              f"would ({args.delay_ms} ms host -> auditor; {args.delay_ms} ms each way host <-> container on ProxyJump's "
              f"channel; the lab pct stand-in's own ssh to its container not delayed: Proxmox's pct exec is local):")
        for label, inv in paths.items():
            measure(label, inv, args.runs)


if __name__ == "__main__":
    main()
