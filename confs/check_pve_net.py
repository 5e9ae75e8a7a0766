"""NET-1 from the files: an application container's Proxmox definition (pve/lxc_<id>.conf in its
host's folder) gives it no interface on the host's public bridge (spec hosts.<host>.public_bridge) and
no public address (IPv4 or IPv6): applications talk to each other over the internal network only,
and the public reaches them through the reverse proxy."""
from ipaddress import ip_interface

from confs import layout
from confs.findings import Finding

REQ = "NET-1"


def _public(address, host, spec):
    """Why an ip=/ip6= value is public, or None (dhcp, manual, auto, internal, private, link-local)."""
    if not address or address in ("dhcp", "manual", "auto"):
        return None
    try:
        a = ip_interface(address).ip
    except ValueError:
        return None
    publics = {str(h.public_address) for h in spec.hosts.values()} | {
        str(c.public_address) for h in spec.hosts.values() for c in h.containers.values() if c.public_address}
    if str(a) in publics:
        return f"{a} is a public address of the project's machines"
    if a.version == 4 and a in host.internal_network:
        return None
    if a.is_global:
        return f"{a} is a public address"
    return None


def interface_problems(spec, host_name, container, interfaces):
    """[(line, message)] for one application container's interfaces."""
    host = spec.hosts[host_name]
    out = []
    who = f"application container {container.name} (id {container.id} on {host_name})"
    for i in interfaces:
        if host.public_bridge and i.bridge == host.public_bridge:
            out.append((i.line, f"{who}: {i.key} is on bridge {i.bridge}, {host_name}'s public bridge; expected "
                                f"the internal bridge only (the public reaches applications through the reverse "
                                f"proxy)"))
            continue
        for what in (i.ip, i.ip6):
            why = _public(what, host, spec)
            if why:
                out.append((i.line, f"{who}: {i.key} has address {what} ({why}); expected an address of the "
                                    f"internal network {host.internal_network} only"))
    return out


def check(arch, repo):
    findings = []
    for container in arch.app_containers():
        for seen, pve in repo.files(layout.dirs(arch, container.host), "pve", layout.is_pve_of(container.id)):
            findings += [Finding(REQ, seen.real, line, message)
                         for line, message in interface_problems(arch.spec, container.host, container, pve.interfaces())]
    return findings
