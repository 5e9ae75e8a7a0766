"""ZFS-11: replicas are never written locally (read-only, nothing written since their newest snapshot) and
each staging clone stays mounted. From the users' incidents: a replica with atime on, written by every read
and rolled back by every syncoid run while nginx could not serve from it (2023-05-23-move-images-to-zfs);
783K written on a replica, replication stalled for a week (2023-06-08-stalled-zfs-sync-off-products);
staging clones found unmounted (2024-03-restructure-backups, 2023-05-12-refresh-staging-clones).

What was written is `zfs get -p written` (OpenZFS); a ZFS without that property (zfs-fuse) is judged by the
dataset's `referenced` against its newest snapshot's (a rewrite of the same size is not seen that way)."""
import pytest

from checks import targets
from checks.requirement import report, requirement
from fixtures.probes import MissingEvidence


def reads_replica_host(replica, arch):
    return [replica.target]


def _where(r):
    return f"replica {r.target}:{r.target_dataset} of {r.source}:{r.source_dataset}"


def local_writes(f, dataset):
    """What was written on dataset since its newest snapshot, in one line ("" when nothing), from `written`
    where the ZFS has it, else from `referenced` of the dataset and of that snapshot. None: no snapshot to
    compare with. MissingEvidence (with both reasons) when neither could be read."""
    snaps = f.snapshots(dataset)
    if not snaps:
        return None
    newest = snaps[-1][0]
    short = newest.split("@", 1)[1]
    try:
        reading = f.evidence("zfs_written")
    except MissingEvidence as exc:
        reading, why = None, str(exc)
    if reading is not None:
        w = reading.get(dataset)
        if w is not None and w.bytes is not None:
            return (f"{w.bytes} bytes written since its newest snapshot @{short} (zfs get -p written); expected 0: "
                    f"something writes to the replica (a process, a person, atime updates): `zfs diff {newest}` "
                    "lists what") if w.bytes else ""
        if reading.unsupported:
            why = f"this ZFS has no `written` property ({reading.unsupported})"
        elif w is not None:
            why = w.error or "zfs get written printed nothing"
        else:
            why = f"zfs get written did not answer for {dataset}"
    head = f.zfs.get(dataset, {}).get("referenced", "")
    snap = f.zfs.get(newest, {}).get("referenced", "")
    if not (head.isdigit() and snap.isdigit()):
        raise MissingEvidence(f"{f.machine}: cannot tell what was written on {dataset}: {why}; and `referenced` "
                              f"of the dataset and of {newest} read {head or 'nothing'} and {snap or 'nothing'}")
    if head == snap:
        return ""
    return (f"it references {head} bytes, its newest snapshot @{short} {snap}: written since ({why}, so compared by "
            "`referenced`); expected equal")


def _two_valued(f, props, name, dataset, values):
    """A property read by `zfs get -p` that is one of two values, else no evidence (with what was printed)."""
    value = props.get(name)
    if value not in values:
        raise MissingEvidence(f"{f.machine}: zfs get -p {name} {dataset} printed {value or 'nothing'}; "
                              f"expected {' or '.join(values)}")
    return value


@requirement("ZFS-11", over=targets.replicas, reads=reads_replica_host)
def test_replica_is_never_written_locally(target, facts):
    f = facts[target.target]
    props = f.zfs.get(target.target_dataset)
    if props is None:
        pytest.skip(f"cannot judge: {target.target}:{target.target_dataset} does not exist (ZFS-1 reports it)")
    readonly = _two_valued(f, props, "readonly", target.target_dataset, ("on", "off"))
    problems = []
    if readonly != "on":
        problems.append(f"readonly={readonly}; expected readonly=on: a replica written locally (a file, atime "
                        "updates on each read) diverges from its source, and the next syncoid run rolls it back "
                        "or stops on it")
    found = local_writes(f, target.target_dataset)
    if found is None:
        report(problems, _where(target))
        pytest.skip(f"cannot tell what was written: {target.target_dataset} has no snapshot (ZFS-2 reports it)")
    report(problems + [found] if found else problems, _where(target))


@requirement("ZFS-11", over=targets.staging_clones, reads=targets.reads_host_of)
def test_staging_clone_stays_mounted(target, facts):
    f = facts[target.host]
    props = f.zfs.get(target.clone)
    if props is None:
        pytest.skip(f"cannot judge: {target.host}:{target.clone} does not exist (ZFS-4 reports it)")
    mounted = _two_valued(f, props, "mounted", target.clone, ("yes", "no"))
    problems = []
    if mounted != "yes":
        problems.append(f"{target.clone} is not mounted (mountpoint {props.get('mountpoint', '?')}); expected "
                        "mounted: staging reads an empty folder, and its NFS clients with it")
    report(problems, f"staging clone {target.clone} on {target.host}")
