"""The audit in this process: every lab machine read once through an access path (docker, ssh jump, ssh
pct), the paths in turn, and the checks judged on those readings by checks/offline.py, as the
pytest audit judges them (the auditor's own probes from outside included, fixtures/readings.py).
tests/lab/test_faults.py proves on the healthy lab's readings, kept by the pytest audits, that this judges
them as the pytest audit did."""
from concurrent.futures import ThreadPoolExecutor

from checks import offline
from fixtures.archcache import memoized
from fixtures.inventory import LAB, load_inventory
from fixtures.readings import Readings, Unreachable, anew
from provision.audit import Audit, Finding
from provision.remedies import steps_for
from reports.results import Case
from specs import load_spec
from specs.architecture import Architecture
from specs.load import DEFAULT_SPEC
from tests.lab.prod_access import PATHS, inventory

EVERY_PATH = ("docker", *PATHS)


def inventory_file(path):
    return LAB if path == "docker" else inventory(path)


def prod_check(fn):
    return any(m.name == "prod" for m in getattr(fn, "pytestmark", []))


class AccessPath:
    """One access path: its spec view (with the inventory's network map) and how it reads a machine."""

    def __init__(self, name, file=None):
        self.name, self.file = name, file or inventory_file(name)
        self.arch = memoized(Architecture(load_spec(DEFAULT_SPEC)))
        load_inventory(self.file, self.arch).close()   # maps the inventory's internal networks on arch, once
        # the checks this path runs: an ssh inventory runs only the read-only (`prod`) ones, as the plugin does
        self.ssh = self.name != "docker"
        self.checks = [(req, fn) for req, fn in offline.checks() if not self.ssh or prod_check(fn)]

    def read(self, machines=None, inventory_obj=None):
        """{machine: Facts or Unreachable}: each machine read once (fresh connections, as a new audit)."""
        inv = inventory_obj or load_inventory(self.file, self.arch)
        readings = Readings(inv, self.arch)
        try:
            machines = machines or [m.name for m in self.arch.machines()]
            readings.prefetch(machines)
            out = {}
            for m in machines:
                try:
                    out[m] = readings[m]
                except Unreachable as exc:
                    out[m] = exc
            return out
        finally:
            readings.close()

    def cases(self, fleet, within=None, targets=None):
        """[Case] as the pytest audit's JUnit XML gives them (name check[target], the machines it read);
        within: only the cases reading nothing but those machines (the fleet holds no other); targets: a
        dict given is filled with {(requirement, case name): the spec target}."""
        out, held = [], Held(fleet)
        for req, fn in self.checks:
            _, over, reads = offline.marks(fn)
            for target in over(self.arch):
                if within is not None and not set(reads(target, self.arch)) <= within:
                    continue
                outcome, message = offline.verdict(fn, target, held, self.arch)
                if targets is not None:
                    targets[(req, f"{fn.__name__}[{target}]")] = target
                out.append(Case(f"{fn.__name__}[{target}]", fn.__module__, req, "", outcome, message, 0.0,
                                tuple(reads(target, self.arch))))
        return out

    def judge_kept(self, directory):
        """{(requirement, case name): (outcome, message)} of the readings a pytest audit kept (--record),
        judged here by this path's checks."""
        return verdicts(self.cases(offline.load_dir(directory, self.arch)))

    def audit(self, inventory_obj=None, machines=None):
        """{(requirement, case name): (outcome, message)} of every machine (or of those named: the cases
        reading only them) read now through this path."""
        fleet = self.read(machines, inventory_obj=inventory_obj)
        return verdicts(self.cases(fleet, within=set(machines) if machines else None))


def verdicts(cases):
    return {(c.requirement, c.name): (c.outcome, c.message) for c in cases}


class Held(offline.Fleet):
    """A fleet read once: an unreachable machine raises the reason it was not read (as Readings does)."""

    def __getitem__(self, machine):
        value = super().__getitem__(machine)
        if isinstance(value, Exception):
            raise anew(value) from None
        return value


