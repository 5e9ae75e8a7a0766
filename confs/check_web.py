"""WEB-1, WEB-2, WEB-4 and NET-2 on nginx files; NET-2 also on stunnel servers and database configs.

The rules (`web1_problems`, `web2_problems`, `web4_problems`) take parsed nginx files and are shared
with the live audit, which reads the same files from `nginx -T`.

WEB-1: the reverse proxy of each application's host has a server block for each public name that
forwards (in any location, nested location or `if`) to the application's nginx; no site of a
reverse proxy forwards to the apache port of an application container.
WEB-2: the application's nginx listens on the spec's nginx port (8080 is not 80), serves the static
locations itself and forwards only to its own apache.
WEB-4: the images host serves the images name from its replica: the root or alias of the server and
of every location that serves files lies under the replica's mount point.
NET-2: no connection between machines (physical hosts) in clear: a proxy_pass in plain http to a
machine of another host (or to an address outside the sender's internal network), a stunnel server
forwarding in clear off its host, a database server listening on every address while its port is
carried by stunnel.
"""
from ipaddress import ip_address

from confs import layout
from confs.findings import Finding
from confs.web import address_book, ip_text, resolve, servers_for, targets, upstreams_of, variables_of


# -- shared rules ---------------------------------------------------------------------------------
def web1_problems(files, public_name, expected, apache, book):
    """[(file, line, message)] for one public name on a proxy: files = [(rel, NginxFile)];
    expected = 'address:port' of the application's nginx; apache = {'address:port': container}.
    Every location of the name that forwards must reach the application's own nginx: one location
    sending the name's traffic to an apache port, another flavor's container or anywhere else is a
    finding at the line that sends it there, whatever the other locations do."""
    servers = servers_for(files, public_name)
    if not servers:
        return [(None, None, f"no server block for {public_name}; expected server_name {public_name} "
                             f"with proxy_pass http://{expected}")]
    upstreams, variables = upstreams_of(files), variables_of(files)
    reached = [t for rel, s in servers for t in targets(rel, s.proxy_passes, upstreams, book, variables)]
    apps = {a.split(":")[0]: c for a, c in apache.items()}
    problems = []
    for t in reached:
        where = f"location {t.location or '/'}"
        if f"{t.address}:{t.port}" in apache:
            problems.append((t.file, t.line, f"{public_name} forwards to {t} ({where}), the apache of container "
                                             f"{apache[f'{t.address}:{t.port}']}; expected its nginx at {expected}"))
        elif f"{t.address}:{t.port}" != expected:
            other = apps.get(t.address)
            whose = f", container {other}" if other and t.address != expected.split(":")[0] else ""
            problems.append((t.file, t.line, f"{public_name} forwards to {t} ({where}{whose}); expected the "
                                             f"application's nginx at {expected}"))
    if not reached:
        unresolved = [(rel, p) for rel, s in servers for p in s.proxy_passes]
        if unresolved:
            rel, p = unresolved[0]
            problems.append((rel, p.line, f"{public_name}: proxy_pass {p.raw} (location {p.location or '/'}) reaches "
                                          "no address this configuration gives; expected the application's nginx "
                                          f"at {expected}"))
        else:
            rel, server = servers[0]
            problems.append((rel, server.line, f"{public_name} forwards nowhere (no proxy_pass); expected the "
                                               f"application's nginx at {expected}"))
    return list(dict.fromkeys(problems))


def _handed_on(server, block, seen):
    """[(handoff line, how, ProxyPass)] a location's requests reach by being handed on inside nginx
    (try_files/error_page to a named location or a URI, rewrite ... last): followed once each."""
    out = []
    for kind, target, line in block.handoffs or server.handoffs:
        nxt = server.location(target)
        if nxt is None or nxt.line in seen:
            continue
        seen.add(nxt.line)
        how = f"{'try_files/error_page' if kind == 'named' else 'an internal redirect'} to {target} " \
              f"(location {nxt.match})"
        out += [(line, how, p) for p in nxt.proxy_passes]
        out += [(line, how, p) for _, _, p in _handed_on(server, nxt, seen)]
    return out


