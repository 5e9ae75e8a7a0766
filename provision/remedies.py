"""One remediation per requirement, keyed by requirement ID, from a failing check's target, the facts the
audit read and the spec.

A remediation returns steps: an `Action` (pyinfra operations that make the check green, safe to run
unattended) or a `Manual` step (no safe automatic fix: the exact commands a person would run; never
applied). An Action may carry a `fallback` Manual step: when pyinfra finds that none of its operations
would change anything (e.g. the certificate on disk is no newer than the one served), the plan shows the
fallback instead. Nothing here destroys data: no dataset or snapshot is destroyed, no forced receive, no
user file deleted; what is in the way is renamed aside, a folder is replaced only when empty.
"""
import re
import secrets
from dataclasses import dataclass, field
from io import StringIO

from pyinfra import host
from pyinfra.api import FactBase, StringCommand, operation
from pyinfra.facts.files import FileContents, Link
from pyinfra.operations import files, server

from fixtures.probes import MissingEvidence
from provision import units
from specs.architecture import Chain, ContainerRef, HostRef, JobRef, LinkRef, Replica


@dataclass
class Manual:
    machine: str
    requirement: str
    target: str
    what: str
    commands: list = field(default_factory=list)


@dataclass
class Action:
    machine: str
    requirement: str
    target: str
    what: str                        # one line: what changes and why
    ops: list                        # [(pyinfra operation, kwargs)], kwargs with a `name`
    secret: bool = False             # writes a secret: no diff, no content anywhere
    fallback: Manual = None          # shown instead when pyinfra finds nothing to change
    subject: str = ""                # what it acts on, so two findings planning the same fix plan it once

    @property
    def key(self):
        return (self.machine, self.requirement, self.subject or self.target)


REMEDIES = {}


def remedy(*req_ids):
    def register(fn):
        for r in req_ids:
            REMEDIES[r] = fn
        return fn
    return register


def steps_for(finding, arch, audit):
    """The steps that would turn one failing check green (a Manual one when no fix is known)."""
    fn = REMEDIES.get(finding.requirement)
    try:
        steps = fn(finding, arch, audit) if fn else None
    except MissingEvidence as exc:
        return [Manual(machine_of(finding.target, arch), finding.requirement, str(finding.target),
                       f"cannot plan a fix without evidence: {exc}", [])]
    if steps:
        return steps
    return [Manual(machine_of(finding.target, arch), finding.requirement, str(finding.target),
                   f"no automatic fix for {finding.requirement}: {first_problem(finding)}", [])]


def first_problem(finding):
    return next((l.strip(" -") for l in finding.message.splitlines()[1:] if l.strip()),
                finding.message[:200]) or "see the check's message"


def machine_of(target, arch):
    """The machine a failing check's target lives on (where its fix would run)."""
    if isinstance(target, (ContainerRef, HostRef)):
        return target.name
    if isinstance(target, Chain):
        return target.proxy.name
    if isinstance(target, LinkRef):
        return target.server.name
    if isinstance(target, (Replica, JobRef)):
        return target.target
    if isinstance(target, str) and target in arch.spec.databases:   # a database kind: its own container
        return arch.spec.databases[target].container
    if getattr(target, "machine", None):                            # a TLS site
        return target.machine
    if target == arch.spec.web.images.public_name:
        return arch.spec.web.images.host
    return getattr(target, "host", None) or "-"     # pools, staging clones, job units


def _ids(f):
    return f.requirement, str(f.target)


def _facts(audit, machine):
    """The audit's facts of a machine; MissingEvidence (no plan without evidence) when it was not read."""
    facts = audit.facts(machine)
    if facts is None:
        raise MissingEvidence(f"{machine} was not read")
    return facts


def _unit(arch, process):
    return arch.spec.processes[process].unit


# --- facts and operations composed from pyinfra's own (diff and idempotence by pyinfra) -----------------

class CertificateValid(FactBase):
    """Is the certificate in a file valid for at least `seconds` more (openssl x509 -checkend)?"""

    def command(self, path, seconds):
        return (f"openssl x509 -checkend {int(seconds)} -noout -in {path} >/dev/null 2>&1 "
                "&& echo valid || echo expiring")

    def process(self, output):
        return bool(output) and output[0].strip() == "valid"


