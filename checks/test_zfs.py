"""ZFS: replication along the spec's topology, fresh, sharing a snapshot with its source; retention,
staging clones, free space. Reads `zfs get -H -p` (OpenZFS and zfs-fuse print it alike)."""
import datetime

from checks import targets
from checks.requirement import report, requirement


def _age(now, epoch):
    return f"{(now - epoch) / 3600:.1f} h old ({datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc):%Y-%m-%d %H:%M} UTC)"


def _where(r):
    return f"replica {r.target}:{r.target_dataset} of {r.source}:{r.source_dataset}"


@requirement("ZFS-1", over=targets.replicas, reads=targets.reads_replica_pair)
def test_dataset_is_replicated_along_the_topology(target, facts):
    problems = []
    if target.source_dataset not in facts[target.source].zfs:
        problems.append(f"the source dataset {target.source_dataset} does not exist on {target.source}")
    if target.target_dataset not in facts[target.target].zfs:
        problems.append(f"the replica {target.target_dataset} does not exist on {target.target}; "
                        f"expected it received from {target.source}")
    report(problems, _where(target))


def _both(target, facts):
    """(source facts, replica facts); a missing dataset is no evidence: the check is skipped with the
    reason (ZFS-1 turns red for it), never passed."""
    import pytest
    src, dst = facts[target.source], facts[target.target]
    missing = [f"{host}:{ds}" for host, f, ds in ((target.source, src, target.source_dataset),
                                                  (target.target, dst, target.target_dataset)) if ds not in f.zfs]
    if missing:
        pytest.skip(f"cannot judge: dataset {' and '.join(missing)} does not exist (ZFS-1 reports it)")
    return src, dst


def _shared(src, dst, target):
    """The replica's snapshots also on the source (same GUID: received from it), oldest first."""
    source_guids = {guid for _, _, guid in src.snapshots(target.source_dataset)}
    return [s for s in dst.snapshots(target.target_dataset) if s[2] in source_guids]


@requirement("ZFS-2", over=targets.replicas, reads=targets.reads_replica_pair)
def test_replication_is_fresh(target, facts, arch, record_property):
    """Freshness is that of the newest snapshot the replica shares with its source (same GUID): a
    snapshot the replica took itself says nothing about replication (ZFS-9 reports it)."""
    src, dst = _both(target, facts)
    max_lag = arch.spec.replication.max_lag_minutes * 60
    problems = []
    source_snaps = src.snapshots(target.source_dataset)
    shared = _shared(src, dst, target)
    if not source_snaps:
        problems.append(f"{target.source} has no snapshot of {target.source_dataset}; is sanoid running?")
    elif src.now - source_snaps[-1][1] > max_lag:
        problems.append(f"the newest snapshot on the source {source_snaps[-1][0]} is {_age(src.now, source_snaps[-1][1])}; "
                        f"expected one within {arch.spec.replication.max_lag_minutes} min: check sanoid on {target.source}")
    if shared:  # the figure the nightly report charts against the maximum
        record_property("lag_minutes", round((dst.now - shared[-1][1]) / 60, 1))
    if not dst.snapshots(target.target_dataset):
        problems.append(f"{target.target} has no snapshot of {target.target_dataset}; replication never ran")
    elif not shared:
        import pytest
        report(problems, _where(target))
        pytest.skip(f"cannot measure the lag: {target.target_dataset} shares no snapshot with the source (ZFS-6 "
                    "reports it)")
    elif dst.now - shared[-1][1] > max_lag:
        problems.append(f"the newest snapshot received from the source, {shared[-1][0]}, is "
                        f"{_age(dst.now, shared[-1][1])}; expected within {arch.spec.replication.max_lag_minutes} min: "
                        f"check syncoid on {target.target}")
    report(problems, _where(target))


