"""NET: network and secrets."""
from checks import targets
from checks.requirement import report, requirement
from confs.check_stunnel import service_problems


def _links(arch):
    return arch.links()


def _keys(f, path):
    entry = f.psk_files.get(path) if f else None
    return entry["entries"] if entry else []


@requirement("NET-3", over=_links, reads=targets.reads_every_link_end)
def test_stunnel_link_uses_its_own_psk(target, facts, arch):
    problems = []
    for end, port, client in ((target.server, target.server_accept, False), (target.client, target.client_accept, True)):
        f = facts[end.name]
        # the static gate's rules: the service found by its endpoint (accept port, client or server), never by
        # its section name; global options applied; ciphers judged as OpenSSL expands them
        found = [(file, s) for file, services in f.stunnel_files.items() for s in services
                 if s.accept_port == port and s.is_client == client]
        if not found:
            problems.append(f"{end.name}: no {'client' if client else 'server'} service accepting on port {port} "
                            f"in {', '.join(f.stunnel_files) or 'any stunnel file'}")
        for file, service in found:
            problems += [f"{end.name}: [{service.name}] in {file}:{line} {message}"
                         for line, message in service_problems(service, target.psk_path)]
    held = {end.name: set(_keys(facts[end.name], target.psk_path)) for end in (target.server, target.client)}
    mine = held[target.server.name] | held[target.client.name]
    problems += [f"{name}: PSK file {target.psk_path} is missing or empty; both ends of the link need it"
                 for name, keys in held.items() if not keys]
    if all(held.values()) and held[target.server.name] != held[target.client.name]:
        problems.append(f"the PSK in {target.psk_path} differs between the server {target.server.name} and the client "
                        f"{target.client.name} (identity or key; digests compared, no key printed): the link cannot "
                        "authenticate; copy the server's file to the client")
    for other in arch.links():
        if other.name == target.name:
            continue
        theirs = {d for end in (other.server, other.client) for d in _keys(facts[end.name], other.psk_path)}
        if {k for _, k in mine} & {k for _, k in theirs}:
            problems.append(f"the PSK key of link {target.name} ({target.psk_path}) is also the key of link "
                            f"{other.name} ({other.psk_path}); give each link its own key (digests compared, "
                            "no key printed)")
        if {i for i, _ in mine} & {i for i, _ in theirs}:
            problems.append(f"the PSK identity of link {target.name} is also used by link {other.name}")
    report(problems, f"stunnel link {target.name} ({target.client.name} -> {target.server.name})")


@requirement("NET-1", over=targets.app_containers, reads=targets.reads_with_applications)
def test_applications_talk_over_the_internal_network(target, facts, arch):
    f = facts[target.name]
    internal = lambda a: arch.internal(target.host, a)
    problems = [f"has address {a} outside the internal network {arch.networks[target.host]}"
                for a in f.addresses if not internal(a)]
    app_public = {a: c.name for c in arch.app_containers() for a in facts[c.name].addresses if not internal(a)}
    problems += [f"talks to application {app_public[peer]} at {peer}:{port}, outside the internal network"
                 for _, (peer, port) in f.connections if peer in app_public]
    own = _own_public_addresses(arch, facts)
    problems += [f"talks to {own[peer]} at its public address {peer}:{port}, outside the internal network; "
                 "reach the project's machines at their internal address"
                 for _, (peer, port) in f.connections if peer in own and peer not in app_public]
    report(problems, f"application container {target.name} on {target.host} ({target.application})")


def _own_public_addresses(arch, facts):
    """{address: what it is} of the project's own machines outside their internal networks: the
    spec's public addresses (hosts, reverse proxies, ...), and every non-internal address read on a
    machine (every machine is read at set-up: one unreachable makes the check an error naming it)."""
    out = {}
    for m in arch.machines():
        if m.public_address:
            out[str(m.public_address)] = f"{m.role} {m.name}"
        out.update({a: f"{m.role} {m.name}" for a in facts[m.name].addresses if not arch.internal(m.host, a)})
    return out


