"""The generic requirements on the guests a host runs and the spec does not name (INV-1): OPS-2 and STO-7
judged on each such guest from the host's reading (fixtures/probes/guest_health.py), with the rules of a spec
machine; a guest that does not answer is said; the spec's own containers are not read twice."""
import json
import subprocess

import pytest

from checks.test_health import guest_problems, mount_problems, unit_problems
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


def _reading(guest_lines, pct=("VMID Status Lock Name", "990 running zammad")):
    sections = {"guest_health": (guest_lines, 0, ""),
                "guests": (list(pct) + ["@@qm", "@@config 990", "arch: amd64", "hostname: zammad", "onboot: 1"], 0, "")}
    return "".join(f"@@@{n}\n" + "".join(l + "\n" for l in lines) + f"@@@.rc {n} {rc} {err}\n"
                   for n, (lines, rc, err) in sections.items()) + "@@@end\n"


def test_a_failed_unit_and_a_full_disk_in_a_guest_outside_the_spec_are_said_on_its_host():
    lines = (["@@guest 990", "@@units"] + _units(("elasticsearch.service", "failed", "failed", "exit-code", "0"),
                                                  ("nginx.service", "active", "running", "success", "0"))
             + ["@@space"] + _space(avail=1 << 20, used=99 << 20))
    f = Facts(HOST, _reading(lines))
    units = guest_problems(f, lambda g: unit_problems(g.units, 3))
    assert len(units) == 1 and units[0].startswith("guest 990 (zammad, outside the spec): ")
    assert "elasticsearch.service" in units[0]
    space = guest_problems(f, lambda g: mount_problems(g.space, 10))
    assert len(space) == 1 and "1.0% free" in space[0]


def test_a_healthy_guest_is_green_and_one_that_does_not_answer_is_said():
    healthy = ["@@guest 990", "@@units"] + _units(("nginx.service", "active", "running", "success", "0")) + \
        ["@@space"] + _space(avail=90 << 20, used=10 << 20)
    assert guest_problems(Facts(HOST, _reading(healthy)), lambda g: unit_problems(g.units, 3)) == []
    hung = guest_problems(Facts(HOST, _reading(["@@guest 990", "@@unread 124"])), lambda g: [])
    assert hung and "did not answer within 20 s" in hung[0] and "990" in hung[0]
    assert parse(["@@guest 7", "@@units", "garbage"])["7"].unread.startswith("malformed reading")


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
