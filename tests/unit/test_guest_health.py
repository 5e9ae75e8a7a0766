"""The generic requirements on the guests a host runs and the spec does not name (INV-1): OPS-2, STO-7, NET-7
and NET-8's inside rules judged on each such guest from the host's reading (fixtures/probes/guest_health.py: containers through
`pct exec`, VMs through their QEMU guest agent), with the rules of a spec machine; a guest that does not
answer is said; the spec's own containers are not read twice."""
import json
import subprocess

import pytest

from checks.guests import guest_problems
from checks.test_guests import outside_the_spec
from checks.test_health import mount_problems, unit_problems
from checks.test_routes import route_problems
from fixtures.facts import Facts
from fixtures.probes.guest_health import command, parse
from specs import load_spec
from specs.architecture import Architecture
from specs.load import DEFAULT_SPEC

ARCH = Architecture(load_spec(DEFAULT_SPEC))
HOST = next(iter(ARCH.spec.hosts))


def _units(*blocks):
    out = []
    for unit, active, sub, result, restarts in blocks:
        out += [f"Id={unit}", "LoadState=loaded", f"ActiveState={active}", f"SubState={sub}", f"Result={result}",
                f"NRestarts={restarts}", ""]
    return out


def _space(avail, used):
    return [json.dumps({"filesystems": [{"target": "/", "source": "/dev/sda1", "fstype": "ext4",
                                         "options": "rw,relatime", "size": avail + used, "avail": avail,
                                         "used": used}]})]


def _routes(defaults=("10.1.0.1",), state="REACHABLE"):
    """What ROUTES_COMMAND prints: one default route per gateway given, each gateway's neighbour in state."""
    routes = [{"dst": "default", "gateway": g, "dev": "eth0"} for g in defaults] + \
        [{"dst": "10.1.0.0/24", "dev": "eth0", "prefsrc": "10.1.0.120"}]
    neigh = [{"dst": g, "dev": "eth0", "lladdr": "aa:bb:cc:dd:ee:01", "state": [state]} for g in defaults]
    return ["@@route", json.dumps(routes), "@@neigh", json.dumps(neigh)]


HEALTHY_UNITS = ("nginx.service", "active", "running", "success", "0")


def _inner(units=(HEALTHY_UNITS,), avail=90 << 20, used=10 << 20, routes=None, stunnel=(), conns=(), pending=()):
    """What the inner commands print in a guest."""
    return (["@@units"] + _units(*units) + ["@@space"] + _space(avail, used) + (routes or _routes())
            + ["@@stunnel", *stunnel, "@@conns", *conns, "@@pending", *pending])


def _agent(out_lines, indent=3, **keys):
    """What `qm guest exec` prints (Proxmox's CLI: JSON, pretty, keys sorted), its out-data the guest's lines."""
    data = {"exitcode": 0, "exited": 1, "out-data": "\n".join(out_lines) + "\n", **keys}
    return json.dumps(data, indent=indent, sort_keys=True, separators=(",", " : ")).splitlines()


QM_LIST = ["      VMID NAME                 STATUS     MEM(MB)    BOOTDISK(GB) PID",
           "       991 monitoring           running    8192              64.00 4242"]


def _reading(guest_lines, pct=("VMID Status Lock Name", "990 running zammad"), qm=()):
    sections = {"guest_health": (guest_lines, 0, ""),
                "guests": (list(pct) + ["@@qm", *qm, "@@config 990", "arch: amd64", "hostname: zammad", "onboot: 1"],
                           0, "")}
    return "".join(f"@@@{n}\n" + "".join(l + "\n" for l in lines) + f"@@@.rc {n} {rc} {err}\n"
                   for n, (lines, rc, err) in sections.items()) + "@@@end\n"


def test_a_failed_unit_and_a_full_disk_in_a_guest_outside_the_spec_are_said_on_its_host():
    lines = (["@@guest 990", "@@units"] + _units(("elasticsearch.service", "failed", "failed", "exit-code", "0"),
                                                  ("nginx.service", "active", "running", "success", "0"))
             + ["@@space"] + _space(avail=1 << 20, used=99 << 20) + _routes())
    f = Facts(HOST, _reading(lines))
    units = guest_problems(f, "units", lambda u: unit_problems(u, 3))
    assert len(units) == 1 and units[0].startswith("guest 990 (zammad, outside the spec): ")
    assert "elasticsearch.service" in units[0]
    space = guest_problems(f, "space", lambda m: mount_problems(m, 10))
    assert len(space) == 1 and "1.0% free" in space[0]