class FolderEntries(FactBase):
    """How many entries a real folder (not a link) holds; None when the path is not such a folder."""

    def command(self, path):
        return f"if [ -d {path} ] && [ ! -L {path} ]; then ls -A {path} | wc -l; else echo none; fi"

    def process(self, output):
        value = output[0].strip() if output else "none"
        return int(value) if value.isdigit() else None


@operation()
def forward_to(path: str, wrong: str, right: str):
    """Rewrite `proxy_pass` lines of an nginx file that forward to `wrong` so they forward to `right`."""
    lines = host.get_fact(FileContents, path=path) or []
    pattern = re.compile(r"(proxy_pass\s+\w+://)" + re.escape(wrong) + r"(?=[/;\s])")
    text = "".join(pattern.sub(lambda m: m.group(1) + right, l) + "\n" for l in lines)
    yield from files.put._inner(src=StringIO(text), dest=path)


@operation()
def reload_if_renewed(certificate: str, seconds: int, service: str):
    """Reload the web server when the certificate file on disk is valid long enough (a renewal that was
    never loaded); nothing when the file itself expires (a person renews it: the fallback)."""
    if host.get_fact(CertificateValid, path=certificate, seconds=seconds):
        yield from units.service._inner(service=service, action="reload")


@operation()
def link_in_place_of_empty_folder(path: str, target: str):
    """Make `path` a link to `target`; an empty folder in its place is removed first (rmdir only
    removes an empty one), a folder holding files is left alone (nothing planned)."""
    link = host.get_fact(Link, path=path)
    if link and link.get("link_target") == target:
        return
    if link:   # a link to elsewhere: pyinfra points it at the target
        yield from files.link._inner(path=path, target=target)
        return
    entries = host.get_fact(FolderEntries, path=path)
    if entries:
        return   # it holds files: a person moves them (the fallback)
    if entries == 0:
        yield StringCommand("rmdir", path)
    yield StringCommand("ln", "-s", target, path)


@operation()
def clone_newest(origin: str, clone: str, aside: str):
    """Make `clone` a clone of the newest snapshot of `origin`; a dataset already named `clone` (not a
    clone of it) is renamed to `aside` first, its data kept."""
    yield StringCommand(
        "sh", "-c",
        f"'set -e; o=$(zfs get -H -o value origin {clone} 2>/dev/null || true); "
        f"case \"$o\" in {origin}@*) exit 0;; esac; "
        f"if [ -n \"$o\" ]; then zfs umount {clone} 2>/dev/null || true; "
        f"for i in $(seq 20); do zfs rename {clone} {aside} && break; sleep 0.5; done; "
        f"zfs get -H -o value origin {clone} >/dev/null 2>&1 && exit 1; fi; "
        f"s=$(zfs list -H -t snapshot -o name -s creation -d 1 {origin} | tail -n 1); "
        f"[ -n \"$s\" ] || {{ echo no snapshot of {origin}; exit 1; }}; zfs clone \"$s\" {clone}'")


# --- applications --------------------------------------------------------------------------------

@remedy("APP-2")
def start_services(f, arch, audit):
    c = f.target
    facts = _facts(audit, c.name)
    ops, out = [], []
    for name, proc in arch.runs(c.role):
        state = facts.services.get(proc.unit)
        if state is not None and state.enabled.startswith("masked"):   # someone said "never start it"
            out.append(Manual(c.name, *_ids(f), f"{proc.unit} is masked in {c.name}: someone forbade it to start; "
                              "a person finds out why before unmasking it",
                              [f"# in {c.name}:", f"ls -l /etc/systemd/system/{proc.unit}.service  # -> /dev/null",
                               f"journalctl -u {proc.unit} -n 50",
                               f"systemctl unmask {proc.unit} && systemctl enable --now {proc.unit}"]))
            continue
        start = not facts.running(proc) or (state is not None and not state.is_active)
        enable = state is None or not state.is_enabled
        if start or enable:
            ops.append((units.service, dict(name=f"{'start' if start else 'keep'} {proc.unit}"
                                            f"{', enable it at boot' if enable else ''}", service=proc.unit,
                                            action="start" if start else None, enabled=True if enable else None)))
    if ops:
        out.insert(0, Action(c.name, *_ids(f), "start and enable at boot the services its role runs", ops))
    return out


