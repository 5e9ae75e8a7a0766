"""Units: job failures reported (OPS-1: OnFailure=); nothing failed or restart-looping, containers started at
boot (OPS-2); jobs end and their failure mail leaves (OPS-3); guests outside the spec (INV-1)."""
import re
from io import StringIO

from pyinfra.operations import files, server

from provision import units
from provision.remedies import Action, Manual, _facts, _ids, first_problem, remedy


DROPIN = "offsuite-on-failure.conf"   # the provisioner's drop-in restoring OnFailure= (OPS-1)
# what `systemctl cat` prints for a masked unit (linked to /dev/null) instead of its files
MASKED = re.compile(r"^# Unit (\S+) is masked\.?\s*$")


def _notification_steps(f, job, unit, present):
    """A manual step per notification unit OnFailure= names that is masked or missing, on that unit
    (not the job's): masked, someone forbade it (find out why before unmasking); missing, install it."""
    from confs.systemd import Unit, is_instance_of, template_of
    out = []
    for word, setting in unit.words("Unit", "OnFailure"):
        name = unit.expand(word)
        if not is_instance_of(name, job.on_failure):
            continue
        lines = present.get(name, [])
        template = template_of(name) or name
        if any(MASKED.match(l) for l in lines):
            out.append(Manual(job.host, *_ids(f), f"the notification unit {name} (OnFailure= of {job.unit}, "
                              f"{setting.where}) is masked on {job.host}: it exists but someone forbade it to start, so "
                              f"a failing {job.unit} notifies nobody; a person finds out why before unmasking it",
                              [f"# on {job.host}:", f"systemctl is-enabled {name} {template}  # masked",
                               f"ls -l /etc/systemd/system/{template} /etc/systemd/system/{name}  # -> /dev/null",
                               f"systemctl unmask {template} {name}",
                               f"systemctl start {name}  # a test notification"]))
        elif not Unit(name, lines).exists:
            out.append(Manual(job.host, *_ids(f), f"the notification unit {name} (OnFailure= of {job.unit}, "
                              f"{setting.where}) does not exist on {job.host} (not masked: missing): install "
                              f"{job.on_failure}",
                              [f"# on {job.host}: install {job.on_failure} (the users' repository: "
                               f"confs/common/systemd/system/{job.on_failure})",
                               "systemctl daemon-reload", f"systemctl start {name}  # a test notification"]))
    return out


@remedy("OPS-1")
def on_failure(f, arch, audit):
    from confs.systemd import Unit, split_units
    job = f.target
    facts = _facts(audit, job.host)
    present, _ = split_units(facts.evidence("units"))
    unit = Unit(job.unit, present.get(job.unit, []))
    value = job.on_failure.replace("@.", "@%n.")
    manual = Manual(job.host, *_ids(f), f"{job.unit} on {job.host} does not report its failures: {first_problem(f)}",
                    [f"# on {job.host}:", f"systemctl cat {job.unit}",
                     f"# ExecStart= must let a failure reach the exit status, OnFailure={value} in [Unit]",
                     f"systemctl edit {job.unit}"])
    if not unit.exists:
        return [manual]
    if unit.words("Unit", "OnFailure"):
        return _notification_steps(f, job, unit, present) or [manual]
    # drop-ins apply in the order of their file names: ours comes last, so no earlier one clears it
    names = [p.rsplit("/", 1)[-1] for p in unit.files[1:]]
    prefix = "zz-"
    while names and prefix + DROPIN <= max(names):
        prefix = "z" + prefix
    dropin = f"/etc/systemd/system/{job.unit}.d/{prefix}{DROPIN}"
    return [Action(job.host, *_ids(f), f"restore OnFailure={value} on {job.unit} (a drop-in)",
                   [(files.put, dict(name=f"write {dropin}", src=StringIO(f"[Unit]\nOnFailure={value}\n"),
                                     dest=dropin, mode="644", create_remote_dir=True)),
                    (units.daemon_reload, dict(name="reload unit files"))])]