def test_a_healthy_guest_is_green_and_one_that_does_not_answer_is_said():
    healthy = ["@@guest 990"] + _inner()
    assert guest_problems(Facts(HOST, _reading(healthy)), "units", lambda u: unit_problems(u, 3)) == []
    hung = guest_problems(Facts(HOST, _reading(["@@guest 990", "@@unread 124"])), "units", lambda u: [])
    assert hung and "did not answer within 20 s" in hung[0] and "990" in hung[0]
    assert parse(["@@guest 7", "@@units", "garbage"])["7"].missing["units"].startswith("systemctl list-units, systemctl show: malformed reading")


def test_the_command_reads_only_running_guests_outside_the_spec(tmp_path):
    """The host's command run by sh with a fake `pct`: the spec's containers and a stopped guest are skipped."""
    spec_id = next(str(c.id) for c in ARCH.containers() if c.host == HOST)
    fake = tmp_path / "pct"
    fake.write_text("#!/bin/sh\nif [ \"$1\" = list ]; then\n"
                    f"printf 'VMID Status Lock Name\\n{spec_id} running x\\n990 running zammad\\n991 stopped old\\n'\n"
                    "else echo \"exec $2\"; fi\n")
    fake.chmod(0o755)
    out = subprocess.run(["sh", "-c", command(ARCH, HOST)], capture_output=True, text=True,
                         env={"PATH": f"{tmp_path}:/usr/bin:/bin"}).stdout.split("\n")
    assert out[:2] == ["@@guest 990", "exec 990"] and "991" not in " ".join(out) and spec_id not in " ".join(out)
    assert command(ARCH, ARCH.containers()[0].name) is None


@pytest.mark.parametrize("probe", ["guest_health"])
def test_the_probe_is_in_the_hosts_one_round_trip(probe):
    from fixtures.gather import script
    assert f"@@@{probe}" in script(ARCH, HOST) or probe in script(ARCH, HOST)


# --- VMs, read through their QEMU guest agent (`qm guest exec`) --------------------------------------------

def _vm(lines):
    return Facts(HOST, _reading(["@@vm 991"] + lines, qm=QM_LIST))


def test_a_vm_is_read_through_its_agent_with_the_containers_parsers():
    """Proxmox's JSON, out-data holding what the inner commands print: a full disk in the monitoring VM
    (incident 41) is said on its host's STO-7 case, named with the VM; its healthy units and route are green."""
    f = _vm(_agent(_inner(avail=10 << 20, used=90 << 20)))
    health = f.evidence("guest_health")["991"]
    assert health.kind == "vm" and not health.unread and not health.missing
    space = guest_problems(f, "space", lambda m: mount_problems(m, 20))
    assert len(space) == 1 and space[0].startswith("VM 991 (monitoring, outside the spec): /") and "10.0% free" in space[0]
    assert guest_problems(f, "units", lambda u: unit_problems(u, 3)) == []
    assert guest_problems(f, "routes", lambda r: route_problems(r, None, {})) == []


@pytest.mark.parametrize("lines,words", [
    (["@@unread 255 QEMU guest agent is not running"], "qm guest exec: exit 255: QEMU guest agent is not running"),
    (["@@unread 255 No QEMU guest agent configured"], "No QEMU guest agent configured"),
    (["@@unread 124 "], "qm guest exec did not answer within 30 s"),
    (_agent(_inner(), **{"out-truncated": 1}), "truncated"),
    (_agent(_inner(), exitcode=127, **{"err-data": "/bin/sh: 1: findmnt: not found\n"}), "exited 127 in the VM: /bin/sh"),
    (_agent(_inner(), exited=0), "has not exited"),
    (['{', '   "pid" : 3120', '}'], "did not finish within qm guest exec's --timeout 20 s"),
    (['{"exitcode" : 0, "exited" : 1, "out-data" : "@@units'], "not the agent's JSON"),
    (["[]"], "expected a JSON object"),
    ([], "printed nothing"),
])
def test_a_vm_not_read_is_said_with_the_reason_never_a_pass(lines, words):
    f = _vm(lines)
    assert f.evidence("guest_health")["991"].unread
    for part in ("units", "space", "routes"):
        problems = guest_problems(f, part, lambda value: [])
        assert len(problems) == 1 and problems[0].startswith("VM 991 (monitoring, outside the spec) could not be read")
        assert words in problems[0], problems[0]
        assert "qm agent 991 ping" in problems[0]


