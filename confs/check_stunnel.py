"""NET-3: every stunnel link uses PSK ciphers and its own PSK file and identity.

Each link of the spec has a server service (client = no) in the server container's folder and
a client service (client = yes) in the client container's folder, found by accept port.
Every service of every stunnel file must use PSK ciphers and name a PSKsecrets file; no PSK
file and no PSKidentity may serve two links (services outside the spec count as their own link,
keyed by service name).
"""
from confs import layout
from confs.findings import Finding

REQ = "NET-3"


def _side(link, side):
    container = getattr(link, side)
    port = link.server_accept if side == "server" else link.client_accept
    return container, port, side == "client"


def link_services(arch, repo):
    """({(rel, service name): link name}, [Finding for link ends not found])."""
    owners, missing = {}, []
    for link in arch.links():
        for side in ("server", "client"):
            container, port, is_client = _side(link, side)
            found = [(rel, s) for rel, services in repo.stunnel(container.name) for s in services
                     if s.accept_port == port and s.is_client == is_client]
            for rel, s in found:
                owners[(rel, s.name)] = link.name
            folder = layout.stunnel_dir(container.name)
            if not found and repo.complete(folder):
                missing.append(Finding(REQ, folder, None,
                                       f"link {link.name}: no {side} service (client = {'yes' if is_client else 'no'}) "
                                       f"accepting on port {port} in {folder}/*.conf; expected one with "
                                       f"ciphers = PSK and PSKsecrets = {link.psk_path}"))
    return owners, missing


def _non_psk_ciphers(value):
    names = [c for c in value.replace(",", ":").split(":") if c and c[0] not in "!-+"]
    return [c for c in names if "PSK" not in c.upper()] if names else ["(none)"]


def service_findings(rel, service, link):
    where = f"service [{service.name}]" + (f" (link {link.name})" if link else "")
    ciphers = service.get("ciphers")
    if ciphers is None:
        yield Finding(REQ, rel, service.line, f"{where} sets no ciphers; expected 'ciphers = PSK' (PSK ciphers only)")
    elif _non_psk_ciphers(ciphers.value):
        yield Finding(REQ, rel, ciphers.line, f"{where}: ciphers = {ciphers.value} allows non-PSK ciphers "
                                              f"({', '.join(_non_psk_ciphers(ciphers.value))}); expected PSK ciphers only")
    secrets = service.get("psksecrets")
    if secrets is None:
        expected = link.psk_path if link else "its own file in the PSK directory"
        yield Finding(REQ, rel, service.line, f"{where} has no PSKsecrets; expected PSKsecrets = {expected}")
    elif link and secrets.value != link.psk_path:
        yield Finding(REQ, rel, secrets.line, f"{where}: PSKsecrets = {secrets.value}; expected {link.psk_path} "
                                              f"(the link's own PSK file in the spec)")


def shared_findings(uses, what):
    """uses: [(key, value, rel, line, service)] -> a finding for each use of a value another key owns."""
    first = {}
    for key, value, rel, line, service in uses:
        owner = first.setdefault(value, (key, rel, line))
        if owner[0] != key:
            yield Finding(REQ, rel, line, f"service [{service}] ({key}) uses {what} {value}, which {owner[0]} "
                                          f"also uses ({owner[1]}:{owner[2]}); each link needs its own {what}")


def check(arch, repo):
    owners, findings = link_services(arch, repo)
    links = {l.name: l for l in arch.links()}
    files, identities = [], []
    spec_paths = {l.psk_path: l.name for l in links.values()}
    for _machine, rel, services in repo.all_stunnel():
        for s in services:
            link = links.get(owners.get((rel, s.name)))
            findings += service_findings(rel, s, link)
            key = f"link {link.name}" if link else f"service {s.name}"
            if s.get("psksecrets"):
                files.append((key, s.get("psksecrets").value, rel, s.get("psksecrets").line, s.name))
            if s.get("pskidentity"):
                identities.append((key, s.get("pskidentity").value, rel, s.get("pskidentity").line, s.name))
    # the spec's own link claims its PSK file first, whatever the file order
    files.sort(key=lambda u: (spec_paths.get(u[1]) != u[0].removeprefix("link "),))
    findings += shared_findings(files, "PSK file")
    findings += shared_findings(identities, "PSK identity")
    return findings
