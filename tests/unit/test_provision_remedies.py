"""The provisioner's remediations, without a machine, on the healthy lab's recorded readings: every target
of every requirement maps to steps on a machine of the spec; nothing destroys data; a fresh PSK is the
same on both ends, re-keys only the later of two links sharing a key, and is never in a text; the
report's `fix_for` answers for every target."""
from types import SimpleNamespace

import pytest

from checks.offline import checks, load_dir, marks
from provision.audit import Finding
from provision.plan import fix_for
from provision.remedies import REMEDIES, Action, Manual, steps_for
from specs import load_spec
from specs.architecture import Architecture
from tests.recorded.harness import LAB, LAB_SPEC

ARCH = Architecture(load_spec(LAB_SPEC))
READINGS = load_dir(LAB, ARCH)
AUDIT = SimpleNamespace(facts=READINGS.get)
MACHINES = {m.name for m in ARCH.machines()}
DESTROYS = ("zfs destroy", " -F", "rm -r", "rm -f", "zfs rollback", "dropdb", "DROP ")


def _targets(req):
    return [t for _, fn in checks({req}) for t in marks(fn)[1](ARCH)]


def _texts(step):
    """What a step would run (a manual step's description may name what a tool would do implicitly)."""
    if isinstance(step, Manual):
        return list(step.commands)
    return [step.what] + [kw["name"] for _, kw in step.ops] + [str(kw.get("commands", "")) for _, kw in step.ops]


@pytest.mark.parametrize("req", sorted(REMEDIES))
def test_every_target_maps_to_steps_on_a_machine_of_the_spec(req):
    targets = _targets(req)
    assert targets, f"{req}: no check runs over any target"
    for target in targets:
        steps = steps_for(Finding(req, target, "failed", f"{target}:\n  - something is wrong"), ARCH, AUDIT)
        assert steps, f"{req} {target}: no step"
        for s in steps:
            assert s.machine in MACHINES, f"{req} {target}: step on {s.machine!r}, not a machine of the spec"
            for text in _texts(s) + (_texts(s.fallback) if isinstance(s, Action) and s.fallback else []):
                assert not any(d in text.split("#")[0] for d in DESTROYS), f"{req} {target}: {text}"


def test_a_remedy_without_evidence_is_a_manual_step_saying_why():
    link = ARCH.links()[0]
    (step,) = steps_for(Finding("NET-3", link, "failed", ""), ARCH, SimpleNamespace(facts=lambda m: None))
    assert isinstance(step, Manual) and "without evidence" in step.what and link.server.name in step.what


def _stunnel(link, client, ciphers="PSK"):
    from confs.stunnel import parse_stunnel_text
    port = link.client_accept if client else link.server_accept
    return parse_stunnel_text(f"[{link.name}]\nclient = {'yes' if client else 'no'}\naccept = {port}\n"
                              f"ciphers = {ciphers}\nPSKsecrets = {link.psk_path}\n")


def _psk_audit(shared, ciphers="PSK", extra_key=False):
    """Facts where each link has its own key, or the second link holds the first link's key (and, with
    extra_key, one more key of its own); the client end of the first link sets `ciphers`."""
    first, second = ARCH.links()[:2]
    keys = {first.psk_path: "k1", second.psk_path: "k1" if shared else "k2"}
    facts = {}
    for link in (first, second):
        for end in (link.server, link.client):
            client = end is link.client
            m = facts.setdefault(end.name, SimpleNamespace(psk_files={}, stunnel_files={}))
            entries = [("id-" + link.name, keys[link.psk_path])] + ([("id-x", "k9")] if extra_key and link is second else [])
            m.psk_files[link.psk_path] = {"mode": "600", "owner": "root", "group": "root", "entries": entries}
            m.stunnel_files[f"/etc/stunnel/{link.name}-{'c' if client else 's'}.conf"] = _stunnel(
                link, client, ciphers if client and link is first else "PSK")
    return SimpleNamespace(facts=facts.get)


def test_fresh_psk_rekeys_the_later_link_on_both_ends_and_never_shows_it():
    first, second = ARCH.links()[:2]
    audit = _psk_audit(shared=True)
    for link in (first, second):   # both checks are red; either plans the same fix: re-key the second link
        steps = steps_for(Finding("NET-3", link, "failed", ""), ARCH, audit)
        assert {s.machine for s in steps} == {second.server.name, second.client.name}
        assert {s.key for s in steps} == {(m, "NET-3", f"psk {second.name}") for m in (second.server.name, second.client.name)}
        contents = {kw["src"].getvalue() for s in steps for op, kw in s.ops if "src" in kw}
        assert len(contents) == 1 and all(s.secret for s in steps)
        key = contents.pop().strip().split(":", 1)[1]
        assert len(key) == 64 and all(key not in t for s in steps for t in _texts(s))
    again = steps_for(Finding("NET-3", second, "failed", ""), ARCH, audit)
    assert key not in {kw["src"].getvalue() for s in again for _, kw in s.ops if "src" in kw}.pop()


