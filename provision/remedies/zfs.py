"""Replication, snapshots and staging clones (ZFS-*)."""
from pyinfra.api import StringCommand, operation

from provision import safety, units
from provision.remedies import Action, Manual, _facts, _ids, first_problem, remedy
from specs.architecture import StagingClone


@operation()
def clone_newest(origin: str, clone: str, aside: str):
    """Make `clone` a clone of the newest snapshot of `origin`; a dataset already named `clone` (not a
    clone of it) is renamed to `aside` first, its data kept. `zfs rename` refuses an existing name; the
    command also checks that `aside` is free just before renaming, and stops if it is not."""
    yield StringCommand(
        "sh", "-c",
        f"'set -e; o=$(zfs get -H -o value origin {clone} 2>/dev/null || true); "
        f"case \"$o\" in {origin}@*) exit 0;; esac; "
        f"if [ -n \"$o\" ]; then "
        f"if zfs list -H -o name {aside} >/dev/null 2>&1; then echo {aside} exists: nothing renamed >&2; exit 1; fi; "
        f"zfs umount {clone} 2>/dev/null || true; "
        f"for i in $(seq 20); do zfs rename {clone} {aside} && break; sleep 0.5; done; "
        f"zfs get -H -o value origin {clone} >/dev/null 2>&1 && exit 1; fi; "
        f"s=$(zfs list -H -t snapshot -o name -s createtxg -d 1 {origin} | tail -n 1); "
        f"[ -n \"$s\" ] || {{ echo no snapshot of {origin}; exit 1; }}; zfs clone \"$s\" {clone}'")


# --- replication, snapshots and jobs ------------------------------------------------------------------

def _runner(arch, replica):
    return arch.spec.replication.runner(replica)


def replication_hazards(arch, audit, runner):
    """(reasons the replication unit on `runner` could destroy, [(syncoid job, its JobRef)]): the unit
    runs every job of syncoid-args.conf, so each job, the unit itself and every replica it writes are
    read (provision.safety). No reasons: running it now destroys nothing."""
    from confs.systemd import split_units
    facts = _facts(audit, runner)
    unit = arch.spec.replication.unit
    jobs = facts.syncoid_jobs
    reasons = [] if jobs else [f"no job read in /etc/sanoid/syncoid-args.conf on {runner}"]
    present, runners = split_units(facts.evidence("units"))
    reasons += [f"{unit}: {h}" for h in safety.unit_hazards(present.get(unit), runners.get(unit, []))]
    found, by_hazard = [], {}
    for job in jobs:
        where = f"syncoid-args.conf:{job.line}"
        for h in safety.syncoid_hazards(job):
            by_hazard.setdefault(h, []).append(str(job.line))
        ref = safety.job_for(arch, runner, job)
        if ref is None:
            reasons.append(f"{where}: {job.source} -> {job.target} is no job of the spec: its source is not known")
            continue
        found.append((job, ref))
        src, dst = audit.facts(ref.source), audit.facts(ref.target)
        if src is None or dst is None:
            reasons.append(f"{where}: {ref.source if src is None else ref.target} was not read")
            continue
        extras = safety.replica_extras(src, dst, ref.source_dataset, ref.target_dataset, job.recursive)
        if extras:
            reasons.append(f"{where}: the replica holds snapshot(s) its source lacks (by GUID), newer than those "
                           f"they share: {', '.join(extras[:5])}{' ...' if len(extras) > 5 else ''}")
    reasons += [f"syncoid-args.conf line{'s' if len(lines) > 1 else ''} {', '.join(lines)}: {h}"
                for h, lines in by_hazard.items()]
    return reasons, found


def _syncoid_line(job):
    """The job as one syncoid command that can neither roll back nor force (its other options kept)."""
    flags = [f for f in job.flags if f.split("=", 1)[0] not in safety.SYNCOID_DESTROYS
             and not f.startswith("--recvoptions=")]
    flags = flags + ["--no-rollback"] if "--no-rollback" not in flags else flags
    return " ".join(["syncoid", *flags, str(job.source), str(job.target)])