def test_inv1_says_whether_a_vm_was_read_through_its_agent():
    from fixtures.probes.jobs import parse_guests
    guests = parse_guests(["VMID Status Lock Name", "@@qm", *QM_LIST])
    read = outside_the_spec({}, guests, parse(["@@vm 991"] + _agent(_inner())))
    assert len(read) == 1 and read[0].startswith("VM 991 (monitoring, running) is outside the spec: read through its "
                                                 "QEMU guest agent (`qm guest exec`) for the generic requirements only")
    unread = outside_the_spec({}, guests, parse(["@@vm 991", "@@unread 255 QEMU guest agent is not running"]))
    assert "not read through its QEMU guest agent (`qm guest exec`): qm guest exec: exit 255: QEMU guest agent is " \
           "not running" in unread[0]
    hung = outside_the_spec({}, guests, parse(["@@vm 991", "@@unread 124"]))
    assert "did not answer within 30 s" in hung[0]
    assert "the host's reading of its guests failed" in outside_the_spec({}, guests, None)[0]
    stopped = parse_guests(["VMID Status Lock Name", "@@qm", QM_LIST[0], QM_LIST[1].replace("running", "stopped")])
    assert "not read: it is stopped" in outside_the_spec({}, stopped, {})[0]


def test_a_vm_named_vm_vmid_is_listed_with_its_status():
    """`qm list` names a VM without a name `VM <vmid>`: its status is still read."""
    from fixtures.probes.jobs import parse_qm
    vms = parse_qm([QM_LIST[0], "       200 VM 200               running    2048              32.00 812"])
    assert vms["200"].name == "VM 200" and vms["200"].status == "running"


# --- NET-7 on the guests outside the spec ------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["container", "vm"])
@pytest.mark.parametrize("routes,words", [
    (_routes(defaults=()), "no IPv4 default route; expected one: `ip route`"),
    (_routes(state="FAILED"), "gateway 10.1.0.1 does not answer: neighbour FAILED"),
    (_routes(state="INCOMPLETE"), "gateway 10.1.0.1 does not answer: neighbour INCOMPLETE"),
    (_routes(defaults=("10.1.0.1", "10.1.0.2")), "2 IPv4 default routes"),
])
def test_a_guest_without_a_default_route_or_a_gateway_answering_turns_its_hosts_net7_red(kind, routes, words):
    """Incidents 15 and 17: VMs moved between hosts kept their old host's gateway; the generic part of NET-7
    (one default route, its gateway answering) is judged inside each guest outside the spec, on its host's case."""
    inner = _inner(routes=routes)
    lines = ["@@guest 990"] + inner if kind == "container" else ["@@vm 991"] + _agent(inner)
    (outcome, message), _, _ = _net7(lines)
    assert outcome == "failed", message
    named = "guest 990 (zammad, outside the spec): " if kind == "container" else "VM 991 (monitoring, outside the spec): "
    assert f"- {named}" in message and words in message, message


def test_healthy_guests_leave_their_hosts_net7_green():
    (outcome, message), _, _ = _net7(["@@guest 990"] + _inner() + ["@@vm 991"] + _agent(_inner()))
    assert outcome == "passed", message


def test_a_guests_routes_not_read_are_said_on_net7_its_units_still_judged():
    """`ip` failing in a guest: its routes are missing (NET-7 says so), its units and space are still judged."""
    lines = ["@@guest 990", "@@units"] + _units(HEALTHY_UNITS) + ["@@space"] + _space(90 << 20, 10 << 20) + \
        ["@@route", "@@failed 255"]
    f = Facts(HOST, _reading(lines))
    assert guest_problems(f, "units", lambda u: unit_problems(u, 3)) == []
    (problem,) = guest_problems(f, "routes", lambda r: route_problems(r, None, {}))
    assert problem == ("guest 990 (zammad, outside the spec): its routes could not be read through its host (pct "
                       "exec): ip -j route, ip -j neigh: exit 255")
    (outcome, message), _, _ = _net7(lines)
    assert outcome == "failed" and "its routes could not be read" in message


def _net7(guest_lines):
    from checks import test_routes
    return _host_verdict(test_routes.test_routes_are_as_the_spec_says, guest_lines)


def _host_verdict(check, guest_lines):
    """The check's verdict on a host of the recorded healthy lab (tests/recorded/lab), its reading of the guests
    outside the spec replaced by guest_lines, and container 990 (zammad) and VM 991 (monitoring) added to its
    guests."""
    from fixtures.archcache import memoized
    from fixtures.record import judge_as_read
    from tests.recorded.harness import LAB, LAB_SPEC, Fleet, load_dir, replaced, section, verdict
    arch = judge_as_read(memoized(Architecture(load_spec(LAB_SPEC))), LAB / "index.json")
    target = arch.hosts()[0]
    host = target.name
    fleet = Fleet(load_dir(LAB, arch))
    text = fleet[host].text
    body = text.split("@@@guests\n", 1)[1].split("@@@.rc guests", 1)[0].splitlines()
    i = body.index("@@qm")
    guests = body[:i] + ["990        running                 zammad", "@@qm", *QM_LIST[1:], *body[i + 1:],
                         "@@config 990", "arch: amd64", "hostname: zammad", "onboot: 1"]
    fleet = replaced(fleet, arch, host, section(section(text, "guests", guests), "guest_health", guest_lines))
    healthy = verdict(check, target, Fleet(load_dir(LAB, arch)), arch)
    assert healthy[0] == "passed", healthy   # the recorded host itself is green
    return verdict(check, target, fleet, arch), arch, host