def test_no_fresh_psk_when_the_link_shares_nothing():
    (step,) = steps_for(Finding("NET-3", ARCH.links()[0], "failed", "x:\n  - bad ciphers"), ARCH,
                        _psk_audit(shared=False))
    assert isinstance(step, Manual) and "bad ciphers" in step.what


def test_a_cipher_line_on_the_client_is_the_clients_to_fix():
    first = ARCH.links()[0]
    (step,) = steps_for(Finding("NET-3", first, "failed", ""), ARCH, _psk_audit(shared=False, ciphers="ALL"))
    assert isinstance(step, Manual) and step.machine == first.client.name != first.server.name
    assert "client end" in step.what and first.psk_path in step.what
    assert any("ciphers = ALL" in c and f"{first.name}-c.conf" in c for c in step.commands), step.commands


def test_a_psk_file_holding_a_key_no_other_link_holds_is_not_rewritten():
    second = ARCH.links()[1]
    steps = steps_for(Finding("NET-3", second, "failed", ""), ARCH, _psk_audit(shared=True, extra_key=True))
    assert steps and all(isinstance(s, Manual) for s in steps)
    assert "would lose" in steps[0].what and "k9" not in " ".join([steps[0].what, *steps[0].commands])


def test_manual_steps_name_their_commands():
    r = ARCH.replicas()[0]
    (step,) = steps_for(Finding("ZFS-6", r, "failed", ""), ARCH, AUDIT)
    assert isinstance(step, Manual) and step.machine == r.target
    assert any(c.startswith(f"zfs rename {r.target_dataset} ") for c in step.commands)


@pytest.mark.parametrize("req", sorted(REMEDIES))
def test_fix_for_answers_for_every_target_of_the_report(req):
    for target in _targets(req):
        text = fix_for(req, str(target), ARCH)
        assert text and ("automatic" in text or "manual" in text), f"{req} {target}: {text!r}"
    assert fix_for(req, "no-such-target", ARCH) is None


def _services_audit(states, running=True):
    from fixtures.probes.processes import UnitState
    facts = SimpleNamespace(services={u: UnitState(*s) for u, s in states.items()},
                            running=lambda proc: [object()] if running else [])
    return SimpleNamespace(facts=lambda m: facts)


def test_a_disabled_service_is_enabled_a_masked_one_left_to_a_person():
    app = ARCH.app_containers()[0]
    units = [p.unit for _, p in ARCH.runs(app.role)]
    ok = {u: ("enabled", "active") for u in units}
    (action,) = steps_for(Finding("APP-2", app, "failed", ""), ARCH, _services_audit({**ok, units[-1]: ("disabled", "active")}))
    assert isinstance(action, Action) and [kw["enabled"] for _, kw in action.ops] == [True]
    assert [kw["action"] for _, kw in action.ops] == [None]
    (manual,) = steps_for(Finding("APP-2", app, "failed", ""), ARCH, _services_audit({**ok, units[-1]: ("masked", "inactive")}))
    assert isinstance(manual, Manual) and f"systemctl unmask {units[-1]}" in " ".join(manual.commands)


def test_the_on_failure_drop_in_sorts_after_every_other():
    job = next(t for t in _targets("OPS-1") if t.host in READINGS)
    text = ["@@unit " + job.unit, f"# /lib/systemd/system/{job.unit}", "[Service]", "ExecStart=/bin/true",
            f"# /etc/systemd/system/{job.unit}.d/zz-local.conf", "[Unit]", "OnFailure="]
    facts = SimpleNamespace(evidence=lambda name: text)
    (action,) = steps_for(Finding("OPS-1", job, "failed", ""), ARCH, SimpleNamespace(facts=lambda m: facts))
    dest = action.ops[0][1]["dest"].rsplit("/", 1)[1]
    assert dest > "zz-local.conf" and "OnFailure=" in action.ops[0][1]["src"].getvalue()


def _listening_audit(machine, listeners, exes):
    facts = SimpleNamespace(listening=listeners, listening_binaries=exes, addresses=["203.0.113.9"],
                            public_facing=lambda addr, internal: not internal(addr) if addr != "0.0.0.0" else True,
                            sent=lambda name: True)
    return SimpleNamespace(facts=lambda m: facts if m == machine else None)


