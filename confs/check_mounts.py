"""STO-2..STO-6: each application container's Proxmox definition mounts the spec's datasets.

The container's file is confs/<host>/pve/lxc_<id>.conf. Each mount of arch.mounts(app) must be
a mount point `/<dataset>` at the spec's path; the rule it comes from names the requirement.
Front-end asset paths (spec.assets), when mounted, must be read-only (ro=1).
"""
from confs import layout
from confs.findings import Finding

ASSETS_REQ = "STO-6"


def mount_requirement(arch, mount):
    """own -> STO-2; shared -> STO-4 for product images (the shared folder that is movable), else
    STO-3 (users, orgs); movable -> STO-5."""
    if mount.why == "own":
        return "STO-2"
    if mount.why == "movable":
        return "STO-5"
    folder = next(f for f in arch.spec.flavors[mount.flavor].folders.values() if f.dataset == mount.dataset)
    return "STO-4" if folder.movable else "STO-3"


def mount_findings(arch, container, rel, points):
    by_path = {p.path: p for p in points}
    by_source = {}
    for p in points:
        by_source.setdefault(p.source, p)
    who = f"container {container.name} (id {container.id} on {container.host})"
    for path, mount in sorted(arch.mounts(container.application).items()):
        req, source = mount_requirement(arch, mount), f"/{mount.dataset}"
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
    assets = {path.rstrip("/"): name for name, path in arch.spec.assets.items()}
    for p in points:
        if p.path in assets and not p.read_only:
            yield Finding(ASSETS_REQ, rel, p.line, f"container {container.name}: {p.key} mounts the {assets[p.path]} "
                                                   f"assets at {p.path} writable; expected ro=1")


def check(arch, repo):
    findings = []
    for container in arch.app_containers():
        rel = layout.pve_file(container.host, container.id)
        pve = repo.read(rel, "pve")
        if pve is None:
            if not repo.exists(rel):
                reqs = sorted({mount_requirement(arch, m) for m in arch.mounts(container.application).values()})
                findings += [Finding(req, rel, None, f"container {container.name} (id {container.id}) has no "
                                                     f"Proxmox definition; expected {rel} with its mount points")
                             for req in reqs]
            continue
        points = pve.mount_points()
        findings += mount_findings(arch, container, rel, points)
        findings += asset_findings(arch, container, rel, points)
    return findings
