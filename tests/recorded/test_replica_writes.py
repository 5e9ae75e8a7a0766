"""ZFS-11 on readings in OpenZFS 2.x's format (`written`, `written@<snap>`) and zfs-fuse's (no `written`:
`zfs get` refuses the whole property list, exit 2): a replica made writable or written since its newest
snapshot is red, a staging clone unmounted is red, and neither `written` nor `referenced` read is an error
with both reasons, never a pass."""
import re

from checks import test_replica_writes as check
from fixtures.probes.storage import parse_written
from tests.recorded.harness import replaced, run, section, zfs_snapshots

NOW = 1_800_000_000
HOST, DS = "off1", "zfs-hdd/off-nvme/products"
REPLICA = f"{HOST}:{DS}"
SNAP = "autosnap_2027-01-15_00:00:01_hourly"
CLONE_HOST, CLONE = "ovh3", "rpool/staging-clones/orgs"

FUSE = ["@@dataset zfs-hdd/off-nvme/products 2", "bad property list: invalid property 'written'"]


def _written(*blocks):
    return [line for b in blocks for line in b]


def _openzfs(value, ds=DS):
    return [f"@@dataset {ds} 0", f"{ds}\twritten\t{value}"]


def _reading(fleet, shipped, readonly="on", head=None, snap=None, written=None, written_rc=0, err=""):
    """off1's reading with the replica's readonly, its and its newest snapshot's referenced (None: not
    printed, as a reading of before ZFS-11), and the zfs_written section (None: absent)."""
    text = zfs_snapshots(fleet[HOST].text, DS, [("autosnap_2027-01-14_00:00:01_daily", NOW - 86400, "1"),
                                                  (SNAP, NOW - 600, "2")])
    body = re.search(r"^@@@zfs\n(.*?)^@@@\.rc zfs", text, re.S | re.M).group(1).splitlines()
    body = [l for l in body if not (l.startswith(DS + "\t") and l.split("\t")[1] in ("readonly", "referenced"))]
    body.append(f"{DS}\treadonly\t{readonly}")
    if head is not None:
        body.append(f"{DS}\treferenced\t{head}")
    if snap is not None:
        body.append(f"{DS}@{SNAP}\treferenced\t{snap}")
    text = section(text, "zfs", body)
    if written is not None:
        text = section(text, "zfs_written", written, rc=written_rc, err=err)
    return replaced(fleet, shipped, HOST, text)


# --- the probe's text -------------------------------------------------------------------------------

def test_openzfs_written_and_written_at_a_snapshot_parse():
    got = parse_written(["@@dataset rpool/off/images 0", "rpool/off/images\twritten\t1234567",
                         "rpool/off/images\twritten@autosnap_a_hourly\t783000", "@@dataset rpool/off/users 0",
                         "rpool/off/users\twritten\t0"])
    assert got["rpool/off/images"].bytes == 1234567 and got["rpool/off/images"].since == {"autosnap_a_hourly": 783000}
    assert got["rpool/off/users"].bytes == 0 and not got.unsupported


def test_zfs_fuse_refusal_is_unsupported_and_other_failures_are_errors():
    got = parse_written(FUSE)
    assert got.unsupported == "bad property list: invalid property 'written'" and got[DS].bytes is None
    got = parse_written(["@@dataset rpool/gone 1", "cannot open 'rpool/gone': dataset does not exist",
                         "@@dataset rpool/dash 0", "rpool/dash\twritten\t-"])
    assert not got.unsupported
    assert "exit 1: cannot open 'rpool/gone'" in got["rpool/gone"].error
    assert "printed -" in got["rpool/dash"].error


def test_malformed_written_reading_is_rejected():
    import pytest
    with pytest.raises(ValueError):
        parse_written(["rpool/off\twritten\t0"])


# --- the check: OpenZFS ----------------------------------------------------------------------------

def test_openzfs_readonly_replica_with_nothing_written_passes(fleet, shipped):
    f = _reading(fleet, shipped, written=_openzfs(0))
    assert run(check.test_replica_is_never_written_locally, REPLICA, f, shipped) == ("passed", "")


def test_openzfs_bytes_written_since_the_newest_snapshot_are_red(fleet, shipped):
    """2023-06-08: 783K written on the replica; the replica is even read-only now."""
    f = _reading(fleet, shipped, written=_openzfs(801792))
    outcome, message = run(check.test_replica_is_never_written_locally, REPLICA, f, shipped)
    assert outcome == "failed", message
    assert f"replica {REPLICA}" in message and "801792 bytes written" in message and f"@{SNAP}" in message
    assert f"zfs diff {DS}@{SNAP}" in message and "readonly" not in message


def test_a_writable_replica_is_red_even_with_nothing_written(fleet, shipped):
    f = _reading(fleet, shipped, readonly="off", written=_openzfs(0))
    outcome, message = run(check.test_replica_is_never_written_locally, REPLICA, f, shipped)
    assert outcome == "failed" and "readonly=off; expected readonly=on" in message


# --- the check: zfs-fuse (no `written`) ------------------------------------------------------------

def test_zfs_fuse_replica_is_judged_by_referenced(fleet, shipped):
    f = _reading(fleet, shipped, head=114688, snap=114688, written=FUSE)
    assert run(check.test_replica_is_never_written_locally, REPLICA, f, shipped) == ("passed", "")
    f = _reading(fleet, shipped, readonly="off", head=376832, snap=114688, written=FUSE)
    outcome, message = run(check.test_replica_is_never_written_locally, REPLICA, f, shipped)
    assert outcome == "failed", message
    assert "readonly=off" in message and "references 376832 bytes" in message and "114688" in message
    assert "no `written` property" in message