def test_an_exposed_port_of_the_applications_own_apache_is_bound_never_stopped():
    from fixtures.probes.network import Listener
    app = ARCH.app_containers()[0]
    apache = ARCH.spec.processes["apache"]
    audit = _listening_audit(app.name, [Listener("0.0.0.0", 80, (4242,), ("apache2",))], {4242: "/usr/sbin/apache2"})
    (step,) = steps_for(Finding("WEB-3", app, "failed", ""), ARCH, audit)
    assert isinstance(step, Manual) and apache.unit in step.what and "pid 4242 /usr/sbin/apache2" in step.what
    assert "keep it running" in step.what and app.address in step.what
    assert not any("disable --now" in c or c.startswith("systemctl stop") for c in step.commands), step.commands


def test_an_exposed_port_names_its_process_and_how_to_find_its_unit():
    from fixtures.probes.network import Listener
    app = ARCH.app_containers()[0]
    audit = _listening_audit(app.name, [Listener("0.0.0.0", 6000, (77,), ("python3",))], {77: "/usr/bin/python3.11"})
    (step,) = steps_for(Finding("NET-2", app, "failed", ""), ARCH, audit)
    assert "pid 77 /usr/bin/python3.11" in step.what and "systemctl status 77  # names its unit" in step.commands


def _ops_audit(job, notification_lines):
    name = job.on_failure.replace("@.", "@" + job.unit.rsplit(".", 1)[0] + ".")
    text = ["@@unit " + job.unit, f"# /lib/systemd/system/{job.unit}", "[Unit]",
            f"OnFailure={name}", "[Service]", "ExecStart=/bin/true",
            "@@unit " + name, *notification_lines]
    facts = SimpleNamespace(evidence=lambda n: text)
    return name, SimpleNamespace(facts=lambda m: facts)


def test_a_masked_notification_unit_is_named_masked_not_missing():
    job = next(t for t in _targets("OPS-1") if t.host in READINGS)
    name = job.on_failure.replace("@.", "@" + job.unit.rsplit(".", 1)[0] + ".")
    name, audit = _ops_audit(job, [f"# Unit {name} is masked."])
    (step,) = steps_for(Finding("OPS-1", job, "failed", ""), ARCH, audit)
    assert isinstance(step, Manual) and name in step.what and "masked" in step.what and "missing" not in step.what
    assert any(c.startswith("systemctl unmask") for c in step.commands)
    name, audit = _ops_audit(job, [])
    (step,) = steps_for(Finding("OPS-1", job, "failed", ""), ARCH, audit)
    assert name in step.what and "missing" in step.what and not any("unmask" in c for c in step.commands)


def _tls_audit(site, names, days):
    import datetime
    from fixtures.probes.network import Served
    now = 1_800_000_000
    served = Served(0, datetime.datetime.fromtimestamp(now + days * 86400, datetime.timezone.utc), tuple(names))
    facts = SimpleNamespace(now=now, served_certificates={str(site): served},
                            nginx_servers=[SimpleNamespace(names=(str(site),), certificate=f"/etc/ssl/{site}.pem")])
    return SimpleNamespace(facts=lambda m: facts)


def test_a_served_certificate_with_wrong_names_is_manual_said_by_names():
    from checks.test_web import _tls_sites
    site = _tls_sites(ARCH)[0]
    (step,) = steps_for(Finding("NET-6", site, "failed", ""), ARCH, _tls_audit(site, ["other.example"], 60))
    assert isinstance(step, Manual) and "does not name" in step.what and "by names" in step.what
    (step,) = steps_for(Finding("NET-6", site, "failed", ""), ARCH, _tls_audit(site, [str(site)], 3))
    assert isinstance(step, Action) and "by dates" in step.what and "by names" in step.fallback.what


def test_the_reload_is_decided_by_the_file_on_disk_dates_and_names():
    from provision.remedies.net import certificate_fix
    good = {"valid": True, "names": ("*.example.org",)}
    assert certificate_fix("a.example.org", True, False, good) == "reload"
    assert "by dates" in certificate_fix("a.example.org", True, False, {**good, "valid": False})
    assert "by names" in certificate_fix("b.example.net", True, False, good)
    assert "cannot be read" in certificate_fix("a.example.org", True, False, False)
    assert "by names" in certificate_fix("a.example.org", False, False, good)


def test_an_unreadable_certificate_file_is_never_reloaded():
    from provision.remedies.net import CertificateOnDisk, certificate_fix
    fact = CertificateOnDisk()
    assert fact.process(["unreadable"]) is False and fact.process([]) is False
    assert certificate_fix("a.example.org", True, False, fact.process(["unreadable"])) != "reload"
    assert fact.process(["valid", "    DNS:a.example.org, DNS:b.example.org"])["names"] == ("a.example.org", "b.example.org")