@remedy("APP-3")
def stop_databases(f, arch, audit):
    """A database server in an application container (the check's reasons: a database process by its
    name, or whatever answers on a database port or runs a database binary): disable its unit at boot
    and stop its processes. Its files stay on disk; nothing is deleted."""
    c = f.target
    facts = _facts(audit, c.name)
    ops, pids = [], {}
    for name, proc in arch.database_processes():
        found = facts.running(proc)
        if found:
            ops.append((units.service, dict(name=f"stop {proc.unit}, disable it at boot", service=proc.unit,
                                            action="stop", enabled=False)))
            pids.update({p.pid: f"{name} ({p.args[:60]})" for p in found})
    ports = arch.database_ports()
    comms = {w for _, proc in arch.database_processes()
             for w in ([proc.comm] if isinstance(proc.comm, str) else proc.comm or [])}
    exes = facts.listening_binaries
    hidden = []
    for sock in facts.listening:
        binaries = {exes.get(p, "-").rsplit("/", 1)[-1] for p in sock.pids}
        if sock.port in ports or binaries & comms:
            pids.update({p: f"{exes.get(p, '?')} answering on {sock.address}:{sock.port}" for p in sock.pids
                         if p not in pids})
            if not sock.pids:   # ss shows no owner (another user's process, read without CAP_SYS_PTRACE)
                hidden.append(sock)
    pids.update({pid: what for pid, what in _identified_databases(facts, arch, hidden).items() if pid not in pids})
    named = {p.pid: p for _, proc in arch.database_processes() for p in facts.running(proc)}
    # a socket with no visible owner is left to a person, unless a server found by name names its port
    hidden = [s for s in hidden if not any(str(s.port) in p.argv for p in named.values())]
    # a server started by hand (or under another name) is not its unit's: stop its processes too
    ops += [(server.shell, dict(name=f"stop pid {pid}: {what}", commands=[f"kill {pid} 2>/dev/null || true"]))
            for pid, what in sorted(pids.items())]
    out = [Action(c.name, *_ids(f), "stop and disable the database server found in an application container "
                  "(its files stay)", ops)] if ops else []
    for s in hidden:
        out.append(Manual(c.name, *_ids(f), f"{s.address}:{s.port} ({ports.get(s.port, 'a database')}'s port) answers "
                          f"in {c.name}, its process not visible to the audit: find it and stop it (its files stay)",
                          [f"# in {c.name}, as root:", f"ss -tlnp 'sport = :{s.port}'", f"fuser -v {s.port}/tcp",
                           "ps -o pid,user,args -p <pid>; kill <pid>; systemctl disable <its unit, if any>"]))
    return out


def _identified_databases(facts, arch, hidden):
    """{pid: what} of database servers told by what they are (APP-3): a socket answering a database's
    protocol (its owner, or the socket appended to `hidden` when no owner is visible), a process whose
    program is a database package's binary. Unread evidence adds nothing (the check errors on it)."""
    from fnmatch import fnmatch

    from fixtures.probes import MissingEvidence
    out = {}
    try:
        answers = {(a.address, a.port): a.kinds for a in facts.evidence("db_protocols") if a.kinds}
    except MissingEvidence:
        answers = {}
    for sock in facts.listening:
        kinds = answers.get((sock.address, sock.port))
        if kinds:
            out.update({p: f"answering the {'/'.join(kinds)} protocol on {sock.address}:{sock.port}" for p in sock.pids})
            if not sock.pids and sock not in hidden:
                hidden.append(sock)
    patterns = [p for _, proc in arch.database_processes() for p in proc.binaries]
    try:
        exes = facts.evidence("exe_packages")
    except MissingEvidence:
        exes = {}
    for pid, exe in exes.items():
        if any(fnmatch(path, p) for path in exe.packaged_paths() for p in patterns):
            out.setdefault(pid, f"{exe.path}, a database server's program")
    return out


@remedy("APP-1")
def second_application(f, arch, audit):
    c = f.target
    facts = _facts(audit, c.name)
    others = {n for app, a in arch.spec.applications.items() if app != c.application for n in a.public_names}
    sites = sorted({s.file for s in facts.nginx_servers if set(s.names) & others})
    unit = _unit(arch, "nginx")
    return [Manual(c.name, *_ids(f), f"{c.name} also serves another application's name ({', '.join(sites)}); "
                   "which container should serve it is a person's decision",
                   [f"# in {c.name}: move the site aside (kept), check, reload", *[
                       f"mv {s} /root/{s.rsplit('/', 1)[-1]}.moved-$(date +%Y%m%d)" for s in sites],
                    f"nginx -t && systemctl reload {unit}"])]


