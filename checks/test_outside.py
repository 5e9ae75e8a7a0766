"""The view from outside, from the users' incident reports: every public name answers a visitor (WEB-5), and
nothing internal answers from outside (NET-8). Judged on what the auditor itself got (fixtures/probes/outside.py:
DNS through the inventory's resolver, TLS with SNI, HTTP, a port probe of every public address) and on what the
machines read of themselves (the proxy's request to the application's nginx, stunnel's configuration, the
applications' connections)."""

from checks import targets
from checks.guests import guest_problems
from checks.requirement import report, requirement
from confs.check_stunnel_accept import stunnel_client_problems
from fixtures.probes.outside import public_addresses, serves_public_names, split_endpoint


def _where(m):
    return f"{m.role} {m.name}" + (f" on {m.host}" if m.host != m.name else "")


def _name_sites(arch):
    """The machines whose public names a visitor tries (the chains' proxies, the images host, every proxy)."""
    return [m for m in arch.machines() if serves_public_names(arch, m.name)]


def _expected_application(arch, machine):
    """{public name: application} of the chains this machine serves."""
    return {c.public_name: c.application for c in arch.chains() if c.proxy and c.proxy.name == machine}


def name_problems(seen, expected_addresses, own_addresses, application, says, timeout):
    """What WEB-5 finds in one name's visit (outside.NameSeen): resolved to the spec's address and only to the
    machine's own, a TLS handshake and an HTTP answer below 500 within `timeout` at every address, from the
    name's own application (`says`, when the spec says how its answer names it)."""
    name = seen.name
    if seen.dns_error and not seen.addresses:
        return [f"{name} does not resolve ({seen.dns_error}): check its DNS records (A, AAAA)"]
    if not seen.addresses:
        return [f"{name} has no A or AAAA record: check its DNS records"]
    problems = []
    missing = [a for a in expected_addresses if a not in seen.addresses]
    if missing:
        problems.append(f"{name} resolves to {', '.join(seen.addresses)}, not to the spec's {', '.join(missing)}")
    stray = [a for a in seen.addresses if a not in own_addresses]
    if expected_addresses and stray and not missing:   # a name the spec forgot may be served elsewhere too
        problems.append(f"{name} also resolves to {', '.join(stray)}, which is none of its server's public addresses")
    for v in seen.visits:
        at = f"{name} at {v.address}"
        if not v.tls:
            problems.append(f"{at}: no TLS handshake on port 443 ({v.error or 'no answer'}): is the address on the "
                            "proxy's interface (ip addr), its route and gateway up, nginx listening?")
        elif v.status is None:
            problems.append(f"{at}: no HTTP answer within {timeout:g} s ({v.error or 'nothing read'})")
        elif v.status >= 500:
            problems.append(f"{at}: answered HTTP {v.status}: the application behind the proxy fails "
                            "(the proxy's and the application's nginx error logs)")
        elif v.seconds > timeout:
            problems.append(f"{at}: answered after {v.seconds:.1f} s, over {timeout:g} s")
        elif application and says and says.format(application=application) not in v.says:
            other = next((w for w in v.says.split() if w.startswith(says.split("{")[0])), None) \
                if "{" in says else None
            problems.append(f"{at}: answered HTTP {v.status} but not from {application} (its answer does not say "
                            f"{says.format(application=application)!r}{'; it says ' + repr(other) if other else ''})")
    return problems


