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


def test_the_probe_lists_every_unit_and_shows_only_those_not_inactive():
    """Today's command (list-units, then `show` of the services and failed units not inactive) on the real tool:
    the failed unit with its result, every active service with its restart count, the inactive ones listed
    with their state and no count (a count is asked only where it is judged)."""
    units = parse_unit_health(_lines("lab-unit-health-failed.txt"))
    failed = units["lab-fault-failed.service"]
    assert failed.failed and failed.result == "exit-code"
    (problem,) = unit_problems(units, MAX)
    assert problem.startswith("lab-fault-failed.service is failed (exit-code)")
    services = {u: s for u, s in units.items() if u.endswith(".service")}
    assert all(s.restarts is not None for s in services.values() if s.active != "inactive")
    assert any(s.active == "inactive" and s.restarts is None for s in services.values())
    assert units["redis-server.service"].active == "active" and units["redis-server.service"].restarts == 0


def test_the_command_asks_show_only_for_units_not_inactive(tmp_path):
    """The command run by sh with a fake `systemctl`: `show` is asked for the active service and the failed mount,
    not for the inactive service nor the active mount; with nothing to show, `show` is not run (it would print
    the manager's own properties)."""
    import subprocess

    from fixtures.probes.units import HEALTH_COMMAND
    fake = tmp_path / "systemctl"
    fake.write_text("#!/bin/sh\nif [ \"$1\" = list-units ]; then cat \"$LISTED\"; else echo \"show $*\"; fi\n")
    fake.chmod(0o755)
    listed = tmp_path / "listed"

    def run(lines):
        listed.write_text("".join(l + "\n" for l in lines))
        systemd = tmp_path / "run" / "systemd" / "system"
        return subprocess.run(["sh", "-c", HEALTH_COMMAND.replace("/run/systemd/system", str(systemd))],
                              capture_output=True, text=True,
                              env={"PATH": f"{tmp_path}:/usr/bin:/bin", "LISTED": str(listed)})
    (tmp_path / "run" / "systemd" / "system").mkdir(parents=True)
    out = run(["a.service loaded active running A", "b.service loaded inactive dead B",
               "c.mount loaded failed failed C", "d.mount loaded active mounted D"]).stdout.splitlines()
    assert out[-1] == "show show -p Id,LoadState,ActiveState,SubState,Result,NRestarts a.service c.mount"
    assert "Id=b.service" in out and "ActiveState=inactive" in out
    quiet = run(["b.service loaded inactive dead B"])
    assert quiet.returncode == 0 and not any(l.startswith("show ") for l in quiet.stdout.splitlines())


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


# ---- STO-7: space --------------------------------------------------------------------------------

from checks.test_health import mount_problems  # noqa: E402
from fixtures.probes.files import parse_space  # noqa: E402
from fixtures.probes.storage import parse_zfs, quota_problem  # noqa: E402

LEAST = ARCH.spec.space.min_free_percent


def test_the_space_of_a_healthy_lab_container_is_read_and_green():
    mounts = parse_space(_lines("lab-findmnt-J-b-opf.json"))
    assert mounts["/"]["size"] > 0 and mounts["/proc"]["size"] == 0
    assert not mount_problems(mounts, LEAST)


def _fs(size, avail, fstype="ext4", options="rw", source="/dev/sda1"):
    used = size - avail
    return {"source": source, "fstype": fstype, "options": options.split(","), "size": size, "avail": avail,
            "used": used}


def test_a_full_filesystem_is_red_once_with_its_other_places():
    full = _fs(2**30, 2**26)   # 6.25% free
    mounts = {"/var/log": full, "/srv/bind": {**full, "source": "/dev/sda1[/srv]"}, "/": _fs(2**34, 2**33)}
    (problem,) = mount_problems(mounts, LEAST)
    assert problem.startswith("/srv/bind (ext4 /dev/sda1[/srv], also at /var/log): 6.2% free")


@pytest.mark.parametrize("mount", [
    _fs(2**30, 0, fstype="zfs", source="rpool/data/subvol-113-disk-0"),   # the pool's and the quota's
    _fs(2**30, 0, fstype="fuse.zfs", source="zfs-hdd/off"),              # zfs-fuse, the same
    _fs(2**30, 0, options="ro,relatime"),                                 # nothing writes there
    _fs(0, 0, fstype="proc", source="proc"),                              # a pseudo filesystem
])
def test_what_is_judged_elsewhere_or_never_written_is_left_out(mount):
    assert not mount_problems({"/x": mount}, LEAST)


@pytest.mark.parametrize("lines", [
    ['{"filesystems": [{"target": "/", "source": "a", "fstype": "ext4", "options": "rw"}]}'],   # no sizes: no -b
    ['{"filesystems": [{"target": "/", "source": "a", "fstype": "ext4", "options": "rw", "size": "1G", '
     '"avail": "1G", "used": "0"}]}'],                                                          # human sizes
    ["/ overlay overlay rw"],                                                                    # not JSON
])
def test_a_space_reading_without_bytes_is_no_evidence(lines):
    with pytest.raises(ValueError):
        parse_space(lines)


def test_findmnt_sizes_as_strings_of_digits_are_read():
    (m,) = parse_space(['{"filesystems": [{"target": "/", "source": "a", "fstype": "ext4", "options": "rw", '
                        '"size": "100", "avail": "10", "used": "90"}]}']).values()
    assert (m["size"], m["avail"], m["used"]) == (100, 10, 90)


def _quota_problems(zfs):
    return [p for name, props in sorted(zfs.items()) if "@" not in name for p in quota_problem(name, props, LEAST)]


def test_zfs_fuse_quotas_are_read_and_none_is_set_on_the_lab():
    zfs = parse_zfs(_lines("lab-zfs-fuse-get-quota-ovh3.txt"))
    assert zfs["rpool/off"]["quota"] == "0" and not _quota_problems(zfs)


def test_openzfs2_refquota_nearly_full_is_red_a_half_used_quota_green():
    zfs = parse_zfs(_lines("openzfs2-get-quota.txt"))
    (problem,) = _quota_problems(zfs)
    assert problem.startswith("dataset rpool/data/subvol-113-disk-0: 3.1% of its refquota free (1024 MiB of 32768 MiB)")


@pytest.mark.parametrize("props,words", [
    ({"quota": "1G", "refquota": "0", "used": "1", "referenced": "1"}, "expected bytes"),   # without -p
    ({"refquota": "0", "used": "1", "referenced": "1"}, "no quota"),                      # not read
])
def test_a_quota_not_in_bytes_is_no_evidence(props, words):
    with pytest.raises(ValueError, match=words):
        quota_problem("rpool/x", props, LEAST)


def test_sto7_manual_step_names_the_commands_to_look():
    m = ARCH.hosts()[0]
    message = (f"host {m.name}:\n  - /var/log (ext4 /dev/sda1): 3.0% free (30 MiB of 1000 MiB); expected at least 20%\n"
               "  - dataset rpool/logs: 2.0% of its quota free (2 MiB of 100 MiB); expected at least 20%")
    (step,) = steps_for(Finding("STO-7", m, "failed", message), ARCH, _audit({}))
    assert isinstance(step, Manual)
    text = "\n".join(step.commands)
    assert "du -xh --max-depth=2 /var/log" in text and "zfs get -p quota,refquota,used,referenced,usedbysnapshots rpool/logs" in text
