"""Cross-references a schema cannot check: names that must exist, cycles, duplicates."""


def _containers(spec):
    return {name: (host, c) for host, h in spec.hosts.items() for name, c in h.containers.items()}


def cross_reference_errors(spec):
    """Yield (path, message) for each broken reference of the spec, in file order."""
    seen_names = {}
    for host, h in spec.hosts.items():
        ids = {}
        for name, c in h.containers.items():
            path = ("hosts", host, "containers", name)
            if name in seen_names:
                yield path, f"container name {name!r} is already used on host {seen_names[name]}"
            seen_names[name] = host
            if c.id in ids:
                yield path + ("id",), f"container id {c.id} is already used by {ids[c.id]!r} on host {host}"
            ids[c.id] = name
            if c.role == "application" and c.application not in spec.applications:
                yield path + ("application",), f"application {c.application!r} is not in applications ({', '.join(spec.applications)})"
            if c.role == "database" and c.database not in spec.databases:
                yield path + ("database",), f"database {c.database!r} is not in databases ({', '.join(spec.databases)})"
            if c.role not in spec.roles:
                yield path + ("role",), f"role {c.role!r} is not described in roles"
    yield from _shared_network_ids(spec)
    containers = _containers(spec)
    apps_in_containers = {}
    for name, (host, c) in containers.items():
        if c.role == "application":
            if c.application in apps_in_containers:
                yield ("hosts", host, "containers", name, "application"), (
                    f"application {c.application!r} already has container {apps_in_containers[c.application]!r}")
            apps_in_containers[c.application] = name
    for app, a in spec.applications.items():
        if a.flavor not in spec.flavors:
            yield ("applications", app, "flavor"), f"flavor {a.flavor!r} is not in flavors ({', '.join(spec.flavors)})"
        if app not in apps_in_containers:
            yield ("applications", app), f"application {app!r} has no container in hosts"
        host = spec.flavors[a.flavor].host if a.flavor in spec.flavors else None
        if a.dataset and host in spec.hosts and a.dataset.split("/")[0] not in spec.hosts[host].pools:
            yield ("applications", app, "dataset"), f"pool {a.dataset.split('/')[0]!r} is not a pool of host {host}"
    for flavor, f in spec.flavors.items():
        if f.host not in spec.hosts:
            yield ("flavors", flavor, "host"), f"host {f.host!r} is not in hosts ({', '.join(spec.hosts)})"
        for key, folder in f.folders.items():
            path = ("flavors", flavor, "folders", key)
            if folder.owner not in spec.applications:
                yield path + ("owner",), f"owner {folder.owner!r} is not an application ({', '.join(spec.applications)})"
            for i, other in enumerate(folder.shared_with):
                if other not in spec.applications:
                    yield path + ("shared_with", i), f"shared with {other!r}, which is not an application ({', '.join(spec.applications)})"
            for i, other in enumerate(folder.mounted_by):
                if other not in spec.applications:
                    yield path + ("mounted_by", i), f"mounted by {other!r}, which is not an application ({', '.join(spec.applications)})"
            pool = folder.dataset.split("/")[0]
            if f.host in spec.hosts and pool not in spec.hosts[f.host].pools:
                yield path + ("dataset",), f"pool {pool!r} is not a pool of host {f.host}"
    for name, db in spec.databases.items():
        if db.container not in containers:
            yield ("databases", name, "container"), f"container {db.container!r} does not exist in hosts"
        if db.process not in spec.processes:
            yield ("databases", name, "process"), f"process {db.process!r} is not in processes"
    for role, r in spec.roles.items():
        for i, proc in enumerate(r.runs):
            if proc not in spec.processes:
                yield ("roles", role, "runs", i), f"process {proc!r} is not in processes"
    for link, l in spec.stunnel.links.items():
        for side in ("server", "client"):
            end = getattr(l, side)
            if end.container not in containers:
                yield ("stunnel", "links", link, side, "container"), f"container {end.container!r} does not exist in hosts"
        if l.server.connect is None:
            yield ("stunnel", "links", link, "server", "connect"), "the server side needs connect: <container>:<port>"
        elif l.server.connect.split(":")[0] not in containers:
            yield ("stunnel", "links", link, "server", "connect"), f"container {l.server.connect.split(':')[0]!r} does not exist in hosts"
    if spec.web.images.host not in spec.hosts:
        yield ("web", "images", "host"), f"host {spec.web.images.host!r} is not in hosts"
    for i, job in enumerate(spec.replication.jobs):
        for side in ("source", "target"):
            if getattr(job, side) not in spec.hosts:
                yield ("replication", "jobs", i, side), f"host {getattr(job, side)!r} is not in hosts ({', '.join(spec.hosts)})"
        if job.source == job.target:
            yield ("replication", "jobs", i), "source and target are the same host"
        for side, ds in (("source", job.dataset), ("target", job.target_dataset or job.dataset)):
            host = getattr(job, side)
            if host in spec.hosts and ds.split("/")[0] not in spec.hosts[host].pools:
                field = "dataset" if side == "source" else "target_dataset"
                yield ("replication", "jobs", i, field), f"pool {ds.split('/')[0]!r} is not a pool of host {host}"
    yield from _cycles(spec)
    for side in ("backups",):
        if spec.snapshots.backups.host not in spec.hosts:
            yield ("snapshots", side, "host"), f"host {spec.snapshots.backups.host!r} is not in hosts"
    if spec.staging.host not in spec.hosts:
        yield ("staging", "host"), f"host {spec.staging.host!r} is not in hosts"


def _shared_network_ids(spec):
    """Hosts of one datacenter with the same internal network share it: a container id (its address)
    is used once across them."""
    seen = {}
    for host, h in spec.hosts.items():
        for name, c in h.containers.items():
            key = (h.datacenter, h.internal_network, c.id)
            other = seen.get(key)
            if other and other[0] != host:
                yield (("hosts", host, "containers", name, "id"),
                       f"container id {c.id} (address {h.internal_network.network_address + c.id}) is already used by "
                       f"{other[1]!r} on host {other[0]}, which shares the internal network {h.internal_network}")
            seen.setdefault(key, (host, name))


def _overlap(a, b):
    return a == b or a.startswith(b + "/") or b.startswith(a + "/")


def _cycles(spec):
    """A dataset replicated back to where it comes from: following jobs from a job's target (a job
    starting at the same dataset, an ancestor or a descendant on that host) leads back to its source."""
    jobs = [(j.source, j.dataset, j.target, j.target_dataset or j.dataset) for j in spec.replication.jobs]
    for i, (src, ds, tgt, tds) in enumerate(jobs):
        seen, frontier, trail = set(), [(tgt, tds, [src, tgt])], None
        while frontier and trail is None:
            host, d, path = frontier.pop()
            if (host, d) in seen:
                continue
            seen.add((host, d))
            for s2, d2, t2, td2 in jobs:
                if s2 != host or not _overlap(d, d2):
                    continue
                mapped = td2 + d[len(d2):] if d.startswith(d2) else td2
                if t2 == src and _overlap(mapped, ds):
                    trail = path + [t2]
                    break
                frontier.append((t2, mapped, path + [t2]))
        if trail:
            yield ("replication", "jobs", i), f"replication cycle for {ds}: {' -> '.join(trail)}"
            return
