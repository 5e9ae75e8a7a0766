"""The guests a host runs and the spec does not name (INV-1), as the generic requirements' checks judge them
on their host's case (OPS-2, STO-7, NET-7, NET-8): each guest's problems named with the guest, from the host's reading
(fixtures/probes/guest_health.py: containers through `pct exec`, VMs through their QEMU guest agent)."""


def guest_names(f):
    """{vmid: name} of the host's guests (`pct list`, `qm list`), where the host's guests were read."""
    if not f.has_evidence("guests"):
        return {}
    guests = f.evidence("guests")
    return {vmid: g.name for vmid, g in {**guests.containers, **guests.vms}.items()}


def where(vmid, health, names):
    kind = "VM" if health.kind == "vm" else "guest"
    return f"{kind} {vmid} ({names.get(vmid, '?')}, outside the spec)"


def _look(vmid, health):
    """The command that shows what the audit could not read (on the host)."""
    if health.kind == "vm":
        return f"`qm config {vmid}` (agent: 1), `qm agent {vmid} ping`, `qm guest exec {vmid} -- systemctl --failed`"
    return f"`pct exec {vmid} -- systemctl --failed`"


def guest_problems(f, part, judge, say_unread=True):
    """judge(the part read) on each guest outside the spec that the host runs, each problem named with the
    guest; part is the GuestHealth field judged (units, space, routes, stunnel, conns). A guest not read, or whose
    part was not read, is a problem of its own (nothing is judged on it: never a pass); say_unread=False where the
    same check has said it already (a second part judged by one requirement)."""
    guests = f.evidence("guest_health") if f.sent("guest_health") else {}
    if not guests:
        return []
    names = guest_names(f)
    out = []
    for vmid, health in sorted(guests.items(), key=lambda kv: int(kv[0])):
        at = where(vmid, health, names)
        if health.unread:
            if say_unread:
                out.append(f"{at} could not be read through its host: {health.unread} ({_look(vmid, health)})")
        elif part in health.missing:
            out.append(f"{at}: its {part} could not be read through its host ({health.exec}): "
                       f"{health.missing[part]}")
        else:
            out += [f"{at}: {p}" for p in judge(getattr(health, part))]
    return out
