"""Applications and databases (APP-*, DB-*): services of a role, database servers where none belongs, a
second application's site, a database outside its container or another instance."""
from pyinfra.operations import server

from fixtures.probes import MissingEvidence
from provision import units
from provision.remedies import Action, Manual, _facts, _ids, _unit, first_problem, remedy


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
                    f"{arch.software_root(c.application)}/lib/ProductOpener/Config2.pm /etc 2>/dev/null"])]



# what a person runs in a database's container to see its connections and its cap (DB-3)
_LOOK = {"postgresql": ["runuser -u postgres -- psql -XAt -c 'SHOW max_connections' -c \"SELECT usename, "
                        "client_addr, state, count(*) FROM pg_stat_activity GROUP BY 1, 2, 3 ORDER BY 4 DESC\""],
         "redis": ["redis-cli INFO clients", "redis-cli CONFIG GET maxclients", "redis-cli CLIENT LIST | head -50"],
         "memcached": ["printf 'stats\\r\\nquit\\r\\n' | nc -q1 127.0.0.1 11211 | grep -e curr_conn -e max_conn",
                       "ss -tn state established '( sport = :11211 )' | awk '{print $4}' | cut -d: -f1 | sort | uniq -c"],
         "mongodb": ["mongosh --quiet --eval 'db.serverStatus().connections'",
                     "ss -tn state established '( sport = :27017 )' | awk '{print $4}' | cut -d: -f1 | sort | uniq -c"]}
_CAP = {"postgresql": "max_connections in postgresql.conf (a restart)", "redis": "maxclients in redis.conf",
        "memcached": "-c in /etc/memcached.conf", "mongodb": "net.maxIncomingConnections in /etc/mongod.conf"}


@remedy("DB-3")
def database_health(f, arch, audit):
    """The database's unit started and enabled at boot when it is not (a long-running server: starting it
    changes no data); a unit restart-looping, a database at its connection cap or not answering its own
    protocol is a manual step: who holds the connections decides (an application leaking them, a cap too
    low), and restarting the database drops every client's work."""
    from checks.test_db import answer_problem, connection_problems, unit_problems
    kind = f.target
    db = arch.spec.databases[kind]
    unit = arch.spec.processes[db.process].unit
    service = unit if "." in unit else f"{unit}.service"
    facts = _facts(audit, db.container)
    conns = facts.evidence("db_connections")
    state = facts.evidence("unit_health").get(service)
    enabled = conns[kind].enabled if kind in conns else ""
    # stopped or failed: started (a unit waiting to restart, restart-looping, is not started again)
    out, start = [], state is None or (state.active in ("inactive", "failed") and state.sub != "auto-restart")
    if start or enabled != "enabled":
        out.append(Action(db.container, *_ids(f), f"start {unit} and enable it at boot: the shared {kind} must run "
                          "and come back after a reboot",
                          [(units.service, dict(name=f"{'start' if start else 'keep'} {unit}, enable it at boot",
                                                service=unit, action="start" if start else None, enabled=True))]))
    elif state.active != "active" or unit_problems(kind, service, state, enabled, arch.spec.operations.max_restarts):
        out.append(Manual(db.container, *_ids(f), f"{unit} is restart-looping in {db.container}: restarting it "
                          "again fixes nothing; the cause is in its log or configuration",
                          [f"# in {db.container}:", f"journalctl -u {unit} -n 50 --no-pager", f"systemctl cat {unit}"]))
    try:
        loaded = connection_problems(kind, conns, arch.spec.connections.max_percent)
    except MissingEvidence:
        loaded = []
    silent = []
    for name in (a.name for a in arch.app_containers() if kind in arch.database_endpoints(a.name)):
        app = audit.facts(name)
        try:
            found = answer_problem(kind, app.probes.get(kind)) if app is not None else None
        except MissingEvidence:
            found = None
        if found:
            silent.append(f"# from {name}: {found}")
    if loaded or silent:
        out.append(Manual(db.container, *_ids(f), f"{kind} in {db.container} is at or near its connection cap or "
                          "does not answer: a person finds who holds the connections before raising the cap or "
                          "restarting it (a restart drops every client's work)",
                          silent + [f"# in {db.container}: its connections, by client"] + _LOOK.get(kind, []) +
                          [f"# a client leaking connections: restart that application's workers, not {kind}",
                           f"# the cap itself: {_CAP.get(kind, 'its configuration')}, then `systemctl restart "
                           f"{unit}` in a quiet hour"]))
    return out