# --- databases -----------------------------------------------------------------------------------

@remedy("DB-1")
def database_elsewhere(f, arch, audit):
    db = arch.spec.databases[f.target]
    proc = arch.spec.processes[db.process]
    out = []
    for c in arch.machines():
        facts = audit.facts(c.name)
        if c.name == db.container or c.role == "application" or facts is None:
            continue
        try:
            found = facts.running(proc, facts.own_processes if c.role == "host" else None)
        except MissingEvidence:
            continue
        if not found:
            continue
        pids = " ".join(str(p.pid) for p in found)
        out.append(Manual(c.name, *_ids(f), f"{db.process} runs on {c.name} (pid {pids}) instead of only in "
                          f"{db.container}: it may hold data, so a person moves it first",
                          [f"# on {c.name}: what it serves and who uses it",
                           f"ps -o pid,user,args -p {pids}; ss -tnp | grep -w -e {' -e '.join(pids.split())}",
                           f"# copy its data into {db.container} ({f.target}'s own dump and restore tools), "
                           f"point its clients to {db.container}, then on {c.name}:",
                           f"systemctl disable --now {proc.unit}  # or: kill {pids}"]))
    return out


@remedy("DB-2")
def other_instance(f, arch, audit):
    c = f.target
    endpoints = arch.database_endpoints(c.name)
    return [Manual(c.name, *_ids(f), f"{c.name} uses another instance than the shared one ({first_problem(f)}); "
                   "its data may live there: a person moves it and repoints the application",
                   [f"# in {c.name}: which process holds the connection",
                    "ss -tnp state established",
                    "# its configuration must name the shared instances: "
                    + ", ".join(f"{k} {e}" for k, e in sorted(endpoints.items())),
                    f"grep -rn -e {' -e '.join(e.split(':')[0] for e in sorted(set(endpoints.values())))} "
                    f"{arch.spec.software_root}/lib/ProductOpener/Config2.pm /etc 2>/dev/null"])]


# --- network and secrets ---------------------------------------------------------------------------

def _keys(facts, path):
    entry = facts.psk_files.get(path) if facts else None
    return {k for _, k in entry["entries"]} if entry else set()


@remedy("NET-3")
def fresh_psk(f, arch, audit):
    """The link(s) to re-key: this one if its PSK is missing or shares a key with an earlier link, else
    each later link sharing its key (so of two links sharing a key, the first keeps it)."""
    links = arch.links()
    keys = {l.name: set().union(*(_keys(_facts(audit, e.name), l.psk_path) for e in (l.server, l.client)))
            for l in links}
    me = f.target
    index = next(i for i, l in enumerate(links) if l.name == me.name)
    if not keys[me.name] or any(keys[me.name] & keys[l.name] for l in links[:index]):
        rekey = [me]
    else:
        rekey = [l for l in links[index + 1:] if keys[me.name] & keys[l.name]]
    unit = _unit(arch, "stunnel")
    out = []
    for link in rekey:
        line = f"{link.name}-{secrets.token_hex(4)}:{secrets.token_hex(32)}\n"   # identity:key, never printed
        for end in (link.server, link.client):
            out.append(Action(end.name, f.requirement, link.name, f"give link {link.name} a fresh PSK of its own in {link.psk_path} "
                              f"(same on both ends; content not shown) and restart {unit}",
                              [(files.put, dict(name=f"write a fresh PSK to {link.psk_path}", src=StringIO(line),
                                                dest=link.psk_path, user="root", mode="600")),
                               (units.service, dict(name=f"restart {unit}", service=unit, action="restart"))],
                              secret=True, subject=f"psk {link.name}"))
    return out


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


def _port_steps(f, arch, audit, why):
    m = f.target
    return [Manual(m.name, *_ids(f), f"{why}: {first_problem(f)}",
                   [f"# on {m.name}: who listens, then stop it or bind it to the internal address", "ss -tlnp",
                    "ps -o pid,user,args -p <pid from ss>",
                    "systemctl disable --now <its unit>  # or bind it to the internal address in its configuration"])]


@remedy("NET-2")
def port_outside(f, arch, audit):
    return _port_steps(f, arch, audit, "an internal port is reachable outside the internal network")


