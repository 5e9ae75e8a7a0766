"""Health of every machine, from the users' incident reports: nothing failed or restarting (OPS-2)."""
from checks import targets
from checks.requirement import report, requirement


def _where(m):
    return f"{m.role} {m.name}" + (f" on {m.host}" if m.host != m.name else "")


def unit_problems(units, max_restarts):
    """What OPS-2 finds in {unit: UnitHealth}: failed units (`systemctl --failed`) and services
    restart-looping (waiting to restart after a failure, or restarted by systemd max_restarts times or
    more since last started by hand)."""
    problems = []
    for unit, u in sorted(units.items()):
        if u.failed:
            problems.append(f"{unit} is failed ({u.result or u.sub}): `systemctl status {unit}`, "
                            f"`journalctl -u {unit} -n 50`")
        elif u.sub == "auto-restart" or (u.restarts or 0) >= max_restarts:
            problems.append(f"{unit} is restart-looping: systemd restarted it {u.restarts} times since it was "
                            f"started ({u.active}/{u.sub}, last result {u.result or '-'}); expected fewer than "
                            f"{max_restarts}: `journalctl -u {unit} -n 50`")
    return problems


@requirement("OPS-2", over=targets.machines)
def test_nothing_is_failed_or_restarting(target, facts, arch):
    units = facts[target.name].evidence("unit_health")
    report(unit_problems(units, arch.spec.operations.max_restarts), _where(target))
