"""The prod path (SSH with paramiko, containers reached through their Proxmox host) runs against the lab."""
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from fixtures.lab import docker_ops
from fixtures.lab.state import docker_name
from reports.results import failing_requirements

SSHD = "mkdir -p /run/sshd /root/.ssh && chmod 700 /root/.ssh && /usr/sbin/sshd -o PermitRootLogin=prohibit-password"


def new_key(path):
    """A throw-away ed25519 key written to path (0600); returns the public line."""
    key = ed25519.Ed25519PrivateKey.generate()
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                                       serialization.NoEncryption()))
    path.chmod(0o600)
    return key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()


@pytest.fixture
def ssh_lab(lab, tmp_path):
    """sshd with a throw-away key in the jump machine and the application containers of its host."""
    public = new_key(tmp_path / "id")
    apps = lab.app_containers()
    jump = lab.proxy_of(apps[0].host)   # stands for the Proxmox host: it has a public and an internal address
    client = docker_ops.client()
    machines = [jump] + [a for a in apps if a.host == jump.host]
    for m in machines:
        docker_ops.sh(client.containers.get(docker_name(m.name)),
                      f"{SSHD} && echo '{public}' > /root/.ssh/authorized_keys", "start sshd")
    inventory = tmp_path / "prod.yaml"
    hosts = "\n".join(f"  {h}: {{address: {jump.public_address}}}" for h in lab.spec.hosts)
    inventory.write_text(f"backend: ssh\nuser: root\nkey: {tmp_path / 'id'}\nhosts:\n{hosts}\n")
    yield inventory, [a for a in apps if a.host == jump.host]
    for m in machines:
        docker_ops.sh(client.containers.get(docker_name(m.name)),
                      "pkill -x sshd; rm -f /root/.ssh/authorized_keys", "stop sshd", check=False)


@pytest.mark.lab
def test_audit_over_ssh_through_the_host(ssh_lab, audit):
    inventory, apps = ssh_lab
    cases = audit(f"--inventory={inventory}", "-m", "prod", "--requirement=APP-2", "--requirement=APP-3")
    assert len(cases) == 2 * len(apps)
    assert not failing_requirements(cases), [c.message for c in cases if c.outcome != "passed"][:2]


@pytest.mark.lab
def test_wrong_key_is_one_clear_error_per_machine(ssh_lab, audit, tmp_path):
    inventory, apps = ssh_lab
    other = tmp_path / "other"
    new_key(other)
    bad = tmp_path / "bad.yaml"
    bad.write_text(inventory.read_text().replace(str(tmp_path / "id"), str(other)))
    cases = audit(f"--inventory={bad}", "-m", "prod", "--requirement=APP-2")
    assert cases and all(c.outcome == "error" for c in cases)
    assert all("cannot be read" in c.message and "uthentication" in c.message for c in cases), cases[0].message
