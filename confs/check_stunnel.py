"""NET-3: every stunnel link uses PSK ciphers only, and its own PSK file and identity.

A link is a server service (client = no) and the client services that connect to it: services are
told apart by their endpoints and PSK files, never by section names. A server end is (folder,
accept port); a client belongs to the server its connect= reaches (an address or name the spec
knows, else the one server service of the repository accepting on that port). Global options are
defaults of every service (the parser applies them).

The rules (`cipher_problem`, `service_problems`) are shared with the live audit.

Ciphers are judged as OpenSSL expands the cipher string (`openssl ciphers -v -psk <string>`, TLS 1.2
and older: TLS 1.3 suites are set by `ciphersuites`): a cipher whose key exchange is not PSK is
allowed by the string, so `ALL:!PSK` and `PSK:AES256-SHA` fail and `PSK` passes. Without an openssl
binary the string is judged by its words, and the message says so.
"""
import functools
import shutil
import subprocess

from confs import layout
from confs.findings import Finding
from confs.web import address_book, resolve

REQ = "NET-3"


@functools.lru_cache(maxsize=256)
def expand_ciphers(value):
    """(psk names, non-psk names, how judged) for a cipher string; names are None if it matches nothing."""
    openssl = shutil.which("openssl")
    if openssl:
        proc = subprocess.run([openssl, "ciphers", "-v", "-psk", value], capture_output=True, text=True)
        if proc.returncode != 0:
            return None, None, "openssl ciphers"
        psk, other = [], []
        for line in proc.stdout.splitlines():
            words = line.split()
            if len(words) < 3 or words[1] == "TLSv1.3":
                continue
            kx = words[2].removeprefix("Kx=")
            (psk if "PSK" in kx else other).append(words[0])
        return tuple(psk), tuple(other), "openssl ciphers"
    words = [w for w in value.replace(",", ":").split(":") if w]
    allowed = [w for w in words if w[0] not in "!-+"]
    other = [w for w in allowed if "PSK" not in w.upper()]
    psk = [w for w in allowed if "PSK" in w.upper() and not any(x.lstrip("!-").upper() == "PSK" for x in words if x[0] in "!-")]
    return tuple(psk), tuple(other), "the words of the string (no openssl binary to expand it)"


def cipher_problem(value):
    """Why a `ciphers =` value allows more than PSK ciphers, or None."""
    if value is None:
        return "sets no ciphers (stunnel's default list is certificate ciphers); expected 'ciphers = PSK'"
    psk, other, how = expand_ciphers(value)
    if psk is None:
        return f"ciphers = {value} matches no cipher ({how}); expected 'ciphers = PSK'"
    if other:
        shown = ", ".join(other[:4]) + (f" and {len(other) - 4} more" if len(other) > 4 else "")
        none = " and no PSK cipher at all" if not psk else ""
        return f"ciphers = {value} allows non-PSK ciphers ({shown}{none}; judged by {how}); expected PSK ciphers only"
    return None


def service_problems(service, psk_path=None):
    """[(line, message)] for one service: PSK-only ciphers and a PSKsecrets file (the link's, if known)."""
    problems = []
    ciphers = service.get("ciphers")
    why = cipher_problem(ciphers.value if ciphers else None)
    if why:
        problems.append((ciphers.line if ciphers else service.line, why))
    secrets = service.get("psksecrets")
    if secrets is None:
        problems.append((service.line, f"has no PSKsecrets; expected PSKsecrets = {psk_path or 'its own PSK file'}"))
    elif psk_path and secrets.value != psk_path:
        problems.append((secrets.line, f"PSKsecrets = {secrets.value}; expected {psk_path} (the link's own PSK file)"))
    return problems


# -- the gate ---------------------------------------------------------------------------------------
def _folder_machines(arch):
    return arch.conf_dir_machines()


def server_ends(repo):
    """{(folder, accept port): [(seen, service)]} of every server service of the repository."""
    out = {}
    for seen, services in repo.all("stunnel"):
        for s in services:
            if not s.is_client and s.accept_port:
                out.setdefault((seen.folder, s.accept_port), []).append((seen, s))
    return out


def link_key(arch, book, servers, seen, s):
    """The server end a service belongs to: (folder, port), or ('?', connect) when unknown."""
    if not s.is_client:
        return (seen.folder, s.accept_port)
    if s.connect is None:
        return ("?", f"{seen.real}:{s.name}")
    host, port = s.connect
    address = resolve(host, book) if host else None
    if address:
        for c in arch.containers():
            if address in (c.address, c.public_address):
                for d in layout.dirs(arch, c.name):
                    if (d, port) in servers:
                        return (d, port)
    candidates = [k for k in servers if k[1] == port]
    if len(candidates) == 1:
        return candidates[0]
    return ("?", f"{host}:{port}")


def spec_ends(arch, repo):
    """({(real, service line): link}, [findings for link ends missing from an existing folder])."""
    owners, missing = {}, []
    for link in arch.links():
        for side in ("server", "client"):
            container = getattr(link, side)
            port = link.server_accept if side == "server" else link.client_accept
            dirs = layout.dirs(arch, container.name)
            found = [(seen, s) for seen, services in repo.files(dirs, "stunnel") for s in services
                     if s.accept_port == port and s.is_client == (side == "client")]
            for seen, s in found:
                owners[(seen.real, s.line)] = link
            if not found and repo.has(dirs, "stunnel") and repo.complete(dirs):
                folder = layout.stunnel_dir(arch, container.name)
                missing.append(Finding(REQ, folder, None,
                                       f"link {link.name}: no {side} service (client = {'yes' if side == 'client' else 'no'}) "
                                       f"accepting on port {port} in {folder}/*.conf; expected one with "
                                       f"ciphers = PSK and PSKsecrets = {link.psk_path}"))
    return owners, missing


def shared(uses, what):
    """uses: [(key, value, rel, line, label)] -> a finding for each use of a value another link owns."""
    first = {}
    for key, value, rel, line, label in uses:
        owner = first.setdefault(value, (key, rel, line, label))
        if owner[0] != key:
            yield Finding(REQ, rel, line, f"{label} uses {what} {value}, which {owner[3]} also uses "
                                          f"({owner[1]}:{owner[2]}), a different link; each link needs its own {what}")


def check(arch, repo):
    owners, findings = spec_ends(arch, repo)
    book = address_book(arch)
    servers = server_ends(repo)
    files, identities = [], []
    for seen, services in repo.all("stunnel"):
        for r in services.repeats:
            findings.append(Finding(REQ, seen.real, r.line, f"{r.what} repeats line {r.first}; stunnel reads "
                                                            "both (a repeated section is a second service): "
                                                            "give each its own name"))
        for s in services:
            link = owners.get((seen.real, s.line))
            label = f"[{s.name}] ({'client' if s.is_client else 'server'}" + (f", link {link.name})" if link else ")")
            findings += [Finding(REQ, seen.real, line, f"service {label} {msg}")
                         for line, msg in service_problems(s, link.psk_path if link else None)]
            key = link_key(arch, book, servers, seen, s)
            for option, bucket in (("psksecrets", files), ("pskidentity", identities)):
                opt = s.get(option)
                if opt:
                    bucket.append((key, opt.value, seen.real, opt.line, f"service {label} in {seen.real}"))
    findings += shared(sorted(files, key=lambda u: (u[2], u[3])), "PSK file")
    findings += shared(sorted(identities, key=lambda u: (u[2], u[3])), "PSK identity")
    return findings
