"""Which format a file of a machine folder is, from where it sits (never from the machine's name),
its parser, and the requirements it can prove. Files of no format the gate reads are named with
why, so every file under confs/ is either examined or listed as not recognised."""
import re
from pathlib import PurePosixPath

from confs.dbconf import parse_memcached, parse_mongod, parse_mysql, parse_redis
from confs.logrotate import parse_logrotate
from confs.nginx import parse_nginx
from confs.pve import parse_pve
from confs.sanoid import parse_sanoid
from confs.stunnel import parse_stunnel
from confs.syncoid import parse_syncoid
from confs.systemd import read_unit_file

PARSERS = {"nginx": parse_nginx, "pve": parse_pve, "sanoid": parse_sanoid, "stunnel": parse_stunnel,
           "syncoid": parse_syncoid, "systemd": read_unit_file, "redis": parse_redis,
           "mongod": parse_mongod, "memcached": parse_memcached, "mysql": parse_mysql,
           "logrotate": parse_logrotate}

# the requirements a format serves (a file of it that does not read blocks them)
REQUIREMENTS = {
    "nginx": ("WEB-1",), "stunnel": ("NET-3",), "pve": ("STO-2",), "sanoid": ("ZFS-3",),
    "syncoid": ("ZFS-1",), "systemd": ("OPS-1",), "redis": ("NET-2",), "mongod": ("NET-2",),
    "memcached": ("NET-2",), "mysql": ("NET-2",), "logrotate": ("STO-7",),
}

NOT_CONFIG = {".md", ".txt", ".pem", ".crt", ".key", ".sh", ".py", ".json", ".yaml", ".yml", ".html", ".png",
              ".jpg", ".svg", ".gz", ".log", ".orig", ".bak", ".swp"}
UNIT_SUFFIXES = (".service", ".timer", ".target", ".socket", ".path", ".mount", ".automount")
PVE_FILE = re.compile(r"^lxc_[0-9]+\.conf$")

# folders of things no requirement of the catalogue is about: (name, what)
NOT_READ = (
    ("fail2ban", "fail2ban rules"), ("fail2ban-nftables", "fail2ban rules"), ("munin", "munin monitoring"),
("php", "PHP settings"), ("cron.d", "cron jobs of an application"),
    ("cron.d-disabled", "disabled cron jobs"), ("default", "daemon defaults (/etc/default)"),
    ("modprobe.d", "kernel module options"), ("sysctl.d", "kernel settings"), ("sshd_config", "sshd settings"),
    ("www", "web content"), ("nftables.conf.d", "firewall rules"), ("matomo", "Matomo settings"),
)


def classify_why(inner):
    """(format, None) or (None, why not recognised) for a path inside a machine folder."""
    p = PurePosixPath(inner)
    dirs, name, suffix = p.parts[:-1], p.name, p.suffix.lower()
    if "nginx" in dirs:
        if suffix in NOT_CONFIG:
            return None, f"a {suffix} file in an nginx folder: not nginx configuration"
        return "nginx", None
    if "stunnel" in dirs and suffix == ".conf":
        return "stunnel", None
    if name == "sanoid.conf":
        return "sanoid", None
    if name == "syncoid-args.conf":
        return "syncoid", None
    if dirs and dirs[-1] == "pve":
        if PVE_FILE.match(name):
            return "pve", None
        return None, "in a pve folder but not a container definition (lxc_<id>.conf)"
    if "systemd" in dirs or "systemd" == name:
        if name.endswith(UNIT_SUFFIXES):
            return "systemd", None
        if dirs and dirs[-1].endswith(".d") and dirs[-1][:-2].endswith(UNIT_SUFFIXES) and suffix == ".conf":
            return "systemd", None
        if name.endswith(".d") and name[:-2].endswith(UNIT_SUFFIXES):
            return "systemd", None          # a drop-in folder (seen here when it is a link)
        return None, "a systemd file outside a <unit>.d/ folder: the unit it changes is not said"
    if (dirs and dirs[-1] == "logrotate.d" or name == "logrotate.conf") and suffix not in NOT_CONFIG:
        return "logrotate", None
    if name == "redis.conf":
        return "redis", None
    if name == "mongod.conf":
        return "mongod", None
    if name == "memcached.conf":
        return "memcached", None
    if suffix == ".cnf" and any(d in ("mysql", "mariadb.conf.d", "mysql.conf.d") for d in dirs):
        return "mysql", None
    for folder, what in NOT_READ:
        if folder in dirs or name == folder:
            return None, f"{what}: no requirement of the catalogue is proven from it"
    if suffix in NOT_CONFIG:
        return None, f"a {suffix} file: documentation or data, not configuration"
    return None, "a format the gate does not read (no requirement is proven from it)"


def classify(inner):
    return classify_why(inner)[0]


FOLDER_FORMATS = {"nginx": "nginx", "stunnel": "stunnel", "pve": "pve", "systemd": "systemd", "sanoid": "sanoid"}


def folder_format(inner):
    """The format a folder holds, from its path (the innermost format folder), or None."""
    return next((FOLDER_FORMATS[p] for p in reversed(PurePosixPath(inner).parts) if p in FOLDER_FORMATS), None)
