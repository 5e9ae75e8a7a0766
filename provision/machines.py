"""The audit's inventory as a pyinfra inventory: the lab's containers through pyinfra's Docker connector
(`@docker/<container>`), production over SSH (pyinfra's connector: ssh config, ssh-agent, known hosts),
a container through its Proxmox host as a ProxyJump, as the audit reaches it."""
import os
import tempfile

from pyinfra.api import Config, Inventory, State


def pyinfra_names(inventory, machines):
    """{machine: (pyinfra host name, connector data)} for the machines of the spec to act on."""
    inv, arch = inventory.inv, inventory.arch
    out = {}
    if inventory.kind == "docker":
        for m in machines:
            out[m] = ("@docker/" + inventory.describe(m).split("://", 1)[1], {})
        return out
    key = os.path.expanduser(inv.key)
    base = {"ssh_user": inv.user, "ssh_key": key}
    if inv.known_hosts:
        base["ssh_known_hosts_file"] = os.path.expanduser(inv.known_hosts)
    jumps = []
    for m in machines:
        if m in inventory.hosts:
            e = inv.hosts[m]
            out[m] = (m, {**base, "ssh_hostname": e.address, "ssh_port": e.port, "ssh_user": e.user or inv.user})
        else:
            c = arch.container(m)
            e = inv.containers.get(m)
            h = inv.hosts[c.host]
            address = e.address if e else c.address
            jumps.append(f"Host {address}\n  ProxyJump {h.user or inv.user}@{h.address}:{h.port}\n")
            out[m] = (m, {**base, "ssh_hostname": address, "ssh_port": e.port if e else 22})
    if jumps:
        fd, path = tempfile.mkstemp(prefix="offsuite-ssh-", suffix=".conf")
        with os.fdopen(fd, "w") as f:
            f.write("".join(jumps))
        for m, (name, data) in out.items():
            data["ssh_config_file"] = path
    return out


def state_for(inventory, machines):
    """A pyinfra State over these machines, with diffs on; sudo over SSH (the lab's docker exec is root)."""
    names = pyinfra_names(inventory, machines)
    pinv = Inventory(([(name, data) for name, data in names.values()], {}))
    config = Config(DIFF=True, SUDO=inventory.kind != "docker", PARALLEL=8)
    state = State(pinv, config)
    hosts = {m: pinv.get_host(names[m][0]) for m in machines}
    return state, hosts
