"""OPS-1 in the lab, for real: a replication job that fails makes systemd's replication unit fail
and its OnFailure= notification fires; ZFS-8: the operator runs only what it is delegated."""
from contextlib import contextmanager

import pytest

from fixtures.lab import docker_ops, host_units, hosts, remediable, units, zfs_setup

pytestmark = pytest.mark.lab


@pytest.fixture(autouse=True, scope="module")
def _timers_held(lab):
    """The tests run the jobs by hand: no timer fires one meanwhile."""
    with remediable.timers_held(docker_ops.client(), lab):
        yield


def on_host(host, script):
    container = docker_ops.client().containers.get(hosts.container_name(host))
    rc, out = container.exec_run(["sh", "-c", script])
    return rc, (out or b"").decode(errors="replace")


@contextmanager
def first_jobs_only(host, count, extra=""):
    """The host's replication jobs cut to its first `count` (each of its other jobs would be seconds more of
    syncoid, proving nothing more), `extra` a job line added; the host's jobs put back after."""
    conf = zfs_setup.SYNCOID_ARGS
    rc, out = on_host(host, f"cp {conf} /tmp/jobs.saved && head -{count} /tmp/jobs.saved > {conf}"
                            + (f" && echo '{extra}' >> {conf}" if extra else ""))
    assert rc == 0, out
    try:
        yield
    finally:
        on_host(host, f"cp /tmp/jobs.saved {conf}")


def test_a_failing_replication_job_fails_its_unit_and_systemd_notifies(lab):
    """systemd runs the replication unit; one job naming no dataset fails it, and its OnFailure=
    starts the notification instance, which appends the unit's status to the notifications log."""
    r = zfs_setup.replicas(lab)[0]
    unit = lab.spec.replication.unit
    source = lab.spec.hosts[r.source_host].public_address
    bad = f"--no-sync-snap --no-privilege-elevation {r.operator}@{source}:{r.source}-missing {r.target}-missing"
    notified = host_units.on_failure(lab.spec.replication.on_failure, unit)
    rc, before = on_host(r.target_host, f"cat {units.NOTIFICATIONS} 2>/dev/null | wc -l")
    # the host's first job and one naming no dataset
    with first_jobs_only(r.target_host, 1, bad):
        try:
            rc, out = on_host(r.target_host, f"systemctl start {unit}")
            assert rc != 0, f"systemctl start {unit} succeeded although a job failed:\n{out[-1500:]}"
            rc, state = on_host(r.target_host, f"systemctl is-failed {unit}")
            assert state.strip() == "failed", state
            rc, log = on_host(r.target_host, f"for i in $(seq 600); do [ $(cat {units.NOTIFICATIONS} 2>/dev/null | wc -l) "
                                             f"-gt {before.strip()} ] && [ $(systemctl show -p ActiveState --value {notified}) "
                                             f"!= activating ] && break; sleep 0.1; done; "
                                             f"tail -n +{int(before) + 1} {units.NOTIFICATIONS}")
            assert f"{unit.rsplit('.', 1)[0]} failed" in log, f"no notification by {notified}:\n{log[-800:]}"
            assert f"{r.source}-missing" in log, f"the notification does not show the failed job:\n{log[-1500:]}"
        finally:
            on_host(r.target_host, f"systemctl reset-failed {unit} {notified}")


def test_the_replication_unit_succeeds_and_stays_quiet_when_every_job_succeeds(lab):
    r = zfs_setup.replicas(lab)[0]
    unit = lab.spec.replication.unit
    rc, before = on_host(r.target_host, f"cat {units.NOTIFICATIONS} 2>/dev/null | wc -l")
    with first_jobs_only(r.target_host, 2):
        rc, out = on_host(r.target_host, f"systemctl start {unit}")
        assert rc == 0, out[-1500:]
        rc, state = on_host(r.target_host, f"systemctl show -p Result --value {unit}")
        assert state.strip() == "success", state
        rc, after = on_host(r.target_host, f"cat {units.NOTIFICATIONS} 2>/dev/null | wc -l")
        assert before == after, "a notification was sent although every job succeeded"


def test_the_operator_runs_only_its_delegated_rights(lab):
    r = zfs_setup.replicas(lab)[0]
    source = lab.spec.hosts[r.source_host].public_address
    ssh = f"ssh -o BatchMode=yes {r.operator}@{source}"
    rc, out = on_host(r.target_host, f"{ssh} zfs snapshot {r.source}@lab-test-not-allowed")
    assert rc != 0 and "permission denied" in out, out
    rc, out = on_host(r.target_host, f"{ssh} zfs allow {r.source}")
    assert rc == 0 and f"user {r.operator} hold,send" in out, out
