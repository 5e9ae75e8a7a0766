"""Pool health (ZFS-10) and snapshot retention (ZFS-12): manual steps only. A pool's devices and its snapshots
are data: nothing is onlined, replaced, scrubbed or destroyed unattended; the plan gives the commands a person
runs after looking."""
from provision.remedies import Manual, _facts, _ids, first_problem, remedy
from specs.architecture import HostRef


def _problems(f):
    return [l.strip(" -") for l in f.message.splitlines()[1:] if l.strip(" -")]


@remedy("ZFS-10")
def pool_unhealthy(f, arch, audit):
    host = f.target.name
    commands = [f"# on {host}: what the pools say, which device, since when, what the kernel logged",
                "zpool status -v", "dmesg -T | grep -i -E 'zfs|I/O error|ata|nvme' | tail -n 50"]
    text = f.message
    if "did not answer" in text:
        commands += ["# ZFS did not answer: which processes are blocked (D state) and on what",
                     "ps -eo pid,stat,etimes,wchan:32,comm | awk '$2 ~ /D/'"]
    if any(s in text for s in ("OFFLINE", "DEGRADED", "FAULTED", "UNAVAIL", "REMOVED")):
        commands += ["# a device taken offline by hand and sound: bring it back (resilvers it)",
                     "zpool online <pool> <device>",
                     "# a failed disk: replace it (resilvers onto the new one; see the users' 2023-11-28-ovh3-sdf-broken)",
                     "zpool replace <pool> <old device> <new device>"]
    if "errors" in text:
        commands += ["# after the cause is fixed (cable, disk), and the files listed by -v restored:",
                     "zpool clear <pool>"]
    if "scrub" in text:
        commands += ["# a scrub reads every block (hours on a large pool: start it off-peak)", "zpool scrub <pool>"]
    return [Manual(host, *_ids(f), f"a pool is not healthy: {first_problem(f)}; devices and data are a person's call",
                   commands)]


@remedy("ZFS-12")
def retention_not_enforced(f, arch, audit):
    host = f.target.name
    commands = [f"# on {host}: the snapshots per dataset, oldest first, and sanoid's policy for each",
                "zfs list -H -t snapshot -o name,creation,used -s creation",
                "sanoid --cron --readonly --verbose   # what sanoid would take and prune, without doing it"]
    problems = _problems(f)
    if any("nothing prunes" in p or "autoprune" in p for p in problems):
        commands += ["# give each dataset listed a section in /etc/sanoid/sanoid.conf (in the configuration "
                     "repository), with use_template of the host's data template (autoprune = yes)"]
    if any("keeps" in p and "snapshots;" in p for p in problems):
        commands += ["# more snapshots than the policy keeps: why does sanoid not prune?",
                     "systemctl status sanoid.service; journalctl -u sanoid.service -n 50"]
    facts = audit.facts(host) if audit is not None else None
    outside = []
    if facts is not None and any("outside any policy" in p for p in problems):
        from checks.test_pools import SANOID, SYNCOID
        bound = arch.spec.retention.outside_max_age_days * 86400
        now = _facts(audit, host).now
        for dataset, snaps in sorted(facts.zfs.by_dataset.items()):
            for name, created, _ in snaps:
                short = name.split("@", 1)[1]
                if not (SANOID.match(short) or SYNCOID.match(short)) and now - created > bound:
                    outside.append(name)
    if outside:
        commands += ["# snapshots outside any policy, older than the spec's bound: a person checks each is not "
                     "needed (a clone's origin, a pre-operation snapshot someone still wants), then destroys it"]
        commands += [f"zfs destroy {name}" for name in outside]
    elif any("outside any policy" in p for p in problems):
        commands += ["# the snapshots outside any policy listed by the check: after checking each, `zfs destroy "
                     "<dataset>@<snapshot>`"]
    return [Manual(host, *_ids(f), f"snapshot retention is not enforced: {first_problem(f)}; destroying snapshots "
                                   "destroys data: never automatic", commands)]


@remedy("BAK-1")
def database_data_not_kept(f, arch, audit):
    """A database's data without a recent snapshot or an off-site replica, or a host's vzdump failed or stuck:
    sanoid.conf and syncoid-args.conf are the configuration repository's; the first full send is a person's (no
    receive overwrites a dataset); a stuck vzdump holds guests' snapshots and locks."""
    if isinstance(f.target, HostRef):
        host = f.target.name
        commands = [f"# on {host}: Proxmox's backup tasks, the running ones first",
                    "cat /var/log/pve/tasks/active", "ps -eo pid,etimes,args | grep [v]zdump",
                    "pvenode task list --typefilter vzdump --errors 1   # the failed ones, then their logs:",
                    "pvenode task log <UPID>",
                    "# a vzdump stuck for days: a person stops it (it may hold a guest's snapshot or lock), then "
                    "runs the backup again from the web interface or `vzdump <vmid>`"]
        return [Manual(host, *_ids(f), f"Proxmox's backups on {host} fail or hang: {first_problem(f)}; a person's "
                       "step", commands)]
    host = f.target.host
    commands = [f"# on {host}: the container's volumes, the storages holding them, their snapshots",
                f"pct config {f.target.id}", "cat /etc/pve/storage.cfg",
                "zfs list -H -t snapshot -o name,creation -s creation -r <pool>/<volume dataset> | tail -n 3",
                "# a volume no policy snapshots: give it (or its parent, recursive) a section in /etc/sanoid/sanoid.conf "
                "with the host's data template (use_template of the written data), in the configuration repository; "
                "then take the first snapshot",
                "sanoid --take-snapshots --verbose",
                "# no off-site replica: a line for its dataset (or a parent, --recursive) in the off-site host's "
                "syncoid-args.conf (without --force-delete, never receive -F), then run its job there",
                "systemctl start syncoid.service"]
    return [Manual(host, *_ids(f), f"the data of {f.target.name} is not kept: {first_problem(f)}; "
                   "snapshots and replicas are data: a person's step", commands)]
