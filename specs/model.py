"""The shape of the spec (pydantic). Cross-references are checked in specs/crossref.py."""
from ipaddress import IPv4Address, IPv4Network
from typing import Annotated, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, NonNegativeInt, PositiveInt


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Name = str
# a folder directly under the configuration repository's confs/ (e.g. "off2-reverse-proxy", "proxy-off")
ConfDir = Field(pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
DATASET = r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)+$"


class Pool(Strict):
    min_free_percent: int = Field(ge=0, le=100)


class Container(Strict):
    id: PositiveInt
    role: Literal["application", "database", "reverse-proxy", "stunnel-client"]
    application: Optional[Name] = None
    database: Optional[Name] = None
    public_address: Optional[IPv4Address] = None
    # folders under the repository's confs/ holding this machine's files; [] = a folder named as the machine
    conf_dirs: list[Annotated[str, ConfDir]] = []
    # NET-7: its one default route's gateway; None: its host's internal address (Proxmox's gw= of the
    # users' containers, confs/off2/pve/lxc_113.conf:22); a container with a public address has its public
    # network's gateway there and none on the internal one (docs/nginx-reverse-proxy.md:13)
    gateway: Optional[IPv4Address] = None
    # BAK-1: the datasets of its host holding its disks (Proxmox volumes: rootfs first, then mpN, as
    # `pct config` names them `<storage>:<volume>`), for the lab to make and the static gate to read; the
    # live audit reads the container's own configuration
    volumes: list[Annotated[str, Field(pattern=DATASET)]] = []


class Host(Strict):
    datacenter: str
    roles: list[str] = []
    internal_address: IPv4Address
    public_address: IPv4Address
    internal_network: IPv4Network
    # the Proxmox bridge on the public network (users' docs/proxmox.md: vmbr0 at Free, vmbr1 at OVH):
    # an application container has no interface on it (NET-1); None: judged by addresses only
    public_bridge: Optional[str] = Field(default=None, pattern=r"^[A-Za-z0-9_.-]+$")
    pools: dict[Name, Pool]
    containers: dict[Name, Container]
    conf_dirs: list[Annotated[str, ConfDir]] = []  # as Container.conf_dirs
    gateway: Optional[IPv4Address] = None   # NET-7: the host's default gateway (public network); None: not judged


UNIT_NAME = r"^[A-Za-z0-9_.:@-]+\.service$"


class Application(Strict):
    flavor: Name
    mode: Literal["public", "pro"]
    mount_root: str = Field(pattern=r"^/")
    dataset: Optional[str] = Field(default=None, pattern=DATASET)  # the install's root dataset, mounted at mount_root
    public_names: list[str] = Field(min_length=1)


