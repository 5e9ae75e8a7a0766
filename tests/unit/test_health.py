"""OPS-2 (nothing failed or restarting): the `systemctl show` parser on the real tool's output, the rule,
failing closed, the catalogue's sources, and the provisioner's plan (a failed daemon of the spec started,
everything else a manual step)."""
from pathlib import Path
from types import SimpleNamespace

import pytest

from checks.test_health import unit_problems
from fixtures.facts import Facts, MissingEvidence
from fixtures.probes.units import UnitHealth, parse_unit_health
from provision.audit import Finding
from provision.remedies import Action, Manual, steps_for
from specs import load_requirements, load_spec
from specs.architecture import Architecture

TOOLS = Path(__file__).resolve().parents[1] / "recorded" / "tools"
REPORTS = Path(__file__).resolve().parents[3] / "shared" / "off-infrastructure" / "docs" / "reports"
ARCH = Architecture(load_spec())
MAX = ARCH.spec.operations.max_restarts


def _lines(name):
    return (TOOLS / name).read_text(encoding="utf-8").splitlines()


def test_a_healthy_machine_has_no_problem():
    units = parse_unit_health(_lines("lab-systemctl-show-all-failed.txt"))
    healthy = {u: s for u, s in units.items() if not u.startswith("lab-fault")}
    assert healthy and not unit_problems(healthy, MAX)
    assert all(s.restarts is not None for u, s in healthy.items() if u.endswith(".service") and s.active == "active")


def test_a_restart_looping_service_is_found_by_its_count():
    units = parse_unit_health(_lines("lab-systemctl-show-all-looping.txt"))
    loop = units["lab-fault-loop.service"]
    assert loop.restarts >= MAX and not loop.failed
    (problem,) = unit_problems(units, MAX)
    assert problem.startswith("lab-fault-loop.service is restart-looping")


def test_a_failed_unit_is_found():
    units = parse_unit_health(_lines("lab-systemctl-show-all-failed.txt"))
    assert units["lab-fault-failed.service"].failed
    (problem,) = unit_problems(units, MAX)
    assert problem.startswith("lab-fault-failed.service is failed (exit-code)")


@pytest.mark.parametrize("state,red", [
    (UnitHealth("active", "running", "success", MAX - 1), False),
    (UnitHealth("active", "running", "success", MAX), True),
    (UnitHealth("activating", "auto-restart", "exit-code", 1), True),   # down now, waiting to restart
    (UnitHealth("inactive", "dead", "success", 0), False),
    (UnitHealth("failed", "failed", "start-limit-hit", 0), True),
    (UnitHealth("active", "mounted", "success", None), False),          # not a service: no count
])
def test_the_rule(state, red):
    assert bool(unit_problems({"x.service": state}, MAX)) == red


@pytest.mark.parametrize("lines", [
    ["Id=a.service", "ActiveState=active", "garbage"],
    ["ActiveState=active", "SubState=running"],                                       # no Id
    ["Id=a.service", "LoadState=loaded", "ActiveState=active", "SubState=running"],   # no NRestarts: old systemd
    ["Id=a.service", "LoadState=loaded", "ActiveState=active", "NRestarts=[not set]"],
])
def test_a_malformed_reading_is_no_evidence(lines):
    with pytest.raises(ValueError):
        parse_unit_health(lines)


def _reading(body, rc=0, error=""):
    return f"@@@unit_health\n{body}\n@@@.rc unit_health {rc} {error}\n@@@end\n"


@pytest.mark.parametrize("body,rc,error,words", [
    ("", 1, "systemd is not PID 1 here (sh): no unit states", "systemd is not PID 1"),
    ("", 0, "", "printed nothing"),
    ("Id=a.service\nActiveState=active\nLoadState=loaded", 0, "", "malformed reading"),
])
def test_the_check_errors_with_the_reason_never_passes(body, rc, error, words):
    facts = Facts("m", _reading(body, rc, error), ["unit_health"])
    with pytest.raises(MissingEvidence, match=words):
        facts.evidence("unit_health")


def test_ops2_is_in_the_catalogue_with_its_incident_reports():
    req = load_requirements()["OPS-2"]
    assert req.severity == "high" and "2024-02-28-upgrade-redis" in req.sources
    if REPORTS.is_dir():
        missing = [s for s in req.sources if not (REPORTS / f"{s}.md").is_file()]
        assert not missing, f"not reports of the users' repository: {missing}"


def test_a_source_not_named_as_a_report_is_refused(tmp_path):
    from specs.errors import SpecError
    bad = tmp_path / "requirements.yaml"
    bad.write_text("requirements:\n  - {id: OPS-9, severity: high, section: s, title: t, sources: [upgrade-redis.md]}\n")
    with pytest.raises(SpecError, match="sources"):
        load_requirements(bad)


def _audit(states):
    facts = SimpleNamespace(evidence=lambda name: states)
    return SimpleNamespace(facts=lambda m: facts)


def test_a_failed_daemon_of_the_spec_is_started_anything_else_is_manual():
    app = ARCH.app_containers()[0]
    daemon = next(p.unit for _, p in ARCH.runs(app.role))
    daemon = daemon if daemon.endswith(".service") else f"{daemon}.service"
    states = {daemon: UnitHealth("failed", "failed", "exit-code", 0),
              "other.service": UnitHealth("failed", "failed", "exit-code", 0),
              "loop.service": UnitHealth("activating", "auto-restart", "exit-code", 7)}
    steps = steps_for(Finding("OPS-2", app, "failed", ""), ARCH, _audit(states))
    actions = [s for s in steps if isinstance(s, Action)]
    manual = [s for s in steps if isinstance(s, Manual)]
    assert len(actions) == 1 and [kw.get("action") for _, kw in actions[0].ops][-1] == "start"
    assert any(daemon in kw["name"] for _, kw in actions[0].ops)
    assert sorted(m.what.split()[0] for m in manual) == ["loop.service", "other.service"]
    assert all(any(c.startswith("journalctl -u") for c in m.commands) for m in manual)


def test_a_failed_job_unit_is_never_started_automatically():
    host = ARCH.hosts()[0]
    job = ARCH.spec.replication.unit
    steps = steps_for(Finding("OPS-2", host, "failed", ""), ARCH,
                      _audit({job: UnitHealth("failed", "failed", "exit-code", 0)}))
    assert steps and all(isinstance(s, Manual) for s in steps) and "a job" in steps[0].what
