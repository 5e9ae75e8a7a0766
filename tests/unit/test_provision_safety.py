"""The provisioner never plans an automatic fix that can destroy (provision/safety.py): the replication
unit is run only when none of its jobs can roll back or force and no replica holds a snapshot its source
lacks; a dataset is renamed aside only to a free name; ZFS-9 destroys nothing and names both causes."""
from types import SimpleNamespace

from confs.syncoid import parse_job
from fixtures.probes.storage import parse_zfs
from provision import safety
from provision.audit import Finding
from provision.remedies import Action, Manual, steps_for
from specs import load_spec
from specs.architecture import Architecture
from tests.recorded.harness import LAB_SPEC

ARCH = Architecture(load_spec(LAB_SPEC))
R = ARCH.replicas()[0]
RUNNER = R.target
JOBS = [j for j in ARCH.jobs() if j.target == RUNNER]
UNIT = ARCH.spec.replication.unit
SAFE = "--no-sync-snap --no-privilege-elevation --recursive --no-rollback"
EXEC = ("ExecStart=/bin/bash -c 'egrep -v \"^(#|$)\" /etc/sanoid/syncoid-args.conf | while read -a a; "
        "do syncoid --quiet \"$${a[@]}\" </dev/null; done'")
DESTROYS = ("zfs destroy", " -F", "zfs rollback", "rm -", "--force-delete", "--delete-target-snapshots")


def _zfs(rows):
    """A `zfs get -H -p` reading: rows of (name, {property: value})."""
    return parse_zfs([f"{n}\t{k}\t{v}" for n, props in rows for k, v in props.items()])


def _snap(name, created, guid):
    return (name, {"type": "snapshot", "creation": str(created), "guid": str(guid)})


def _dataset(name, origin="-"):
    return (name, {"type": "filesystem", "origin": origin})


class Facts(SimpleNamespace):
    def evidence(self, name):
        return self.units if name == "units" else None

    def snapshots(self, dataset):
        return self.zfs.snapshots(dataset)


def _audit(flags=SAFE, extra_snapshot=False, exec_line=EXEC, same_name=False):
    """Facts of the runner and the sources of its jobs: each replica received snapshot @a (guid 1xx)."""
    by_host = {}
    for i, j in enumerate(JOBS):
        by_host.setdefault(j.source, []).append(_dataset(j.source_dataset))
        by_host[j.source].append(_snap(f"{j.source_dataset}@a", 100, 100 + i))
        by_host.setdefault(j.target, []).append(_dataset(j.target_dataset))
        by_host[j.target].append(_snap(f"{j.target_dataset}@a", 100, 100 + i))
    if same_name:   # the source destroyed and re-made @b; the replica holds the @b it received before
        by_host[R.source].append(_snap(f"{R.source_dataset}@b", 300, 7))
    if extra_snapshot or same_name:
        by_host[RUNNER].append(_snap(f"{R.target_dataset}@b", 200, 999))
        by_host[RUNNER].append(_dataset(f"{R.target_dataset}-play", origin=f"{R.target_dataset}@b"))
    lines = [f"{flags} {j.operator}@192.0.2.1:{j.source_dataset} {j.target_dataset}" for j in JOBS]
    units = [f"@@unit {UNIT}", f"# /etc/systemd/system/{UNIT}", "[Service]", "Type=oneshot", exec_line]
    facts = {h: Facts(zfs=_zfs(rows), units=units, sanoid=SimpleNamespace(policy=lambda d: None),
                      syncoid_jobs=[parse_job(l, n) for n, l in enumerate(lines, 1)] if h == RUNNER else [])
             for h, rows in by_host.items()}
    return SimpleNamespace(facts=facts.get)


def _commands(step):
    return [c for c in step.commands if not c.startswith("#")]


def test_replication_runs_now_only_when_no_job_can_roll_back_or_force():
    (step,) = steps_for(Finding("ZFS-2", R, "failed", ""), ARCH, _audit())
    assert isinstance(step, Action) and step.machine == RUNNER
    for flags in (SAFE.replace(" --no-rollback", ""), SAFE + " --force-delete", SAFE + " --delete-target-snapshots",
                  SAFE + " --recvoptions='F'", SAFE.replace("--no-sync-snap ", "")):
        (step,) = steps_for(Finding("ZFS-2", R, "failed", ""), ARCH, _audit(flags=flags))
        assert isinstance(step, Manual), flags
        (run,) = [c for c in _commands(step) if c.startswith("syncoid ")]
        assert "--no-rollback" in run.split() and not any(d in run for d in DESTROYS), run


def test_production_jobs_without_no_rollback_make_the_fix_manual_naming_the_rollback():
    (step,) = steps_for(Finding("ZFS-2", R, "failed", ""), ARCH, _audit(flags=SAFE.replace(" --no-rollback", "")))
    assert "zfs rollback -R" in step.what and "receive -F" in step.what


def test_a_replica_holding_a_snapshot_of_its_own_is_never_replicated_over():
    (step,) = steps_for(Finding("ZFS-2", R, "failed", ""), ARCH, _audit(extra_snapshot=True))
    assert isinstance(step, Manual) and f"{R.target_dataset}@b" in step.what
    assert any(f"{R.target_dataset}-play" in c for c in step.commands), step.commands


def test_a_unit_that_destroys_or_runs_unknown_jobs_is_not_run():
    for line in ("ExecStart=/bin/sh -c 'zfs destroy -r zfs-hdd/x; syncoid $(cat /etc/sanoid/syncoid-args.conf)'",
                 "ExecStart=/usr/local/sbin/replicate-all"):
        (step,) = steps_for(Finding("ZFS-2", R, "failed", ""), ARCH, _audit(exec_line=line))
        assert isinstance(step, Manual), line
    assert safety.unit_hazards([], []) and not safety.unit_hazards(
        [f"# /lib/systemd/system/{UNIT}", "[Service]", "ExecStart=/usr/local/sbin/r"],
        [("/usr/local/sbin/r", ["#!/bin/sh", "conf=/etc/sanoid/syncoid-args.conf", "syncoid $line"])])
    assert safety.unit_hazards([f"# /x/{UNIT}", "[Service]", "ExecStart=/usr/local/sbin/r"],
                               [("/usr/local/sbin/r", ["#!/bin/sh", "syncoid-args.conf", "zfs receive -u -F x"])])


def test_staging_clone_renamed_aside_only_to_a_free_name():
    c = ARCH.staging_clones()[0]
    taken = f"{c.clone}-not-a-clone"
    facts = Facts(zfs=_zfs([_dataset(c.origin), _snap(f"{c.origin}@a", 1, 1), _dataset(c.clone), _dataset(taken)]))
    (step,) = steps_for(Finding("ZFS-4", c, "failed", ""), ARCH, SimpleNamespace(facts=lambda m: facts))
    aside = step.ops[0][1]["aside"]
    assert aside not in facts.zfs and aside.startswith(taken)
    from provision.remedies.zfs import clone_newest
    text = " ".join(str(x) for x in clone_newest._inner(origin=c.origin, clone=c.clone, aside=aside))
    assert f"zfs list -H -o name {aside}" in text.split("zfs rename")[0], "the rename is not guarded"


def test_zfs9_names_both_causes_and_destroys_nothing():
    (step,) = steps_for(Finding("ZFS-9", R, "failed", ""), ARCH, _audit(same_name=True))
    text = "\n".join(step.commands)
    assert "another GUID" in text and "taken here" in text and "received" in step.what
    assert not any(d in c for c in _commands(step) for d in DESTROYS) and "destroy only" not in text