def _sanoid_second(fleet, shipped, head, txgs=True):
    """zfs-fuse's reading of a replica whose source was written between sanoid's snapshots of one second (seen in
    the lab, CI37: the monthly taken before a write, the daily and hourly after), each with its createtxg (None:
    a reading without it)."""
    stamp = "autosnap_2027-01-15_00:00:01"
    snaps = [(f"{stamp}_monthly", 226, 147456), (f"{stamp}_daily", 231, 163840), (f"{stamp}_hourly", 236, 163840)]
    text = zfs_snapshots(fleet[HOST].text, DS, [(name, NOW - 600, str(txg)) for name, txg, _ in snaps])
    body = re.search(r"^@@@zfs\n(.*?)^@@@\.rc zfs", text, re.S | re.M).group(1).splitlines()
    body = [l for l in body if not (l.startswith(DS + "\t") and l.split("\t")[1] in ("readonly", "referenced"))]
    body += [f"{DS}\treadonly\ton", f"{DS}\treferenced\t{head}"]
    for name, txg, referenced in snaps:
        body.append(f"{DS}@{name}\treferenced\t{referenced}")
        if txgs:
            body.append(f"{DS}@{name}\tcreatetxg\t{txg}")
    return replaced(fleet, shipped, HOST, section(section(text, "zfs", body), "zfs_written", FUSE))


def test_snapshots_of_one_second_are_ordered_as_taken(fleet, shipped):
    """The newest of snapshots taken within one second is the last one's transaction group (createtxg), not the
    last name (`_monthly`): the replica holds what the hourly holds, nothing written; a write since is still red,
    against the hourly."""
    f = _sanoid_second(fleet, shipped, head=163840)
    assert [s[0].rsplit("_", 1)[1] for s in f[HOST].snapshots(DS)] == ["monthly", "daily", "hourly"]
    assert run(check.test_replica_is_never_written_locally, REPLICA, f, shipped) == ("passed", "")
    outcome, message = run(check.test_replica_is_never_written_locally, REPLICA, _sanoid_second(fleet, shipped, 180224),
                           shipped)
    assert outcome == "failed" and "references 180224 bytes" in message and "_hourly 163840" in message, message
    # a reading without createtxg (kept before it was read) orders them by name, as it did
    outcome, _ = run(check.test_replica_is_never_written_locally, REPLICA,
                     _sanoid_second(fleet, shipped, 163840, txgs=False), shipped)
    assert outcome == "failed"


def test_neither_written_nor_referenced_is_no_evidence_with_both_reasons(fleet, shipped):
    f = _reading(fleet, shipped, written=FUSE)
    outcome, message = run(check.test_replica_is_never_written_locally, REPLICA, f, shipped)
    assert outcome != "passed" and message.startswith("no evidence: "), message
    assert "no `written` property" in message and "`referenced`" in message


def test_a_failed_written_probe_is_a_set_up_error(fleet, shipped):
    f = _reading(fleet, shipped, head=114688, snap=114688, written=[], written_rc=126, err="sh: zfs: Permission denied")
    outcome, message = run(check.test_replica_is_never_written_locally, REPLICA, f, shipped)
    assert outcome == "error" and "Permission denied" in message, message


def test_written_refused_for_one_replica_is_judged_by_referenced_saying_why(fleet, shipped):
    f = _reading(fleet, shipped, head=200000, snap=114688,
                 written=[f"@@dataset {DS} 1", f"cannot open '{DS}': permission denied"])
    outcome, message = run(check.test_replica_is_never_written_locally, REPLICA, f, shipped)
    assert outcome == "failed" and "references 200000 bytes" in message and "permission denied" in message


def test_a_missing_replica_is_not_judged_here(fleet, shipped):
    text = fleet[HOST].text
    body = re.search(r"^@@@zfs\n(.*?)^@@@\.rc zfs", text, re.S | re.M).group(1).splitlines()
    text = section(section(text, "zfs", [l for l in body if not l.startswith(DS)]), "zfs_written", FUSE)
    f = replaced(fleet, shipped, HOST, text)
    outcome, message = run(check.test_replica_is_never_written_locally, REPLICA, f, shipped)
    assert outcome == "skipped" and "does not exist" in message, message


# --- staging clones --------------------------------------------------------------------------------

def _clone(fleet, shipped, mounted):
    text = fleet[CLONE_HOST].text
    body = re.search(r"^@@@zfs\n(.*?)^@@@\.rc zfs", text, re.S | re.M).group(1).splitlines()
    body = [l for l in body if not l.startswith(f"{CLONE}\tmounted\t")]
    if mounted is not None:
        body.append(f"{CLONE}\tmounted\t{mounted}")
    text = section(section(text, "zfs", body), "zfs_written", ["@@dataset rpool/off 2", FUSE[1]])
    return replaced(fleet, shipped, CLONE_HOST, text)


def test_staging_clone_mounted_passes_unmounted_is_red_unread_is_an_error(fleet, shipped):
    target = f"{CLONE_HOST}:{CLONE}"
    assert run(check.test_staging_clone_stays_mounted, target, _clone(fleet, shipped, "yes"), shipped) == ("passed", "")
    outcome, message = run(check.test_staging_clone_stays_mounted, target, _clone(fleet, shipped, "no"), shipped)
    assert outcome == "failed" and f"{CLONE} is not mounted" in message and CLONE_HOST in message
    outcome, message = run(check.test_staging_clone_stays_mounted, target, _clone(fleet, shipped, None), shipped)
    assert outcome != "passed" and message.startswith("no evidence: ") and "mounted" in message, message
