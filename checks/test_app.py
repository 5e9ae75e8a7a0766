"""APP: one application, one container."""
from checks.requirement import report, requirement


def _app_containers(arch):
    return arch.app_containers()


@requirement("APP-2", over=_app_containers)
def test_application_runs_its_services_enabled_at_boot(target, facts, arch):
    f = facts[target.name]
    problems = []
    for name, proc in arch.runs(target.role):
        state = f.services.get(proc.unit)
        if not f.running(proc):
            problems.append(f"{name} is not running (expected a process {proc.comm or proc.args!r}); "
                            f"start it: systemctl start {proc.unit}")
        elif state is not None and not state.is_active:
            problems.append(f"{name}: its unit {proc.unit} is {state.active}, though a process looks like it "
                            f"({', '.join(str(p.pid) for p in f.running(proc))}); start it: systemctl start {proc.unit}")
        if state is None or not state.is_enabled:
            problems.append(f"{name} is not enabled at boot (unit {proc.unit} is "
                            f"{state.enabled if state else 'not read'}); enable it: "
                            + (f"systemctl unmask {proc.unit} && " if state and state.enabled == "masked" else "")
                            + f"systemctl enable {proc.unit}")
    report(problems, f"application container {target.name} on {target.host} ({target.application})")


@requirement("APP-3", over=_app_containers)
def test_no_database_server_in_application_container(target, facts, arch):
    f = facts[target.name]
    by_name = [(name, found) for name, proc in arch.database_processes() if (found := f.running(proc))]
    problems = [f"database server {name} runs here (pid {', '.join(str(p.pid) for p in found)}: {found[0].args!r}); "
                f"databases belong in their dedicated container: stop and disable it" for name, found in by_name]
    problems += _database_listeners(f, arch)
    problems += _database_identities(f, arch, problems, {p.pid for _, found in by_name for p in found})
    report(problems, f"application container {target.name} on {target.host} ({target.application})")


def _database_listeners(f, arch):
    """What answers, whatever its file is called: a socket on a database port, or a listening
    process whose binary is a database server's."""
    ports = arch.database_ports()
    binaries = {name: proc for name, proc in arch.database_processes()}
    comms = {c for _, proc in binaries.items() for c in ([proc.comm] if isinstance(proc.comm, str) else proc.comm or [])}
    exes = f.listening_binaries
    seen, problems = set(), []
    for sock in f.listening:
        owners = ", ".join(f"{n} pid {p} ({exes.get(p, '?')})" for n, p in zip(sock.names, sock.pids)) or \
            "owner not visible"
        kind = ports.get(sock.port)
        by_binary = [exes.get(p, "-").rsplit("/", 1)[-1] for p in sock.pids]
        if kind and (sock.address, sock.port) not in seen:
            seen.add((sock.address, sock.port))
            problems.append(f"something answers on {kind}'s port {sock.address}:{sock.port} ({owners}); "
                            "a database server runs here whatever its name: databases belong in their dedicated "
                            "container")
        elif any(b in comms for b in by_binary) and (sock.address, sock.port) not in seen:
            seen.add((sock.address, sock.port))
            problems.append(f"a database server binary listens on {sock.address}:{sock.port} ({owners})")
    return problems


def _database_identities(f, arch, found, named=()):
    """What a program is, whatever its name and port: a listening socket that answers a database's
    protocol, a process whose executable is a database package's binary (by its packaged path or by
    content). `found`: problems already said (a socket said once); `named`: pids already found by name."""
    from fnmatch import fnmatch

    from fixtures.probes import MissingEvidence
    problems, unasked = [], []
    said = " ".join(found)
    for answer in f.evidence("db_protocols"):
        where = f"{answer.address}:{answer.port}"
        if answer.error:
            unasked.append(f"{where} ({answer.error})")
        elif answer.kinds and f" {where} " not in f" {said} ".replace("(", " ").replace(")", " "):
            owners = [f"{n} pid {p}" for s in f.listening if (s.address, s.port) == (answer.address, answer.port)
                      for n, p in zip(s.names, s.pids)]
            problems.append(f"the socket {where} answers the {' and '.join(answer.kinds)} protocol "
                            f"({', '.join(owners) or 'owner not visible'}): a database server runs here whatever "
                            "its name and port; databases belong in their dedicated container")
    binaries = [(name, pattern) for name, proc in arch.database_processes() for pattern in proc.binaries]
    names = {p.pid: p.comm for p in f.processes}
    for pid, exe in sorted(f.evidence("exe_packages").items()):
        hits = sorted({name for path in exe.packaged_paths() for name, pattern in binaries if fnmatch(path, pattern)})
        if hits and pid not in named:
            how = f"packaged by {exe.owner}" if exe.owner != "-" else \
                f"the content of {', '.join(f'{pkg}:{p}' for pkg, p in exe.same_content)}"
            problems.append(f"process {pid} ({names.get(pid, '?')}, {exe.path}: {how}) is the {' / '.join(hits)} "
                            "database server's program; databases belong in their dedicated container")
    if unasked and not problems and not found:
        raise MissingEvidence(f"{f.machine}: cannot ask what listens on {', '.join(unasked)}")
    return problems + [f"cannot ask what listens on {u}" for u in unasked]


@requirement("APP-1", over=_app_containers)
def test_container_serves_one_application(target, facts, arch):
    f = facts[target.name]
    others = {name: app for app, a in arch.spec.applications.items() if app != target.application
              for name in a.public_names}
    problems = [f"nginx {s.file}:{s.line} serves {name}, a public name of application {others[name]}; "
                f"each application has its own container"
                for s in f.nginx_servers for name in s.names if name in others]
    report(problems, f"application container {target.name} on {target.host} ({target.application})")
