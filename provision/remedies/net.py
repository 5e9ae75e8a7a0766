"""Network and secrets (NET-*, and WEB-3's public listener): PSKs, public interfaces and ports, the
Proxmox web interface, certificates."""
import secrets
from io import StringIO

from pyinfra import host
from pyinfra.api import FactBase, operation
from pyinfra.operations import files

from provision import units
from provision.remedies import Action, Manual, _facts, _ids, _unit, first_problem, guest_lines, remedy


# --- facts and operations composed from pyinfra's own (diff and idempotence by pyinfra) -----------------

class CertificateOnDisk(FactBase):
    """A certificate file as the decision needs it: valid for at least `seconds` more (openssl x509
    -checkend), and the DNS names of its subjectAltName. False when the file cannot be read."""

    def command(self, path, seconds):
        return (f"openssl x509 -noout -in {path} >/dev/null 2>&1 || {{ echo unreadable; exit 0; }}; "
                f"openssl x509 -checkend {int(seconds)} -noout -in {path} >/dev/null 2>&1 "
                f"&& echo valid || echo expiring; openssl x509 -noout -ext subjectAltName -in {path} 2>/dev/null")

    def process(self, output):
        if not output or output[0].strip() not in ("valid", "expiring"):
            return False
        names = tuple(w.strip()[4:] for l in output[1:] for w in l.split(",") if w.strip().startswith("DNS:"))
        return {"valid": output[0].strip() == "valid", "names": names}


def certificate_fix(name, served_covers, served_long_enough, disk=None):
    """The one decision of NET-6's fix (swap it for checks' certificate_problem when merged): 'reload'
    only when only the served certificate is old (its names right, its dates short) and the file on disk
    is good (read, valid long enough, naming `name`); else the reason a person must act, saying which
    certificate is wrong (served or on disk) and how (dates or names). `disk` None: not read yet (the
    served side alone decides whether a reload can be planned at all)."""
    from fixtures.probes.network import Served
    if not served_covers:
        return (f"the served certificate does not name {name} (by names): nginx serves another certificate for it "
                "(the server block or its ssl_certificate); a reload does not change that")
    if served_long_enough:
        return f"the served certificate of {name} is valid long enough and names it: nothing to reload"
    if disk is None:
        return "reload"
    if not disk:
        return "the certificate file on disk cannot be read: the served one expires (by dates)"
    if not disk["valid"]:
        return "the certificate file on disk expires too (by dates): renew it"
    if not Served(0, names=disk["names"]).covers(name):
        return (f"the certificate file on disk does not name {name} (by names: {', '.join(disk['names']) or 'none'}); "
                "the served one expires (by dates): a certificate for the name is needed")
    return "reload"


@operation()
def reload_if_renewed(certificates: list, seconds: int, site: str, service: str):
    """Reload the web server when every certificate file the site names is good on disk (valid long
    enough, naming the site) while the served one expires: a renewal that was never loaded. Nothing
    otherwise (a person acts: the fallback)."""
    if all(certificate_fix(site, True, False, host.get_fact(CertificateOnDisk, path=c, seconds=seconds)) == "reload"
           for c in certificates):
        yield from units.service._inner(service=service, action="reload")


# --- network and secrets ---------------------------------------------------------------------------

def _keys(facts, path):
    entry = facts.psk_files.get(path) if facts else None
    return {k for _, k in entry["entries"]} if entry else set()


def _config_steps(f, arch, audit, link):
    """A manual step on the end (server or client) whose stunnel configuration breaks the rule, with the
    file and line, as the check reads them (the static gate's rule); the PSK files named."""
    from confs.check_stunnel import service_problems
    unit = _unit(arch, "stunnel")
    out = []
    for end, port, client in ((link.server, link.server_accept, False), (link.client, link.client_accept, True)):
        facts = audit.facts(end.name)
        if facts is None:
            continue
        side = f"the {'client' if client else 'server'} end of link {link.name}"
        found = [(file, svc) for file, services in facts.stunnel_files.items() for svc in services
                 if svc.accept_port == port and svc.is_client == client]
        lines = []
        for file, svc in found:
            secrets_file = svc.get("psksecrets")
            lines += [f"# {file}:{line} [{svc.name}]: {message}" for line, message in service_problems(svc, link.psk_path)]
            if secrets_file is not None and secrets_file.value != link.psk_path:
                lines.append(f"# PSK files: {secrets_file.value} (named now), {link.psk_path} (the link's own)")
        if not found:
            lines.append(f"# no {'client' if client else 'server'} service accepting on port {port} in "
                         f"{', '.join(facts.stunnel_files) or 'any stunnel file'}")
        if lines:
            out.append(Manual(end.name, f.requirement, link.name, f"{end.name} is {side}: its stunnel configuration "
                              f"breaks the rule ({link.psk_path} is the link's PSK file)",
                              [f"# in {end.name} ({side}):", *lines, f"systemctl restart {unit}"]))
    return out


