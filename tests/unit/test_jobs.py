"""OPS-2 (containers started at boot), OPS-3 (jobs end, failure mail leaves) and INV-1 (every guest seen): the
parsers on Proxmox-like and lab-like outputs (the lab's `pct`/`qm` stand-ins, Debian's systemd 252 and
postfix), the rules, failing closed, and the provisioner's plans."""
import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from checks.test_guests import container_problems, outside_the_spec
from checks.test_jobs import job_problems, mail_problems
from fixtures.facts import Facts, MissingEvidence
from fixtures.probes.jobs import calendar_period, parse_guests, parse_jobs, parse_mail, span_minutes
from provision.audit import Finding
from provision.remedies import Action, Manual, steps_for
from specs import load_requirements, load_spec
from specs.architecture import Architecture

ARCH = Architecture(load_spec())
JOBS = ARCH.spec.jobs
USERS = Path(__file__).resolve().parents[3] / "shared" / "off-infrastructure"
REPORTS = USERS / "docs" / "reports"

# `pct list`, `qm list`, `pct config` as a Proxmox VE 8 host prints them (columns padded, Lock empty)
PROXMOX_PCT = """VMID       Status     Lock         Name
101        running                 off2-reverse-proxy
113        running                 off
114        stopped                 off-pro
150        running                 zammad"""
PROXMOX_QM = """      VMID NAME                 STATUS     MEM(MB)    BOOTDISK(GB) PID
       200 docker-prod-2        running    65536            100.00 3425"""
# the users' own configuration of container 113, as `pct config 113` prints it (no onboot line)
OFF_113 = (USERS / "confs" / "off2" / "pve" / "lxc_113.conf")
CONF = "arch: amd64\nhostname: {name}\nonboot: 1\nostype: debian\nunprivileged: 1\n"


def _proxmox_reading(onboot_113=None):
    conf_113 = OFF_113.read_text() if onboot_113 is None and OFF_113.is_file() else \
        "arch: amd64\nhostname: off\n" + (f"onboot: {onboot_113}\n" if onboot_113 is not None else "")
    lines = PROXMOX_PCT.splitlines() + ["@@qm"] + PROXMOX_QM.splitlines()
    for vmid, name, text in (("101", "off2-reverse-proxy", CONF.format(name="off2-reverse-proxy")),
                             ("113", "off", conf_113), ("114", "off-pro", CONF.format(name="off-pro")),
                             ("150", "zammad", CONF.format(name="zammad"))):
        lines += [f"@@config {vmid}"] + text.splitlines()
    return lines


# the lab's stand-ins: `pct list` (its own padding), `qm list` printing nothing (no VM), `pct config`
LAB = ["VMID       Status     Lock         Name                ",
       "116        running                  obf                 ",
       "117        running                  opf                 ", "@@qm",
       "@@config 116", *CONF.format(name="obf").splitlines(), "@@config 117", *CONF.format(name="opf").splitlines()]


def test_proxmox_guests_are_read_with_the_static_gates_parser():
    g = parse_guests(_proxmox_reading())
    assert set(g.containers) == {"101", "113", "114", "150"} and g.containers["114"].status == "stopped"
    assert g.vms["200"].name == "docker-prod-2" and g.vms["200"].kind == "vm"
    assert g.configs["101"].onboot and not g.configs["113"].onboot   # the users' lxc_113.conf has no onboot
    assert g.configs["113"].mount_points()                              # the same PveContainer as the static gate


def test_the_lab_stand_ins_are_read():
    g = parse_guests(LAB)
    assert set(g.containers) == {"116", "117"} and not g.vms and all(c.onboot for c in g.configs.values())


def test_ops2_a_container_not_started_at_boot_or_stopped_or_missing():
    spec = {"101": "off2-reverse-proxy", "113": "off", "114": "off-pro", "120": "off-postgres"}
    problems = container_problems(spec, parse_guests(_proxmox_reading(onboot_113=0)))
    assert [p.split(" ", 3)[1] for p in problems] == ["113", "114", "120"]
    assert "onboot: 0" in problems[0] and "pct set 113 --onboot 1" in problems[0]
    assert "is stopped" in problems[1] and "not on this host" in problems[2]
    healthy = parse_guests(_proxmox_reading(onboot_113=1))
    assert container_problems({"101": "a", "113": "b"}, healthy) == []


def test_inv1_guests_outside_the_spec_and_vms_are_named():
    spec = {"101": "off2-reverse-proxy", "113": "off", "114": "off-pro"}
    out = outside_the_spec(spec, parse_guests(_proxmox_reading()), {})
    assert len(out) == 2 and out[0].startswith("container 150 (zammad, running) is outside the spec")
    assert out[1].startswith("VM 200 (docker-prod-2, running) is outside the spec: not read through its QEMU guest "
                             "agent (`qm guest exec`)")
    assert outside_the_spec({"116": "obf", "117": "opf"}, parse_guests(LAB), {}) == []


