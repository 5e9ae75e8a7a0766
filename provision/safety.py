"""Nothing the provisioner applies destroys data: each operation judged by what its tool does implicitly.

The promise covers every automatic fix (`python -m provision apply` runs only those; manual steps are
printed, never run):
- no dataset, snapshot or clone is destroyed, rolled back or received over: no `zfs destroy`, no
  `zfs rollback`, no `zfs receive -F`, and no tool run that does one of them implicitly: a replication
  job (syncoid, run by the replication unit) is started only when none of the jobs the unit runs can
  roll back or force (`--no-rollback` on each, no `--force-delete`, no `--delete-target-snapshots`, no
  `F` in `--recvoptions`, `--no-sync-snap`), the unit itself adds nothing that can, and no replica it
  writes holds a snapshot its source lacks (GUIDs compared). Otherwise the step is manual, with the
  commands (`syncoid_hazards`, `unit_hazards`, `replica_extras` below);
- no rename over an existing name: a dataset in the place of a staging clone is renamed to a name the
  audit read as free, and the command checks again that it is free just before renaming;
- no user file deleted: a folder is replaced by a link only when empty (`rmdir`), a site is moved
  aside only by a person, a PSK file is rewritten only when every key it holds is also held by another
  link (or it holds none);
- a process is stopped (a database server in an application container), its files stay.

Why: syncoid, without `--no-rollback`, runs `zfs rollback -R` on the replica to the newest snapshot it
shares with the source (every later snapshot, the clones of those and what was written since are
destroyed) and receives with `zfs receive -F`; a replica holding a snapshot of its own lost it to a
"run the replication now" fix (issue 18).
"""
import re

# syncoid options that destroy on the target, and what they destroy (syncoid 2.x)
SYNCOID_DESTROYS = {
    "--force-delete": "--force-delete destroys a replica that shares no snapshot with its source (zfs destroy -r)",
    "--delete-target-snapshots": "--delete-target-snapshots destroys the replica's snapshots the source no longer "
                                 "holds",
}
NO_ROLLBACK = ("no --no-rollback: syncoid rolls the replica back to the newest snapshot it shares with the source "
               "(zfs rollback -R: later snapshots, their clones and what was written since are destroyed) and "
               "receives with zfs receive -F")
NO_SYNC_SNAP = "no --no-sync-snap: syncoid makes sync snapshots of its own and destroys the older ones on both ends"

# commands a unit (or the script its ExecStart= runs) may run that destroy on their own
DESTROYING = re.compile(r"zfs\s+(destroy|rollback)\b|\b(receive|recv)\b[^|;&\n]*\s-[A-Za-z]*F"
                        r"|--force-delete|--delete-target-snapshots|\brm\s+-")
JOBS_FILE = "syncoid-args.conf"


def syncoid_hazards(job):
    """What a syncoid job (confs.syncoid.Job) can destroy on its replica, as text; [] when nothing."""
    out = [] if job.has_flag("--no-rollback") else [NO_ROLLBACK]
    out += [what for flag, what in SYNCOID_DESTROYS.items() if job.has_flag(flag)]
    for flag in job.flags:
        if flag.startswith("--recvoptions=") and "F" in flag.split("=", 1)[1]:
            out.append(f"{flag}: zfs receive -F overwrites the replica")
    if not job.has_flag("--no-sync-snap"):
        out.append(NO_SYNC_SNAP)
    return out


def unit_hazards(unit_lines, runners):
    """What the replication unit itself (its ExecStart= and the scripts it runs, as `systemctl cat` and
    the runner blocks show them) can destroy, or why its jobs cannot be told; [] when it runs the jobs
    of syncoid-args.conf and nothing else that destroys."""
    from confs.systemd import Unit
    unit = Unit("unit", unit_lines or [])
    if not unit.exists:
        return ["the replication unit was not read (systemctl cat printed nothing)"]
    execs = [s.value for s in unit.get("Service", "ExecStart")]
    text = "\n".join(execs + [l for _, lines in runners for l in lines if not l.lstrip().startswith("#")])
    out = [f"the unit runs `{m.group(0)}`" for m in DESTROYING.finditer(text)]
    if JOBS_FILE not in text and JOBS_FILE not in "\n".join(unit_lines):
        out.append(f"the unit's ExecStart= does not read {JOBS_FILE}: which jobs it runs is not known")
    return out


def job_for(arch, runner, job):
    """The spec's JobRef a line of the runner's syncoid-args.conf is (by its dataset on the runner)."""
    pull = arch.spec.replication.mode == "pull"
    local = job.target if pull else job.source
    side = "target" if pull else "source"
    return next((j for j in arch.jobs() if getattr(j, side) == runner and local.host is None
                 and (j.target_dataset if pull else j.source_dataset) == local.dataset), None)


def replica_extras(src, dst, source_dataset, target_dataset, recursive):
    """[snapshot] the replica holds and its source lacks (by GUID) newer than the newest snapshot they
    share (all of them when they share none), for the job's dataset and, when recursive, every dataset
    under it on the replica: one taken on the replica, or received before the source destroyed and
    re-made it under the same name. A rollback to the shared snapshot would destroy them (and their
    clones), and an incremental receive cannot go past them. Older ones the source pruned first are what
    retention leaves behind; no receive touches them."""
    out = []
    names = [d for d in dst.zfs if "@" not in d and (d == target_dataset or recursive and d.startswith(target_dataset + "/"))]
    for d in sorted(names):
        guids = {g for _, _, g in src.snapshots(source_dataset + d[len(target_dataset):])}
        snaps = dst.snapshots(d)
        shared = [i for i, s in enumerate(snaps) if s[2] in guids]
        out += [name for name, _, guid in snaps[(shared[-1] + 1) if shared else 0:] if guid not in guids]
    return out


def clones_of(facts, dataset):
    """Datasets on the machine whose origin is a snapshot of `dataset` or of one under it."""
    return sorted(n for n, p in facts.zfs.items()
                  if "@" not in n and (p.get("origin", "-").split("@", 1)[0] == dataset
                                       or p.get("origin", "-").startswith(dataset + "/")))