def _service(name):
    return name if "." in name.rsplit("@", 1)[-1] else f"{name}.service"


@remedy("OPS-2")
def failed_or_looping(f, arch, audit):
    """A failed daemon the spec names for the machine's role is started again (its failed state reset
    first): starting a long-running service changes no data. Anything else failed (a job may roll a
    replica back or write data when run) and any unit restart-looping (restarting it again fixes
    nothing: the cause is in its log or configuration) is a manual step with the commands to look."""
    from checks.test_health import unit_problems
    from fixtures.probes.processes import machine_units
    m = f.target
    if "starts_at_boot" in f.nodeid:   # OPS-2's check of a host's containers (checks/test_guests.py)
        boot, manual = _onboot_steps(f, arch, audit)
        return ([Action(m.name, *_ids(f), "start its production containers at boot (onboot: 1)", boot)]
                if boot else []) + manual
    states = _facts(audit, m.name).evidence("unit_health")
    daemons = {_service(u) for u in machine_units(arch, m.name)}
    jobs = {_service(u) for u in (arch.spec.replication.unit, arch.spec.snapshots.unit)}
    ops, out = [], []
    for unit, u in sorted(states.items()):
        if not unit_problems({unit: u}, arch.spec.operations.max_restarts):
            continue
        if u.failed and unit in daemons and unit not in jobs:
            ops += [(server.shell, dict(name=f"reset the failed state of {unit}",
                                        commands=[f"systemctl reset-failed {unit}"])),
                    (units.service, dict(name=f"start {unit}", service=unit, action="start"))]
        elif u.failed:
            why = " (a job: starting it runs it now)" if unit in jobs else ""
            out.append(Manual(m.name, *_ids(f), f"{unit} is failed ({u.result or u.sub}) on {m.name}: a person "
                              f"finds the cause before starting it again{why}",
                              [f"# on {m.name}:", f"systemctl status {unit} --no-pager",
                               f"journalctl -u {unit} -n 50 --no-pager",
                               "# once the cause is fixed:", f"systemctl reset-failed {unit} && systemctl start {unit}"]))
        else:
            out.append(Manual(m.name, *_ids(f), f"{unit} is restart-looping on {m.name} (restarted {u.restarts} "
                              "times): restarting it again fixes nothing; the cause is in its log or configuration",
                              [f"# on {m.name}:", f"journalctl -u {unit} -n 50 --no-pager", f"systemctl cat {unit}",
                               "# once the cause is fixed:", f"systemctl restart {unit}"]))
    if ops:
        out.insert(0, Action(m.name, *_ids(f), "start again the failed services its role runs", ops))
    return out


def _onboot_steps(f, arch, audit):
    """OPS-2 on a Proxmox host: a spec container that does not start at boot gets `onboot: 1` (`pct set`
    changes the configuration only, nothing runs now); one stopped or missing is a manual step (starting a
    container a person may have stopped on purpose, during a restore or a move, is their decision)."""
    from checks.test_guests import _spec_containers
    from fixtures.probes import MissingEvidence
    host = f.target.name
    if host not in arch.spec.hosts:
        return [], []
    try:
        guests = _facts(audit, host).evidence("guests")
    except MissingEvidence as exc:
        return [], [Manual(host, *_ids(f), f"cannot plan the containers' start at boot without evidence: {exc}", [])]
    ops, out = [], []
    for vmid, name in sorted(_spec_containers(arch, host).items()):
        g = guests.containers.get(vmid)
        if g is None:
            out.append(Manual(host, *_ids(f), f"container {vmid} ({name}) is not on {host}: a person finds where it "
                              "went (moved, restored elsewhere, destroyed)", [f"# on {host}:", "pct list",
                              f"ls /etc/pve/nodes/*/lxc/{vmid}.conf"]))
            continue
        if not guests.configs[vmid].onboot:
            ops.append((server.shell, dict(name=f"start container {vmid} ({name}) at boot",
                                           commands=[f"pct set {vmid} --onboot 1"])))
        if g.status != "running":
            out.append(Manual(host, *_ids(f), f"container {vmid} ({name}) is {g.status} on {host}: a person makes "
                              "sure nobody stopped it on purpose (a restore, a move) before starting it",
                              [f"# on {host}:", f"pct status {vmid}", f"pct config {vmid}", f"pct start {vmid}"]))
    return ops, out


