"""The lab runs real services: the chain answers, stunnel carries a database, Minion runs a job."""
import time

import pytest

from fixtures.lab import docker_ops
from fixtures.lab.state import docker_name


def sh(name, script, user="root"):
    return docker_ops.sh(docker_ops.client().containers.get(docker_name(name)), script, f"test {name}", user=user)


@pytest.mark.lab
def test_each_public_name_is_answered_by_its_application_through_both_nginx(lab):
    for chain in lab.chains():
        out = sh(chain.proxy.name, f"curl -sk -D - --resolve {chain.public_name}:443:127.0.0.1 "
                                   f"https://{chain.public_name}/product/1")
        assert f"application={chain.application} " in out, out
        assert f"X-Lab-Nginx: {chain.app.name}" in out, out       # through the application's nginx
        assert "served-by=apache" in out


@pytest.mark.lab
def test_static_file_is_answered_by_nginx_alone(lab):
    app = lab.app_containers()[0]
    out = sh(app.name, f"curl -s -D - http://{app.address}/css/dist/lab.css")
    assert "static file" in out and "served-by=apache" not in out


@pytest.mark.lab
def test_stunnel_links_carry_database_connections(lab):
    for link in lab.links():
        kind = next(k for k, db in lab.spec.databases.items() if link.connect.endswith(f":{db.port}"))
        host, port = link.client.address, link.client_accept
        ping = {"redis": f"redis-cli -h {host} -p {port} ping", "mongodb": f"echo PING | nc -q1 {host} {port}"}[kind]
        assert "PONG" in sh(link.client.name, ping), f"link {link.name} does not carry {kind}"


@pytest.mark.lab
def test_minion_worker_runs_a_job_through_postgresql(lab):
    app = lab.app_containers()[0]
    cmd = f"cd {lab.software_root(app.application)} && perl minion.pl minion job"
    job_id = sh(app.name, f"{cmd} -e echo -a '[\"lab\"]'", user="www-data").strip()
    for _ in range(300):   # up to a minute: a bound for a job that never finishes, not a speed test
        if "finished" in sh(app.name, f"{cmd} {job_id}", user="www-data"):
            return
        time.sleep(0.2)
    pytest.fail(f"minion job {job_id} did not finish: {sh(app.name, f'{cmd} {job_id}', user='www-data')}")


@pytest.mark.lab
def test_every_lab_machine_runs_systemd_with_no_failed_unit(lab):
    """systemd is PID 1 everywhere and says running; a non-root account reads unit states (the audit's)."""
    from fixtures.lab import hosts
    client = docker_ops.client()
    names = [hosts.container_name(h) for h in lab.spec.hosts] + [docker_name(c.name) for c in lab.containers()]
    for name in names:
        container = client.containers.get(name)
        out = docker_ops.sh(container, "cat /proc/1/comm; systemctl is-system-running; "
                            "systemctl list-units --failed --no-legend --plain", f"test {name}", check=False)
        assert out.split()[:2] == ["systemd", "running"], f"{name}: {out}"
    app = lab.app_containers()[0]
    out = sh(app.name, "systemctl is-active nginx; systemctl is-enabled nginx", user="nobody")
    assert out.split() == ["active", "enabled"], out


@pytest.mark.lab
def test_a_unit_that_fails_at_bring_up_is_named(lab):
    """wait_running fails with the failed units named, as the bring-up does for a unit that cannot start."""
    from fixtures.lab.image import LabError
    app = lab.app_containers()[0]
    container = docker_ops.client().containers.get(docker_name(app.name))
    unit = "lab-test-fails.service"
    docker_ops.put_files(container, {f"/run/systemd/system/{unit}": ("[Service]\nType=oneshot\nExecStart=/bin/false\n", 0o644)},
                         "test: write unit")
    try:
        docker_ops.sh(container, f"systemctl daemon-reload && systemctl start {unit}; true", "test: start unit")
        with pytest.raises(LabError, match=rf"systemd is degraded; failed units: {unit}"):
            docker_ops.wait_running(container, "test: boot", wait_s=5)
    finally:
        docker_ops.sh(container, f"rm -f /run/systemd/system/{unit} && systemctl daemon-reload && "
                      f"systemctl reset-failed {unit} 2>/dev/null; true", "test: clean up")
