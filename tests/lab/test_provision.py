"""The provisioner: red check, planned fix (nothing changed), apply, green check, an empty second plan;
manual steps named and left alone; production refused without the second confirmation.

The lab is audited a few times in all: every fault with an automatic fix is put in at once, so one plan
and one apply cover each of them (and show that one apply brings them all back to a green audit)."""
import os
import subprocess
import sys

import pytest

from fixtures.lab import docker_ops, faults
from fixtures.lab.state import docker_name, psk_line
from fixtures.lab.hosts import container_name
from provision.remedies import REMEDIES

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# the lab's faults that have an automatic fix which a lab can show turning green
FIXABLE = ("service-stopped", "database-in-application", "psk-shared", "psk-world-readable", "proxy-to-apache",
           "replication-failure-unnoticed", "staging-not-a-clone", "replica-missing")
MANUAL = "source-pruned-common-snapshots"       # ZFS-6: a replica with no common snapshot

# what a fix may touch on a machine, byte for byte: files of /etc (content, mode, owner), the running
# programs (names and pids), the datasets (names and origins; snapshots left out: timers may take one)
FINGERPRINT = ("find /etc -xdev \\( -type f -o -type l \\) -printf '%p %m %u %g %l\\n' 2>/dev/null | sort; "
               "find /etc -xdev -type f -exec sha256sum {} + 2>/dev/null | sort; "
               "ps -eo pid=,comm= | grep -v -w -e ps -e sh -e sort -e grep -e sleep -e find -e sha256sum -e zfs -e apache2; "
               "command -v zfs >/dev/null && zfs list -H -o name,origin,mountpoint 2>/dev/null; true")


