"""Every guest of a Proxmox host, from the users' incident reports: each production container running and
started at boot (OPS-2: `pct list`, `pct config`'s onboot), and no guest outside the spec unseen (INV-1:
`pct list`, `qm list` compared with the spec's containers of that host)."""
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


def outside_the_spec(spec_containers, guests):
    """What INV-1 finds on a host: each guest that is not a container of the spec on it, said as such; a VM
    with why it is not read."""
    out = []
    for vmid, g in sorted(guests.containers.items(), key=lambda kv: int(kv[0])):
        if vmid not in spec_containers:
            out.append(f"container {vmid} ({g.name}, {g.status}) is outside the spec: no requirement is read on it "
                       f"(name it in the spec's hosts, or remove it: `pct config {vmid}`)")
    for vmid, g in sorted(guests.vms.items(), key=lambda kv: int(kv[0])):
        out.append(f"VM {vmid} ({g.name}, {g.status}) is outside the spec and not read: a VM has no `pct exec` "
                   f"(its own system, reached only through its own sshd); `qm config {vmid}`")
    return out


def _spec_containers(arch, host):
    return {str(c.id): name for name, c in arch.spec.hosts[host].containers.items()}


@requirement("OPS-2", over=targets.hosts)
def test_every_container_runs_and_starts_at_boot(target, facts, arch):
    guests = facts[target.name].evidence("guests")
    report(container_problems(_spec_containers(arch, target.name), guests), f"host {target.name}")


@requirement("INV-1", over=targets.hosts)
def test_every_guest_is_in_the_spec(target, facts, arch):
    guests = facts[target.name].evidence("guests")
    report(outside_the_spec(_spec_containers(arch, target.name), guests), f"host {target.name}")