@remedy("WEB-3")
def public_listener(f, arch, audit):
    return _port_steps(f, arch, audit, "a web port listens for the public outside the reverse proxy")


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
    renew = Manual(site.machine, *_ids(f), f"the certificate of {site} on disk expires too: renew it",
                   [f"# on {site.machine}: renew, check, reload", f"certbot renew --cert-name {site}",
                    *[f"openssl x509 -enddate -noout -in {c}" for c in certs], f"nginx -t && systemctl reload {unit}"])
    if not certs:
        return [renew]
    return [Action(site.machine, *_ids(f), f"reload {unit}: the certificate file of {site} on disk is valid "
                   f"{arch.spec.web.tls_min_days}+ days, nginx still serves an older one",
                   [(reload_if_renewed, dict(name=f"reload {unit} if {c} is renewed", certificate=c, seconds=seconds,
                                             service=unit)) for c in certs][:1], fallback=renew,
                   subject=f"reload {unit}")]


# --- web -------------------------------------------------------------------------------------------

@remedy("WEB-1")
def proxy_to_nginx(f, arch, audit):
    chain = f.target
    facts = _facts(audit, chain.proxy.name)
    right = f"{chain.app.address}:{chain.nginx_port}"
    servers = [s for s in facts.nginx_servers if chain.public_name in s.names]
    wrong = sorted({t.split("://", 1)[-1].split("/", 1)[0].rstrip(";") for s in servers
                    for t in s.proxies.values()} - {right})
    if not wrong or any(w in s.upstreams for s in servers for w in wrong):
        return []   # an upstream block or no proxy_pass at all: left to a person (Manual fallback)
    unit = _unit(arch, "nginx")
    ops = [(forward_to, dict(name=f"{path}: proxy_pass to {w} -> {right}", path=path, wrong=w, right=right))
           for path in sorted({s.file for s in servers}) for w in wrong]
    ops.append((units.service, dict(name=f"reload {unit}", service=unit, action="reload")))
    return [Action(chain.proxy.name, *_ids(f), f"forward {chain.public_name} to {chain.application}'s nginx {right}",
                   ops)]


@remedy("WEB-2")
def static_to_apache(f, arch, audit):
    c = f.target
    web = arch.spec.web
    return [Manual(c.name, *_ids(f), f"{c.name}'s nginx does not serve static files itself: {first_problem(f)}",
                   [f"# in {c.name}: in the site on port {web.nginx_port}, each of "
                    f"{' '.join(web.static_locations)} served from the files (root/alias), not proxy_pass",
                    "nginx -T | grep -n -e 'location' -e proxy_pass -e root -e alias",
                    f"nginx -t && systemctl reload {_unit(arch, 'nginx')}"])]


@remedy("WEB-4")
def images_site(f, arch, audit):
    img = arch.spec.web.images
    return [Manual(img.host, *_ids(f), f"{img.public_name} is not served from the replica {img.dataset}: "
                   f"{first_problem(f)}",
                   [f"# on {img.host}: the replica's mount point, then point the site's root there",
                    f"zfs get -H -o value mountpoint {img.dataset}",
                    f"grep -rn -e root -e alias /etc/nginx/sites-enabled/{img.public_name}",
                    f"nginx -t && systemctl reload {_unit(arch, 'nginx')}"])]


# --- storage --------------------------------------------------------------------------------------

@remedy("STO-1")
def software_links(f, arch, audit):
    c = f.target
    facts = _facts(audit, c.name)
    root, app = arch.spec.software_root, arch.spec.applications[c.application]
    ops, manual = [], []
    for link, folder in arch.spec.software_links.items():
        path, target = f"{root}/{link}", f"{app.mount_root}/{folder}"
        if facts.links.get(path, "-") != target:
            ops.append((link_in_place_of_empty_folder, dict(name=f"{path} -> {target} (an empty folder in its "
                                                                 "place removed; one with files left alone)",
                                                            path=path, target=target)))
            manual += [f"ls -A {path}  # files here belong in {target}",
                       f"mv {path} {path}.plain-$(date +%Y%m%d) && ln -s {target} {path}",
                       f"rsync -a --ignore-existing {path}.plain-*/ {target}/  # then check and decide"]
    fallback = Manual(c.name, *_ids(f), "the software tree holds data where links to the datasets belong",
                      [f"# in {c.name}:"] + manual)
    if root in facts.mounts:
        return [fallback]
    return [Action(c.name, *_ids(f), "link the software tree to the data folders", ops, fallback=fallback)] \
        if ops else [fallback]


