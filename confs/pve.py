"""Proxmox container definitions (/etc/pve/lxc/<id>.conf): `key: value` lines.

Lines starting with '#' are the description. The part before the first [section] describes
the current container; [snapshot] sections after it describe snapshots and are not read.
Mount points are `mpN: <source>,mp=<path>[,ro=1][,...]` (or raw `lxc.mount.entry` lines).
"""
import re
from dataclasses import dataclass

from confs.errors import ConfParseError
from confs.ini import Repeat
from confs.source import read_text

ENTRY = re.compile(r"^([A-Za-z][A-Za-z0-9_.-]*)\s*:\s*(.*)$")
MOUNT_POINT = re.compile(r"^mp[0-9]+$")
NET = re.compile(r"^net[0-9]+$")
TRUE_WORDS = {"1", "yes", "true", "on"}


@dataclass(frozen=True)
class MountPoint:
    key: str                # mp0, mp1, ... or lxc.mount.entry
    source: str             # /zfs-hdd/off/users
    path: str               # /mnt/off/users (inside the container)
    read_only: bool
    line: int


@dataclass(frozen=True)
class PveContainer:
    entries: list           # [(key, value, line)] of the current configuration, a repeated key's last only
    repeats: tuple = ()     # ini.Repeat of keys given twice (Proxmox keeps the last)

    def get(self, key):
        """(value, line) of a key of the current configuration, or None when the file does not say."""
        return next(((v, n) for k, v, n in self.entries if k == key), None)

    def flag(self, key):
        """(True/False, line) of a boolean key; (None, None) when the file does not say."""
        entry = self.get(key)
        return (entry[0].lower() in TRUE_WORDS, entry[1]) if entry else (None, None)

    def features(self):
        """({feature: value}, line) of `features: nesting=1,keyctl=1`; ({}, None) when there is none."""
        entry = self.get("features")
        if not entry:
            return {}, None
        return dict(p.split("=", 1) for p in entry[0].split(",") if "=" in p), entry[1]

    def mount_points(self):
        return [m for m in (_mount_point(k, v, n) for k, v, n in self.entries) if m]

    def interfaces(self):
        """[Interface] of the netN entries (bridge, ip=, ip6=)."""
        return [net_interface(key, value, line) for key, value, line in self.entries if NET.match(key)]

    def value(self, key, default=None):
        return next((v for k, v, _ in self.entries if k == key), default)

    def volumes(self):
        """[(key, storage, volume name, line)] of its disks on a Proxmox storage: `rootfs: zfs-nvme:subvol-102-disk-0,
        size=8G` and each `mpN: <storage>:<volume>,mp=...` (a bind mount of a host path is no volume)."""
        out = []
        for key, value, line in self.entries:
            if key == "rootfs" or MOUNT_POINT.match(key):
                source = value.split(",", 1)[0].strip()
                source = source.split("=", 1)[1] if source.startswith("volume=") else source
                if ":" in source and not source.startswith("/"):
                    storage, name = source.split(":", 1)
                    out.append((key, storage, name, line))
        return out

    @property
    def onboot(self):
        """`onboot: 1`: Proxmox starts the container at boot (absent: it does not)."""
        return (self.value("onboot") or "0").lower() in TRUE_WORDS


@dataclass(frozen=True)
class Interface:
    key: str                # net0, net1, ...
    bridge: str             # vmbr0 (None when not said)
    ip: str                 # 10.1.0.113/24, dhcp, manual or None
    ip6: str                # address/prefix, auto, dhcp, manual or None
    line: int
    gw: str = None          # the IPv4 gateway Proxmox makes the container's default route (NET-7)
    gw6: str = None


def net_interface(key, value, line):
    """The Interface of one `netN: name=eth0,bridge=vmbr1,gw=10.0.0.2,ip=10.1.0.113/24,...` line."""
    if not NET.match(key):
        raise ValueError(f"line {line}: expected netN: <options>, found {key!r}")
    options = dict(p.split("=", 1) for p in value.split(",") if "=" in p)
    return Interface(key, options.get("bridge"), options.get("ip"), options.get("ip6"), line,
                     options.get("gw"), options.get("gw6"))


def _mount_point(key, value, line):
    if MOUNT_POINT.match(key):
        parts = [p.strip() for p in value.split(",")]
        options = dict(p.split("=", 1) for p in parts[1:] if "=" in p)
        source = parts[0].split("=", 1)[1] if parts[0].startswith("volume=") else parts[0]
        if "mp" not in options:
            raise ConfParseError(line, f"{key} has no mp=<path>; expected '{key}: <source>,mp=<path>'")
        return MountPoint(key, source.rstrip("/") or "/", options["mp"].rstrip("/") or "/",
                          options.get("ro", "0").lower() in TRUE_WORDS, line)
    if key == "lxc.mount.entry":
        fields = value.split()
        if len(fields) < 4:
            raise ConfParseError(line, "lxc.mount.entry needs '<source> <path> <type> <options>'")
        return MountPoint(key, fields[0].rstrip("/"), "/" + fields[1].strip("/"), "ro" in fields[3].split(","), line)
    return None


def parse_pve(path):
    return parse_pve_text(read_text(path))


def parse_pve_text(text):
    """A container's configuration from its text: /etc/pve/lxc/<id>.conf as the repository holds it, or
    `pct config <id>` as a live host prints it (the same `key: value` lines)."""
    entries = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            break                                   # snapshots follow: not the current container
        entry = ENTRY.match(line)
        if not entry:
            raise ConfParseError(number, f"cannot read {line!r}; expected 'key: value'")
        entries.append((entry.group(1), entry.group(2).strip(), number))
    last, repeats = {}, []
    for key, _, number in entries:
        if key in last and not key.startswith("lxc."):       # raw lxc.* keys repeat (idmap, mount.entry)
            repeats.append(Repeat(f"key {key}", last[key], number))
        last[key] = number
    kept = [(k, v, n) for k, v, n in entries if k.startswith("lxc.") or last[k] == n]
    container = PveContainer(kept, tuple(repeats))
    container.mount_points()                        # raises on a malformed mount point
    return container


@dataclass(frozen=True)
class Storage:
    id: str                 # zfs-nvme
    type: str               # zfspool, dir, lvmthin, nfs, ...
    options: dict           # {pool: zfs-nvme/pve, content: images,rootdir, ...}
    line: int

    def dataset(self, volume):
        """The ZFS dataset of a volume of a zfspool storage (its `pool` + the volume's name), else None."""
        pool = self.options.get("pool")
        return f"{pool}/{volume}" if self.type == "zfspool" and pool else None


def parse_storage_text(text):
    """Proxmox's storage definitions (/etc/pve/storage.cfg): `<type>: <id>` at the start of a line, then the
    storage's options, indented, `<key> [<value>]`. {id: Storage}."""
    out, current = {}, None
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.rstrip()
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line[0].isspace():
            entry = ENTRY.match(line)
            if not entry or not entry.group(2):
                raise ConfParseError(number, f"cannot read {line.strip()!r}; expected '<type>: <storage id>'")
            if entry.group(2) in out:
                raise ConfParseError(number, f"storage {entry.group(2)} defined twice (line {out[entry.group(2)].line})")
            current = out[entry.group(2)] = Storage(entry.group(2), entry.group(1), {}, number)
        elif current is None:
            raise ConfParseError(number, f"an option before any storage: {line.strip()!r}")
        else:
            key, _, value = line.strip().partition(" ")
            current.options[key] = value.strip()
    return out