@remedy("NET-3")
def fresh_psk(f, arch, audit):
    """The link(s) to re-key: this one if its PSK is missing or shares a key with an earlier link, else
    each later link sharing its key (so of two links sharing a key, the first keeps it). A PSK file is
    rewritten only when every key it holds is also held by another link (or it holds none): no key is
    lost. Configuration problems (ciphers, PSKsecrets) are manual steps on the end that has them."""
    links = arch.links()
    per_end = {(l.name, e.name): _keys(_facts(audit, e.name), l.psk_path) for l in links for e in (l.server, l.client)}
    keys = {l.name: per_end[(l.name, l.server.name)] | per_end[(l.name, l.client.name)] for l in links}
    me = f.target
    index = next(i for i, l in enumerate(links) if l.name == me.name)
    if not keys[me.name] or any(keys[me.name] & keys[l.name] for l in links[:index]):
        rekey = [me]
    else:
        rekey = [l for l in links[index + 1:] if keys[me.name] & keys[l.name]]
    unit = _unit(arch, "stunnel")
    out = []
    for link in rekey:
        elsewhere = set().union(*(keys[l.name] for l in links if l.name != link.name))
        lost = [e.name for e in (link.server, link.client) if per_end[(link.name, e.name)] - elsewhere]
        if lost:
            out.append(Manual(lost[0], f.requirement, link.name, f"link {link.name} shares a key, but {link.psk_path} on "
                              f"{' and '.join(lost)} also holds key(s) no other link holds: rewriting it would lose "
                              "them; a person gives the link a fresh key",
                              [f"# on {link.server.name} and {link.client.name}: {link.psk_path} (identity:key lines, "
                               "never printed): one fresh line, the same on both ends",
                               f"systemctl restart {unit}  # on both"]))
            continue
        line = f"{link.name}-{secrets.token_hex(4)}:{secrets.token_hex(32)}\n"   # identity:key, never printed
        for end in (link.server, link.client):
            out.append(Action(end.name, f.requirement, link.name, f"give link {link.name} a fresh PSK of its own in {link.psk_path} "
                              f"(same on both ends; content not shown) and restart {unit}",
                              [(files.put, dict(name=f"write a fresh PSK to {link.psk_path}", src=StringIO(line),
                                                dest=link.psk_path, user="root", mode="600")),
                               (units.service, dict(name=f"restart {unit}", service=unit, action="restart"))],
                              secret=True, subject=f"psk {link.name}"))
    return out + _config_steps(f, arch, audit, me)


@remedy("NET-4")
def private_psk_files(f, arch, audit):
    c = f.target
    facts = _facts(audit, c.name)
    ops = []
    for l in arch.links():
        if c.name not in (l.server.name, l.client.name):
            continue
        entry = facts.psk_files.get(l.psk_path) or {}
        group = entry.get("group", "")
        mode = "640" if group.startswith("stunnel") else "600"   # stunnel's group may keep reading it
        ops.append((files.file, dict(name=f"{l.psk_path}: owner root, mode {mode}", path=l.psk_path, user="root",
                                     mode=mode)))
    mode, _, _ = facts.evidence("psk_dir")
    if int(mode, 8) & 0o007:
        d = arch.spec.stunnel.psk_dir
        ops.append((files.directory, dict(name=f"{d}: closed to others (mode {int(mode, 8) & 0o770:o})", path=d,
                                          mode=f"{int(mode, 8) & 0o770:o}")))
    return [Action(c.name, *_ids(f), "make its PSK files readable by root alone", ops)] if ops else []


