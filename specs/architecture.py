"""Questions the checks ask of the spec, answered from the data (nothing hard-coded)."""
from dataclasses import dataclass, field
from ipaddress import ip_address


@dataclass(frozen=True)
class ContainerRef:
    name: str
    host: str
    id: int
    role: str
    address: str
    application: str = None
    database: str = None
    public_address: str = None
    volumes: tuple = ()    # datasets of its host holding its disks (BAK-1)

    def __str__(self):
        return self.name


@dataclass(frozen=True)
class HostRef:
    name: str
    public_address: str
    role: str = "host"

    @property
    def host(self):
        return self.name

    def __str__(self):
        return self.name


@dataclass(frozen=True)
class Replica:
    source: str           # host where the data is written
    target: str           # host that receives it
    source_dataset: str
    target_dataset: str

    def __str__(self):
        return f"{self.target}:{self.target_dataset}"


@dataclass(frozen=True)
class JobRef:
    """One replication job: source host's dataset (and descendants when recursive) -> target dataset."""
    source: str
    target: str
    source_dataset: str
    target_dataset: str
    recursive: bool
    operator: str         # account the receiver uses on the source (pull) or the sender on the target (push)

    def __str__(self):
        return f"{self.source}:{self.source_dataset} -> {self.target}:{self.target_dataset}"


@dataclass(frozen=True)
class PoolRef:
    host: str
    name: str
    min_free_percent: int

    def __str__(self):
        return f"{self.host}:{self.name}"


@dataclass(frozen=True)
class StagingClone:
    host: str
    clone: str
    origin: str

    def __str__(self):
        return f"{self.host}:{self.clone}"


@dataclass(frozen=True)
class Chain:
    public_name: str
    application: str
    proxy: ContainerRef
    app: ContainerRef
    nginx_port: int
    apache_port: int

    def __str__(self):
        return self.public_name


@dataclass(frozen=True)
class LinkRef:
    name: str
    server: ContainerRef
    client: ContainerRef
    server_accept: int
    client_accept: int
    connect: str          # address:port the server forwards to
    psk_path: str

    def __str__(self):
        return self.name


@dataclass(frozen=True)
class Mount:
    path: str
    dataset: str          # pool/name on the data host
    host: str
    folder: str
    flavor: str
    owner: str
    why: str = field(default="", compare=False)


