"""OPS-2 from the Proxmox container definitions (pve/lxc_<id>.conf, every one the repository keeps):
each container starts when its host boots, and its systemd can run.

- `onboot: 1`: without it (absent, or `onboot: 0`) Proxmox leaves the container stopped after a host
  reboot until someone starts it by hand (2024-06-10: off1 rebooted by itself twice; after a reboot
  every container without onboot stays down). A template (`template: 1`) never runs: not judged.
- `features: nesting=1` in an unprivileged container whose OS runs systemd: systemd >= 247 sets up
  mount namespaces for its services (PrivateTmp, ProtectSystem, ...) and AppArmor denies them there
  without nesting, so systemd-networkd, systemd-logind and logrotate fail ("Failed to set up mount
  namespacing"; the users' docs/proxmox.md "Systemd needs nesting capability", 2023-06-07 and
  2023-07 reports; Proxmox warns "Systemd 247 detected. You may need to enable nesting"). A
  privileged container, one without AppArmor confinement (`lxc.apparmor.profile: unconfined`), or an OS
  without systemd (alpine, gentoo, devuan) or not said, is not judged.
"""
from pathlib import PurePosixPath

from confs.findings import Finding
from confs.pve import TRUE_WORDS

REQ = "OPS-2"
SYSTEMD_OSTYPES = frozenset(("debian", "ubuntu", "centos", "fedora", "opensuse", "archlinux", "nixos"))


def definitions(repo):
    """[(real path, PveContainer)] of every container definition the repository keeps, once each."""
    seen, out = set(), []
    for s, container in repo.all("pve"):
        if s.real not in seen:
            seen.add(s.real)
            out.append((s.real, container))
    return out


def examined(repo):
    return sorted({s.real for s in repo.seen if s.fmt == "pve"})


def container_problems(real, container):
    """[(line, message)] for one definition."""
    ct = PurePosixPath(real).stem.removeprefix("lxc_")
    host = container.get("hostname")
    name = f"container {ct}" + (f" ({host[0]})" if host else "")
    template, _ = container.flag("template")
    if template:
        return []
    out = []
    onboot, line = container.flag("onboot")
    if not onboot:
        said = "`onboot: 0`" if line else "no `onboot: 1`"
        out.append((line, f"{name} has {said}: Proxmox does not start it when its host boots, so it stays down "
                          f"after every reboot until started by hand; set `onboot: 1` (pct set {ct} --onboot 1)"))
    unprivileged, _ = container.flag("unprivileged")
    ostype = container.get("ostype")
    profile = container.get("lxc.apparmor.profile")
    confined = not (profile and profile[0].strip() == "unconfined")
    if unprivileged and confined and ostype and ostype[0].lower() in SYSTEMD_OSTYPES:
        features, fline = container.features()
        if features.get("nesting", "0").lower() not in TRUE_WORDS:
            had = f"`features: {container.get('features')[0]}`" if fline else "no `features: nesting=1`"
            out.append((fline, f"{name} is unprivileged, runs {ostype[0]} (systemd) and has {had}: without "
                               "nesting AppArmor denies systemd's mount namespaces, so services such as "
                               "systemd-logind, systemd-networkd and logrotate fail (\"Failed to set up mount "
                               f"namespacing\"); add nesting=1 to its features (pct set {ct} --features "
                               "nesting=1, keeping the others) and restart it"))
    return out


def check(arch, repo):
    return [Finding(REQ, real, line, message)
            for real, container in definitions(repo)
            for line, message in container_problems(real, container)]