@remedy("NET-1")
def public_nic(f, arch, audit):
    c = f.target
    return [Manual(c.host, *_ids(f), f"{c.name} has an interface outside the internal network "
                   f"{arch.networks[c.host]}: {first_problem(f)}",
                   [f"# on {c.host}: find the container's extra interface, remove it, restart the container",
                    f"pct config {c.id} | grep ^net", f"pct set {c.id} --delete netN  # N: the interface found above",
                    f"pct reboot {c.id}"])]


def _exposed(f, arch, facts, web):
    """The listeners behind a NET-2 (web=False) or WEB-3 (web=True) finding, as the checks judge them."""
    m = f.target
    allowed = arch.public_ports(m.name)
    if not web:
        allowed = allowed | {80, 443} | ({arch.spec.proxmox.web_port} if m.role == "host" else set())
    internal = lambda a: arch.internal(m.host, a)
    return [s for s in facts.listening if (s.port in (80, 443)) == web and s.port not in allowed
            and facts.public_facing(s.address, internal)]


def _owner_lines(arch, m, facts, sock):
    """What on-call needs for one public listener: its processes, the unit, and whether it is one of the
    machine's own services (then bound to the internal address, never stopped)."""
    exes = facts.listening_binaries if facts.sent("listen_exe") else {}
    own = {}
    for name, proc in arch.runs(m.role):
        for comm in ([proc.comm] if isinstance(proc.comm, str) else proc.comm or []):
            own[comm] = (name, proc)
    names = set(sock.names) | {exes.get(p, "-").rsplit("/", 1)[-1] for p in sock.pids}
    mine = next((own[n] for n in sorted(names) if n in own), None)
    who = ", ".join(f"pid {p} {exes.get(p, '?')}" for p in sock.pids) or \
        (", ".join(sock.names) or "an owner the audit could not see (ss -p needs root)")
    address = m.address if m.name not in arch.spec.hosts else arch.spec.hosts[m.name].internal_address
    if mine:
        name, proc = mine
        return (f"{sock.address}:{sock.port} is {m.name}'s own {name} (unit {proc.unit}; {who}): keep it running, "
                f"bind it to the internal address {address or '(the internal one)'} only",
                [f"# in {m.name}: {name}'s listen directive for port {sock.port} -> {address or '<internal address>'}:"
                 f"{sock.port}", f"grep -rn -i -e 'listen.*{sock.port}' /etc 2>/dev/null",
                 f"systemctl restart {proc.unit}  # then: ss -tlnp 'sport = :{sock.port}'"])
    pids = " ".join(str(p) for p in sock.pids) or "<pid from ss -tlnp>"
    return (f"{sock.address}:{sock.port} is held by {who}, no service of the {m.role} role",
            [f"# in {m.name}: the process and the unit owning port {sock.port}",
             f"ss -tlnp 'sport = :{sock.port}'", f"ps -o pid,user,args -p {pids}",
             f"systemctl status {pids.split()[0]}  # names its unit",
             "systemctl disable --now <that unit>  # or bind it to the internal address in its configuration"])


def _port_steps(f, arch, audit, why, web):
    m = f.target
    facts = audit.facts(m.name)
    socks = _exposed(f, arch, facts, web) if facts is not None else []
    if not socks:
        return [Manual(m.name, *_ids(f), f"{why}: {first_problem(f)}",
                       [f"# on {m.name}: who listens, then stop it or bind it to the internal address", "ss -tlnp",
                        "ps -o pid,user,args -p <pid from ss>", "systemctl status <pid>  # names its unit",
                        "systemctl disable --now <its unit>  # or bind it to the internal address in its "
                        "configuration"])]
    out = []
    for sock in socks:
        what, commands = _owner_lines(arch, m, facts, sock)
        out.append(Manual(m.name, *_ids(f), f"{why}: {what}", commands))
    return out


@remedy("NET-2")
def port_outside(f, arch, audit):
    return _port_steps(f, arch, audit, "an internal port is reachable outside the internal network", web=False)