class Folder(Strict):
    """One dataset of a flavor. Its owner mounts it at <owner mount_root>/<folder> (unless owner_mounts is
    false); each install of shared_with at <its mount_root>/<folder>; each of mounted_by at the owner's path."""
    dataset: str = Field(pattern=DATASET)
    owner: Name
    folder: Optional[str] = Field(default=None, pattern=r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$")
    shared_with: list[Name] = []
    mounted_by: list[Name] = []
    owner_mounts: bool = True


class Flavor(Strict):
    host: Name
    folders: dict[Name, Folder]


class Process(Strict):
    comm: Union[str, list[str], None] = None
    args: Optional[str] = None
    unit: str
    binaries: list[str] = []   # packaged paths of its program (fnmatch): what it is under any name (APP-3)


class Role(Strict):
    runs: list[Name]


class Database(Strict):
    container: Name
    port: PositiveInt
    process: Name
    holds_data: bool = True   # BAK-1: its container's volumes need a recent snapshot and an off-site replica


class Images(Strict):
    public_name: str
    host: Name
    dataset: str


class Renewal(Strict):
    """NET-9: how certificates are renewed where they are served (certbot, as the users run it)."""
    config_dir: str = Field(default="/etc/letsencrypt", pattern=r"^/[^\s]*[^/\s]$")
    timer: str = Field(default="certbot.timer", pattern=r"^[A-Za-z0-9_.:@-]+\.timer$")
    service: str = Field(default="certbot.service", pattern=UNIT_NAME)


class Web(Strict):
    nginx_port: PositiveInt
    apache_port: PositiveInt
    static_locations: list[str]
    tls_min_days: NonNegativeInt
    images: Images
    renewal: Renewal = Renewal()
    # WEB-5: how an application's answer to a visitor names it ({application}: the spec's name); None: not judged
    answer_names: Optional[str] = None


class Proxmox(Strict):
    web_port: PositiveInt


class LinkEnd(Strict):
    container: Name
    accept: PositiveInt
    connect: Optional[str] = Field(default=None, pattern=r"^[A-Za-z0-9_.-]+:[0-9]+$")


class Link(Strict):
    server: LinkEnd
    client: LinkEnd
    psk_file: str


class Stunnel(Strict):
    config: str
    psk_dir: str
    links: dict[Name, Link]


class Job(Strict):
    """One syncoid job: dataset of the source host -> target_dataset on the target host (same name if
    not given), with its descendants when recursive."""
    source: Name
    target: Name
    dataset: str = Field(pattern=DATASET.replace("+$", "*$"))
    target_dataset: Optional[str] = Field(default=None, pattern=DATASET.replace("+$", "*$"))
    recursive: bool = True


UNIT = r"^[A-Za-z0-9_.:@-]+\.service$"


class Replication(Strict):
    mode: Literal["pull", "push"]
    transport: Literal["ssh"]
    operator: str
    max_lag_minutes: PositiveInt
    jobs: list[Job]
    unit: str = Field(default="syncoid.service", pattern=UNIT)  # systemd unit running every job (OPS-1)
    on_failure: str = Field(default="email-failures@.service", pattern=UNIT)  # notification unit (or template)

    # Which host runs a job (its syncoid, its unit, its syncoid-args.conf) and which it logs in to: decided
    # here only. Pull: the receiver (target) runs it and logs in to the source; push: the source pushes.
    # `job` is anything with `source` and `target` (a spec Job, a JobRef, a Replica, a parsed syncoid line).

    @property
    def pulls(self):
        return self.mode == "pull"

    @property
    def runner_side(self):
        """"target" (pull) or "source" (push): the end of a job that runs it."""
        return "target" if self.pulls else "source"

    @property
    def remote_side(self):
        """The other end: the one the job logs in to."""
        return "source" if self.pulls else "target"

    def runner(self, job):
        return getattr(job, self.runner_side)

    def remote(self, job):
        return getattr(job, self.remote_side)

    def runners(self):
        """{host} that run jobs, in the order the jobs name them."""
        return dict.fromkeys(self.runner(j) for j in self.jobs)


class Retention(Strict):
    hourly: NonNegativeInt = 0
    daily: NonNegativeInt = 0
    monthly: NonNegativeInt = 0
    yearly: NonNegativeInt = 0


class Backups(Strict):
    host: Name
    retention: Retention


class Snapshots(Strict):
    source: Retention
    replica: Retention
    backups: Backups
    unit: str = Field(default="sanoid.service", pattern=UNIT)  # systemd unit taking and pruning snapshots (OPS-1)
    on_failure: str = Field(default="email-failures@.service", pattern=UNIT)


class Clone(Strict):
    clone: str
    origin: str


class Staging(Strict):
    host: Name
    clones: list[Clone]


# a path of an install's software tree: `{application}` stands for the install's name (/srv/{application})
InstallPath = Annotated[str, Field(pattern=r"^/([^{}]|\{application\})*$")]


class Operations(Strict):
    """OPS-2: a unit that restarted itself this many times since it was last started is restart-looping."""
    max_restarts: PositiveInt = 3


class Jobs(Strict):
    """OPS-3: each job unit's time-out (minutes: its TimeoutStartSec=/RuntimeMaxSec= may not be longer, and no
    run may last longer), each job timer's cadence (minutes: its schedule fires at least this often, and it
    last fired no longer ago than stale_after_minutes), and the mail that reports a failing job: a deferred
    message older than max_deferred_minutes is stuck."""
    timeouts: dict[Annotated[str, Field(pattern=r"^[A-Za-z0-9@_.:-]+\.service$")], PositiveInt] = {}
    timers: dict[Annotated[str, Field(pattern=r"^[A-Za-z0-9@_.:-]+\.timer$")], PositiveInt] = {}
    stale_after_minutes: PositiveInt = 420
    max_deferred_minutes: PositiveInt = 60


class Backup(Strict):
    """BAK-1: the databases' data (their containers' volumes) has a snapshot younger than this; its off-site
    replica shares one within the replication's max_lag_minutes."""
    max_snapshot_age_hours: PositiveInt = 24
    # Proxmox's own backups (vzdump): a task still running after this long is stuck (2022-02-remove-containers-ovh1:
    # one running since 2021 held the lock, every later backup failed)
    vzdump_max_hours: PositiveInt = 24


class Space(Strict):
    """STO-7: the free share every mounted filesystem and every dataset with a quota keeps."""
    min_free_percent: int = Field(default=20, ge=0, le=100)


class Pools(Strict):
    """ZFS-10: how long ZFS may take to answer (a hung pool is reported as such) and the longest time since a
    pool's last scrub (or resilver) finished."""
    answer_seconds: PositiveInt = 10
    read_seconds: PositiveInt = 25      # the other ZFS readings (zfs get of every snapshot takes longer)
    scrub_max_age_days: PositiveInt = 35


class SnapshotRetention(Strict):
    """ZFS-12: snapshot retention: the margin over a policy's count, and the age bound of snapshots outside
    any policy (manual, an old naming, leftovers)."""
    count_margin: NonNegativeInt = 2
    outside_max_age_days: PositiveInt = 30
class Connections(Strict):
    """DB-3: the share of its configured maximum a shared database's open connections stay under."""
    max_percent: int = Field(default=80, gt=0, le=100)


class Spec(Strict):
    # where every machine clones the configuration repository (users' docs/explain-server-config-in-git.md):
    # a link to <deploy_path>/x in the repository is a link to its own x
    deploy_path: str = Field(default="/opt/openfoodfacts-infrastructure", pattern=r"^/[^\s]*[^/\s]$")
    hosts: dict[Name, Host]
    software_root: InstallPath
    software_links: dict[str, Name]
    applications: dict[Name, Application]
    flavors: dict[Name, Flavor]
    assets: dict[Name, InstallPath]
    processes: dict[Name, Process]
    roles: dict[Name, Role]
    databases: dict[Name, Database]
    web: Web
    proxmox: Proxmox
    stunnel: Stunnel
    replication: Replication
    snapshots: Snapshots
    staging: Staging
    operations: Operations = Operations()
    space: Space = Space()
    pools: Pools = Pools()
    retention: SnapshotRetention = SnapshotRetention()
    connections: Connections = Connections()
    jobs: Jobs = Jobs()
    backup: Backup = Backup()


# a report of the users' docs/reports/ (file name without .md): the incident a requirement comes from
REPORT = r"^[0-9]{4}-[0-9]{2}-[A-Za-z0-9][A-Za-z0-9-]*$"


class Requirement(Strict):
    id: str = Field(pattern=r"^[A-Z]+-[0-9]+$")
    severity: Literal["critical", "high", "medium", "low"]
    section: str
    title: str
    sources: list[Annotated[str, Field(pattern=REPORT)]] = []   # the incident reports it comes from


class Catalogue(Strict):
    requirements: list[Requirement]