@requirement("NET-2", over=targets.machines)
def test_no_internal_port_outside_the_internal_network(target, facts, arch):
    f = facts[target.name]
    allowed = arch.public_ports(target.name) | {80, 443}  # 80/443 are WEB-3's
    if target.role == "host":
        allowed.add(arch.spec.proxmox.web_port)  # NET-5's
    internal = lambda a: arch.internal(target.host, a)
    ports = arch.database_ports()
    clients = _stunnel_client_accepts(f)
    problems = [f"port {port}{' (' + ports[port] + ')' if port in ports else ''} listens on {f.public_label(addr, internal)}, "
                "reachable outside the internal network; carry it through stunnel instead"
                for addr, port in f.listening if port not in allowed and f.public_facing(addr, internal)
                and (_wild(addr), port) not in clients]
    report(problems, f"{target.role} container {target.name} on {target.host}")


def _wild(address):
    return "*" if address in (None, "", "*", "0.0.0.0", "::", "[::]") else address.strip("[]")


def _stunnel_client_accepts(f):
    """{(address or '*', port)} of the stunnel client services configured on the machine: a socket listening
    there is the stunnel client's accept, judged by NET-8 with its configuration line (not twice here; `ss`
    in a container does not always name its owner)."""
    if not f.sent("stunnel"):
        return set()
    return {(_wild(s.accept_host), s.accept_port) for services in f.stunnel_files.values() for s in services
            if s.is_client and s.accept_port}


@requirement("NET-4", over=targets.stunnel_containers)
def test_psk_files_are_private(target, facts, arch):
    f = facts[target.name]
    problems = []
    for link in arch.links():
        if target.name not in (link.server.name, link.client.name):
            continue
        entry = f.psk_files.get(link.psk_path)
        if entry is None:
            problems.append(f"PSK file {link.psk_path} of link {link.name} is missing")
            continue
        mode = int(entry["mode"], 8)
        if entry["owner"] != "root" or mode & 0o077 and not (mode & 0o037 == 0 and entry["group"].startswith("stunnel")):
            problems.append(f"PSK file {link.psk_path} is mode {entry['mode']} owner {entry['owner']}:{entry['group']}; "
                            "expected root-owned, readable by root (and the stunnel group) alone: chmod 600")
    mode, _, _ = f.evidence("psk_dir")
    if int(mode, 8) & 0o007:
        problems.append(f"{arch.spec.stunnel.psk_dir} is mode {mode}; expected closed to others (0700)")
    report(problems, f"{target.role} container {target.name} on {target.host}")


@requirement("NET-5", over=targets.hosts)
def test_proxmox_web_interface_is_not_public(target, facts, arch):
    """Judged by what the auditor reaches from outside (the public address) and, for a socket bound
    to a public address (IPv4 or IPv6), by the nftables rules that must drop it on the interface holding
    that address (jumps and gotos followed); the socket alone decides nothing."""
    f = facts[target.name]
    port = arch.spec.proxmox.web_port
    internal = lambda a: arch.internal(target.name, a)
    problems = [f"the Proxmox web interface answers the auditor at {ep} from outside; bind it to the internal "
                "address or drop it in nftables, and use an ssh tunnel"
                for ep, result in sorted(f.evidence("outside").items())
                if result == "open" and ep.rpartition(":")[2] == str(port)]
    exposed = [(addr, p) for addr, p in f.listening if p == port and f.public_facing(addr, internal)]
    if exposed and not problems:
        unfiltered = _unfiltered(f, exposed, port, internal)
        if unfiltered:
            problems.append(f"the Proxmox web interface listens on {', '.join(f'{a}:{p}' for a, p in exposed)} and "
                            f"no nftables input rule drops port {port} from public addresses arriving at "
                            f"{', '.join(unfiltered)} (nft list ruleset, jumps followed); filter it")
    report(problems, f"host {target.name}")


def _unfiltered(f, exposed, port, internal):
    """The public destinations (address on its interface) of the exposed sockets that the input rules do
    not certainly drop a NEW connection to."""
    from fixtures.probes.nftables import Packet, certainly_dropped
    ruleset = f.evidence("nft")
    by_address = {str(a): a for a in f.addresses}
    out = []
    for addr, _ in exposed:
        for dest in f.public_destinations(addr, internal):
            iface = getattr(by_address.get(str(dest)), "ifname", None) or None
            family = "ip6" if ":" in str(dest) else "ip"
            if certainly_dropped(ruleset, Packet(family, str(dest), port, iface)) is not True:
                out.append(f"{dest} ({iface or 'interface unknown'})")
    return list(dict.fromkeys(out))
