"""OPS-1 in the lab, for real: a replication job that fails makes the replication unit exit non-zero
and its OnFailure= notification fires; ZFS-8: the operator runs only what it is delegated."""
import time

import pytest

from fixtures.lab import docker_ops, host_units, hosts, zfs_setup

pytestmark = pytest.mark.lab


def on_host(host, script):
    container = docker_ops.client().containers.get(hosts.container_name(host))
    rc, out = container.exec_run(["sh", "-c", script])
    return rc, (out or b"").decode(errors="replace")


def test_a_failing_replication_job_exits_non_zero_and_notifies(lab):
    r = zfs_setup.replicas(lab)[0]
    unit = lab.spec.replication.unit
    source = lab.spec.hosts[r.source_host].public_address
    bad = f"--no-sync-snap --no-privilege-elevation {r.operator}@{source}:{r.source}-missing {r.target}-missing"
    test_unit = f"lab-test-{time.time_ns()}.service"
    conf = f"/tmp/{test_unit}.conf"
    path = f"{host_units.UNIT_DIR}/{test_unit}"
    # the replication unit as installed, running a jobs file with one good job and one naming no dataset
    rc, out = on_host(r.target_host, f"head -1 /etc/sanoid/syncoid-args.conf > {conf} && echo '{bad}' >> {conf} && "
                                     f"sed 's|^ExecStart=.*|ExecStart=/usr/local/sbin/lab-replicate {conf}|' "
                                     f"{host_units.UNIT_DIR}/{unit} > {path} && grep -q '^OnFailure=' {path}")
    assert rc == 0, f"{unit} on {r.target_host} has no OnFailure= to test: {out}"
    try:
        rc, out = on_host(r.target_host, f"/usr/local/sbin/lab-unit start {test_unit}")
        assert rc != 0, f"the unit exited 0 although a job failed:\n{out[-1500:]}"
        assert "FAILED" in out and f"{r.source}-missing" in out, out[-1500:]
        rc, log = on_host(r.target_host, f"cat {host_units.NOTIFICATIONS}")
        assert rc == 0 and f"{test_unit} failed" in log, f"no notification for {test_unit}:\n{log[-800:]}"
    finally:
        on_host(r.target_host, f"rm -f {path} {conf}")


def test_the_replication_unit_succeeds_and_stays_quiet_when_every_job_succeeds(lab):
    r = zfs_setup.replicas(lab)[0]
    unit = lab.spec.replication.unit
    rc, before = on_host(r.target_host, f"cat {host_units.NOTIFICATIONS} 2>/dev/null | wc -l")
    rc, out = on_host(r.target_host, f"/usr/local/sbin/lab-unit start {unit}")
    assert rc == 0, out[-1500:]
    rc, after = on_host(r.target_host, f"cat {host_units.NOTIFICATIONS} 2>/dev/null | wc -l")
    assert before == after, "a notification was sent although every job succeeded"


def test_the_operator_runs_only_its_delegated_rights(lab):
    r = zfs_setup.replicas(lab)[0]
    source = lab.spec.hosts[r.source_host].public_address
    ssh = f"ssh -o BatchMode=yes {r.operator}@{source}"
    rc, out = on_host(r.target_host, f"{ssh} zfs snapshot {r.source}@lab-test-not-allowed")
    assert rc != 0 and "permission denied" in out, out
    rc, out = on_host(r.target_host, f"{ssh} zfs allow {r.source}")
    assert rc == 0 and f"user {r.operator} hold,send" in out, out