@remedy("WEB-3")
def public_listener(f, arch, audit):
    return _port_steps(f, arch, audit, "a web port listens for the public outside the reverse proxy", web=True)


@remedy("NET-5")
def proxmox_public(f, arch, audit):
    h = f.target
    port = arch.spec.proxmox.web_port
    return [Manual(h.name, *_ids(f), f"the Proxmox web interface (port {port}) is reachable from the public",
                   [f"# on {h.name}: drop it in the host firewall (nftables), then check from outside",
                    f"nft add rule inet filter input ip daddr {h.public_address} tcp dport {port} drop",
                    "nft list ruleset > /etc/nftables.conf  # keep it across reboots",
                    f"# from outside: nc -zv {h.public_address} {port} must fail; use ssh -L {port}:localhost:{port}"])]


@remedy("NET-6")
def certificate(f, arch, audit):
    site = f.target
    facts = _facts(audit, site.machine)
    certs = sorted({s.certificate for s in facts.nginx_servers if str(site) in s.names and s.certificate})
    unit = _unit(arch, "nginx")
    seconds = arch.spec.web.tls_min_days * 86400
    served = facts.served_certificates.get(str(site))
    checks = [f"openssl x509 -noout -enddate -ext subjectAltName -in {c}  # the file on disk: dates and names"
              for c in certs]
    look = [f"# on {site.machine}: what is served, and the file(s) nginx names for {site}",
            f"echo | openssl s_client -connect localhost:443 -servername {site} 2>/dev/null | "
            "openssl x509 -noout -enddate -ext subjectAltName", *checks]
    if served is None or served.not_after is None:
        return [Manual(site.machine, *_ids(f), f"no certificate is read as served for {site}: {first_problem(f)}",
                       look + [f"nginx -t && systemctl reload {unit}"])]
    now = facts.now
    long_enough = served.not_after.timestamp() - now >= seconds
    why = certificate_fix(str(site), served.covers(str(site)), long_enough)
    renew = Manual(site.machine, *_ids(f), f"the served certificate of {site} expires (by dates) and the file on "
                   "disk is no better: it expires too (by dates) or does not name the site (by names); the "
                   "commands below tell which: renew it",
                   look + [f"certbot renew --cert-name {site}", f"nginx -t && systemctl reload {unit}"])
    if why != "reload":
        return [Manual(site.machine, *_ids(f), why, look + [f"nginx -t && systemctl reload {unit}"])]
    if not certs:
        return [renew]
    return [Action(site.machine, *_ids(f), f"reload {unit}: only the served certificate of {site} is old (by dates); "
                   f"the file(s) on disk, checked before reloading, are valid {arch.spec.web.tls_min_days}+ days and "
                   "name the site",
                   [(reload_if_renewed, dict(name=f"reload {unit} if {', '.join(certs)} are renewed and name {site}",
                                             certificates=certs, seconds=seconds, site=str(site), service=unit))],
                   fallback=renew, subject=f"reload {unit}")]




# --- routes (NET-7) and certificate renewal (NET-9) -------------------------------------------------

@remedy("NET-7")
def routes(f, arch, audit):
    """Never automatic: changing a machine's default route or its gateway can cut it (and the audit) off.
    A manual step with the commands to look, put the route back, and make it persistent."""
    m = f.target
    gw = arch.gateway(m.name)
    host = arch.host_of(m.name)
    persist = ([f"# persistently: /etc/network/interfaces on {host}: one `gateway {gw}` line, on the public bridge",
                "ifreload -a  # Proxmox's ifupdown2"] if m.name == host else
               [f"# persistently, on {host}: one interface of the container with gw= (the spec's), none on the others",
                f"pct config {m.id}  # netN lines",
                f"pct set {m.id} -net<N> <the same options>,gw={gw}  # restarts the interface"])
    runs = dict.fromkeys(run for run, _ in guest_lines(f))
    guests = [c for run in runs for c in (f"{run} ip route show default", f"{run} ip neigh show")]
    if guests:   # guests outside the spec: no spec gateway; their own network configuration is theirs
        guests = [f"# on {m.name}, in each guest outside the spec the check names (its gateway: the one of the "
                  "network it is on now, after a move between hosts)", *guests]
    return [Manual(m.name, *_ids(f), f"routes of {m.name}: {first_problem(f)}",
                   [f"# on {m.name}:", "ip route show default", "ip neigh show", f"ping -c 3 {gw}",
                    f"ip route replace default via {gw}  # the spec's gateway (not persistent)", *persist, *guests])]


