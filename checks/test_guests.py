"""Every guest of a Proxmox host, from the users' incident reports: each production container running and
started at boot (OPS-2: `pct list`, `pct config`'s onboot), and no guest outside the spec unseen (INV-1:
`pct list`, `qm list` compared with the spec's containers of that host, each said with whether its host read it:
fixtures/probes/guest_health.py)."""
from checks import targets
from checks.requirement import report, requirement


def container_problems(spec_containers, guests):
    """What OPS-2 finds on a host: each spec container ({vmid: name}) listed by `pct list`, running, and
    `onboot: 1` in its configuration (2023-07-off2-off-reinstall: containers not back after a reboot)."""
    problems = []
    for vmid, name in sorted(spec_containers.items(), key=lambda kv: int(kv[0])):
        guest = guests.containers.get(vmid)
        if guest is None:
            problems.append(f"container {vmid} ({name}) is not on this host (`pct list` does not list it)")
            continue
        if guest.status != "running":
            problems.append(f"container {vmid} ({name}) is {guest.status}: `pct start {vmid}`")
        config = guests.configs[vmid]
        if not config.onboot:
            problems.append(f"container {vmid} ({name}) does not start at boot (onboot: "
                            f"{config.value('onboot', 'not set')}): `pct set {vmid} --onboot 1`")
    return problems


GENERIC = "OPS-2, STO-7, NET-7, NET-8"   # what is read on a guest outside the spec (fixtures/probes/guest_health.py)


def _how_read(vmid, g, health, kind):
    """How a guest outside the spec was read: through `pct exec` (a container) or its QEMU guest agent (a VM),
    or why not (not running, no agent, did not answer); health: {vmid: GuestHealth} of the host's reading,
    None where it was not read."""
    if g.status != "running":
        return f"not read: it is {g.status}"
    how = "through `pct exec`" if kind == "container" else "through its QEMU guest agent (`qm guest exec`)"
    h = (health or {}).get(vmid)
    if health is None or h is None:
        return f"not read {how}: the host's reading of its guests failed" if health is None else \
            f"not read {how}: it was not in the host's reading"
    if h.unread:
        return f"not read {how}: {h.unread}"
    return f"read {how} for the generic requirements only ({GENERIC}: this host's cases)"


def outside_the_spec(spec_containers, guests, health):
    """What INV-1 finds on a host: each guest that is not a container of the spec on it, said as such, with
    whether it was read (the generic requirements, through its host) or why not. health: the host's
    guest_health reading ({vmid: GuestHealth}), None where it could not be read."""
    out = []
    for vmid, g in sorted(guests.containers.items(), key=lambda kv: int(kv[0])):
        if vmid not in spec_containers:
            out.append(f"container {vmid} ({g.name}, {g.status}) is outside the spec: "
                       f"{_how_read(vmid, g, health, 'container')}; name it in the spec's hosts to have every "
                       f"requirement read on it, or remove it: `pct config {vmid}`")
    for vmid, g in sorted(guests.vms.items(), key=lambda kv: int(kv[0])):
        out.append(f"VM {vmid} ({g.name}, {g.status}) is outside the spec: {_how_read(vmid, g, health, 'vm')}; "
                   f"name it in the spec (a VM is then read through its own sshd), or remove it: `qm config {vmid}`")
    return out


def _health(f):
    """The host's reading of its guests outside the spec, None where it could not be read."""
    if not f.sent("guest_health"):
        return {}
    return f.evidence("guest_health") if f.has_evidence("guest_health") else None


def _spec_containers(arch, host):
    return {str(c.id): name for name, c in arch.spec.hosts[host].containers.items()}


@requirement("OPS-2", over=targets.hosts)
def test_every_container_runs_and_starts_at_boot(target, facts, arch):
    guests = facts[target.name].evidence("guests")
    report(container_problems(_spec_containers(arch, target.name), guests), f"host {target.name}")


@requirement("INV-1", over=targets.hosts)
def test_every_guest_is_in_the_spec(target, facts, arch):
    f = facts[target.name]
    guests = f.evidence("guests")
    spec = _spec_containers(arch, target.name)
    # the guests' reading is asked only where a guest is outside the spec (INV-1 rests on `guests` alone)
    outside = guests.vms or set(guests.containers) - set(spec)
    report(outside_the_spec(spec, guests, _health(f) if outside else {}), f"host {target.name}")
