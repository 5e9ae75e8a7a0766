"""The databases' data is kept (BAK-1), from the users' incident reports (2024-01-04-setting-up-stunnel: MongoDB
wiped for ransom, its data had no snapshot): every volume of each database container that holds data (its
configuration's rootfs and mpN, as its host's `pct config` says, on the dataset /etc/pve/storage.cfg gives their
storage) has a snapshot younger than the spec's bound, and an off-site replica (a host of another datacenter)
sharing a snapshot with it (same GUID) within the replication's maximum lag, both by the data's host's clock.
On each Proxmox host, its own backups (vzdump, 2022-02-remove-containers-ovh1: failing for months, one task stuck
since 2021): the last task of each guest (or job) succeeded, and none has run longer than the spec's bound."""
import datetime

from checks import targets
from checks.requirement import report, requirement


def _when(epoch):
    return f"{datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc):%Y-%m-%d %H:%M} UTC"


def _age(now, epoch):
    return (f"{(now - epoch) / 3600:.1f} h old "
            f"({datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc):%Y-%m-%d %H:%M} UTC)")


def volume_datasets(config, storages):
    """([(key, dataset)], problems): each volume of a container's configuration on the dataset that holds it."""
    out, problems = [], []
    for key, storage, name, _ in config.volumes():
        s = storages.get(storage)
        dataset = s.dataset(name) if s else None
        if s is None:
            problems.append(f"{key} {storage}:{name}: storage {storage} is not in /etc/pve/storage.cfg")
        elif dataset is None:
            problems.append(f"{key} {storage}:{name} is on a {s.type} storage, not ZFS: no snapshot can keep it")
        else:
            out.append((key, dataset))
    return out, problems


def dataset_problems(dataset, here, copies, max_age, max_lag):
    """What BAK-1 finds on one volume's dataset: `here` the facts of its host, `copies` [(host, dataset, facts)]
    of its off-site replicas."""
    if dataset not in here.zfs:
        return [f"{dataset} does not exist"]
    problems = []
    snaps = here.snapshots(dataset)
    if not snaps:
        problems.append(f"{dataset} has no snapshot: nothing keeps its data (is it in sanoid.conf?)")
    elif here.now - snaps[-1][1] > max_age:
        problems.append(f"{dataset}'s newest snapshot {snaps[-1][0]} is {_age(here.now, snaps[-1][1])}; expected "
                        f"one within {max_age // 3600} h (sanoid)")
    if not copies:
        return problems + [f"{dataset} is sent off-site by no job of the spec (to a host of another datacenter)"]
    guids = {guid for _, _, guid in snaps}
    found = []
    for host, replica, f in copies:
        if replica not in f.zfs:
            found.append(f"its off-site replica {host}:{replica} does not exist")
            continue
        shared = [s for s in f.snapshots(replica) if s[2] in guids]
        if not shared:
            found.append(f"its off-site replica {host}:{replica} shares no snapshot with it")
        elif here.now - shared[-1][1] > max_lag:
            found.append(f"the newest snapshot its off-site replica {host}:{replica} shares, {shared[-1][0]}, is "
                         f"{_age(here.now, shared[-1][1])}; expected within {max_lag // 60} min")
        else:
            return problems     # one off-site replica up to date is enough
    return problems + [f"{dataset}: {p}" for p in found]


@requirement("BAK-1", over=targets.data_containers, reads=targets.reads_host_and_off_site)
def test_database_data_has_a_recent_snapshot_and_an_off_site_replica(target, facts, arch):
    here = facts[target.host]
    guests = here.evidence("guests")
    config = guests.configs.get(str(target.id))
    where = f"database container {target.name} ({target.id}) on {target.host}"
    if config is None:
        report([f"`pct config {target.id}` not read: the container is not on {target.host} (OPS-2 says so)"], where)
    volumes, problems = volume_datasets(config, here.evidence("pve_storage"))
    if not volumes and not problems:
        problems.append("its configuration names no volume (rootfs, mpN): where is its data?")
    max_age = arch.spec.backup.max_snapshot_age_hours * 3600
    max_lag = arch.spec.replication.max_lag_minutes * 60
    for key, dataset in volumes:
        copies = [(h, ds, facts[h]) for h, ds in arch.off_site_copies(target.host, dataset)]
        problems += [f"{key}: {p}" for p in dataset_problems(dataset, here, copies, max_age, max_lag)]
    report(problems, where)


def vzdump_problems(tasks, now, max_running):
    """What BAK-1 finds in a host's vzdump tasks (fixtures/probes/backups.py): the newest finished task of each
    guest (or job) not OK, and any task running for longer than max_running seconds."""
    by_upid = {}
    for t in tasks:                 # a task both archived and still in `active`: its finished line
        if t.upid not in by_upid or t.end is not None:
            by_upid[t.upid] = t
    newest, problems = {}, []
    for t in sorted(by_upid.values(), key=lambda t: (t.end or 0, t.start)):
        if t.end is None:
            if now - t.start > max_running:
                problems.append(f"a vzdump of {'guest ' + t.id if t.id else 'the backup job'} has run since "
                                f"{_when(t.start)} ({(now - t.start) / 3600:.0f} h; "
                                f"expected at most {max_running // 3600} h): stuck, it holds /var/run/vzdump.lock and "
                                f"every later backup fails: `cat /var/log/pve/tasks/active`, `ps -eo pid,etimes,args | grep [v]zdump`")
            continue
        newest[t.id] = t
    for guest, t in sorted(newest.items()):
        if not t.ok:
            problems.append(f"the last vzdump of {'guest ' + guest if guest else 'the backup job'}, ended "
                            f"{_when(t.end)}, failed: {t.status!r}: `pvenode task log {t.upid}`")
    return problems


@requirement("BAK-1", over=targets.hosts)
def test_proxmox_backups_succeed_and_end(target, facts, arch):
    f = facts[target.name]
    report(vzdump_problems(f.evidence("vzdump_tasks"), f.now, arch.spec.backup.vzdump_max_hours * 3600),
           f"host {target.name}")