@remedy("STO-2", "STO-3", "STO-4", "STO-5")
def dataset_not_mounted(f, arch, audit):
    c = f.target
    facts = _facts(audit, c.name)
    out = []
    for p, m in sorted(arch.mounts(c.application).items()):
        if p in facts.mounts:
            continue
        out.append(Manual(c.name, *_ids(f), f"{m.path} is a plain folder where dataset {m.dataset} of {m.host} "
                          "belongs; files written there since are not in the dataset",
                          [f"# in {c.name}: what is in the folder",
                           f"du -sh {m.path}; find {m.path} -xdev -type f | head",
                           f"mv {m.path} {m.path}.plain-$(date +%Y%m%d) && mkdir {m.path}",
                           f"# on {m.host}: mount the dataset into container {c.id} again and restart it",
                           f"pct set {c.id} -mpN /{m.dataset},mp={m.path}  # N: its mount point, see pct config {c.id}",
                           f"pct reboot {c.id}",
                           f"# then copy back what was written meanwhile: rsync -a --ignore-existing "
                           f"{m.path}.plain-*/ {m.path}/"]))
    return out


@remedy("STO-6")
def assets_read_write(f, arch, audit):
    c = f.target
    return [Manual(c.host, *_ids(f), f"built assets are mounted read-write in {c.name}: {first_problem(f)}",
                   [f"# on {c.host}: add ro=1 to each asset mount point of container {c.id}, restart it",
                    f"pct config {c.id} | grep ^mp", f"pct set {c.id} -mpN <volume>,mp=<path>,ro=1",
                    f"pct reboot {c.id}"])]


# --- replication, snapshots and jobs ------------------------------------------------------------------

def _runner(arch, replica):
    return replica.target if arch.spec.replication.mode == "pull" else replica.source


def _replicate(f, arch, r, what):
    unit = arch.spec.replication.unit
    return Action(_runner(arch, r), *_ids(f), f"run the replication now ({unit}): {what}",
                  [(units.start_job, dict(name=f"start {unit}", unit=unit))], subject=f"start {unit}")


@remedy("ZFS-1")
def replicate_missing(f, arch, audit):
    r = f.target
    facts, source = _facts(audit, r.target), _facts(audit, r.source)
    if r.target_dataset in facts.zfs or r.source_dataset not in source.zfs:
        return []
    return [_replicate(f, arch, r, f"a full send creates the missing {r.target_dataset} (nothing is received "
                                   "over data)")]


@remedy("ZFS-2")
def replicate_now(f, arch, audit):
    return [_replicate(f, arch, f.target, "the stale replica receives the source's newest snapshots")]


@remedy("ZFS-3")
def retention(f, arch, audit):
    r = f.target
    keep = arch.spec.snapshots.backups.retention
    wanted = ", ".join(f"{k} = {getattr(keep, k)}" for k in ("hourly", "daily", "monthly", "yearly"))
    return [Manual(r.target, *_ids(f), f"the backups keep less than the spec: {first_problem(f)}",
                   [f"# on {r.target}: in /etc/sanoid/sanoid.conf, the backups' template(s): {wanted}",
                    "sanoid --configdir /etc/sanoid --readonly --verbose --prune-snapshots | head  # what it keeps"])]


@remedy("ZFS-4")
def staging_clone(f, arch, audit):
    c = f.target
    facts = _facts(audit, c.host)
    snaps = facts.snapshots(c.origin) if c.origin in facts.zfs else []
    if not snaps:
        return []
    exists = facts.zfs.get(c.clone) is not None
    aside = f"{c.clone}-not-a-clone"
    what = (f"re-create {c.clone} as a clone of the newest replica snapshot {snaps[-1][0]}"
            + (f"; the dataset now there is renamed to {aside} (kept)" if exists else ""))
    return [Action(c.host, *_ids(f), what, [(clone_newest, dict(name=f"zfs clone {snaps[-1][0]} {c.clone}",
                                                               origin=c.origin, clone=c.clone, aside=aside))])]


@remedy("ZFS-5")
def plain_tcp(f, arch, audit):
    h = f.target
    return [Manual(h.name, *_ids(f), f"a replication job bypasses ssh: {first_problem(f)}",
                   [f"# on {h.name}: remove --insecure-direct-connection from the job's line",
                    "grep -n -- --insecure-direct-connection /etc/sanoid/syncoid-args.conf",
                    "sed -i 's/--insecure-direct-connection=[^ ]* //' /etc/sanoid/syncoid-args.conf"])]