def provision(*args, log):
    proc = subprocess.run([sys.executable, "-m", "provision", *args, "--log", str(log)], cwd=ROOT,
                          capture_output=True, text=True, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    return proc


def fingerprint(client, arch, machines):
    out = {}
    for m in sorted(machines):
        name = container_name(m) if m in arch.spec.hosts else docker_name(m)
        out[m] = docker_ops.sh(client.containers.get(name), FINGERPRINT, f"fingerprint {m}")
    return out


def _restore(client, arch, catalogue, names):
    """Take the faults away, and put back what the lab's bring-up made where the fix chose otherwise
    (each link's own PSK, the unit drop-in, the renamed plain dataset)."""
    if "replica-missing" in names:   # the fix received the replica anew: set it aside so the fault can put its own back
        for r in arch.replicas():
            docker_ops.sh(client.containers.get(container_name(r.target)),
                          f"zfs list {r.target_dataset}-away >/dev/null 2>&1 || exit 0; zfs umount {r.target_dataset}; "
                          f"for i in $(seq 20); do zfs destroy -r {r.target_dataset} && exit 0; sleep 0.5; done; exit 1",
                          "set the re-received replica aside")
    for name in names:
        try:
            catalogue[name].remove(client)
        except Exception:
            pass
    unit = arch.spec.processes["stunnel"].unit
    for link in arch.links():
        for end in (link.server, link.client):
            c = client.containers.get(docker_name(end.name))
            docker_ops.put_files(c, {link.psk_path: (psk_line(link.name), 0o600)}, "restore PSK")
    for end in {e.name for l in arch.links() for e in (l.server, l.client)}:
        docker_ops.sh(client.containers.get(docker_name(end)), f"/etc/init.d/{unit} restart >/dev/null", "restart")
    for h in arch.spec.hosts:
        docker_ops.sh(client.containers.get(container_name(h)), "rm -rf /etc/systemd/system/*.d/on-failure.conf; "
                      "for d in $(zfs list -H -o name | grep -- '-not-a-clone$'); do zfs destroy $d; done; true",
                      "remove the provisioner's leftovers")


def _secrets(client, arch):
    keys = set()
    for link in arch.links():
        for end in (link.server, link.client):
            text = docker_ops.sh(client.containers.get(docker_name(end.name)), f"cat {link.psk_path}", "read PSK")
            keys |= {part for l in text.split() for part in l.split(":")[1:]}
    return keys


@pytest.mark.lab
def test_every_fixable_fault_planned_applied_and_green(lab, audit, tmp_path):
    catalogue = faults.catalogue(lab)
    client = docker_ops.client()
    wanted = {catalogue[n].requirement for n in FIXABLE}
    assert wanted <= set(REMEDIES), f"no remediation for {wanted - set(REMEDIES)}"
    log = tmp_path / "provision.log"
    applied = []
    try:
        for name in FIXABLE:
            catalogue[name].apply(client)
            applied.append(name)
        machines = [m.name for m in lab.machines()]
        before = fingerprint(client, lab, machines)
        plan = provision("plan", log=log)
        assert plan.returncode == 0, plan.stdout[-3000:] + plan.stderr[-3000:]
        assert fingerprint(client, lab, machines) == before, "plan changed a machine"
        for name in FIXABLE:  # red, and its fix planned
            assert f"[{catalogue[name].requirement} " in plan.stdout, f"{name}: no fix planned\n{plan.stdout}"
        assert "manual steps" not in plan.stdout, plan.stdout
        assert not log.exists(), "plan logged a change"

        done = provision("apply", log=log)
        out = done.stdout + done.stderr
        assert done.returncode == 0, out[-4000:]
        for name in FIXABLE:
            req = catalogue[name].requirement
            assert f"recheck: [{req} " in out and "STILL RED" not in out, f"{name}: not green\n{out[-4000:]}"
        lines = log.read_text().splitlines()
        assert lines and all(len(l.split()) >= 4 for l in lines), lines   # time, machine, [req] op: result
        leaked = [k for k in _secrets(client, lab) if k in out + log.read_text() + plan.stdout]
        assert not leaked, "a PSK appeared in the provisioner's output or log"

        second = provision("plan", log=log)
        assert second.returncode == 0 and "provision: 0 failing check(s)" in second.stdout, second.stdout[-3000:]
        assert "0 change(s) planned" in second.stdout, second.stdout
    finally:
        _restore(client, lab, catalogue, applied)
    cases = audit()
    assert not {c.requirement for c in cases if c.outcome in ("failed", "error")}, "the lab is not healthy again"


@pytest.mark.lab
def test_fault_without_safe_fix_is_manual_and_left_alone(lab, tmp_path):
    catalogue = faults.catalogue(lab)
    fault = catalogue[MANUAL]
    client = docker_ops.client()
    log = tmp_path / "provision.log"
    fault.apply(client)
    try:
        plan = provision("plan", log=log)
        assert "== manual steps" in plan.stdout and f"[{fault.requirement} " in plan.stdout, plan.stdout
        manual = plan.stdout.split("== manual steps", 1)[1]
        assert "zfs rename" in manual and "syncoid" in manual, manual
        receivers = {l.split(" on ", 1)[1].split(":")[0] for l in manual.splitlines() if l.startswith("  [")}
        before = fingerprint(client, lab, receivers)
        snaps = {h: docker_ops.sh(client.containers.get(container_name(h)), "zfs list -H -t snapshot -o name,guid",
                                  "snapshots") for h in receivers}
        done = provision("apply", log=log)
        assert f"[{fault.requirement} " not in "".join(l for l in done.stdout.splitlines() if l.startswith("log:"))
        assert fingerprint(client, lab, receivers) == before
        assert snaps == {h: docker_ops.sh(client.containers.get(container_name(h)),
                                          "zfs list -H -t snapshot -o name,guid", "snapshots") for h in receivers}
    finally:
        fault.remove(client)


def test_apply_to_prod_refused_without_confirmation(tmp_path):
    inv = tmp_path / "prod-like.yaml"
    from specs import load_spec
    from specs.load import DEFAULT_SPEC
    hosts = "".join(f"  {h}: {{address: 192.0.2.{i + 1}}}\n" for i, h in enumerate(load_spec(DEFAULT_SPEC).hosts))
    inv.write_text(f"backend: ssh\nuser: ops\nkey: /nonexistent/key\nhosts:\n{hosts}")
    log = tmp_path / "provision.log"
    done = provision("apply", "--inventory", str(inv), log=log)
    assert done.returncode == 3, done.stdout + done.stderr
    assert done.stdout == "" and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "--yes-i-mean-prod" in done.stderr and not log.exists()
