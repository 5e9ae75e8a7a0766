"""Replication, snapshots and staging clones (ZFS-*)."""
from pyinfra.api import StringCommand, operation

from provision import units
from provision.remedies import Action, Manual, _facts, _ids, first_problem, remedy


@operation()
def clone_newest(origin: str, clone: str, aside: str):
    """Make `clone` a clone of the newest snapshot of `origin`; a dataset already named `clone` (not a
    clone of it) is renamed to `aside` first, its data kept."""
    yield StringCommand(
        "sh", "-c",
        f"'set -e; o=$(zfs get -H -o value origin {clone} 2>/dev/null || true); "
        f"case \"$o\" in {origin}@*) exit 0;; esac; "
        f"if [ -n \"$o\" ]; then zfs umount {clone} 2>/dev/null || true; "
        f"for i in $(seq 20); do zfs rename {clone} {aside} && break; sleep 0.5; done; "
        f"zfs get -H -o value origin {clone} >/dev/null 2>&1 && exit 1; fi; "
        f"s=$(zfs list -H -t snapshot -o name -s creation -d 1 {origin} | tail -n 1); "
        f"[ -n \"$s\" ] || {{ echo no snapshot of {origin}; exit 1; }}; zfs clone \"$s\" {clone}'")


# --- replication, snapshots and jobs ------------------------------------------------------------------

def _runner(arch, replica):
    return replica.target if arch.spec.replication.mode == "pull" else replica.source


def _replicate(f, arch, r, what):
    unit = arch.spec.replication.unit
    return Action(_runner(arch, r), *_ids(f), f"run the replication now ({unit}): {what}",
                  [(units.start_job, dict(name=f"start {unit}", unit=unit))], subject=f"start {unit}")


@remedy("ZFS-1")
def replicate_missing(f, arch, audit):
    r = f.target
    facts, source = _facts(audit, r.target), _facts(audit, r.source)
    if r.target_dataset in facts.zfs or r.source_dataset not in source.zfs:
        return []
    return [_replicate(f, arch, r, f"a full send creates the missing {r.target_dataset} (nothing is received "
                                   "over data)")]


@remedy("ZFS-2")
def replicate_now(f, arch, audit):
    return [_replicate(f, arch, f.target, "the stale replica receives the source's newest snapshots")]


@remedy("ZFS-3")
def retention(f, arch, audit):
    r = f.target
    keep = arch.spec.snapshots.backups.retention
    wanted = ", ".join(f"{k} = {getattr(keep, k)}" for k in ("hourly", "daily", "monthly", "yearly"))
    return [Manual(r.target, *_ids(f), f"the backups keep less than the spec: {first_problem(f)}",
                   [f"# on {r.target}: in /etc/sanoid/sanoid.conf, the backups' template(s): {wanted}",
                    "sanoid --configdir /etc/sanoid --readonly --verbose --prune-snapshots | head  # what it keeps"])]


@remedy("ZFS-4")
def staging_clone(f, arch, audit):
    c = f.target
    facts = _facts(audit, c.host)
    snaps = facts.snapshots(c.origin) if c.origin in facts.zfs else []
    if not snaps:
        return []
    exists = facts.zfs.get(c.clone) is not None
    aside = f"{c.clone}-not-a-clone"
    what = (f"re-create {c.clone} as a clone of the newest replica snapshot {snaps[-1][0]}"
            + (f"; the dataset now there is renamed to {aside} (kept)" if exists else ""))
    return [Action(c.host, *_ids(f), what, [(clone_newest, dict(name=f"zfs clone {snaps[-1][0]} {c.clone}",
                                                               origin=c.origin, clone=c.clone, aside=aside))])]


@remedy("ZFS-5")
def plain_tcp(f, arch, audit):
    h = f.target
    return [Manual(h.name, *_ids(f), f"a replication job bypasses ssh: {first_problem(f)}",
                   [f"# on {h.name}: remove --insecure-direct-connection from the job's line",
                    "grep -n -- --insecure-direct-connection /etc/sanoid/syncoid-args.conf",
                    "sed -i 's/--insecure-direct-connection=[^ ]* //' /etc/sanoid/syncoid-args.conf"])]


@remedy("ZFS-6")
def no_common_snapshot(f, arch, audit):
    r = f.target
    operator = arch.spec.replication.operator.format(target=r.target, source=r.source)
    return [Manual(r.target, *_ids(f), f"{r.target_dataset} shares no snapshot with {r.source}:{r.source_dataset}; "
                   "an incremental send cannot resume and a forced full receive would overwrite it",
                   [f"# on {r.target}: keep the old replica aside (nothing destroyed), then receive it anew",
                    f"zfs rename {r.target_dataset} {r.target_dataset}-diverged-$(date +%Y%m%d)",
                    f"syncoid --no-privilege-elevation {operator}@{r.source}:{r.source_dataset} {r.target_dataset}",
                    f"# once the new replica is checked: decide about {r.target_dataset}-diverged-* by hand"])]


@remedy("ZFS-7")
def pool_full(f, arch, audit):
    p = f.target
    return [Manual(p.host, *_ids(f), f"pool {p.name} on {p.host} is short of free space: {first_problem(f)}",
                   [f"# on {p.host}: what takes the space (snapshots included); free it or grow the pool",
                    f"zfs list -o name,used,usedbysnapshots,usedbydataset -s used -r {p.name} | tail",
                    f"zpool list {p.name}"])]


@remedy("ZFS-8")
def operator_rights(f, arch, audit):
    r = f.target
    operator = arch.spec.replication.operator.format(target=r.target, source=r.source)
    return [Manual(r.source, *_ids(f), f"replication of {r.source_dataset} is not limited to {operator} with send,hold "
                   f"and no root login ({first_problem(f)}); taking rights away can stop replication, so a person "
                   "does it",
                   [f"# on {r.source}: see what {operator} holds, keep send,hold only",
                    f"zfs allow {r.source_dataset}",
                    f"zfs unallow -u {operator} <rights beyond send,hold, as zfs allow shows> {r.source_dataset}",
                    f"zfs allow -u {operator} send,hold {r.source_dataset}",
                    f"# and no root login from the receiving site: sshd -T -C user=root,host={r.target},addr=<its "
                    "address> | grep permitrootlogin  (a Match block may allow it)"])]


@remedy("ZFS-9")
def replica_own_snapshot(f, arch, audit):
    r = f.target
    return [Manual(r.target, *_ids(f), f"the replica {r.target_dataset} has snapshots of its own or autosnap on: "
                   f"{first_problem(f)}; destroying a snapshot is a person's decision",
                   [f"# on {r.target}: autosnap = no in the replica's sanoid template; list the replica's snapshots",
                    f"zfs list -t snapshot -o name,guid,creation -d 1 {r.target_dataset}",
                    "# compare with the source's (same GUID = received); destroy only those taken here, by name"])]