def audit_fault(paths, hosts_at_once=False):
    """{path name: verdicts} of a lab under a fault: every machine read through docker (every check
    judged: only the fault's requirement may be red), then the machines its red cases read (Case.machines)
    read through each prod path in turn, judged on the cases reading only them. The prod paths are shown
    equal to docker on every machine of the healthy lab (tests/lab/test_faults.py). Under PROVISIONER: the
    provisioner's steps for each failed docker case, planned from that same reading. hosts_at_once: a fault
    whose reading waits on a Proxmox host (a hung ZFS waited out): every host is read through both prod paths
    while docker reads, and judged on the cases of the machines concerned when those are hosts only."""
    docker = next(p for p in paths if p.name == "docker")
    others = [p for p in paths if p is not docker]
    hosts = list(docker.arch.spec.hosts)
    early = {}
    if hosts_at_once and others:
        with ThreadPoolExecutor(len(others) + 1) as pool:
            early = {p.name: pool.submit(p.read, hosts) for p in others}
            fleet = pool.submit(docker.read).result()
            early = {name: future.result() for name, future in early.items()}
    else:
        fleet = docker.read()
    targets = {}
    cases = docker.cases(fleet, targets=targets)
    out = {"docker": verdicts(cases), PROVISIONER: planned(docker.arch, fleet, targets, cases),
           READ_BY: {(c.requirement, c.name): set(c.machines) for c in cases if c.outcome in ("failed", "error")}}
    concerned = sorted({m for c in cases if c.outcome in ("failed", "error") for m in c.machines})
    prod = others if concerned else []
    if early and set(concerned) <= set(hosts):
        out.update({p.name: verdicts(p.cases(early[p.name], within=set(concerned))) for p in prod})
        return out
    # one path after the other: a probe of one path (a database's port asked, APP-3) would be a connection the
    # other path's reading of the same machine sees (DB-2), as two auditors reading at once would. Proxmox hosts
    # alone are read by both at once: no probe of a host connects to a database (a hung ZFS is waited out once)
    if prod and set(concerned) <= set(hosts):
        with ThreadPoolExecutor(len(prod)) as pool:
            out.update(zip((p.name for p in prod), pool.map(lambda p: p.audit(machines=concerned), prod)))
        return out
    for p in prod:
        out[p.name] = p.audit(machines=concerned)
    return out


PROVISIONER = "provisioner"   # audit_fault's key of the provisioner's steps planned from the docker reading
READ_BY = "read by"           # ... and of the machines each red docker case read


def planned(arch, fleet, targets, cases):
    """{(requirement, case name): [Action | Manual] or the error it raised}: the provisioner's steps for each
    failed case (provision/run.plan's choice before pyinfra reads the machines), from the same reading."""
    out, audited = {}, Audit([], set(), readings=Held(fleet))   # its facts(): None for a machine not read
    for c in cases:
        if c.outcome == "failed":
            try:
                out[(c.requirement, c.name)] = steps_for(
                    Finding(c.requirement, targets[(c.requirement, c.name)], c.outcome, c.message), arch, audited)
            except Exception as exc:   # a bug of a remedy: said on the fault, not lost in the batch
                out[(c.requirement, c.name)] = f"{type(exc).__name__}: {exc}"
    return out


def failing(verdicts, expected_errors=""):
    """The requirements with a case failed or erroring; expected_errors: a fault's declared reason (a hung ZFS:
    "ZFS did not answer"): a requirement whose every such case is an error with that reason is left out."""
    out = {}
    for (req, _), (outcome, msg) in verdicts.items():
        if outcome in ("failed", "error"):
            expected = bool(expected_errors) and outcome == "error" and expected_errors in msg
            out[req] = out.get(req, True) and expected
    return {req for req, only_expected in out.items() if not only_expected}


def red(verdicts):
    return "\n".join(f"{req} {name}: {outcome}: {msg[:300]}" for (req, name), (outcome, msg) in sorted(verdicts.items())
                     if outcome in ("failed", "error"))


def same_as_docker(docker, other, path):
    """(requirement, line) naming each case whose outcome through path differs from docker's; cases docker runs
    and path does not must be checks not marked prod (the path's own check list says which)."""
    diffs = [(req, f"{path}: {req} {name}: docker {docker[(req, name)][0]}, {path} {other[(req, name)][0]}: "
                   f"{other[(req, name)][1][:200]}")
             for req, name in sorted(docker.keys() & other.keys()) if docker[(req, name)][0] != other[(req, name)][0]]
    diffs += [(req, f"{path}: {req} {name}: only through {path}") for req, name in sorted(other.keys() - docker.keys())]
    return diffs