def web2_problems(files, nginx_port, static_locations, own_apache, book):
    """[(file, line, message)] for an application container's nginx files. A static location must
    not forward: directly (its proxy_pass, an upstream), or by handing the request on inside nginx
    (try_files/error_page to a named location, rewrite ... last); the finding is at the location's
    line that routes it (the proxy_pass or the hand-off), not at the upstream's server line."""
    servers = [(rel, s) for rel, f in files for s in f.servers if s.listens_on(nginx_port)]
    if not servers:
        listens = sorted({a for _, f in files for s in f.servers for a, _ in s.listens})
        return [(None, None, f"no server block listens on port {nginx_port} (found: {', '.join(listens) or 'none'})")]
    problems = []
    upstreams, variables = upstreams_of(files), variables_of(files)
    for rel, s in servers:
        locations = {loc.split()[-1]: line for loc, line in s.locations}
        for loc in static_locations:
            if loc not in locations:
                problems.append((rel, s.line, f"no location {loc}: static files would go to apache"))
        for block in s.blocks:
            if block.path not in static_locations:
                continue
            for t in targets(rel, block.proxy_passes, upstreams, book, variables):
                vrel, vline = t.via
                problems.append((vrel, vline, f"location {block.match} forwards to {t}; nginx must serve static "
                                              "files itself"))
            for line, how, p in _handed_on(s, block, {block.line}):
                for t in targets(rel, [p], upstreams, book, variables):
                    problems.append((rel, line, f"location {block.match} hands its requests on by {how}, which "
                                                f"forwards to {t} (line {p.line}); nginx must serve static files "
                                                "itself"))
        for t in targets(rel, s.proxy_passes, upstreams, book, variables):
            if t.location.split()[-1:] and t.location.split()[-1] in static_locations:
                continue
            if f"{t.address}:{t.port}" not in own_apache and f"{t.word}:{t.port}" not in own_apache:
                problems.append((t.file, t.line, f"location {t.location or '/'} forwards to {t}; expected this "
                                                 f"container's apache ({sorted(own_apache)[0]})"))
    return list(dict.fromkeys(problems))


def web4_problems(files, public_name, mountpoint):
    """[(file, line, message)]: the images name is served from the replica: the folder a root (plus its
    location's prefix) or alias serves is the replica's mount point, lies in it, or holds it."""
    servers = [(rel, s) for rel, s in servers_for(files, public_name) if not s.redirect]
    if not servers:
        return [(None, None, f"no server block serves {public_name} (redirects apart); expected one serving "
                             f"files from {mountpoint}")]
    served = []
    for rel, s in servers:
        for r in s.roots:
            prefix = r.location.split()[-1] if r.location and r.directive == "root" else ""
            folder = r.path.rstrip("/") + (prefix.rstrip("/") if prefix.startswith("/") else "")
            served.append((rel, r, folder or "/"))
    if any(d == mountpoint or d.startswith(mountpoint + "/") or mountpoint.startswith(d.rstrip("/") + "/")
           for _, _, d in served):
        return []
    if not served:
        rel, s = servers[0]
        return [(rel, s.line, f"{public_name} has no root or alias; expected files from {mountpoint}")]
    rel, r, d = served[0]
    found = ", ".join(sorted({d for _, _, d in served}))
    return [(rel, r.line, f"{public_name} serves files from {found}; expected the replica's mount point {mountpoint}")]


# -- the gate ---------------------------------------------------------------------------------------
def nginx_files(arch, repo, machine):
    return [(seen.real, parsed) for seen, parsed in repo.files(layout.dirs(arch, machine), "nginx")]


def _findings(req, problems, missing_where):
    return [Finding(req, rel or missing_where, line, message) for rel, line, message in problems]


