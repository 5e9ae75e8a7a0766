"""NET-8 from the files: no stunnel client service (client = yes) on a machine with a public address (a
host, or a container the spec gives a public_address: a reverse proxy) accepts on every address (no
address, `accept = 27017`, or a wildcard: 0.0.0.0, ::, *) or on a public address: the client's
plaintext end is the database itself, and on a public address anyone reaches it
(2024-01-04-setting-up-stunnel: MongoDB answered on a proxy's public address and was wiped for ransom).

The rule (`stunnel_client_problems`) is shared with the live audit (checks/test_outside.py, which judges
stunnel's configuration as each machine reads it); the gate applies it to the stunnel files
(stunnel/*.conf, read by confs/stunnel.py) in the folders of the machines with a public address, with
'internal' as the spec's internal network of the machine's host. Server services (client = no) are
NET-2's: they are the link's public end."""
import ipaddress

from confs import layout
from confs.findings import Finding

REQ = "NET-8"


def is_wildcard(host):
    """Does an accept host mean every address? (confs.stunnel.host_of gives None for a bare port,
    0.0.0.0, :: and *.)"""
    return host in (None, "", "*", "0.0.0.0", "::", "[::]")


def stunnel_client_problems(files, internal):
    """[(file, line, message)] of stunnel client services accepting on a wildcard or a public address.
    files: {file: [confs.stunnel.Service]}; internal(address) -> is it on the internal network?"""
    out = []
    for file, services in files.items():
        for s in services:
            accept = s.get("accept")
            if not s.is_client or not accept:
                continue
            host = s.accept_host
            if is_wildcard(host):
                shown = f"port {accept.value.strip()} with no address" if ":" not in accept.value else accept.value
                out.append((file, accept.line, f"[{s.name}] client accepts on {shown}: every address, public "
                                               "ones included; accept on the internal address only"))
                continue
            try:
                ipaddress.ip_address(host.strip("[]"))
            except ValueError:
                continue   # a name: resolved by stunnel, not judged here
            if not internal(host.strip("[]")):
                out.append((file, accept.line, f"[{s.name}] client accepts on the public address "
                                               f"{accept.value}; accept on the internal address only"))
    return out


def public_machines(arch):
    """The spec's machines with a public address: every host, and each container with a public_address."""
    return [m.name for m in arch.machines() if m.name in arch.spec.hosts or getattr(m, "public_address", None)]


def examined(arch, repo):
    return sorted({seen.real for m in public_machines(arch) for seen, _ in repo.files(layout.dirs(arch, m), "stunnel")})


def check(arch, repo):
    findings = []
    for machine in public_machines(arch):
        host = arch.host_of(machine)
        files = {seen.real: services for seen, services in repo.files(layout.dirs(arch, machine), "stunnel")}
        findings += [Finding(REQ, file, line, f"on {machine} (a machine with a public address): {message}")
                     for file, line, message in
                     stunnel_client_problems(files, lambda a, host=host: arch.internal(host, a))]
    return findings