@requirement("ZFS-6", over=targets.replicas, reads=targets.reads_replica_pair)
def test_replica_shares_a_snapshot_with_its_source(target, facts):
    src, dst = _both(target, facts)
    replica = dst.snapshots(target.target_dataset)
    common = _shared(src, dst, target)
    problems = []
    if replica and not common:
        newest = replica[-1][0].split("@", 1)[1]
        problems.append(f"no snapshot in common with the source (compared by GUID): the next incremental send "
                        f"will fail; the replica's newest, @{newest}, was pruned on {target.source}")
        clones = [n for n, p in dst.zfs.items() if p.get("origin", "-").startswith(target.target_dataset + "@")]
        if clones:
            problems.append(f"clone(s) {', '.join(clones)} pin old snapshots of the replica")
    report(problems, _where(target))


@requirement("ZFS-9", over=targets.replicas, reads=targets.reads_replica_pair)
def test_replica_takes_no_snapshot_of_its_own(target, facts):
    """A received snapshot keeps its GUID. One the source no longer holds was either received and
    pruned there first (normal around each prune) or not received as it is; only the latter can be newer
    than the newest snapshot received, since replication sends every snapshot up to the source's newest.
    What the evidence cannot tell apart is named as both causes (replica_only_snapshots)."""
    src, dst = _both(target, facts)
    problems = replica_only_snapshots(src.snapshots(target.source_dataset), dst.snapshots(target.target_dataset),
                                      target.source)
    policy = dst.sanoid.policy(target.target_dataset)
    if policy and policy.flag("autosnap", True):
        problems.append(f"sanoid.conf [{policy.section}] (line {policy.line}) has autosnap on for the replica; "
                        "expected autosnap = no")
    report(problems, _where(target))


def _when(epoch):
    return f"{datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc):%Y-%m-%d %H:%M:%S} UTC"


def replica_only_snapshots(source, replica, source_host):
    """ZFS-9's verdict on the replica's snapshots that the source does not hold under their GUID and that
    are newer than the newest one received (older ones were pruned on the source first: normal). Each
    says what the evidence proves and, where two causes fit, names both:
    - the source holds the name under another GUID, created after the replica's: the source destroyed
      and re-made that snapshot after it was received, or it was taken on the replica under a name the
      source also uses;
    - the source holds the name, created before (or when) the replica's was: the replica's cannot be a
      former version of it (a re-made snapshot is newer than the one it replaced): taken on the replica;
    - no snapshot of the source has the name: taken on the replica, or received and since destroyed on
      the source (it was not pruned: it is newer than the newest received)."""
    source_guids = {guid for _, _, guid in source}
    by_name = {name.split("@", 1)[1]: (created, guid) for name, created, guid in source}
    shared = [s for s in replica if s[2] in source_guids]
    # nothing shared (ZFS-6 says so): only what is at least as new as the source's oldest is suspect
    after = shared[-1][1] if shared else (source[0][1] - 1 if source else -1)
    received = f"the newest received is @{shared[-1][0].split('@', 1)[1]}" if shared else "none is shared"
    out = []
    for name, created, guid in replica:
        if guid in source_guids or created <= after:
            continue
        short = name.split("@", 1)[1]
        if short in by_name and by_name[short][0] > created:
            out.append(f"snapshot {name} (GUID {guid}, created {_when(created)}) has the name of {source_host}'s "
                       f"@{short}, which has another GUID ({by_name[short][1]}) and was created later "
                       f"({_when(by_name[short][0])}): either {source_host} destroyed and re-made @{short} after the "
                       "replica received it, or it was taken on the replica under a name the source also uses; "
                       "the two hold different data: a person decides which to keep")
        elif short in by_name:
            out.append(f"snapshot {name} (GUID {guid}, created {_when(created)}) was taken on the replica: "
                       f"{source_host}'s @{short} has another GUID and is older ({_when(by_name[short][0])}), so "
                       "this one is no former version of it; replicas only prune")
        else:
            out.append(f"snapshot {name} (GUID {guid}, created {_when(created)}) is on the replica only and newer "
                       f"than what it received ({received}): either it was taken on the replica, or it was "
                       f"received and then destroyed on {source_host} (not pruned: sanoid prunes the oldest)")
    return out