@pytest.mark.parametrize("lines,words", [
    (PROXMOX_PCT.splitlines(), "no `qm list`"),                                       # stopped early
    (PROXMOX_PCT.splitlines() + ["@@qm"], "no configuration"),                       # a container unread
    (["VMID Status Lock Name", "abc running x", "@@qm"], "unexpected pct line"),
    (["@@qm", "VMID NAME STATUS", "x y z"], "unexpected qm line"),
    (["VMID Status Lock Name", "101 running ct", "@@qm", "@@config 101", "not a line"], "pct config 101"),
])
def test_a_malformed_guests_reading_is_no_evidence(lines, words):
    with pytest.raises(ValueError, match=words):
        parse_guests(lines)


def test_the_guests_check_errors_when_pct_is_denied():
    reading = "@@@guests\n@@@.rc guests 1 sudo: a password is required\n@@@end\n"
    with pytest.raises(MissingEvidence):
        Facts("off2", reading, ["guests"]).evidence("guests")


# ---- OPS-3: job units and timers -----------------------------------------------------------------------

NOW = 1796188435   # Wed 2026-12-02 05:13:55 UTC


def _show(unit, **props):
    return [f"{k}={v}" for k, v in props.items()] + [f"Id={unit}", ""]


def _jobs(*blocks, now=NOW):
    return [line for b in blocks for line in b] + [f"@@now {now}"]


SANOID_LAB = _show("sanoid.service", Type="oneshot", TimeoutStartUSec="1h", RuntimeMaxUSec="infinity",
                   LoadState="loaded", ActiveState="inactive", SubState="dead", UnitFileState="static",
                   InactiveExitTimestamp="Wed 2026-12-02 05:00:01 UTC")
SANOID_DEBIAN = _show("sanoid.service", Type="oneshot", TimeoutStartUSec="infinity", RuntimeMaxUSec="infinity",
                      LoadState="loaded", ActiveState="inactive", SubState="dead", UnitFileState="static",
                      InactiveExitTimestamp="")
TIMER = _show("sanoid.timer", TimersCalendar="{ OnCalendar=*-*-* *:00/15:00 ; next_elapse=Wed 2026-12-02 05:15:00 UTC }",
              LastTriggerUSec="Wed 2026-12-02 05:00:00 UTC", LoadState="loaded", ActiveState="active",
              SubState="waiting", UnitFileState="enabled", InactiveExitTimestamp="Wed 2026-12-02 04:00:00 UTC")
ABSENT = _show("certbot.service", Type="", TimeoutStartUSec="1min 30s", RuntimeMaxUSec="infinity",
               LoadState="not-found", ActiveState="inactive", SubState="dead", UnitFileState="", InactiveExitTimestamp="")


@pytest.mark.parametrize("text,minutes", [("6h", 360), ("1min 30s", 1.5), ("10min", 10), ("1d 2h", 1560),
                                          ("infinity", None), ("500ms", 500 / 60000)])
def test_systemd_time_spans(text, minutes):
    assert span_minutes(text) == pytest.approx(minutes) if minutes is not None else span_minutes(text) is None


@pytest.mark.parametrize("expr,minutes", [("*-*-* *:00/15:00", 15), ("*-*-* 00,12:00:00", 720),
                                          ("*-*-* 00:00:00", 1440), ("*-*-* *:00:00", 60), ("Mon *-*-* 00:00:00", 10080),
                                          ("*-*-01 00:00:00", 44640), ("*-*-* 02/6:30:00", 360)])
def test_calendar_periods(expr, minutes):
    assert calendar_period(expr) == minutes


def test_healthy_job_units_and_a_unit_absent_here():
    reading = parse_jobs(_jobs(SANOID_LAB, TIMER, ABSENT))
    assert reading.units["sanoid.service"].timeout_minutes == 60 and reading.units["sanoid.timer"].period_minutes == 15
    assert job_problems(reading, JOBS) == []


def test_a_job_unit_without_a_time_out():
    (problem,) = job_problems(parse_jobs(_jobs(SANOID_DEBIAN, TIMER)), JOBS)
    assert problem.startswith("sanoid.service has no time-out")


