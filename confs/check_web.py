"""WEB-1, WEB-4, NET-2 on the nginx files.

WEB-1: the reverse proxy of each application's host has a server block for each public name
of the application that forwards to the application's nginx (address:nginx_port); no site of
a reverse proxy forwards to the apache port of an application container.
WEB-4: the images host serves the images public name from its replica of the images dataset
(root or alias under /<dataset>).
NET-2: no proxy_pass of any machine goes in plain http to an address outside the machine's
internal network (loopback and the host's internal network are local; a stunnel client that
accepts locally is how to cross machines).
"""
from ipaddress import ip_address

from confs import layout
from confs.findings import Finding
from confs.web import address_book, resolve, servers_for, targets, upstreams_of


def chain_findings(arch, repo, chain, book):
    proxy, app, folder = chain.proxy, chain.app, layout.nginx_dir(chain.proxy.name)
    expected = f"{app.address}:{chain.nginx_port}"
    files = repo.nginx(proxy.name)
    servers = servers_for(files, chain.public_name)
    if not servers:
        if repo.complete(folder):
            yield Finding("WEB-1", folder, None, f"no server block for {chain.public_name} in {folder}; expected "
                                                 f"server_name {chain.public_name} with proxy_pass http://{expected}")
        return
    upstreams = upstreams_of(files)
    reached = [t for rel, s in servers for t in targets(rel, s.proxy_passes, upstreams, book)]
    if any(f"{t.address}:{t.port}" == expected for t in reached):
        return
    if any(t.address == app.address and t.port == chain.apache_port for t in reached):
        return                                  # reported by apache_findings, at that line
    rel, server = servers[0]
    found = ", ".join(map(str, reached)) or "nowhere (no proxy_pass)"
    yield Finding("WEB-1", reached[0].file if reached else rel, reached[0].line if reached else server.line,
                  f"{chain.public_name} forwards to {found}; expected the nginx of container {app.name} at {expected}")


def apache_findings(arch, repo, book):
    """No site of a reverse proxy forwards straight to the apache of an application container."""
    apps = {c.address: c for c in arch.app_containers()}
    web = arch.spec.web
    for proxy in arch.containers("reverse-proxy"):
        files = repo.nginx(proxy.name)
        upstreams = upstreams_of(files)
        for rel, f in files:
            for t in targets(rel, f.proxy_passes, upstreams, book):
                if t.port == web.apache_port and t.address in apps:
                    app = apps[t.address]
                    yield Finding("WEB-1", t.file, t.line, f"{proxy.name} forwards to {t}, the apache of container "
                                                           f"{app.name}; expected its nginx at {app.address}:{web.nginx_port}")


def images_findings(arch, repo):
    images = arch.spec.web.images
    folder = layout.nginx_dir(images.host)
    servers = servers_for(repo.nginx(images.host), images.public_name)
    if not servers:
        if repo.complete(folder):
            yield Finding("WEB-4", folder, None, f"no server block for {images.public_name} on {images.host}; "
                                                 f"expected one serving root /{images.dataset}")
        return
    roots = [(rel, path, line) for rel, s in servers for path, line in s.roots]
    if not any(path.rstrip("/").startswith(f"/{images.dataset}") for _, path, _ in roots):
        rel, server = servers[0]
        found = ", ".join(path for _, path, _ in roots) or "no root"
        yield Finding("WEB-4", roots[0][0] if roots else rel, roots[0][2] if roots else server.line,
                      f"{images.public_name} is served from {found}; expected the replica /{images.dataset}")


def local_network(arch, machine):
    """The internal network of the host a machine folder belongs to, or None if not in the spec."""
    if machine in arch.spec.hosts:
        return arch.spec.hosts[machine].internal_network
    try:
        return arch.spec.hosts[arch.container(machine).host].internal_network
    except KeyError:
        return None


def is_local(address, network):
    return address is not None and (ip_address(address).is_loopback or ip_address(address) in network)


def plain_http_findings(arch, repo, book):
    for machine in repo.machines():
        network = local_network(arch, machine)
        if network is None:
            continue
        files = repo.nginx(machine)
        upstreams = upstreams_of(files)
        for rel, f in files:
            for t in targets(rel, f.proxy_passes, upstreams, book):
                if t.scheme == "http" and not is_local(t.address, network):
                    where = t.address or "an address the spec does not know"
                    yield Finding("NET-2", t.file, t.line, f"{machine} sends plain http to {t.word}:{t.port} ({where}), "
                                                           f"outside its internal network {network}; expected https, "
                                                           f"or a local stunnel client")


def stunnel_connect_findings(arch, repo, book):
    """A stunnel server forwards in clear: its connect must stay in its host's internal network."""
    for link in arch.links():
        network = local_network(arch, link.server.name)
        for rel, services in repo.stunnel(link.server.name):
            for s in services:
                connect = s.get("connect")
                if s.is_client or s.accept_port != link.server_accept or connect is None:
                    continue
                word = connect.value.rsplit(":", 1)[0] if ":" in connect.value else "127.0.0.1"
                address = resolve(word, book)
                if not is_local(address, network):
                    yield Finding("NET-2", rel, connect.line, f"stunnel server [{s.name}] on {link.server.name} "
                                                              f"forwards in clear to {connect.value}, outside {network}; "
                                                              f"expected {link.connect}")


def check(arch, repo):
    book, findings = address_book(arch), []
    for chain in arch.chains():
        if chain.proxy is not None:
            findings += chain_findings(arch, repo, chain, book)
    findings += apache_findings(arch, repo, book)
    findings += images_findings(arch, repo)
    findings += plain_http_findings(arch, repo, book)
    findings += stunnel_connect_findings(arch, repo, book)
    return findings