@requirement("ZFS-3", over=targets.backup_replicas, reads=lambda r, arch: [r.target])
def test_backups_keep_the_spec_retention(target, facts, arch):
    dst = facts[target.target]
    wanted = arch.spec.snapshots.backups.retention
    policy = dst.sanoid.policy(target.target_dataset)
    problems = []
    if policy is None:
        problems.append(f"no sanoid policy covers {target.target_dataset} in /etc/sanoid/sanoid.conf")
    else:
        for key in ("hourly", "daily", "monthly", "yearly"):
            need, have = getattr(wanted, key), policy.count(key)
            if need and (have or 0) < need:
                problems.append(f"sanoid [{policy.section}] keeps {have if have is not None else 'no'} {key} "
                                f"snapshots; the spec's backups keep {need}")
    if target.target_dataset in dst.zfs and not dst.snapshots(target.target_dataset):
        problems.append("no snapshot is kept at all")
    report(problems, f"backups of {target.target_dataset} on {target.target}")


@requirement("ZFS-4", over=targets.staging_clones, reads=targets.reads_host_of)
def test_staging_data_is_a_writable_clone_of_a_replica_snapshot(target, facts):
    f = facts[target.host]
    props = f.zfs.get(target.clone)
    problems = []
    if props is None:
        problems.append(f"{target.clone} does not exist; expected a clone of a snapshot of {target.origin}")
    else:
        origin = props.get("origin", "-")
        if not origin.startswith(target.origin + "@"):
            problems.append(f"{target.clone} has origin {origin}; expected a snapshot of the replica {target.origin}")
        if props.get("readonly") == "on":
            problems.append(f"{target.clone} is read-only; staging needs it writable")
    report(problems, f"staging clone {target.clone} on {target.host}")


@requirement("ZFS-7", over=targets.pools, reads=targets.reads_host_of)
def test_pool_keeps_free_space(target, facts):
    props = facts[target.host].zfs.get(target.name)
    if props is None:
        report([f"pool {target.name} is not imported"], f"pool {target.name} on {target.host}")
    if not (props.get("used", "").isdigit() and props.get("available", "").isdigit()):
        report([f"zfs get -p printed used={props.get('used')!r} available={props.get('available')!r}; expected bytes"],
               f"pool {target.name} on {target.host}")
    used, avail = int(props["used"]), int(props["available"])
    free = 100 * avail / (used + avail) if used + avail else 0
    if free < target.min_free_percent:
        report([f"{free:.1f}% free ({avail // 2**20} MiB of {(used + avail) // 2**20} MiB); expected at least "
                f"{target.min_free_percent}%: free space before writes stop"], f"pool {target.name} on {target.host}")


@requirement("ZFS-5", over=targets.receivers)
def test_replication_runs_over_ssh(target, facts, arch):
    f = facts[target.name]
    problems = []
    for job in f.syncoid_jobs:
        if job.has_flag("--insecure-direct-connection"):
            problems.append(f"/etc/sanoid/syncoid-args.conf:{job.line} uses --insecure-direct-connection "
                            "(plain TCP between sites); remove it so the stream goes through ssh")
        for end in (job.source, job.target):
            if end.host is None and end.dataset.split("/")[0] not in arch.spec.hosts[target.name].pools:
                problems.append(f"/etc/sanoid/syncoid-args.conf:{job.line}: {end} is not a local pool nor an "
                                "ssh endpoint (user@host:dataset)")
    if not f.syncoid_jobs:
        problems.append("no replication job in /etc/sanoid/syncoid-args.conf")
    report(problems, f"replication jobs on {target.name}")