def test_a_job_running_past_its_time_out():
    running = _show("syncoid.service", Type="oneshot", TimeoutStartUSec="6h", RuntimeMaxUSec="infinity",
                    LoadState="loaded", ActiveState="activating", SubState="start", UnitFileState="enabled",
                    InactiveExitTimestamp="Tue 2026-12-01 21:00:00 UTC")
    (problem,) = job_problems(parse_jobs(_jobs(running)), JOBS)
    assert "has been running for 8.2 h" in problem and "past its time-out of 6.0 h" in problem
    recent = [l.replace("Tue 2026-12-01 21:00:00", "Wed 2026-12-02 04:00:00") for l in running]
    assert job_problems(parse_jobs(_jobs(recent)), JOBS) == []


def test_a_timer_disabled_too_slow_or_not_firing():
    slow = [l.replace("*:00/15:00", "00/2:00:00").replace("LastTriggerUSec=Wed 2026-12-02 05:00:00",
                                                              "LastTriggerUSec=Tue 2026-12-01 20:00:00")
            .replace("UnitFileState=enabled", "UnitFileState=disabled") for l in TIMER]
    problems = job_problems(parse_jobs(_jobs(slow)), JOBS)
    assert [p.split(" ", 2)[1] for p in problems] == ["is", "fires", "last"]


def test_a_timer_that_never_fired_since_it_was_started_long_ago():
    """No LastTriggerUSec (a timer not Persistent= after a reboot, or one whose calendar never comes) is no proof
    that it fires: started longer ago than the bound, it is not firing; started recently, it is not judged yet."""
    never = [l.replace("LastTriggerUSec=Wed 2026-12-02 05:00:00 UTC", "LastTriggerUSec=") for l in TIMER]
    assert job_problems(parse_jobs(_jobs(never)), JOBS) == []   # started 1.2 h ago
    old = [l.replace("InactiveExitTimestamp=Wed 2026-12-02 04:00:00", "InactiveExitTimestamp=Tue 2026-12-01 20:00:00")
           for l in never]
    (problem,) = job_problems(parse_jobs(_jobs(old)), JOBS)
    assert problem.startswith("sanoid.timer has not fired since it was started 9.2 h ago"), problem


@pytest.mark.parametrize("lines,words", [
    (["Id=a.service", "garbage"], "Key=Value"),
    (_show("sanoid.service", LoadState="loaded"), "@@now"),
    (_jobs(_show("sanoid.service", LoadState="loaded", Type="oneshot", RuntimeMaxUSec="infinity")), "TimeoutStartUSec"),
    (_jobs(_show("sanoid.service", LoadState="loaded", Type="oneshot", TimeoutStartUSec="soon",
                 RuntimeMaxUSec="infinity")), "time span"),
    (_jobs(_show("x.service", LoadState="loaded", Type="oneshot", TimeoutStartUSec="1h", RuntimeMaxUSec="infinity",
                 ActiveState="activating", InactiveExitTimestamp="Wed 2026-12-02 05:00:00 CET")), "timestamp"),
])
def test_a_malformed_jobs_reading_is_no_evidence(lines, words):
    with pytest.raises(ValueError, match=words):
        parse_jobs(lines)


# ---- OPS-3: the failure mail (postfix 3.7, postqueue -j) -----------------------------------------------

def _mail(active="active", relay="[pmg.openfoodfacts.org]", root="tech@openfoodfacts.org", queue=()):
    return [f"@@active {active}", f"@@relayhost {relay}", f"@@root {root}", "@@queue"] + [json.dumps(m) for m in queue]


def _queued(queue_id, age_minutes, reason, queue="deferred"):
    return {"queue_name": queue, "queue_id": queue_id, "arrival_time": NOW - age_minutes * 60, "message_size": 412,
            "forced_expire": False, "sender": "root@off2.openfoodfacts.org",
            "recipients": [{"address": "tech@openfoodfacts.org", "delay_reason": reason}]}


REFUSED = "connect to 10.1.0.3[10.1.0.3]:25: Connection refused"
REJECTED = "host pmg.openfoodfacts.org[1.2.3.4] said: 450 4.7.1 Recipient address rejected (in reply to RCPT TO command)"


def test_healthy_mail():
    assert mail_problems(parse_mail(_mail()), NOW, JOBS.max_deferred_minutes) == []


def test_a_deferred_mail_older_than_the_bound_and_a_relay_unreachable():
    mail = parse_mail(_mail(queue=[_queued("4XyZ1", 90, REJECTED), _queued("4XyZ2", 2, REFUSED),
                                   _queued("4XyZ3", 2, "", queue="active")]))
    old, stuck = mail_problems(mail, NOW, JOBS.max_deferred_minutes)
    assert old.startswith("1 deferred message(s) older than 60 min") and "4XyZ1" in old
    assert "whose relay cannot be reached (4XyZ2: connect to" in stuck
    young_rejected = parse_mail(_mail(queue=[_queued("4XyZ1", 5, REJECTED)]))
    assert mail_problems(young_rejected, NOW, JOBS.max_deferred_minutes) == []


