"""The prod path against the lab, as the on-call engineer runs it: personal account `oncall`, an ssh_config
with ProxyJump through the Proxmox host (or `pct exec` on it), host keys checked against known_hosts,
keys from ssh-agent or IdentityFile, sudo for the read-only set only."""
import os
import signal
import subprocess

import pytest

from fixtures.lab import access, docker_ops, hosts
from tests.lab.prod_access import PATHS, inventory, prod_audit, red_lines


def read_machines(cases):
    return {m for c in cases for m in c.machines}


@pytest.mark.lab
@pytest.mark.parametrize("path", PATHS)
def test_the_whole_lab_is_audited_green_through_each_path(lab, healthy_runs, path):
    run = healthy_runs.runs[path]   # `pytest -m prod --inventory FILE`, as the on-call engineer runs it
    cases, output = run.cases, run.output
    assert cases and all(c.outcome == "passed" for c in cases), red_lines(cases)
    every = set(lab.spec.hosts) | {c.name for c in lab.containers()}
    assert read_machines(cases) == every, f"not read through {path}: {sorted(every - read_machines(cases))}"
    assert "offsuite: read" in output


@pytest.fixture
def agent(tmp_path):
    """An ssh-agent holding oncall's key (started here, stopped by its pid)."""
    sock = tmp_path / "agent.sock"
    out = subprocess.run(["ssh-agent", "-s", "-a", str(sock)], capture_output=True, text=True, check=True).stdout
    pid = int(out.split("SSH_AGENT_PID=")[1].split(";")[0])
    try:
        subprocess.run(["ssh-add", "-q", str(access.ACCESS_DIR / "oncall_ed25519")], check=True,
                       env={**os.environ, "SSH_AUTH_SOCK": str(sock)}, capture_output=True)
        yield str(sock)
    finally:
        os.kill(pid, signal.SIGTERM)


@pytest.mark.lab
def test_keys_served_by_the_ssh_agent(lab, tmp_path, agent):
    """An ssh_config with no IdentityFile at all: the key comes from the agent, as on a laptop."""
    config = tmp_path / "ssh_config"
    config.write_text("".join(l for l in (access.ACCESS_DIR / "ssh_config").read_text().splitlines(True)
                              if "IdentityFile" not in l and "IdentitiesOnly" not in l))
    inv = tmp_path / "agent.yaml"
    inv.write_text(inventory("jump").read_text().replace(str(access.ACCESS_DIR / "ssh_config"), str(config)))
    cases, _ = prod_audit(tmp_path, inv, env={"SSH_AUTH_SOCK": agent})
    assert cases and all(c.outcome == "passed" for c in cases), red_lines(cases)


@pytest.mark.lab
def test_the_pct_stand_in_answers_as_proxmox_words_it(lab):
    host = next(h for h in lab.spec.hosts if any(c.host == h for c in lab.containers()))
    mine = sorted((c for c in lab.containers() if c.host == host), key=lambda c: c.id)
    box = docker_ops.client().containers.get(hosts.container_name(host))
    listing = docker_ops.sh(box, "pct list", "pct list").splitlines()
    assert listing[0].split() == ["VMID", "Status", "Lock", "Name"]
    assert [l.split()[0::2] for l in listing[1:]] == [[str(c.id), c.name] for c in mine]
    c = mine[0]
    assert docker_ops.sh(box, f"pct exec {c.id} -- hostname", "pct exec").strip() == c.name
    assert docker_ops.sh(box, f"pct exec {c.id} -- sh -c 'exit 3'; echo rc=$?", "pct exec rc").strip() == "rc=3"
    unknown = max(x.id for x in lab.containers()) + 1
    said = docker_ops.sh(box, f"pct exec {unknown} -- true; echo rc=$?", "pct exec unknown", check=False)
    assert f"Configuration file 'nodes/{host}/lxc/{unknown}.conf' does not exist" in said and "rc=0" not in said
    refused = docker_ops.sh(box, "pct list", "pct as oncall", check=False, user="oncall")
    assert "VMID" not in refused, "pct must be root's only, as Proxmox's"


@pytest.mark.lab
def test_only_the_personal_accounts_may_forward_through_a_host(lab):
    """ProxyJump is allowed for oncall and nosudo; the replication operators keep no forwarding."""
    host = next(iter(lab.spec.hosts))
    box = docker_ops.client().containers.get(hosts.container_name(host))
    effective = {}
    for user in (*access.ACCOUNTS, "nobody"):
        out = docker_ops.sh(box, f"sshd -T -C user={user},host=x,addr=127.0.0.1 | grep -i '^allowtcpforwarding'",
                            f"sshd -T {user}")
        effective[user] = out.split()[1]
    assert effective == {**{a: "yes" for a in access.ACCOUNTS}, "nobody": "no"}
