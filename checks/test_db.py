"""DB: databases in dedicated, shared containers."""
from checks import targets
from checks.requirement import report, requirement


@requirement("DB-1", over=targets.databases, reads=targets.reads_every_non_application)
def test_database_runs_in_its_dedicated_container(target, facts, arch):
    db = arch.spec.databases[target]
    proc = arch.spec.processes[db.process]
    home = arch.container(db.container)
    problems = []
    if not facts[home.name].running(proc):
        problems.append(f"{db.process} is not running in its container {home.name} on {home.host}")
    for c in arch.machines():
        if c.name == home.name or c.role == "application":  # applications: APP-3
            continue
        other = facts[c.name]  # read at set-up: an unreachable one makes this check an error
        # a Proxmox host lists its containers' processes too (cgroup /lxc/<id>/): only its own count
        if other and (found := other.running(proc, other.own_processes if c.role == "host" else None)):
            problems.append(f"{db.process} also runs on {c.name} ({c.role} on {c.host}, pid {found[0].pid}); "
                            f"expected only in {home.name}")
    report(problems, f"database {target}")


@requirement("DB-2", over=targets.app_containers)
def test_application_reaches_the_shared_databases(target, facts, arch):
    f = facts[target.name]
    expected = arch.database_endpoints(target.name)
    problems = []
    for kind, endpoint in expected.items():
        seen, ok = f.probes.get(kind, (None, False))
        if not ok:
            problems.append(f"cannot connect to the shared {kind} at {endpoint}")
    ports = arch.database_ports()
    for local, (peer, port) in f.connections:
        kind = ports.get(port)
        if kind and kind in expected and f"{peer}:{port}" != expected[kind] and local[1] != port:
            problems.append(f"connected to a {kind} instance at {peer}:{port}; the shared one is {expected[kind]}")
    report(problems, f"application container {target.name} on {target.host} ({target.application})")
