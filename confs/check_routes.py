"""NET-7 from the files: each spec container's Proxmox definition (pve/lxc_<id>.conf in its host's folder)
gives it one default gateway (one netN line with gw=), and that gateway is the one the spec says: its
host's internal address (gw=10.0.0.2 at off2, confs/off2/pve/lxc_113.conf:22) unless the spec gives the
container its own (a reverse proxy's public network's), which then sits on the interface of the host's
public bridge (users' docs/nginx-reverse-proxy.md: only the public address has a gateway)."""
from ipaddress import ip_address, ip_interface

from confs import layout
from confs.findings import Finding

REQ = "NET-7"


def _in_network(gateway, address):
    try:
        return ip_address(gateway) in ip_interface(address).network
    except ValueError:
        return False


def gateway_problems(spec, host_name, container, interfaces):
    """[(line, message)] of one container's netN lines."""
    host = spec.hosts[host_name]
    who = f"container {container.name} (id {container.id} on {host_name})"
    gws = [i for i in interfaces if i.gw]
    if len(gws) > 1:
        shown = ", ".join(f"{i.key} gw={i.gw}" for i in gws)
        return [(gws[1].line, f"{who}: two default gateways ({shown}): which one the container uses depends on "
                              "the order its interfaces come up; expected one (users' docs/nginx-reverse-proxy.md)")]
    if not gws:
        return [(None, f"{who}: no netN line has gw=: the container has no default route")]
    i = gws[0]
    if container.gateway is None:
        if i.gw != str(host.internal_address):
            return [(i.line, f"{who}: {i.key} gw={i.gw} is not its host's internal address "
                             f"{host.internal_address}: expected gw={host.internal_address}")]
    elif host.public_bridge and i.bridge != host.public_bridge:
        return [(i.line, f"{who}: {i.key} gw={i.gw} is on bridge {i.bridge}; expected the gateway on "
                         f"{host_name}'s public bridge {host.public_bridge} only")]
    elif _in_network(str(container.gateway), i.ip or "") and i.gw != str(container.gateway):
        return [(i.line, f"{who}: {i.key} gw={i.gw}; expected gw={container.gateway}")]
    return []


def check(arch, repo):
    findings = []
    for host_name, h in arch.spec.hosts.items():
        for container in (SimpleContainer(name, c) for name, c in h.containers.items()):
            for seen, pve in repo.files(layout.dirs(arch, host_name), "pve", layout.is_pve_of(container.id)):
                findings += [Finding(REQ, seen.real, line, message)
                             for line, message in gateway_problems(arch.spec, host_name, container, pve.interfaces())]
    return findings


class SimpleContainer:
    """A spec container with its name (the spec's Container has none)."""

    def __init__(self, name, c):
        self.name, self.id, self.gateway = name, c.id, c.gateway