def apache_ports(arch):
    return {f"{c.address}:{arch.spec.web.apache_port}": c.name for c in arch.app_containers()}


def web1(arch, repo, book):
    findings = []
    apache = apache_ports(arch)
    for chain in arch.chains():
        if chain.proxy is None:
            continue
        files = nginx_files(arch, repo, chain.proxy.name)
        if not files and not repo.has(layout.dirs(arch, chain.proxy.name), "nginx"):
            continue                        # nothing to examine: the requirement says so when nothing at all
        problems = web1_problems(files, chain.public_name, f"{chain.app.address}:{chain.nginx_port}", apache, book)
        if not repo.complete(layout.dirs(arch, chain.proxy.name)):
            problems = [p for p in problems if p[0] is not None]
        findings += _findings("WEB-1", problems, layout.nginx_dir(arch, chain.proxy.name))
    reported = {(f.file, f.line) for f in findings}
    for proxy in arch.containers("reverse-proxy"):        # other sites of a proxy straight to an apache
        files = nginx_files(arch, repo, proxy.name)
        upstreams, variables = upstreams_of(files), variables_of(files)
        for rel, f in files:
            for t in targets(rel, f.proxy_passes, upstreams, book, variables):
                if f"{t.address}:{t.port}" in apache and (t.file, t.line) not in reported:
                    reported.add((t.file, t.line))
                    findings.append(Finding("WEB-1", t.file, t.line, f"{proxy.name} forwards to {t}, the apache of "
                                                                     f"container {apache[f'{t.address}:{t.port}']}; "
                                                                     "expected its nginx"))
    return findings


def web2(arch, repo, book):
    findings, web = [], arch.spec.web
    for c in arch.app_containers():
        files = nginx_files(arch, repo, c.name)
        if not files:
            continue
        own = {f"{c.address}:{web.apache_port}", f"127.0.0.1:{web.apache_port}", f"localhost:{web.apache_port}"}
        findings += _findings("WEB-2", web2_problems(files, web.nginx_port, web.static_locations, own, book),
                              layout.nginx_dir(arch, c.name))
    return findings


def images_mountpoint(arch):
    """Where the images host mounts its replica: the spec's mount point, else /<dataset>."""
    images = arch.spec.web.images
    return getattr(images, "mountpoint", None) or f"/{images.dataset}"


def web4(arch, repo):
    images = arch.spec.web.images
    files = nginx_files(arch, repo, images.host)
    if not files:
        return []
    return _findings("WEB-4", web4_problems(files, images.public_name, images_mountpoint(arch)),
                     layout.nginx_dir(arch, images.host))


# -- NET-2 --------------------------------------------------------------------------------------------
def machine_host(arch, machine):
    try:
        return arch.host_of(machine)
    except KeyError:
        return None


def owner_of(arch, address, sender_host):
    """(machine, host) the spec gives an address: the sender's own host first, then hosts sharing its
    internal network (container addresses repeat across sites); None if unknown."""
    if address is None:
        return None
    owners = list(_addresses(arch).get(address, ()))
    owners.sort(key=lambda o: (o[1] != sender_host, not arch.same_network(sender_host, o[1])))
    return owners[0] if owners else None


def _addresses(arch):
    """{address: [(machine, host)]} the spec gives, built once per Architecture (a big nginx file asks
    for thousands of addresses)."""
    table = arch.__dict__.get("_confs_addresses")
    if table is None:
        table = {}
        for name, h in arch.spec.hosts.items():
            for a in {str(h.internal_address), str(h.public_address)}:
                table.setdefault(a, []).append((name, name))
        for c in arch.containers():
            for a in {c.address, c.public_address} - {None}:
                table.setdefault(a, []).append((c.name, c.host))
        arch.__dict__["_confs_addresses"] = table
    return table


