"""Spec queries that parametrize checks, and which machines each target's check reads."""


def app_containers(arch):
    return arch.app_containers()


def containers(arch):
    return arch.containers()


def stunnel_containers(arch):
    return arch.stunnel_containers()


def databases(arch):
    return list(arch.spec.databases)


def chains(arch):
    return arch.chains()


def links(arch):
    return arch.links()


def reads_proxy(chain, arch):
    return [chain.proxy.name]


def reads_database_home(kind, arch):
    return [arch.spec.databases[kind].container]


def reads_link_ends(link, arch):
    return [link.server.name, link.client.name]


# Checks that compare a machine with others read those others at set-up too: one that cannot be read
# makes the check an error naming it, never a pass on the machines that could be read (issue 18).

def reads_every_link_end(link, arch):
    """A link's ends, then every other link's (their PSKs are compared with this link's)."""
    ends = reads_link_ends(link, arch) + [e.name for other in arch.links() for e in (other.server, other.client)]
    return list(dict.fromkeys(ends))


def reads_with_applications(target, arch):
    """An application container, then every other one, then every other machine (their public addresses
    are compared with its peers)."""
    return list(dict.fromkeys([target.name] + [c.name for c in arch.app_containers()]
                              + [m.name for m in arch.machines()]))


def reads_every_non_application(kind, arch):
    """A database's home, then every machine but the applications (APP-3's): where else its server runs."""
    home = arch.spec.databases[kind].container
    return list(dict.fromkeys([home] + [m.name for m in arch.machines() if m.role != "application"]))


def machines(arch):
    return arch.machines()


def hosts(arch):
    return arch.hosts()


def replicas(arch):
    return arch.replicas()


def backup_replicas(arch):
    return [r for r in arch.replicas() if r.target == arch.spec.snapshots.backups.host]


def staging_clones(arch):
    return arch.staging_clones()


def pools(arch):
    return arch.pools()


def images_site(arch):
    return [arch.spec.web.images.public_name]


def reads_replica_pair(replica, arch):
    return [replica.source, replica.target]


def reads_host_of(target, arch):
    return [target.host]


def reads_images_host(name, arch):
    return [arch.spec.web.images.host]


def receivers(arch):
    """Hosts that run replication jobs: the targets in pull mode, the sources in push mode."""
    names = arch.spec.replication.runners()
    return [h for h in arch.hosts() if h.name in names]


def reads_database_and_its_users(kind, arch):
    """A database's own container and every application container that uses it (DB-3)."""
    users = [a.name for a in arch.app_containers() if kind in arch.database_endpoints(a.name)]
    return [arch.spec.databases[kind].container] + users


def data_containers(arch):
    """The containers of the databases that hold data (BAK-1)."""
    return arch.data_containers()


def reads_host_and_off_site(container, arch):
    """A container's host and every host of another datacenter its host's jobs send to (BAK-1)."""
    here = arch.spec.hosts[container.host].datacenter
    return [container.host] + sorted({j.target for j in arch.jobs() if j.source == container.host
                                      and arch.spec.hosts[j.target].datacenter != here})