@remedy("INV-1")
def guest_outside_spec(f, arch, audit):
    """A guest the spec does not name: a person decides whether it is production (named in the spec, then
    audited) or a leftover (removed: destroying a guest destroys its data: never automatic)."""
    from checks.test_guests import _spec_containers
    host = f.target.name
    guests = _facts(audit, host).evidence("guests")
    named = _spec_containers(arch, host)
    out = []
    for vmid, g in sorted(guests.containers.items()):
        if vmid not in named:
            out.append(Manual(host, *_ids(f), f"container {vmid} ({g.name}) on {host} is outside the spec: name it "
                              "in the spec (hosts.<host>.containers) to audit it, or retire it after a backup",
                              [f"# on {host}:", f"pct config {vmid}", f"pct exec {vmid} -- systemctl --failed",
                               f"# to retire it, once backed up: pct stop {vmid} && pct set {vmid} --onboot 0"]))
    for vmid, g in sorted(guests.vms.items()):
        out.append(Manual(host, *_ids(f), f"VM {vmid} ({g.name}) on {host} is outside the spec (only the generic "
                          "requirements are read on it, through its QEMU guest agent): name it in the spec's inventory "
                          "with its own ssh access, or retire it",
                          [f"# on {host}:", f"qm config {vmid}  # agent: 1 for the audit to read inside it",
                           f"qm status {vmid}", f"qm agent {vmid} ping",
                           f"qm guest exec {vmid} -- systemctl --failed"]))
    return out


@remedy("OPS-3")
def jobs_and_mail(f, arch, audit):
    """A job timer not enabled is enabled (it starts at boot; nothing runs now). A job unit's time-out, a run
    past it, a timer's schedule and the failure mail's path (relay, root's alias, a stuck queue) are manual
    steps with the commands: a time-out that kills a long replication, or a relay changed, is a person's call."""
    from checks.test_jobs import job_problems, mail_problems
    m = f.target
    jobs = arch.spec.jobs
    facts = _facts(audit, m.name)
    reading = facts.evidence("jobs")
    ops, out = [], []
    for unit in sorted(jobs.timers):
        u = reading.units.get(unit)
        if u is not None and u.in_use() and not u.enabled_at_boot:
            ops.append((units.service, dict(name=f"enable {unit} at boot", service=unit, enabled=True)))
    for problem in job_problems(reading, jobs):
        unit = problem.split()[0].removesuffix("'s")
        if unit in jobs.timers and "is not enabled" in problem:
            continue
        out.append(Manual(m.name, *_ids(f), f"{problem} (on {m.name})",
                          [f"# on {m.name}:", f"systemctl show -p TimeoutStartUSec,RuntimeMaxUSec,ActiveState {unit}",
                           f"systemctl cat {unit}", f"systemctl edit {unit}  # [Service] TimeoutStartSec=<the spec's>"]))
    if m.name in arch.spec.hosts:
        for problem in mail_problems(facts.evidence("mail"), reading.now, jobs.max_deferred_minutes):
            out.append(Manual(m.name, *_ids(f), f"failure mail on {m.name}: {problem}",
                              [f"# on {m.name}:", "systemctl status postfix@-.service", "postconf relayhost",
                               "grep ^root: /etc/aliases", "postqueue -p", "tail -n 50 /var/log/mail.log",
                               "# once the relay answers: postqueue -f"]))
    if ops:
        out.insert(0, Action(m.name, *_ids(f), "enable the job timers at boot", ops))
    return out