@requirement("WEB-5", over=_name_sites)
def test_every_public_name_answers_from_outside(target, facts, arch):
    """Every public name the machine serves (the spec's and its nginx's own server_names) as a visitor gets
    it; each chain's proxy gets an answer below 500 from the application's nginx for the name."""
    f = facts[target.name]
    seen = f.evidence("visitor")
    problems = []
    if "@@unread" in seen:
        problems.append(f"only the spec's names were tried: the proxy's own server_names are unknown "
                        f"({seen['@@unread']})")
    from fixtures.probes.network import tls_names
    spec_names, spec_address = tls_names(arch, target.name)
    own = set(public_addresses(arch, target.name)) | {str(a) for a in f.addresses}
    apps = _expected_application(arch, target.name)
    settings_timeout = 10
    for name in dict.fromkeys(spec_names):
        if name not in seen:
            problems.append(f"{name} was not tried from outside")
    for name, s in seen.items():
        if name == "@@unread":
            continue
        expected = [str(spec_address)] if name in spec_names else []
        problems += name_problems(s, expected, own, apps.get(name), arch.spec.web.answer_names, settings_timeout)
    upstream = f.evidence("upstream")
    for c in arch.chains():
        if not c.proxy or c.proxy.name != target.name:
            continue
        got = upstream.get(c.public_name)
        if got is None:
            problems.append(f"the proxy did not ask the application's nginx for {c.public_name}")
        elif not 0 < got[1] < 500:
            problems.append(f"the proxy's request for {c.public_name} to the application's nginx at {got[0]} got "
                            f"{'no answer' if got[1] == 0 else f'HTTP {got[1]}'}: is {c.app.name}'s nginx up?")
    report(problems, _where(target))


def _site_public_addresses(arch, host):
    """{address: machine} of the spec's public addresses of every machine in the host's datacenter."""
    dc = arch.spec.hosts[host].datacenter
    return {str(m.public_address): m.name for m in arch.machines()
            if m.public_address and arch.spec.hosts[m.host].datacenter == dc}


def _shown_listening(f, address, port, internal):
    """Does the machine's own reading show a socket listening on that port of that public address? Such a
    socket is NET-2's (WEB-3's for 80 and 443), judged once there with its owner; NET-8's port probe reports
    what only the outside sees (a port forwarded by the host, an address answered by another machine). A
    stunnel client's own accept is judged here, by its configuration line (NET-2 leaves it)."""
    return any(port == p and address in f.public_destinations(a, internal) for a, p in f.listening)


@requirement("NET-8", over=targets.machines)
def test_nothing_internal_answers_from_outside(target, facts, arch):
    """The auditor's port probe of every public address finds only the spec's public ports (the Proxmox web
    interface is NET-5's; a port the machine shows listening there is NET-2's or WEB-3's); no stunnel client
    accepts on a wildcard or public address; no application has a connection, established or being opened, to a
    public address of its own datacenter. On a host, the same inside rules on each running guest the spec does
    not name (INV-1), read through the host."""
    f = facts[target.name]
    allowed = arch.public_ports(target.name)
    if target.role == "host":
        allowed = allowed | {arch.spec.proxmox.web_port}   # NET-5 judges it
    problems = []
    internal = lambda a: arch.internal(target.host, a)
    for endpoint, result in sorted(f.evidence("outside").items()):
        address, port = split_endpoint(endpoint)
        if result == "open" and port not in allowed and not _shown_listening(f, address, port, internal):
            ports = arch.database_ports()
            problems.append(f"port {port}{' (' + ports[port] + ')' if port in ports else ''} answers the auditor "
                            f"at {endpoint} from outside; only {', '.join(map(str, sorted(allowed))) or 'nothing'} "
                            "may: bind it to the internal address or filter it")
    if f.sent("stunnel"):
        problems += [f"{file}:{line}: {message}" for file, line, message in
                     stunnel_client_problems(f.stunnel_files, internal)]
    site = _site_public_addresses(arch, target.host)
    if target.role == "application":
        problems += own_site_problems(f.connections, f.evidence("pending"), site)
    if target.role == "host":   # each running guest the spec does not name (INV-1), read through its host
        problems += guest_problems(f, "stunnel", lambda files: [
            f"{file}:{line}: {message}" for file, line, message in stunnel_client_problems(files, internal)])
        problems += guest_problems(f, "conns", lambda conns: own_site_problems(conns["established"],
                                                                               conns["pending"], site),
                                   say_unread=False)
    report(problems, _where(target))


def own_site_problems(established, pending, site):
    """Connections ([(local, peer)]) to a public address of the machine's own datacenter (site: {address:
    machine})."""
    return [f"has a connection {kind} to {site[peer]}'s public address {peer}:{port}: reach it at its internal "
            "address (the application's own site through its public name hangs when the public address does not "
            "loop back)"
            for kind, conns in (("established", established), ("being opened (SYN-SENT)", pending))
            for _, (peer, port) in conns if peer in site]