def crosses(arch, address, sender_host):
    """Why a connection from a machine of sender_host to address goes between machines (physical hosts:
    "to talk between machines, every communication should go through Stunnel or https"), or None when
    it stays on the host. An address of the host's internal range that the spec does not place
    elsewhere counts as local; an unknown address outside it, or an unknown name, crosses."""
    a = ip_address(ip_text(address)) if address and ip_text(address) else None
    if a is not None and a.is_loopback:
        return None
    owner = owner_of(arch, address, sender_host)
    if owner:
        return None if owner[1] == sender_host else f"{owner[0]} on {owner[1]}"
    if a is not None and a in arch.networks[sender_host]:
        return None
    return "an address the spec does not place on this host" if a else "a name the spec does not know"


def plain_http(arch, repo, book):
    findings = []
    for folder, machines in sorted(arch.conf_dir_machines().items()):
        files = [(s.real, p) for s, p in repo.files([folder], "nginx")]
        for sender in sorted({machine_host(arch, m) for m in machines} - {None}):
            findings += _plain_http_from(arch, sender, [m for m in machines if machine_host(arch, m) == sender],
                                         files, book)
    return findings


def _plain_http_from(arch, sender, machines, files, book):
    findings = []
    upstreams, variables = upstreams_of(files), variables_of(files)
    for rel, f in files:
        for t in targets(rel, f.proxy_passes, upstreams, book, variables):
            why = crosses(arch, t.address or (t.word if _is_ip(t.word) else None), sender) \
                if t.scheme == "http" else None
            if why:
                findings.append(Finding("NET-2", t.file, t.line,
                                        f"{'/'.join(machines)} (on {sender}) sends plain http to {t.word}:{t.port} "
                                        f"({why}): between machines in clear; expected https, or a local "
                                        "stunnel client"))
    return findings


def _is_ip(word):
    return ip_text(word) is not None and not word.startswith("[")


def stunnel_forwarding(arch, repo, book):
    """A stunnel server (client = no) forwards in clear: its connect must stay on its host."""
    findings = []
    for folder, machines in sorted(arch.conf_dir_machines().items()):
        for seen, services in repo.files([folder], "stunnel"):
            sender = machine_host(arch, machines[0])
            for s in services:
                connect = s.get("connect")
                if s.is_client or connect is None:
                    continue
                host, port = s.connect
                address = resolve(host, book) if host else "127.0.0.1"
                if any(link.server.name in machines and link.connect == f"{address}:{port}" for link in arch.links()):
                    continue            # the spec's own link forwards there: the spec's decision, not the file's
                why = crosses(arch, address, sender)
                if why:
                    findings.append(Finding("NET-2", seen.real, connect.line,
                                            f"stunnel server [{s.name}] on {'/'.join(machines)} ({sender}) forwards in "
                                            f"clear to {connect.value} ({why}); expected a service on its own host"))
    return findings


DB_FORMATS = ("redis", "mongod", "memcached", "mysql")


def database_binds(arch, repo):
    """A database server whose port a stunnel link carries, listening on every address."""
    findings = []
    carried = {}
    for link in arch.links():
        address, _, port = link.connect.rpartition(":")
        carried[address] = (int(port), link.name)
    for c in arch.containers("database"):
        if c.address not in carried:
            continue
        port, link = carried[c.address]
        for fmt in DB_FORMATS:
            for seen, conf in repo.files(layout.dirs(arch, c.name), fmt):
                line = conf.every_address()
                if line is not False and (conf.port is None or conf.port[0] == port):
                    findings.append(Finding("NET-2", seen.real, line,
                                            f"{c.name}: {conf.kind} listens on every address on port {port}, which "
                                            f"link {link} carries through stunnel; expected it bound to the internal "
                                            f"address ({c.address}) or loopback"))
    return findings


def check(arch, repo):
    book = address_book(arch)
    return (web1(arch, repo, book) + web2(arch, repo, book) + web4(arch, repo) + plain_http(arch, repo, book)
            + stunnel_forwarding(arch, repo, book) + database_binds(arch, repo))
