"""BAK-1 without a machine: Proxmox's storage definitions read as Proxmox reads them, a container's volumes on
their datasets, and the verdict on one volume's snapshots and its off-site replica (each rule red on its case,
green on a kept volume)."""
from types import SimpleNamespace

import pytest

from checks.test_backups import dataset_problems, volume_datasets
from confs.errors import ConfParseError
from confs.pve import parse_pve_text, parse_storage_text
from fixtures.probes.storage import parse_zfs
from specs import load_spec
from specs.architecture import Architecture

STORAGE = """dir: local
\tpath /var/lib/vz
\tcontent iso,vztmpl,backup

zfspool: zfs-nvme
\tpool zfs-nvme/pve
\tcontent images,rootdir
\tsparse 0

lvmthin: local-lvm
\tthinpool data
\tvgname pve
"""
NOW, HOUR = 1_800_000_000, 3600


def _facts(snapshots, now=NOW, datasets=()):
    """Facts of a host: its datasets, and snapshots {dataset: [(name, age in hours, guid)]}."""
    lines = [f"{d}\ttype\tfilesystem" for d in set(datasets) | set(snapshots)]
    for ds, snaps in snapshots.items():
        for name, hours, guid in snaps:
            lines += [f"{ds}@{name}\tcreation\t{int(now - hours * HOUR)}", f"{ds}@{name}\tguid\t{guid}"]
    zfs = parse_zfs(lines)
    return SimpleNamespace(zfs=zfs, now=now, snapshots=zfs.snapshots)


VOLUME = "zfs-nvme/pve/subvol-102-disk-0"
REPLICA = "rpool/off-backups/off1-pve-nvme/subvol-102-disk-0"


def _judge(here, replica):
    return dataset_problems(VOLUME, here, [("ovh3", REPLICA, replica)], 24 * HOUR, 420 * 60)


def test_storage_definitions_name_each_volume_s_dataset():
    storages = parse_storage_text(STORAGE)
    assert storages["zfs-nvme"].dataset("subvol-102-disk-0") == VOLUME
    assert storages["local-lvm"].dataset("vm-200-disk-0") is None and storages["local"].type == "dir"


@pytest.mark.parametrize("text", ["\tpool rpool\n", "zfspool: a\n\tpool a\nzfspool: a\n\tpool b\n", "zfspool:\n"])
def test_malformed_storage_definitions_name_the_line(text):
    with pytest.raises(ConfParseError):
        parse_storage_text(text)


def test_volumes_are_rootfs_and_mount_points_on_a_storage_not_bind_mounts():
    config = parse_pve_text("rootfs: zfs-nvme:subvol-102-disk-0,size=8G\nmp0: /zfs-hdd/off/images,mp=/mnt/images\n"
                            "mp1: local-lvm:vm-102-disk-1,mp=/data\nmp2: nowhere:subvol-102-disk-2,mp=/x\n")
    volumes, problems = volume_datasets(config, parse_storage_text(STORAGE))
    assert volumes == [("rootfs", VOLUME)]
    assert any("lvmthin storage, not ZFS" in p for p in problems) and any("nowhere is not in" in p for p in problems)


def test_a_kept_volume_is_green():
    here = _facts({VOLUME: [("autosnap_a", 30, "1"), ("autosnap_b", 1, "2")]})
    assert _judge(here, _facts({REPLICA: [("autosnap_a", 30, "1"), ("autosnap_b", 1, "2")]})) == []


@pytest.mark.parametrize("source, replica, expected", [
    ({VOLUME: []}, {REPLICA: []}, "has no snapshot"),
    ({VOLUME: [("autosnap_a", 30, "1")]}, {REPLICA: [("autosnap_a", 30, "1")]}, "newest snapshot"),
    ({VOLUME: [("autosnap_b", 1, "2")]}, {}, "does not exist"),
    ({VOLUME: [("autosnap_b", 1, "2")]}, {REPLICA: [("autosnap_x", 1, "9")]}, "shares no snapshot"),
    ({VOLUME: [("autosnap_a", 10, "1"), ("autosnap_b", 1, "2")]}, {REPLICA: [("autosnap_a", 10, "1")]}, "expected within 420 min"),
])
def test_each_rule_is_red_on_its_case(source, replica, expected):
    here = _facts(source, datasets=[VOLUME])
    problems = _judge(here, _facts(replica))
    assert any(expected in p for p in problems), problems


def test_a_volume_no_job_sends_off_site_is_red():
    here = _facts({VOLUME: [("autosnap_b", 1, "2")]})
    assert dataset_problems(VOLUME, here, [], 24 * HOUR, 420 * 60) == [
        f"{VOLUME} is sent off-site by no job of the spec (to a host of another datacenter)"]


def test_off_site_copies_follow_the_spec_s_recursive_jobs_to_another_datacenter():
    arch = Architecture(load_spec())
    assert arch.off_site_copies("off1", VOLUME) == [("ovh3", REPLICA)]
    assert arch.off_site_copies("off1", "zfs-hdd/pve/subvol-102-disk-0") == []     # no job of off1's zfs-hdd/pve
    assert all(h == "ovh3" for h, _ in arch.off_site_copies("off2", "zfs-hdd/off/images"))   # off1 is the same datacenter
    assert {c.name for c in arch.data_containers()} == {"mongodb", "off-postgres", "off-redis"}


def _tasks(*lines):
    from fixtures.probes.backups import parse_tasks
    return parse_tasks(list(lines))


def _upid(start, guest=""):
    return f"UPID:off1:00001234:0000ABCD:{start:08X}:vzdump:{guest}:root@pam:"


def test_vzdump_tasks_are_read_as_pve_manager_writes_them():
    tasks = _tasks("@@index", f"{_upid(NOW - 7200, '102')} {NOW - 7000:08X} WARNINGS: 1", "@@active",
                   f"{_upid(NOW - 600)} 0", f"{_upid(NOW - 7200, '102')} 1 {NOW - 7000:08X} WARNINGS: 1")
    assert [(t.id, t.end, t.ok) for t in tasks] == [("102", NOW - 7000, True), ("", None, False),
                                                    ("102", NOW - 7000, True)]


@pytest.mark.parametrize("line", ["UPID:off1:1:2:zz:vzdump::root@pam: 1 OK", f"{_upid(NOW)} 61000000",
                                  "UPID:off1:1:2:3:qmstart:100:root@pam: 61000000 OK"])
def test_a_malformed_task_line_is_no_reading(line):
    with pytest.raises(ValueError):
        _tasks("@@index", line)


def test_only_the_newest_vzdump_of_a_guest_counts_and_a_long_run_is_stuck():
    from checks.test_backups import vzdump_problems
    failed_then_ok = _tasks("@@index", f"{_upid(NOW - 90000, '102')} {NOW - 89000:08X} job errors",
                            f"{_upid(NOW - 3600, '102')} {NOW - 3000:08X} OK")
    assert vzdump_problems(failed_then_ok, NOW, 24 * HOUR) == []
    ok_then_failed = _tasks("@@index", f"{_upid(NOW - 90000, '102')} {NOW - 89000:08X} OK",
                            f"{_upid(NOW - 3600, '102')} {NOW - 3000:08X} job errors")
    assert any("guest 102" in p and "job errors" in p for p in vzdump_problems(ok_then_failed, NOW, 24 * HOUR))
    running = _tasks("@@active", f"{_upid(NOW - 3 * 86400)} 0", f"{_upid(NOW - 600, '103')} 0")
    problems = vzdump_problems(running, NOW, 24 * HOUR)
    assert len(problems) == 1 and "72 h" in problems[0] and "stuck" in problems[0]