# --- NET-8's inside rules on the guests outside the spec -----------------------------------------------------

def _net8(guest_lines):
    from checks import test_outside
    return _host_verdict(test_outside.test_nothing_internal_answers_from_outside, guest_lines)


CLIENT_ON_WILDCARD = ["@@file /etc/stunnel/zammad.conf", "[postgres]", "client = yes", "accept = 5432",
                      "connect = 10.1.0.101:5433"]


@pytest.mark.parametrize("kind", ["container", "vm"])
def test_a_stunnel_client_on_a_wildcard_in_a_guest_outside_the_spec_turns_its_hosts_net8_red(kind):
    """Incident 2024-01-04-setting-up-stunnel (a client accepting on every address, public ones included), in a
    guest no spec names: NET-8 red on its host's case, with the guest, the file and the line."""
    inner = _inner(stunnel=CLIENT_ON_WILDCARD)
    lines = ["@@guest 990"] + inner if kind == "container" else ["@@vm 991"] + _agent(inner)
    (outcome, message), _, _ = _net8(lines)
    named = "guest 990 (zammad, outside the spec)" if kind == "container" else "VM 991 (monitoring, outside the spec)"
    assert outcome == "failed", message
    assert f"- {named}: /etc/stunnel/zammad.conf:3: [postgres] client accepts on port 5432 with no address" in message


def test_a_guest_connecting_to_its_own_sites_public_address_turns_its_hosts_net8_red():
    """Incident 2024-04-12-install-off-query-off1 (an application reaching its own site by its public name), in a
    guest no spec names: an established and a pending connection to a public address of its host's datacenter."""
    (outcome, message), arch, host = _net8(["@@guest 990"] + _inner())
    assert outcome == "passed", message
    from checks.test_outside import _site_public_addresses
    site = _site_public_addresses(arch, host)
    assert site, "the recorded lab has public addresses in this host's datacenter"
    public = sorted(site)[0]
    conns = [f"0 0 10.1.0.120:40000 {public}:443"]
    pending = [f"0 1 10.1.0.120:40002 {public}:8443"]
    (outcome, message), _, _ = _net8(["@@guest 990"] + _inner(conns=conns, pending=pending))
    assert outcome == "failed", message
    assert f"guest 990 (zammad, outside the spec): has a connection established to {site[public]}'s public address " \
           f"{public}:443" in message
    assert f"being opened (SYN-SENT) to {site[public]}'s public address {public}:8443" in message


def test_a_guest_not_read_is_said_once_on_net8_and_its_missing_part_is_said():
    (outcome, message), _, _ = _net8(["@@guest 990", "@@unread 124"])
    assert outcome == "failed" and message.count("could not be read through its host") == 1, message
    cut = ["@@guest 990"] + _inner()[:-3]   # no @@stunnel, @@conns, @@pending: cut short
    (outcome, message), _, _ = _net8(cut)
    assert outcome == "failed" and "its stunnel could not be read" in message and "its conns could not" in message


