"""The audit's inventory as a pyinfra inventory: the lab's containers through pyinfra's Docker connector
(`@docker/<container>`), production over SSH (pyinfra's connector: ssh config, ssh-agent, known hosts),
a container through its Proxmox host as a ProxyJump, as the audit reaches it (`via: jump`)."""
from pyinfra.api import Config, Inventory, State


def pyinfra_names(inventory, machines):
    """{machine: (pyinfra host name, connector data)} for the machines of the spec to act on."""
    inv = inventory.inv
    out = {}
    if inventory.kind == "docker":
        for m in machines:
            out[m] = ("@docker/" + inventory.describe(m).split("://", 1)[1], {})
        return out
    if inv.via != "jump" and any(m not in inventory.hosts for m in machines):
        raise ValueError("the provisioner reaches a container by its own sshd through its Proxmox host "
                         "(`via: jump`); this inventory reads containers with `pct exec`: use one with `via: jump`")
    # pyinfra's ssh connector reads the same ~/.ssh/config as the audit (HostName, User, Port, IdentityFile,
    # ProxyJump through the Proxmox host) and the ssh-agent; host keys are never accepted
    base = {"ssh_config_file": str(inventory.config_path), "ssh_strict_host_key_checking": "yes"}
    if inventory.known_hosts:
        base["ssh_known_hosts_file"] = inventory.known_hosts[0]
    for m in machines:
        out[m] = (inv.aliases.get(m, m), dict(base))
    return out


def state_for(inventory, machines):
    """A pyinfra State over these machines, with diffs on; sudo over SSH (the lab's docker exec is root)."""
    names = pyinfra_names(inventory, machines)
    pinv = Inventory(([(name, data) for name, data in names.values()], {}))
    config = Config(DIFF=True, SUDO=inventory.kind != "docker", PARALLEL=8)
    state = State(pinv, config)
    hosts = {m: pinv.get_host(names[m][0]) for m in machines}
    return state, hosts
