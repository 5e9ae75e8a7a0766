"""`fix_for(requirement, target_id, arch)`: the fix the provisioner would plan for one failing check, as
text, without contacting a machine (the nightly report shows it under each failure).

The target is found among the targets the requirement's checks run over (by its id, as the report
names it) and given to the requirement's remediation with no facts: a remediation that needs none (run
the replication now, the manual steps of a diverged replica...) gives its steps; one that must read the
machine first (which PSK to renew, which process to stop) is summed up, with the command that plans it.
"""
from fixtures.probes import MissingEvidence
from provision.audit import Finding
from provision.remedies import REMEDIES, Manual

AUTOMATIC = {   # what the automatic fix does, per requirement (README's table)
    "APP-2": "start and enable at boot the role's services found stopped or disabled",
    "APP-3": "stop the database server found in the application container and disable it at boot (its files stay)",
    "NET-3": "a fresh PSK of its own for the link on both ends (never shown), stunnel restarted on both",
    "NET-4": "PSK files owned by root, mode 600 (640 for stunnel's group); the PSK folder closed to others",
    "NET-6": "reload nginx only when the served certificate is old by dates and every file on disk is valid and "
             "names the site; wrong names or a bad file on disk: manual",
    "WEB-1": "the proxy site's proxy_pass back to the application's nginx (diff shown), nginx reloaded",
    "STO-1": "the software tree's link in place of an empty folder (one holding files: manual)",
    "ZFS-1": "run the replication unit now, only when none of its jobs can roll back or force and no replica holds "
             "a snapshot its source lacks; else manual: the job with --no-rollback",
    "ZFS-2": "run the replication unit now for the stale replica, on the same condition as ZFS-1; else manual",
    "ZFS-4": "the staging clone made again from the replica's newest snapshot; a dataset in its place renamed aside "
             "to a free name",
    "OPS-1": "OnFailure= restored on the job unit with a drop-in, unit files reloaded",
    "OPS-2": "start again a failed service the spec names for the machine (its failed state reset first); any "
             "other failed unit and any unit restart-looping: manual, with the commands to look; a spec container "
             "not started at boot gets onboot 1 (pct set), one stopped or missing is manual",
    "DB-3": "start the database's unit and enable it at boot when it is stopped or disabled; at its connection cap, "
            "not answering or restart-looping: manual, with the commands to see who holds the connections",
    "OPS-3": "a job timer not enabled is enabled at boot; time-outs, runs past them, schedules and the failure "
             "mail's path (relay, root's alias, a stuck queue): manual, with the commands",
}


class _NoFacts:
    def facts(self, machine):
        return None


def target_named(requirement, target_id, arch):
    """The spec target of the requirement's checks whose id is target_id (as the report names it)."""
    from checks.offline import checks, marks
    for _, fn in checks({requirement}):
        for t in marks(fn)[1](arch):
            if str(t) == target_id:
                return t
    return None


def describe(step):
    if isinstance(step, Manual):
        return "\n".join([f"manual, on {step.machine}: {step.what}", *[f"  {c}" for c in step.commands]])
    return "\n".join([f"automatic, on {step.machine}: {step.what}", *[f"  * {kw['name']}" for _, kw in step.ops]])


def fix_for(requirement, target_id, arch):
    """The planned fix of one failing check as text, or None when the provisioner knows none."""
    fn = REMEDIES.get(requirement)
    target = target_named(requirement, str(target_id), arch)
    if fn is None or target is None:
        return None
    try:
        steps = fn(Finding(requirement, target, "failed", ""), arch, _NoFacts())
    except MissingEvidence:
        steps = None
    if steps:
        return "\n".join(describe(s) for s in steps)
    if requirement in AUTOMATIC:
        return (f"automatic: {AUTOMATIC[requirement]}\n"
                f"  the exact change: python -m provision plan --requirement {requirement}")
    return (f"manual: no safe automatic fix; the commands: python -m provision plan --requirement {requirement}")