def _replicate(f, arch, audit, r, what):
    """Run the replication unit now, only when nothing it runs can destroy (provision.safety); else a
    manual step with the job, made unable to roll back or force, and what to compare first."""
    unit = arch.spec.replication.unit
    runner = _runner(arch, r)
    reasons, found = replication_hazards(arch, audit, runner)
    if not reasons:
        return Action(runner, *_ids(f), f"run the replication now ({unit}): {what}; none of its jobs can roll back "
                      "or force, no replica holds a snapshot its source lacks",
                      [(units.start_job, dict(name=f"start {unit}", unit=unit))], subject=f"start {unit}")
    job = next((j for j, ref in found if ref.target == r.target and (
        r.target_dataset == ref.target_dataset or r.target_dataset.startswith(ref.target_dataset + "/"))), None)
    dst = audit.facts(r.target)
    clones = safety.clones_of(dst, r.target_dataset) if dst is not None else []
    return Manual(runner, *_ids(f),
                  f"{what}; not run automatically: {unit} runs every job of syncoid-args.conf and could destroy data "
                  f"on a replica: {'; '.join(reasons[:3])}{f' (+{len(reasons) - 3} more)' if len(reasons) > 3 else ''}",
                  [f"# on {r.target}: the replica's snapshots by GUID (same GUID on {r.source} = received from it)",
                   f"zfs list -H -t snapshot -o name,guid,creation -r {r.target_dataset}",
                   f"# on {r.source}: zfs list -H -t snapshot -o name,guid,creation -r {r.source_dataset}",
                   *([f"# clones of the replica (a rollback -R would destroy those of later snapshots): "
                      f"{', '.join(clones)}"] if clones else []),
                   "# keep every snapshot the source lacks (and its clones); then this job alone, never rolling back "
                   "nor forcing (it fails, destroying nothing, if the replica changed since the snapshot it shares):",
                   f"# on {runner}:",
                   _syncoid_line(job) if job else f"# the job for {r.target_dataset}: not found in syncoid-args.conf"])


@remedy("ZFS-1")
def replicate_missing(f, arch, audit):
    r = f.target
    facts, source = _facts(audit, r.target), _facts(audit, r.source)
    if r.target_dataset in facts.zfs or r.source_dataset not in source.zfs:
        return []
    return [_replicate(f, arch, audit, r, f"a full send creates the missing {r.target_dataset}")]


@remedy("ZFS-2")
def replicate_now(f, arch, audit):
    return [_replicate(f, arch, audit, f.target, "the stale replica receives the source's newest snapshots")]


def _policy_lines(policy, keys):
    """Where each key of a sanoid policy is set: 'yearly = 0 ([template_backups], line 12)'."""
    out = []
    for k in keys:
        v = policy.values.get(k) if policy else None
        out.append(f"{k} = {v.value} ([{v.origin}], line {v.line})" if v else f"{k}: not set")
    return out


@remedy("ZFS-3")
def retention(f, arch, audit):
    r = f.target
    keep = arch.spec.snapshots.backups.retention
    keys = ("hourly", "daily", "monthly", "yearly")
    wanted = ", ".join(f"{k} = {getattr(keep, k)}" for k in keys)
    facts = audit.facts(r.target)
    policy = facts.sanoid.policy(r.target_dataset) if facts is not None else None
    if policy is None:
        where = f"the section covering {r.target_dataset} (none read)"
    else:
        short = [k for k in keys if getattr(keep, k) and (policy.count(k) or 0) < getattr(keep, k)] or list(keys)
        origins = sorted({policy.values[k].origin for k in short if k in policy.values}) or [policy.section]
        where = (f"[{'], ['.join(origins)}]" + (f" (line {policy.line})" if origins == [policy.section] else
                                                f" (used by [{policy.section}], line {policy.line})")
                 + "; now: " + "; ".join(_policy_lines(policy, short)))
    return [Manual(r.target, *_ids(f), f"the backups keep less than the spec: {first_problem(f)}",
                   [f"# on {r.target}: in /etc/sanoid/sanoid.conf, edit {where}",
                    f"# the spec's backups keep: {wanted}",
                    "sanoid --configdir /etc/sanoid --readonly --verbose --prune-snapshots | head  # what it keeps"])]


def aside_name(facts, clone):
    """A name for the dataset in a clone's place that no dataset has (nothing is renamed over a name)."""
    base = f"{clone}-not-a-clone"
    name, n = base, 1
    while name in facts.zfs:
        n += 1
        name = f"{base}-{n}"
    return name


