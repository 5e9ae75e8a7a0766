"""DB: databases in dedicated, shared containers."""
from checks import targets
from checks.requirement import report, requirement
from fixtures.probes import MissingEvidence


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
    problems += _configured_instances(f, arch, expected, problems)
    report(problems, f"application container {target.name} on {target.host} ({target.application})")


def _configured_instances(f, arch, expected, found):
    """The instances the application's own configuration names (connected or not when read): each must
    be the shared one of its kind (its address as resolved on the machine; the kind's port when none
    is written)."""
    config = f.evidence("app_config")
    problems, unknown = [], []
    for c in config.endpoints:
        if c.kind not in expected:
            continue
        if c.value == "?":
            unknown.append(f"{c.kind} (an expression)")
            continue
        port = c.value.rsplit(":", 1)[1] if ":" in c.value and c.value.rsplit(":", 1)[1].isdigit() else \
            str(arch.spec.databases[c.kind].port)
        if c.address == "unresolved":
            problems.append(f"{config.file} names {c.kind} at {c.value}, a name that does not resolve here; the "
                            f"shared one is {expected[c.kind]}")
        elif f"{c.address}:{port}" != expected[c.kind]:
            seen = c.value if c.value.split(":")[0] == c.address else f"{c.value} ({c.address})"
            problems.append(f"{config.file} names a {c.kind} instance at {seen}; the shared one is "
                            f"{expected[c.kind]}: point the application at it")
    if unknown and not problems and not found:
        raise MissingEvidence(f"{f.machine}: {config.file} sets {', '.join(unknown)}, which the audit does not "
                              "evaluate: the instance it names is unknown")
    return problems + [f"{config.file}: cannot tell the instance of {u}" for u in unknown]