def test_a_proxy_pass_through_a_variable_is_manual_never_a_bare_reload():
    chain = ARCH.chains()[0]
    server = SimpleNamespace(names=(chain.public_name,), file="/etc/nginx/sites-enabled/x", upstreams={},
                             proxies={"/": "http://$up"})
    audit = SimpleNamespace(facts=lambda m: SimpleNamespace(nginx_servers=[server]))
    (step,) = steps_for(Finding("WEB-1", chain, "failed", ""), ARCH, audit)
    assert isinstance(step, Manual) and "$up" in step.what
    server.proxies = {"/": "http://10.9.9.9:8080"}
    (step,) = steps_for(Finding("WEB-1", chain, "failed", ""), ARCH, audit)
    assert isinstance(step, Action) and all(op.__name__ == "forward_to" for op, _ in step.ops)


def test_a_replica_written_locally_is_a_manual_look_never_a_rollback():
    """ZFS-11 touches data: the plan says how to look (written, readonly, zfs diff), rolls nothing back."""
    replica = _targets("ZFS-11")[0]
    (step,) = steps_for(Finding("ZFS-11", replica, "failed", f"{replica}:\n  - readonly=off; expected readonly=on"),
                        ARCH, AUDIT)
    assert isinstance(step, Manual) and step.machine == replica.target and "readonly=off" in step.what
    text = "\n".join(step.commands)
    assert "written" in text and "readonly" in text and "zfs diff" in text and replica.target_dataset in text
    assert not any("rollback" in c.split("#")[0] for c in step.commands)
    clone = ARCH.staging_clones()[0]
    (step,) = steps_for(Finding("ZFS-11", clone, "failed", f"{clone}:\n  - not mounted"), ARCH, AUDIT)
    assert isinstance(step, Manual) and step.machine == clone.host and f"zfs mount {clone.clone}" in step.commands


def test_an_unhealthy_pool_is_a_manual_step_with_zpool_commands_never_automatic():
    """ZFS-10 touches devices and data: the plan says how to look and what a person runs."""
    host = _targets("ZFS-10")[0]
    msg = f"host {host.name}:\n  - pool rpool is DEGRADED; expected ONLINE\n  - pool rpool: device sdb is OFFLINE"
    (step,) = steps_for(Finding("ZFS-10", host, "failed", msg), ARCH, AUDIT)
    assert isinstance(step, Manual) and step.machine == host.name and "DEGRADED" in step.what
    assert "zpool status -v" in step.commands and any(c.startswith("zpool online") for c in step.commands)
    assert any(c.startswith("zpool replace") for c in step.commands)
    (step,) = steps_for(Finding("ZFS-10", host, "failed", f"host {host.name}:\n  - ZFS did not answer within 10 s"),
                        ARCH, AUDIT)
    assert isinstance(step, Manual) and any("awk '$2 ~ /D/'" in c for c in step.commands)


def test_snapshot_retention_is_a_manual_step_and_destroys_nothing_unattended():
    host = _targets("ZFS-12")[0]
    msg = f"host {host.name}:\n  - rpool/x: no sanoid section covers rpool/x: nothing prunes it"
    (step,) = steps_for(Finding("ZFS-12", host, "failed", msg), ARCH, AUDIT)
    assert isinstance(step, Manual) and "never automatic" in step.what
    assert any("sanoid.conf" in c for c in step.commands)
    assert not any(c.startswith("zfs destroy") for c in step.commands)


def test_snapshots_outside_the_policy_are_listed_as_zfs_destroy_commands_for_a_person():
    from fixtures.probes.storage import parse_zfs
    host = _targets("ZFS-12")[0]
    now = 1_800_000_000
    old, recent = now - 90 * 86400, now - 86400
    zfs = parse_zfs([f"rpool/x@before-upgrade\tcreation\t{old}", f"rpool/x@autosnap_2027-01-01_00:00:01_daily\tcreation\t{old}",
                     f"rpool/x@today\tcreation\t{recent}"])
    audit = SimpleNamespace(facts=lambda m: SimpleNamespace(zfs=zfs, now=now))
    msg = f"host {host.name}:\n  - rpool/x: 1 snapshots outside any policy (...) older than 30 days: before-upgrade"
    (step,) = steps_for(Finding("ZFS-12", host, "failed", msg), ARCH, audit)
    assert isinstance(step, Manual)
    assert [c for c in step.commands if c.startswith("zfs destroy")] == ["zfs destroy rpool/x@before-upgrade"]