@remedy("ZFS-6")
def no_common_snapshot(f, arch, audit):
    r = f.target
    operator = arch.spec.replication.operator.format(target=r.target, source=r.source)
    return [Manual(r.target, *_ids(f), f"{r.target_dataset} shares no snapshot with {r.source}:{r.source_dataset}; "
                   "an incremental send cannot resume and a forced full receive would overwrite it",
                   [f"# on {r.target}: keep the old replica aside (nothing destroyed), then receive it anew",
                    f"zfs rename {r.target_dataset} {r.target_dataset}-diverged-$(date +%Y%m%d)",
                    f"syncoid --no-privilege-elevation {operator}@{r.source}:{r.source_dataset} {r.target_dataset}",
                    f"# once the new replica is checked: decide about {r.target_dataset}-diverged-* by hand"])]


@remedy("ZFS-7")
def pool_full(f, arch, audit):
    p = f.target
    return [Manual(p.host, *_ids(f), f"pool {p.name} on {p.host} is short of free space: {first_problem(f)}",
                   [f"# on {p.host}: what takes the space (snapshots included); free it or grow the pool",
                    f"zfs list -o name,used,usedbysnapshots,usedbydataset -s used -r {p.name} | tail",
                    f"zpool list {p.name}"])]


@remedy("ZFS-8")
def operator_rights(f, arch, audit):
    r = f.target
    operator = arch.spec.replication.operator.format(target=r.target, source=r.source)
    return [Manual(r.source, *_ids(f), f"replication of {r.source_dataset} is not limited to {operator} with send,hold "
                   f"and no root login ({first_problem(f)}); taking rights away can stop replication, so a person "
                   "does it",
                   [f"# on {r.source}: see what {operator} holds, keep send,hold only",
                    f"zfs allow {r.source_dataset}",
                    f"zfs unallow -u {operator} <rights beyond send,hold, as zfs allow shows> {r.source_dataset}",
                    f"zfs allow -u {operator} send,hold {r.source_dataset}",
                    f"# and no root login from the receiving site: sshd -T -C user=root,host={r.target},addr=<its "
                    "address> | grep permitrootlogin  (a Match block may allow it)"])]


@remedy("ZFS-9")
def replica_own_snapshot(f, arch, audit):
    r = f.target
    return [Manual(r.target, *_ids(f), f"the replica {r.target_dataset} has snapshots of its own or autosnap on: "
                   f"{first_problem(f)}; destroying a snapshot is a person's decision",
                   [f"# on {r.target}: autosnap = no in the replica's sanoid template; list the replica's snapshots",
                    f"zfs list -t snapshot -o name,guid,creation -d 1 {r.target_dataset}",
                    "# compare with the source's (same GUID = received); destroy only those taken here, by name"])]


DROPIN = "offsuite-on-failure.conf"   # the provisioner's drop-in restoring OnFailure= (OPS-1)


@remedy("OPS-1")
def on_failure(f, arch, audit):
    from confs.systemd import Unit, split_units
    job = f.target
    facts = _facts(audit, job.host)
    present, _ = split_units(facts.evidence("units"))
    unit = Unit(job.unit, present.get(job.unit, []))
    value = job.on_failure.replace("@.", "@%n.")
    manual = Manual(job.host, *_ids(f), f"{job.unit} on {job.host} does not report its failures: {first_problem(f)}",
                    [f"# on {job.host}:", f"systemctl cat {job.unit}",
                     f"# ExecStart= must let a failure reach the exit status, OnFailure={value} in [Unit]",
                     f"systemctl edit {job.unit}"])
    if not unit.exists or unit.words("Unit", "OnFailure"):
        return [manual]
    # drop-ins apply in the order of their file names: ours comes last, so no earlier one clears it
    names = [p.rsplit("/", 1)[-1] for p in unit.files[1:]]
    prefix = "zz-"
    while names and prefix + DROPIN <= max(names):
        prefix = "z" + prefix
    dropin = f"/etc/systemd/system/{job.unit}.d/{prefix}{DROPIN}"
    return [Action(job.host, *_ids(f), f"restore OnFailure={value} on {job.unit} (a drop-in)",
                   [(files.put, dict(name=f"write {dropin}", src=StringIO(f"[Unit]\nOnFailure={value}\n"),
                                     dest=dropin, mode="644", create_remote_dir=True)),
                    (units.daemon_reload, dict(name="reload unit files"))])]