@remedy("NET-9")
def renewal(f, arch, audit):
    """Enabling and starting the renewal timer is automatic (it changes no certificate until one is due); a
    missing renewal configuration or plugin, a failed renewal, a missing OnFailure= and a served
    certificate older than the newest on disk are manual steps with their commands."""
    m = f.target
    r = arch.spec.web.renewal
    message = f.message
    out = []
    if f"{r.timer} is" in message:
        out.append(Action(m.name, *_ids(f), f"enable and start {r.timer} on {m.name}: certificates are renewed "
                          "before they expire", [(units.service, dict(name=f"enable and start {r.timer}",
                                                                    service=r.timer, action="start", enabled=True))],
                          subject=r.timer))
    out.append(Manual(m.name, *_ids(f), f"certificate renewal on {m.name}: {first_problem(f)}",
                      [f"# on {m.name}:", f"ls {r.config_dir}/renewal/ {r.config_dir}/live/",
                       "certbot certificates", "certbot plugins  # the authenticator/installer each renewal conf names",
                       "apt install python3-certbot-<plugin>  # e.g. python3-certbot-nginx, python3-certbot-dns-ovh",
                       f"systemctl status {r.service} --no-pager; journalctl -u {r.service} -n 50 --no-pager",
                       f"systemctl edit {r.service}  # [Unit] OnFailure=email-failures@certbot.service",
                       "certbot renew --dry-run",
                       "systemctl reload nginx  # serve the newest certificate on disk"]))
    return out
@remedy("WEB-5")
def name_unanswered(f, arch, audit):
    """A public name that does not answer a visitor: nothing to do blindly (an address, a route, DNS, a
    certificate or the application): the on-call guide's first looks, from outside then on the proxy."""
    m = f.target
    addresses = ", ".join(str(a) for a in [m.public_address] if a) or "its public address"
    return [Manual(m.name, *_ids(f), f"a public name served by {m.name} does not answer from outside",
                   ["# from the auditor (outside the datacenters): what a visitor gets",
                    "dig +short A <name>; dig +short AAAA <name>   # the spec's address?",
                    "curl -sv --max-time 10 https://<name>/ -o /dev/null   # handshake, certificate, status",
                    f"# on {m.name}: is {addresses} still on its interface, the default route and gateway up?",
                    "ip -br addr; ip route; ip neigh",
                    "# a lost address comes back from the Proxmox netN line: pct reboot, or ip addr add <addr>/<len> dev <if>",
                    "curl -s -o /dev/null -w '%{http_code}' -H 'Host: <name>' http://<application>:<nginx port>/"])]


@remedy("NET-8")
def internal_answers_outside(f, arch, audit):
    """Something internal answering from outside: the listener, the stunnel client or the application's
    connection must change (a person decides; stopping a service can take a site down)."""
    m = f.target
    runs = dict.fromkeys(run for run, _ in guest_lines(f))
    guests = [c for run in runs for c in (f"{run} cat /etc/stunnel/*.conf", f"{run} ss -Htn state established",
                                          f"{run} ss -Htn state syn-sent")]
    if guests:   # guests outside the spec: their stunnel and their applications are theirs to change
        guests = [f"# on {m.name}, in each guest outside the spec the check names", *guests]
    return [Manual(m.name, *_ids(f), f"something internal answers on {m.name}'s public addresses, or an "
                   "application connects to its own site's public address",
                   [f"# on {m.name}: who listens there, on which address",
                    "ss -Htlnp",
                    f"# a stunnel client: accept = <internal address>:<port> in {arch.spec.stunnel.config}, then "
                    f"systemctl restart {_unit(arch, 'stunnel')}",
                    "# an application: reach the service at its internal address (its configuration), "
                    "ss -Htn state syn-sent shows the hanging connections",
                    "# from outside, after: nc -zv <public address> <port> must fail", *guests])]