@remedy("ZFS-4")
def staging_clone(f, arch, audit):
    c = f.target
    facts = _facts(audit, c.host)
    snaps = facts.snapshots(c.origin) if c.origin in facts.zfs else []
    if not snaps:
        return []
    exists = facts.zfs.get(c.clone) is not None
    aside = aside_name(facts, c.clone)
    what = (f"re-create {c.clone} as a clone of the newest replica snapshot {snaps[-1][0]}"
            + (f"; the dataset now there is renamed to {aside}, a free name (kept, its snapshots and clones with it)"
               if exists else ""))
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
    """Manual: a snapshot the source lacks may have been taken on the replica, or received before the
    source destroyed and re-made one of the same name (a new GUID); the facts cannot tell which, so the
    step names both and destroys nothing. Autosnap on is fixed in the template that sets it."""
    r = f.target
    src, dst = audit.facts(r.source), audit.facts(r.target)
    notes = []
    if src is not None and dst is not None:
        names = {n.split("@", 1)[1]: g for n, _, g in src.snapshots(r.source_dataset)}
        for snap in safety.replica_extras(src, dst, r.source_dataset, r.target_dataset, False):
            short = snap.split("@", 1)[1]
            notes.append(f"# {snap}: " + (f"the source holds @{short} with another GUID: it was received, then the "
                                          "source destroyed and re-made it; or it was taken here" if short in names
                                          else "taken here, or received and since destroyed on the source"))
        policy = dst.sanoid.policy(r.target_dataset)
        if policy is not None and policy.flag("autosnap", True):
            v = policy.values.get("autosnap")
            notes.append(f"# autosnap: set autosnap = no in [{v.origin if v else policy.section}] "
                         f"(line {v.line if v else policy.line}) of /etc/sanoid/sanoid.conf")
    return [Manual(r.target, *_ids(f), f"the replica {r.target_dataset} holds snapshot(s) its source lacks or takes "
                   f"its own: {first_problem(f)}; such a snapshot was taken on the replica or received before the "
                   f"source re-made one of the same name: keep it until a person knows which",
                   [f"# on {r.target}: the replica's snapshots, and on {r.source} the source's (same GUID = received)",
                    f"zfs list -H -t snapshot -o name,guid,creation -d 1 {r.target_dataset}",
                    f"# on {r.source}: zfs list -H -t snapshot -o name,guid,creation -d 1 {r.source_dataset}",
                    *notes,
                    "# the autosnap = no line stops new ones; a snapshot's fate (kept, sent elsewhere) is a "
                    "person's decision"])]




@remedy("ZFS-11")
def replica_written_or_clone_unmounted(f, arch, audit):
    """Manual: what was written on a replica is data a person may want (or the trace of what writes there);
    the next syncoid run rolls it back, so nothing is rolled back or made read-only unattended. An unmounted
    staging clone: its NFS clients and what unmounted it are looked at first."""
    t = f.target
    if isinstance(t, StagingClone):
        return [Manual(t.host, *_ids(f), f"the staging clone {t.clone} is not mounted: {first_problem(f)}",
                       [f"# on {t.host}: its state, who mounts it over NFS, then mount it",
                        f"zfs get -H -o property,value mounted,mountpoint,canmount {t.clone}",
                        "showmount -a", f"zfs mount {t.clone}"])]
    ds = t.target_dataset
    newest = f"$(zfs list -H -t snapshot -o name -s createtxg -d 1 {ds} | tail -n 1)"
    return [Manual(t.target, *_ids(f), f"the replica {ds} is written locally or writable: {first_problem(f)}; the "
                   "next replication run rolls it back to its newest received snapshot (what was written is lost), "
                   "so a person looks first",
                   [f"# on {t.target}: is it read-only, what was written since its newest snapshot (OpenZFS: written; "
                    "zfs-fuse has no written: compare referenced), and what",
                    f"zfs get -H -p -o property,value readonly,atime,written,referenced {ds}",
                    f"zfs diff {newest} {ds}",
                    "# keep elsewhere what matters, find what writes there (a service, atime), then:",
                    f"zfs set readonly=on {ds}"])]
