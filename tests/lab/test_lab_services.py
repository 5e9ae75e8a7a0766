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
    cmd = "cd /opt/product-opener && perl minion.pl minion job"
    job_id = sh(app.name, f"{cmd} -e echo -a '[\"lab\"]'", user="www-data").strip()
    for _ in range(50):
        if "finished" in sh(app.name, f"{cmd} {job_id}", user="www-data"):
            return
        time.sleep(0.2)
    pytest.fail(f"minion job {job_id} did not finish: {sh(app.name, f'{cmd} {job_id}', user='www-data')}")
