"""ZFS-9 states what the snapshots' names, GUIDs and creation times prove (issue 18): a snapshot the
replica received, whose name the source destroyed and re-made (new GUID), is not called "taken on the
replica"; both causes that fit are named."""
from checks import test_zfs
from tests.recorded.harness import replaced, run, section, zfs_snapshots

NOW = 1_800_000_000
SRC, DST, DS = "off2", "off1", "zfs-nvme/off/products"
DST_DS = "zfs-hdd/off-nvme/products"
REPLICA = f"{DST}:{DST_DS}"


def _pair(fleet, shipped, source, replica):
    f = replaced(fleet, shipped, SRC, section(zfs_snapshots(fleet[SRC].text, DS, source), "clock", [str(NOW)]))
    return replaced(f, shipped, DST, section(zfs_snapshots(fleet[DST].text, DST_DS, replica), "clock", [str(NOW)]))


def test_zfs9_source_remade_a_received_snapshot_names_both_causes(fleet, shipped):
    """The source destroyed @b (received by the replica) and took a new @b: the replica's @b is older
    than the source's and has another GUID."""
    a, b, remade = NOW - 3600, NOW - 1800, NOW - 600
    f = _pair(fleet, shipped, source=[("autosnap_a", a, "11"), ("autosnap_b", remade, "33")],
              replica=[("autosnap_a", a, "11"), ("autosnap_b", b, "22")])
    outcome, message = run(test_zfs.test_replica_takes_no_snapshot_of_its_own, REPLICA, f, shipped)
    assert outcome == "failed"
    assert "destroyed and re-made @autosnap_b" in message and "taken on the replica under a name" in message
    assert "was taken on the replica:" not in message   # no single cause asserted


def test_zfs9_a_same_named_snapshot_newer_than_the_sources_was_taken_on_the_replica(fleet, shipped):
    """A re-made snapshot is newer than the one it replaced: a replica's @b newer than the source's @b is
    no former version of it."""
    a, b, own = NOW - 3600, NOW - 1800, NOW - 600
    f = _pair(fleet, shipped, source=[("autosnap_a", a, "11"), ("autosnap_b", b, "22")],
              replica=[("autosnap_a", a, "11"), ("autosnap_b", own, "99")])
    outcome, message = run(test_zfs.test_replica_takes_no_snapshot_of_its_own, REPLICA, f, shipped)
    assert outcome == "failed" and "was taken on the replica:" in message and "re-made" not in message


def test_zfs9_a_name_the_source_lacks_names_both_causes(fleet, shipped):
    a, own = NOW - 3600, NOW - 600
    f = _pair(fleet, shipped, source=[("autosnap_a", a, "11")],
              replica=[("autosnap_a", a, "11"), ("lab-own", own, "99")])
    outcome, message = run(test_zfs.test_replica_takes_no_snapshot_of_its_own, REPLICA, f, shipped)
    assert outcome == "failed" and "taken on the replica, or it was received and then destroyed" in message


def test_zfs9_shared_snapshots_only_pass(fleet, shipped):
    a, b = NOW - 3600, NOW - 600
    f = _pair(fleet, shipped, source=[("autosnap_a", a, "11"), ("autosnap_b", b, "22")],
              replica=[("autosnap_a", a, "11"), ("autosnap_b", b, "22")])
    assert run(test_zfs.test_replica_takes_no_snapshot_of_its_own, REPLICA, f, shipped) == ("passed", "")
