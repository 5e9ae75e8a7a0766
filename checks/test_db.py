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


def _service(unit):
    return unit if "." in unit.rsplit("@", 1)[-1] else f"{unit}.service"


def unit_problems(kind, unit, state, enabled, max_restarts):
    """DB-3's unit half: the database's unit enabled at boot, active and not restarting. `state`: its
    UnitHealth (None when systemd has not loaded it), `enabled`: `systemctl is-enabled`'s word."""
    from checks.test_health import unit_problems as failing
    problems = []
    if enabled != "enabled":
        problems.append(f"its unit {unit} is {enabled or 'of unknown state'} at boot (`systemctl is-enabled {unit}`); "
                        f"expected enabled: `systemctl enable {unit}`")
    looping = failing({unit: state}, max_restarts) if state is not None else []
    if looping:
        problems += looping
    elif state is None or state.active != "active":
        how = "not loaded" if state is None else f"{state.active}/{state.sub}"
        problems.append(f"its unit {unit} is not active ({how}): `systemctl status {unit}`")
    return [f"{kind}: {p}" for p in problems]


def connection_problems(kind, conns, max_percent):
    """DB-3's load half: {kind: Connections} read in the database's container: open connections under
    max_percent of the configured cap. Asked and no count (refused, down) is a finding; not asked at all
    (its tool is missing) is missing evidence."""
    c = conns.get(kind)
    if c is None or c.unasked:
        raise MissingEvidence(f"the {kind} connection count was not read" + (f": {c.unasked}" if c else ""))
    if c.error:
        return [f"{kind} gave no connection count in its own container: {c.error}"]
    if c.current * 100 >= max_percent * c.maximum:
        return [f"{kind} holds {c.current} connections of its maximum {c.maximum} ({c.current * 100 // c.maximum}%); "
                f"expected under {max_percent}%: new clients are refused at the cap"]
    return []


def answer_problem(kind, reach):
    """DB-3's protocol half, from an application: connected (DB-2 judges a connection that fails) and
    answered as a `kind` answers its own opening exchange."""
    if reach is None or not reach.reachable:
        return None
    if reach.answered is None:
        raise MissingEvidence(f"the {kind} at {reach.endpoint} was not asked its protocol (an older reading)")
    if reach.answered != kind:
        got = f"answered as {reach.answered}" if reach.answered else \
            (f"answered {reach.seen!r}" if reach.seen else "gave no answer within 2 s")
        return f"{kind} at {reach.endpoint} accepts the connection but {got}; expected its own protocol's reply"
    return None


@requirement("DB-3", over=targets.databases, reads=targets.reads_database_and_its_users)
def test_database_answers_and_has_room(target, facts, arch):
    db = arch.spec.databases[target]
    home = facts[db.container]
    unit = _service(arch.spec.processes[db.process].unit)
    conns = home.evidence("db_connections")
    c = conns.get(target)
    problems = unit_problems(target, unit, home.evidence("unit_health").get(unit), c.enabled if c else "",
                             arch.spec.operations.max_restarts)
    problems += connection_problems(target, conns, arch.spec.connections.max_percent)
    for name in targets.reads_database_and_its_users(target, arch)[1:]:
        found = answer_problem(target, facts[name].probes.get(target))
        if found:
            problems.append(f"from {name}: {found}")
    report(problems, f"database {target} in {db.container}")
