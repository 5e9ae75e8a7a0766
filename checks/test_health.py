"""Health of every machine, from the users' incident reports: nothing failed or restarting (OPS-2), space kept
free on every filesystem and under every quota (STO-7); on a host, also in each running guest the spec does not
name, read through the host (checks/guests.py)."""
from checks import targets
from checks.guests import guest_problems
from checks.requirement import report, requirement


def _where(m):
    return f"{m.role} {m.name}" + (f" on {m.host}" if m.host != m.name else "")


def unit_problems(units, max_restarts):
    """What OPS-2 finds in {unit: UnitHealth}: failed units (`systemctl --failed`) and services
    restart-looping (waiting to restart after a failure, or restarted by systemd max_restarts times or
    more since last started by hand)."""
    problems = []
    for unit, u in sorted(units.items()):
        if u.failed:
            problems.append(f"{unit} is failed ({u.result or u.sub}): `systemctl status {unit}`, "
                            f"`journalctl -u {unit} -n 50`")
        elif u.sub == "auto-restart" or (u.restarts or 0) >= max_restarts:
            problems.append(f"{unit} is restart-looping: systemd restarted it {u.restarts} times since it was "
                            f"started ({u.active}/{u.sub}, last result {u.result or '-'}); expected fewer than "
                            f"{max_restarts}: `journalctl -u {unit} -n 50`")
    return problems


@requirement("OPS-2", over=targets.machines)
def test_nothing_is_failed_or_restarting(target, facts, arch):
    """On a host, also on each running guest the spec does not name (INV-1), container or VM, read through it."""
    f = facts[target.name]
    problems = unit_problems(f.evidence("unit_health"), arch.spec.operations.max_restarts)
    problems += guest_problems(f, "units", lambda units: unit_problems(units, arch.spec.operations.max_restarts))
    report(problems, _where(target))


# filesystems whose space is judged elsewhere: a ZFS dataset's is its pool's (ZFS-7) and its quota's (below)
ZFS_FSTYPES = ("zfs", "fuse.zfs")


def mount_problems(mounts, min_free_percent):
    """What STO-7 finds in {target: mount with size, avail, used}: each writable filesystem with a size
    (pseudo filesystems have none) short of the free share, as df counts it (avail / (used + avail): the
    blocks reserved for root are not the users'). A filesystem mounted at several places (bind mounts) is
    said once, with its other places."""
    seen = {}
    for target, m in sorted(mounts.items()):
        if m["size"] <= 0 or "ro" in m["options"] or m["fstype"] in ZFS_FSTYPES:
            continue
        key = (m["source"].split("[", 1)[0], m["fstype"], m["size"])
        seen.setdefault(key, []).append((target, m))
    problems = []
    for places in seen.values():
        target, m = places[0]
        total = m["used"] + m["avail"]
        free = 100 * m["avail"] / total if total else 0.0
        if free < min_free_percent:
            also = f", also at {', '.join(t for t, _ in places[1:])}" if places[1:] else ""
            problems.append(f"{target} ({m['fstype']} {m['source']}{also}): {free:.1f}% free "
                            f"({m['avail'] // 2**20} MiB of {total // 2**20} MiB); expected at least {min_free_percent}%")
    return problems


@requirement("STO-7", over=targets.machines)
def test_space_keeps_its_free_share(target, facts, arch):
    from fixtures.probes import MissingEvidence
    from fixtures.probes.storage import quota_problem
    f = facts[target.name]
    least = arch.spec.space.min_free_percent
    problems = mount_problems(f.evidence("space"), least)
    problems += guest_problems(f, "space", lambda space: mount_problems(space, least))
    if target.name in arch.spec.hosts:
        for name, props in sorted(f.zfs.items()):
            if "@" in name:
                continue
            try:
                problems += quota_problem(name, props, least)
            except ValueError as exc:
                raise MissingEvidence(f"{target.name}: zfs get: malformed reading: {exc}") from None
    report(problems, _where(target))