class Architecture:
    def __init__(self, spec):
        self.spec = spec
        # each host's internal network; a lab whose networks cannot overlap maps them (map_networks)
        self.networks = {name: h.internal_network for name, h in spec.hosts.items()}
        # commands an operator account may run as root (an inventory's stand-in for a kernel feature, ZFS-8)
        self.operator_sudo = ()
        # NET-7: {host: gateway} where a lab's routers are not the spec's (every machine of that host)
        self.gateways = {}

    def map_networks(self, mapping):
        """Use other internal networks for some hosts ({host: IPv4Network}), e.g. in a lab where
        Docker cannot give two networks the same subnet. Container addresses follow."""
        self.networks.update(mapping)

    def map_gateways(self, mapping):
        """Route every machine of some hosts ({host: address}) via another gateway than the spec's, e.g. a
        lab whose routers are Docker's bridges."""
        self.gateways.update({h: str(a) for h, a in mapping.items()})

    def gateway(self, machine):
        """NET-7: the address a machine's one default route goes via, or None where the spec says none. A
        container's is its own (a public network's) or else its host's internal address."""
        host = self.host_of(machine)
        if host in self.gateways:
            return self.gateways[host]
        if machine in self.spec.hosts:
            g = self.spec.hosts[machine].gateway
            return str(g) if g else None
        c = self.spec.hosts[host].containers[machine]
        return str(c.gateway or self.spec.hosts[host].internal_address)

    def same_network(self, host_a, host_b):
        """Do two hosts' containers share one internal network (same host, or one datacenter with the
        same internal network, as off1 and off2 at Free)?"""
        a, b = self.spec.hosts[host_a], self.spec.hosts[host_b]
        return host_a == host_b or (a.datacenter == b.datacenter and a.internal_network == b.internal_network)

    # machines
    def container(self, name):
        for host, h in self.spec.hosts.items():
            c = h.containers.get(name)
            if c:
                net = self.networks[host]
                return ContainerRef(name, host, c.id, c.role, str(net.network_address + c.id), c.application,
                                    c.database, str(c.public_address) if c.public_address else None,
                                    tuple(c.volumes))
        raise KeyError(name)

    def containers(self, role=None):
        return [self.container(n) for h in self.spec.hosts.values() for n, c in h.containers.items()
                if role is None or c.role == role]

    def hosts(self):
        return [HostRef(n, str(h.public_address)) for n, h in self.spec.hosts.items()]

    def app_containers(self):
        return self.containers("application")

    def software_root(self, application):
        """An install's software tree: the spec's software_root, `{application}` its name (/srv/off-pro)."""
        return self.spec.software_root.format(application=application)

    def assets(self, application):
        """{name: path} of the front-end asset folders of an install (in its software tree)."""
        return {n: p.format(application=application) for n, p in self.spec.assets.items()}

    def proxy_of(self, host):
        proxies = [c for c in self.containers("reverse-proxy") if c.host == host]
        return proxies[0] if proxies else None

    def runs(self, role):
        """Process specs a container of this role must run: [(name, Process)]."""
        r = self.spec.roles.get(role)
        return [(p, self.spec.processes[p]) for p in (r.runs if r else [])]

    def database_processes(self):
        return [(db.process, self.spec.processes[db.process]) for db in self.spec.databases.values()]

    def database_endpoints(self, machine):
        """{kind: address:port} an application container must use for each shared database:
        the database container on the same host, else the local stunnel client of the link to it."""
        try:
            c = self.container(machine)
        except KeyError:
            return {}
        if c.role != "application":
            return {}
        out = {}
        for kind, db in self.spec.databases.items():
            dbc = self.container(db.container)
            if self.same_network(dbc.host, c.host):
                out[kind] = f"{dbc.address}:{db.port}"
                continue
            for link in self.links():
                if link.connect == f"{dbc.address}:{db.port}" and link.client.host == c.host:
                    out[kind] = f"{link.client.address}:{link.client_accept}"
        return out

    def conf_dirs(self, machine):
        """Folders under the configuration repository's confs/ holding a machine's files (the users'
        convention, a folder named as the machine, unless the spec names them)."""
        if machine in self.spec.hosts:
            dirs = self.spec.hosts[machine].conf_dirs
        else:
            host = self.container(machine).host
            dirs = self.spec.hosts[host].containers[machine].conf_dirs
        return list(dirs) or [machine]

    def conf_dir_machines(self):
        """{folder under confs/: [machines whose files it holds]} (one folder may serve several)."""
        out = {}
        for m in self.machines():
            for d in self.conf_dirs(m.name):
                out.setdefault(d, []).append(m.name)
        return out

    def host_of(self, machine):
        return machine if machine in self.spec.hosts else self.container(machine).host

    def machines(self):
        """Every machine the spec names: hosts and containers (targets of machine-wide checks)."""
        return self.hosts() + self.containers()

    def public_ports(self, machine):
        """Ports a machine may offer outside its internal network (NET-2 / WEB-3), from the spec."""
        if machine in self.spec.hosts:
            ports = {22}  # replication over ssh
            if self.spec.web.images.host == machine:
                ports |= {80, 443}
            return ports
        c = self.container(machine)
        ports = {80, 443} if c.role == "reverse-proxy" else set()
        ports |= {l.server_accept for l in self.links() if l.server.name == machine}
        return ports

    # storage
    def jobs(self):
        rep = self.spec.replication
        return [JobRef(j.source, j.target, j.dataset, j.target_dataset or j.dataset, j.recursive,
                       rep.operator.format(target=j.target, source=j.source)) for j in rep.jobs]

    def replicas(self):
        """Every dataset a job replicates: the job's own and, when recursive, each dataset of the spec
        under it (an install's root, a data folder), named on the target under the job's target."""
        out = []
        written = self.source_datasets()
        for job in self.jobs():
            names = [job.source_dataset]
            if job.recursive:
                names += sorted(d for d in written.get(job.source, []) if d.startswith(job.source_dataset + "/"))
            for ds in names:
                out.append(Replica(job.source, job.target, ds, job.target_dataset + ds[len(job.source_dataset):]))
        return out

    def source_datasets(self):
        """{host: [datasets written there]}: each install's root dataset and every data folder's
        dataset, on its flavor's host."""
        out = {}
        for app in self.spec.applications.values():
            if app.dataset:
                out.setdefault(self.spec.flavors[app.flavor].host, []).append(app.dataset)
        for f in self.spec.flavors.values():
            for folder in f.folders.values():
                out.setdefault(f.host, []).append(folder.dataset)
        for c in self.containers():
            if c.volumes:
                out.setdefault(c.host, []).extend(c.volumes)
        return {h: list(dict.fromkeys(ds)) for h, ds in out.items()}

    def data_containers(self):
        """BAK-1: the containers of the databases that hold data (not a cache)."""
        return [self.container(db.container) for db in self.spec.databases.values() if db.holds_data]

    def volume_replicas(self):
        """The Replicas of the containers' volumes and of the datasets holding them (zfs-nvme/pve): BAK-1's."""
        volumes = {(c.host, v) for c in self.containers() for v in c.volumes}
        return [r for r in self.replicas() if any(h == r.source and (v == r.source_dataset or
                                                                    v.startswith(r.source_dataset + "/"))
                                                  for h, v in volumes)]

    def off_site_copies(self, host, dataset):
        """[(target host, target dataset)] where a job sends a dataset of this host (its own job, or one of a
        dataset above it when recursive) to a host of another datacenter (BAK-1). Any dataset, named by the
        spec or not (a container's volume as its host's configuration says)."""
        here = self.spec.hosts[host].datacenter
        return [(j.target, j.target_dataset + dataset[len(j.source_dataset):]) for j in self.jobs()
                if j.source == host and self.spec.hosts[j.target].datacenter != here
                and (dataset == j.source_dataset or (j.recursive and dataset.startswith(j.source_dataset + "/")))]

    def staging_clones(self):
        return [StagingClone(self.spec.staging.host, c.clone, c.origin) for c in self.spec.staging.clones]

    def pools(self):
        return [PoolRef(host, pool, p.min_free_percent) for host, h in self.spec.hosts.items() for pool, p in h.pools.items()]

    def replica_of(self, host, dataset):
        """The Replica a dataset on a host is, or None if data is written there."""
        return next((r for r in self.replicas() if r.target == host and r.target_dataset == dataset), None)

    def database_ports(self):
        return {db.port: kind for kind, db in self.spec.databases.items()}

    def internal(self, host, address):
        """Is address on the host's internal network (or loopback, or IPv6/IPv4 link-local: not reachable
        beyond the link)? An address of the other family than the network's is not on it."""
        a = ip_address(address)
        h = self.spec.hosts[host]
        return a.is_loopback or a.is_link_local or a in self.networks[host] or a == h.internal_address

    # web
    def chains(self):
        out = []
        for c in self.app_containers():
            app = self.spec.applications[c.application]
            for public in app.public_names:
                out.append(Chain(public, c.application, self.proxy_of(c.host), c,
                                 self.spec.web.nginx_port, self.spec.web.apache_port))
        return out

    def served_names(self, machine):
        """The public names a machine serves over TLS (its reverse proxy's chains, the images host's name)."""
        names = [c.public_name for c in self.chains() if c.proxy and c.proxy.name == machine]
        if self.spec.web.images.host == machine:
            names.append(self.spec.web.images.public_name)
        return list(dict.fromkeys(names))

    # stunnel
    def links(self):
        out = []
        for name, l in self.spec.stunnel.links.items():
            target, port = l.server.connect.split(":")
            out.append(LinkRef(name, self.container(l.server.container), self.container(l.client.container),
                               l.server.accept, l.client.accept, f"{self.container(target).address}:{port}",
                               self.psk_path(l.psk_file)))
        return out

    def psk_path(self, file):
        return file if file.startswith("/") else f"{self.spec.stunnel.psk_dir}/{file}"

    def stunnel_containers(self):
        names = {}
        for link in self.links():
            names[link.server.name] = link.server
            names[link.client.name] = link.client
        return list(names.values())

    # storage
    def mounts(self, app_name):
        """Every dataset mount the application's container must have: {path: Mount}."""
        apps = self.spec.applications
        app = apps[app_name]
        out = {}
        if app.dataset:
            host = self.spec.flavors[app.flavor].host
            out[app.mount_root] = Mount(app.mount_root, app.dataset, host, "", app.flavor, app_name, why="root")
        for flavor, f in self.spec.flavors.items():
            for key, folder in f.folders.items():
                name = folder.folder or key
                base = dict(dataset=folder.dataset, host=f.host, folder=name, flavor=flavor, owner=folder.owner)
                own_path = f"{apps[folder.owner].mount_root}/{name}"
                if folder.owner == app_name:
                    if folder.owner_mounts:
                        out[own_path] = Mount(own_path, why="own", **base)
                elif app_name in folder.shared_with:
                    path = f"{app.mount_root}/{name}"
                    out[path] = Mount(path, why="shared", **base)
                if app_name in folder.mounted_by:
                    out.setdefault(own_path, Mount(own_path, why="movable", **base))
        return out

    @staticmethod
    def address_in(address, network):
        return ip_address(address) in network
