"""One remediation per requirement, keyed by requirement ID, from a failing check's target, the facts the
audit read and the spec; the remediations live in one module per requirement family (app: APP and DB,
net: NET, web: WEB, storage: STO, zfs: ZFS, ops: OPS), each registering its functions with `@remedy`.

A remediation returns steps: an `Action` (pyinfra operations that make the check green, safe to run
unattended) or a `Manual` step (no safe automatic fix: the exact commands a person would run; never
applied). An Action may carry a `fallback` Manual step: when pyinfra finds that none of its operations
would change anything (e.g. the certificate on disk is no newer than the one served), the plan shows the
fallback instead. Nothing an Action does can destroy data: see provision/safety.py for the operations
this covers and how each tool's implicit behaviour (syncoid's rollback, `zfs receive -F`, a rename over
a name, removals) is judged.
"""
from dataclasses import dataclass, field

from fixtures.probes import MissingEvidence
from specs.architecture import Chain, ContainerRef, HostRef, JobRef, LinkRef, Replica

@dataclass
class Manual:
    machine: str
    requirement: str
    target: str
    what: str
    commands: list = field(default_factory=list)


@dataclass
class Action:
    machine: str
    requirement: str
    target: str
    what: str                        # one line: what changes and why
    ops: list                        # [(pyinfra operation, kwargs)], kwargs with a `name`
    secret: bool = False             # writes a secret: no diff, no content anywhere
    fallback: Manual = None          # shown instead when pyinfra finds nothing to change
    subject: str = ""                # what it acts on, so two findings planning the same fix plan it once

    @property
    def key(self):
        return (self.machine, self.requirement, self.subject or self.target)


REMEDIES = {}


def remedy(*req_ids):
    def register(fn):
        for r in req_ids:
            REMEDIES[r] = fn
        return fn
    return register


def steps_for(finding, arch, audit):
    """The steps that would turn one failing check green (a Manual one when no fix is known)."""
    fn = REMEDIES.get(finding.requirement)
    try:
        steps = fn(finding, arch, audit) if fn else None
    except MissingEvidence as exc:
        return [Manual(machine_of(finding.target, arch), finding.requirement, str(finding.target),
                       f"cannot plan a fix without evidence: {exc}", [])]
    if steps:
        return steps
    return [Manual(machine_of(finding.target, arch), finding.requirement, str(finding.target),
                   f"no automatic fix for {finding.requirement}: {first_problem(finding)}", [])]


def first_problem(finding):
    return next((l.strip(" -") for l in finding.message.splitlines()[1:] if l.strip()),
                finding.message[:200]) or "see the check's message"


def guest_lines(finding):
    """[(how to run a command in the guest, the problem)] of the problems the check named with a guest outside the
    spec (checks/guests.py: `guest <vmid> (...)`, a container; `VM <vmid> (...)`, a VM), in its message."""
    import re
    out = []
    for line in finding.message.splitlines()[1:]:
        m = re.match(r"\s*- (guest|VM) ([0-9]+) \([^)]*\)[: ]*(.*)", line)
        if m:
            run = f"qm guest exec {m.group(2)} --" if m.group(1) == "VM" else f"pct exec {m.group(2)} --"
            out.append((run, m.group(3)))
    return out


def machine_of(target, arch):
    """The machine a failing check's target lives on (where its fix would run)."""
    if isinstance(target, (ContainerRef, HostRef)):
        return target.name
    if isinstance(target, Chain):
        return target.proxy.name
    if isinstance(target, LinkRef):
        return target.server.name
    if isinstance(target, (Replica, JobRef)):
        return target.target
    if isinstance(target, str) and target in arch.spec.databases:   # a database kind: its own container
        return arch.spec.databases[target].container
    if getattr(target, "machine", None):                            # a TLS site
        return target.machine
    if target == arch.spec.web.images.public_name:
        return arch.spec.web.images.host
    return getattr(target, "host", None) or "-"     # pools, staging clones, job units


def _ids(f):
    return f.requirement, str(f.target)


def _facts(audit, machine):
    """The audit's facts of a machine; MissingEvidence (no plan without evidence) when it was not read."""
    facts = audit.facts(machine)
    if facts is None:
        raise MissingEvidence(f"{machine} was not read")
    return facts


def _unit(arch, process):
    return arch.spec.processes[process].unit



# the families register their remediations on import (after the names above exist)
from provision.remedies import app, net, ops, pools, storage, web, zfs  # noqa: E402,F401