def test_no_relay_no_alias_mta_stopped():
    problems = mail_problems(parse_mail(_mail(active="inactive", relay="", root="")), NOW, 60)
    assert [p.split()[0] for p in problems] == ["the", "no", "no"]


@pytest.mark.parametrize("lines", [["@@active active", "@@relayhost x", "@@queue"],
                                   _mail() + ["{not json"], _mail() + ['{"queue_id": "1"}']])
def test_a_malformed_mail_reading_is_no_evidence(lines):
    with pytest.raises(ValueError):
        parse_mail(lines)


# ---- the catalogue and the provisioner -----------------------------------------------------------------

@pytest.mark.parametrize("req", ["OPS-3", "INV-1"])
def test_in_the_catalogue_with_their_incident_reports(req):
    r = load_requirements()[req]
    assert r.severity == "high" and r.sources
    if REPORTS.is_dir():
        assert not [s for s in r.sources if not (REPORTS / f"{s}.md").is_file()]


def _audit(**evidence):
    facts = SimpleNamespace(evidence=lambda name: evidence[name])
    return SimpleNamespace(facts=lambda m: facts)


def test_onboot_is_set_automatically_a_stopped_container_is_manual():
    host = ARCH.hosts()[0]
    mine = {str(c.id): n for n, c in ARCH.spec.hosts[host.name].containers.items()}
    first, second = sorted(mine, key=int)[:2]
    lines = ["VMID Status Lock Name"] + [f"{v} {'stopped' if v == second else 'running'} {n}" for v, n in mine.items()]
    lines += ["@@qm"]
    for v, n in mine.items():
        lines += [f"@@config {v}", f"hostname: {n}", f"onboot: {0 if v == first else 1}"]
    nodeid = f"checks/test_guests.py::test_every_container_runs_and_starts_at_boot[{host.name}]"
    steps = steps_for(Finding("OPS-2", host, "failed", "", nodeid), ARCH, _audit(guests=parse_guests(lines)))
    actions = [s for s in steps if isinstance(s, Action)]
    assert len(actions) == 1 and actions[0].ops[0][1]["commands"] == [f"pct set {first} --onboot 1"]
    (manual,) = [s for s in steps if isinstance(s, Manual)]
    assert f"pct start {second}" in manual.commands


def test_a_guest_outside_the_spec_is_never_removed_automatically():
    host = ARCH.hosts()[0]
    steps = steps_for(Finding("INV-1", host, "failed", ""), ARCH, _audit(guests=parse_guests(_proxmox_reading())))
    assert steps and all(isinstance(s, Manual) for s in steps)
    assert not any("destroy" in c for s in steps for c in s.commands)


def test_a_timer_is_enabled_a_time_out_and_the_mail_are_manual():
    host = ARCH.hosts()[0]
    disabled = [l.replace("UnitFileState=enabled", "UnitFileState=disabled") for l in TIMER]
    audit = _audit(jobs=parse_jobs(_jobs(SANOID_DEBIAN, disabled)),
                   mail=parse_mail(_mail(queue=[_queued("4XyZ2", 2, REFUSED)])))
    steps = steps_for(Finding("OPS-3", host, "failed", ""), ARCH, audit)
    actions = [s for s in steps if isinstance(s, Action)]
    assert len(actions) == 1 and actions[0].ops[0][1] == dict(name="enable sanoid.timer at boot",
                                                               service="sanoid.timer", enabled=True)
    manual = [s for s in steps if isinstance(s, Manual)]
    assert len(manual) == 2 and "no time-out" in manual[0].what and "postqueue -p" in manual[1].commands


def test_job_units_a_package_installed_but_never_used_are_not_judged():
    """sanoid's units are in every lab container (one image), disabled and never run: not that machine's job."""
    unused = _show("sanoid.timer", TimersCalendar="{ OnCalendar=*-*-* *:00/15:00 ; next_elapse=(null) }",
                   LastTriggerUSec="", LoadState="loaded", ActiveState="inactive", SubState="dead",
                   UnitFileState="disabled", InactiveExitTimestamp="")
    reading = parse_jobs(_jobs(SANOID_DEBIAN, unused))
    assert job_problems(reading, JOBS) == []
    used = [l.replace("UnitFileState=disabled", "UnitFileState=enabled") for l in unused]
    assert [p.split()[0] for p in job_problems(parse_jobs(_jobs(SANOID_DEBIAN, used)), JOBS)] == ["sanoid.service"]
