"""The units the lab writes are shaped like the users' (confs/*/systemd/) and read as OPS-1 reads them."""
from pathlib import Path

from confs.systemd import Unit, is_instance_of
from fixtures.lab import host_units, units
from specs import load_spec
from specs.architecture import Architecture
from specs.load import DEFAULT_SPEC

USERS = Path(__file__).resolve().parents[2].parent / "shared" / "off-infrastructure" / "confs"


def _unit(name, *texts):
    lines = []
    for i, text in enumerate(texts):
        lines += [f"# /etc/systemd/system/{name}{'.d/x.conf' if i else ''}"] + text.splitlines()
    return Unit(name, lines)


def test_the_replication_unit_names_its_notification_as_the_users_do():
    arch = Architecture(load_spec(DEFAULT_SPEC))
    rep = arch.spec.replication
    unit = _unit(rep.unit, host_units.replication_unit(arch))
    (word, _), = unit.words("Unit", "OnFailure")
    assert word == "email-failures@syncoid.service" and is_instance_of(word, rep.on_failure)
    assert [w for w, _ in unit.words("Install", "WantedBy")] == [arch.spec.snapshots.unit]
    assert unit.get("Service", "Type")[0].value == "oneshot"
    assert not _unit(rep.unit, host_units.replication_unit(arch, "")).words("Unit", "OnFailure")


def test_a_drop_in_clearing_on_failure_leaves_none():
    arch = Architecture(load_spec(DEFAULT_SPEC))
    snaps = arch.spec.snapshots.unit
    assert _unit(snaps, "[Unit]\nDescription=x\n", host_units.snapshot_dropin(arch)).words("Unit", "OnFailure")
    assert not _unit(snaps, "[Unit]\nDescription=x\n", host_units.snapshot_dropin(arch),
                     "[Unit]\nOnFailure=\n").words("Unit", "OnFailure")


def test_the_stunnel_drop_in_is_the_users_own():
    theirs = USERS / "off1-reverse-proxy/systemd/system/stunnel@.service.d/override.conf"
    if theirs.exists():
        assert units.stunnel_dropin() == theirs.read_text()
    assert units.instance("stunnel@off") == "off" and units.instance("nginx") is None
