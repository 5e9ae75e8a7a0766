"""Routes and certificate renewal, from the users' incident reports: each machine's one default route via
its spec gateway, the gateway and internal peers answering, the routes defined persistently (NET-7:
2024-08-03-ovh-reverse-proxy-ip-lost); certificates renewed where they are served (NET-9:
2023-09-27-expired-ssl-certificate-for-images-on-off2, 2024-01-19-certbot-failure-off2-proxy)."""
from checks import targets
from checks.guests import guest_problems
from checks.requirement import report, requirement


def _where(m):
    return f"{m.role} {m.name}" + (f" on {m.host}" if m.host != m.name else "")


def peers(arch, machine):
    """{address: name} of the internal machines a machine talks to, from the spec: a proxy's applications,
    an application's database endpoints (its databases or its stunnel client)."""
    out = {}
    for chain in arch.chains():
        if chain.proxy and chain.proxy.name == machine:
            out[chain.app.address] = chain.app.name
    by_address = {c.address: c.name for c in arch.containers()}
    for endpoint in arch.database_endpoints(machine).values():
        address = endpoint.rsplit(":", 1)[0]
        out[address] = by_address.get(address, address)
    return out


def route_problems(routing, gateway, peer_names):
    """What NET-7 finds in a machine's Routing: not exactly one IPv4 default route, a default route not via
    the spec's gateway, a gateway or an internal peer whose neighbour entry is unresolved (FAILED,
    INCOMPLETE) or absent. gateway None: the generic part only (a guest outside the spec has no spec gateway)."""
    problems = []
    via = f" via {gateway}" if gateway else ""
    defaults = routing.defaults
    shown = ", ".join(f"via {r.gateway or '(none: on link)'} dev {r.dev}" + (f" metric {r.metric}" if r.metric else "")
                      for r in defaults)
    if not defaults:
        problems.append(f"no IPv4 default route; expected one{via}: `ip route`, the interfaces' gw= "
                        "(Proxmox netN) or gateway lines")
    elif len(defaults) > 1:
        problems.append(f"{len(defaults)} IPv4 default routes ({shown}); expected one{via}: only one "
                        "interface may have a gateway (users' docs/nginx-reverse-proxy.md)")
    elif gateway and defaults[0].gateway != gateway:
        problems.append(f"the default route goes {shown}; expected via {gateway}")
    for r in defaults:
        if not r.gateway:
            continue
        n = routing.neighbour(r.gateway)
        if n is None:
            problems.append(f"gateway {r.gateway} has no neighbour entry after being asked: it does not answer on "
                            f"dev {r.dev} (`ip neigh`, `ping {r.gateway}`)")
        elif not n.answers:
            problems.append(f"gateway {r.gateway} does not answer: neighbour {n.state} on dev {n.dev} (`ip neigh`); "
                            "nothing leaves the machine through it")
    for address, name in sorted(peer_names.items()):
        n = routing.neighbour(address)
        if n is not None and not n.answers:
            problems.append(f"internal peer {name} ({address}) does not answer: neighbour {n.state} on dev {n.dev}")
    return problems


def persistence_problems(netconf, arch, host):
    """What NET-7 finds in a host's persistent definitions: its interfaces files' gateway lines (one, the
    spec's), and each spec container's Proxmox netN lines (its configuration there, one gw=, the spec's)."""
    problems = []
    expected = arch.gateway(host)
    if expected:
        gws = [g for g, _ in netconf.gateways]
        where = ", ".join(f"{g} ({w})" for g, w in netconf.gateways)
        if not gws:
            problems.append(f"{host}: no gateway line in /etc/network/interfaces; expected gateway {expected} "
                            "(the default route would not come back after a reboot)")
        elif len(gws) > 1 or gws[0] != expected:
            problems.append(f"{host}: /etc/network/interfaces has gateway {where}; expected one, {expected}")
    for c in arch.containers():
        if c.host != host:
            continue
        ifs = netconf.containers.get(c.id)
        if ifs is None:
            problems.append(f"container {c.name} (id {c.id}): no /etc/pve/lxc/{c.id}.conf on {host}")
            continue
        gws = [(i.key, i.gw) for i in ifs if i.gw]
        expected = arch.gateway(c.name)
        shown = ", ".join(f"{k} gw={g}" for k, g in gws)
        if not gws:
            problems.append(f"container {c.name} (id {c.id}): no netN line has gw=; expected gw={expected} "
                            "(its default route would not come back after a restart)")
        elif len(gws) > 1:
            problems.append(f"container {c.name} (id {c.id}): two default gateways ({shown}); expected one, "
                            f"gw={expected} (users' docs/nginx-reverse-proxy.md: only one interface has a gateway)")
        elif gws[0][1] != expected:
            problems.append(f"container {c.name} (id {c.id}): {shown}; expected gw={expected}")
    return problems


@requirement("NET-7", over=targets.machines)
def test_routes_are_as_the_spec_says(target, facts, arch):
    """On a host, also each running guest the spec does not name (INV-1), read through its host: the generic
    part of the rule (one default route, its gateway answering), as there is no spec gateway for it."""
    f = facts[target.name]
    problems = route_problems(f.evidence("routes"), arch.gateway(target.name), peers(arch, target.name))
    if target.name in arch.spec.hosts:
        problems += persistence_problems(f.evidence("netconf"), arch, target.name)
        problems += guest_problems(f, "routes", lambda routing: route_problems(routing, None, {}))
    report(problems, _where(target))