def test_the_command_reads_running_vms_through_qm_guest_exec(tmp_path, monkeypatch):
    """The host's command run by sh with fake `pct` and `qm`: a running VM is read with `qm guest exec <vmid>
    --timeout 20 -- /bin/sh -c <the containers' inner commands>`, its JSON kept whole; a VM whose agent is not
    running is said unread with qm's message; a stopped VM is skipped."""
    from fixtures.probes import guest_health
    monkeypatch.setattr(guest_health, "QM_CONF_DIR", str(tmp_path))
    (tmp_path / "991.conf").write_text("name: monitoring\nagent: 1\n")
    (tmp_path / "pct").write_text("#!/bin/sh\n[ \"$1\" = list ] && echo 'VMID Status Lock Name'\n")
    (tmp_path / "qm").write_text(
        "#!/bin/sh\nif [ \"$1\" = list ]; then\n"
        "printf '%10s %-20s %-10s %-10s %12s %-10s\\n' VMID NAME STATUS 'MEM(MB)' 'BOOTDISK(GB)' PID "
        "991 monitoring running 8192 64.00 4242 992 no-agent running 2048 32.00 4343 993 old stopped 2048 32.00 0\n"
        "exit 0; fi\n"
        "[ \"$3\" = 992 ] && { echo 'QEMU guest agent is not running' >&2; exit 255; }\n"
        "shift 3; [ \"$1 $2 $3 $4 $5\" = '--timeout 20 -- /bin/sh -c' ] || { echo \"bad args: $*\" >&2; exit 2; }\n"
        "printf '{\\n   \"exitcode\" : 0,\\n   \"exited\" : 1,\\n   \"out-data\" : \"%s\"\\n}\\n' "
        "\"$(printf '%s' \"$6\" | head -c 12)\"\n")
    for name in ("pct", "qm"):
        (tmp_path / name).chmod(0o755)
    out = subprocess.run(["sh", "-c", guest_health.command(ARCH, HOST)], capture_output=True, text=True,
                         env={"PATH": f"{tmp_path}:/usr/bin:/bin"})
    lines = out.stdout.splitlines()
    assert lines[:6] == ["@@vm 991", "{", '   "exitcode" : 0,', '   "exited" : 1,', '   "out-data" : "echo @@units"', "}"]
    assert lines[6:] == ["@@vm 992", "@@unread 255 QEMU guest agent is not running"], out
    got = parse(lines)
    # (this fake agent's out-data is the inner command's first words, not its output)
    assert got["991"].kind == "vm" and got["991"].unread == "malformed reading: a line before any part: 'echo @@units'"
    assert got["992"].unread == "qm guest exec: exit 255: QEMU guest agent is not running"


def test_the_inner_commands_are_the_spec_machines_own():
    """One command and one parser per format: the guests' reading is the spec machines' (units, space, routes)."""
    from fixtures.probes.files import SPACE_COMMAND
    from fixtures.probes.routes import ROUTES_COMMAND
    from fixtures.probes.guest_health import INNER
    from fixtures.probes.files import STUNNEL_COMMAND
    from fixtures.probes.units import HEALTH_COMMAND
    assert SPACE_COMMAND in INNER and ROUTES_COMMAND in INNER and HEALTH_COMMAND in INNER
    assert STUNNEL_COMMAND in INNER and "ss -Htn state syn-sent" in INNER
    assert {"NET-7", "NET-8"} <= set(next(p for p in __import__("fixtures.probes", fromlist=["catalogue"]).catalogue().values()
                           if p.name == "guest_health").checks)



def test_the_manual_steps_look_inside_the_guests_through_their_host():
    """STO-7's and NET-7's manual steps on a host name the commands run in a guest outside the spec through its
    host (`qm guest exec`, `pct exec`): never automatic, a person decides in a system no spec names."""
    from types import SimpleNamespace

    from provision.audit import Finding
    from provision.remedies import Manual, steps_for
    host = ARCH.hosts()[0]
    full = (f"host {host.name}:\n  - VM 991 (monitoring, outside the spec): /var/lib/docker (ext4 /dev/sda1): 3.0% "
            "free (30 MiB of 1000 MiB); expected at least 20%")
    (step,) = steps_for(Finding("STO-7", host, "failed", full), ARCH, SimpleNamespace(facts=lambda m: None))
    assert isinstance(step, Manual) and "qm guest exec 991 -- df -h /var/lib/docker" in step.commands
    gateway = (f"host {host.name}:\n  - guest 990 (zammad, outside the spec): gateway 10.1.0.1 does not answer: "
               "neighbour FAILED on dev eth0 (`ip neigh`); nothing leaves the machine through it")
    (step,) = steps_for(Finding("NET-7", host, "failed", gateway), ARCH, SimpleNamespace(facts=lambda m: None))
    assert isinstance(step, Manual) and "pct exec 990 -- ip route show default" in step.commands


def test_inv1_says_a_container_was_read_through_pct_exec():
    from fixtures.probes.jobs import parse_guests
    guests = parse_guests(["VMID Status Lock Name", "990 running zammad", "@@qm", "@@config 990", "onboot: 1"])
    (said,) = outside_the_spec({}, guests, parse(["@@guest 990"] + _inner()))
    assert said.startswith("container 990 (zammad, running) is outside the spec: read through `pct exec` for the "
                           "generic requirements only (OPS-2, STO-7, NET-7, NET-8: this host's cases)")
    (said,) = outside_the_spec({}, guests, parse(["@@guest 990", "@@unread 124"]))
    assert "not read through `pct exec`: pct exec did not answer within 20 s" in said
