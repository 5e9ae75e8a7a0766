"""STO-2..STO-6: each application container's Proxmox definition mounts the spec's datasets.

The container's file is pve/lxc_<id>.conf in a folder of its host; a container without one is not
checked (listed by not_checked), since the users copy these files by hand. Each mount of arch.mounts(app) must be
a mount point `/<dataset>` at the spec's path; the rule it comes from names the requirement.
Front-end asset paths (spec.assets), when mounted, must be read-only (ro=1).
"""
from confs import layout
from confs.findings import Finding

ASSETS_REQ = "STO-6"


def mount_requirement(arch, mount, app=None):
    """own, root -> STO-2; a folder shared between the public and producer platforms of one flavor that
    other flavors also mount (product images, products) -> STO-4; other shared folders (users, orgs)
    -> STO-3; another flavor's products and images -> STO-5."""
    if mount.why in ("own", "root"):
        return "STO-2"
    apps = arch.spec.applications
    folder = next((f for f in arch.spec.flavors[mount.flavor].folders.values() if f.dataset == mount.dataset), None)
    same_flavor = app is not None and mount.owner in apps and apps[mount.owner].flavor == apps[app].flavor
    if folder is not None and folder.mounted_by and (same_flavor or mount.why == "shared"):
        return "STO-4"
    return "STO-5" if mount.why == "movable" else "STO-3"


def mount_findings(arch, container, rel, points):
    by_path = {p.path: p for p in points}
    by_source = {}
    for p in points:
        by_source.setdefault(p.source, p)
    who = f"container {container.name} (id {container.id} on {container.host})"
    for path, mount in sorted(arch.mounts(container.application).items()):
        req, source = mount_requirement(arch, mount, container.application), f"/{mount.dataset}"
        at_path, elsewhere = by_path.get(path), by_source.get(source)
        if at_path and at_path.source == source:
            continue
        if at_path:
            yield Finding(req, rel, at_path.line, f"{who}: {at_path.key} mounts {at_path.source} at {path}; "
                                                  f"expected {source} there ({mount.why} {mount.folder} of {mount.flavor})")
        elif elsewhere:
            yield Finding(req, rel, elsewhere.line, f"{who}: {elsewhere.key} mounts {source} at {elsewhere.path}; "
                                                    f"expected mp={path}")
        else:
            yield Finding(req, rel, None, f"{who}: dataset {mount.dataset} is not mounted; expected "
                                          f"'mpN: {source},mp={path}' ({mount.why} {mount.folder} of {mount.flavor})")


def asset_findings(arch, container, rel, points):
    assets = {path.rstrip("/"): name for name, path in arch.assets(container.application).items()}
    for p in points:
        if p.path in assets and not p.read_only:
            yield Finding(ASSETS_REQ, rel, p.line, f"container {container.name}: {p.key} mounts the {assets[p.path]} "
                                                   f"assets at {p.path} writable; expected ro=1")


def not_checked(arch, repo):
    """[(requirements, why)] for application containers whose definition is not in the repository: the
    users copy /etc/pve files by hand ("encouraged", confs/<host>/pve/README.md), so a missing copy is
    nothing to examine, not a defect."""
    out = []
    for container in arch.app_containers():
        dirs = layout.dirs(arch, container.host)
        if not repo.has(dirs, "pve", layout.is_pve_of(container.id)):
            reqs = sorted({mount_requirement(arch, m, container.application)
                           for m in arch.mounts(container.application).values()} | {"STO-6", "NET-1"})
            out.append((reqs, f"container {container.name} (id {container.id} on {container.host}): no "
                              f"{layout.pve_file(arch, container.host, container.id)} to read its mount points from"))
    return out


def check(arch, repo):
    findings = []
    for container in arch.app_containers():
        dirs = layout.dirs(arch, container.host)
        for seen, pve in repo.files(dirs, "pve", layout.is_pve_of(container.id)):
            findings += [Finding("STO-2", seen.real, r.line, f"{r.what} repeats line {r.first}; Proxmox keeps the "
                                                             "last one only: write each key once") for r in pve.repeats]
            points = pve.mount_points()
            findings += mount_findings(arch, container, seen.real, points)
            findings += asset_findings(arch, container, seen.real, points)
    return findings
