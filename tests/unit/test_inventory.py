"""Inventories: a broken one is one line with file and line; no prod inventory says how to make one."""
import os
import subprocess
import sys

import pytest

from fixtures.inventory import INVENTORIES, NotConfigured, load_inventory, resolve
from specs import SpecError
from tests.conftest import ROOT

EXAMPLE = (INVENTORIES / "prod.example.yaml").read_text()


def ssh_config_for(arch, path, skip=()):
    """A user's ~/.ssh/config naming every machine of the spec: hosts, containers through their host."""
    text = "Host *\n  User oncall\n  IdentityFile ~/.ssh/id_oncall\n"
    for h in arch.spec.hosts:
        if h not in skip:
            text += f"Host {h}\n  HostName {h}.example.invalid\n"
    for c in arch.containers():
        if c.name not in skip:
            text += f"Host {c.name}\n  HostName {c.address}\n  ProxyJump {c.host}\n"
    path.write_text(text)
    return path


def prod_inventory(tmp_path, arch, text=EXAMPLE, skip=()):
    ssh_config_for(arch, tmp_path / "ssh_config", skip)
    path = tmp_path / "prod.yaml"
    path.write_text(text.replace("ssh_config: ~/.ssh/config", "ssh_config: ssh_config")
                    .replace("  off1: off1.openfoodfacts.org", "  off1: off1"))
    return path


def test_example_prod_inventory_is_valid(tmp_path, arch):
    inv = load_inventory(prod_inventory(tmp_path, arch), arch)
    off = arch.container("off")
    assert inv.describe("off") == f"ssh://oncall@{off.address}:22 via off2"
    assert inv.describe("off1") == "ssh://oncall@off1.example.invalid:22"
    assert inv.targets["off"].known_hosts == (os.path.expanduser("~/.ssh/known_hosts"),)


def test_pct_inventory_needs_only_the_hosts(tmp_path, arch):
    text = EXAMPLE.replace("via: jump", "via: pct")
    inv = load_inventory(prod_inventory(tmp_path, arch, text, skip=[c.name for c in arch.containers()]), arch)
    off = arch.container("off")
    assert inv.describe("off") == f"pct exec {off.id} on off2 (ssh://oncall@off2.example.invalid:22)"


def line_of(text, words):
    return next(i for i, l in enumerate(text.splitlines(), 1) if l.startswith(words))


@pytest.mark.parametrize("old,new,field,at", [
    ("via: jump", "via: telnet", "via", "via:"),
    ("  off1: off1.openfoodfacts.org", "  off9: off1", "aliases.off9", "  off9:"),
    ("  off1: off1.openfoodfacts.org", "  off1: nowhere", "aliases.off1", "  off1:"),
    ("timeouts: {connect: 10, command: 30}", "timeouts: {connect: 10, comand: 30}", "timeouts.comand", "timeouts:"),
    ("ssh_config: ~/.ssh/config", "ssh_config: /nonexistent/config", "ssh_config", "ssh_config:"),
    ("backend: ssh", "backend: telnet", "backend", "backend:"),
])
def test_broken_inventory_names_file_line_and_field(tmp_path, arch, old, new, field, at):
    path = tmp_path / "prod.yaml"
    ssh_config_for(arch, tmp_path / "ssh_config")
    path.write_text(EXAMPLE.replace("ssh_config: ~/.ssh/config", "ssh_config: ssh_config")
                    .replace(old.replace("~/.ssh/config", "ssh_config"), new))
    line = line_of(path.read_text(), at)
    with pytest.raises(SpecError) as err:
        load_inventory(path, arch)
    assert err.value.field == field and err.value.line == line, str(err.value)
    assert str(err.value).startswith(f"{path}:{line}: ") and "\n" not in str(err.value)


def test_a_machine_without_host_alias_is_one_line(tmp_path, arch):
    path = prod_inventory(tmp_path, arch, skip=["mongodb"])
    with pytest.raises(SpecError) as err:
        load_inventory(path, arch)
    assert str(err.value) == (f"{path}:{line_of(path.read_text(), 'ssh_config:')}: ssh_config: no `Host mongodb` in "
                              f"{tmp_path / 'ssh_config'} for spec machine 'mongodb' (add one, or map it in `aliases`)")


def test_no_prod_inventory_says_how_to_configure(monkeypatch):
    monkeypatch.setattr("fixtures.inventory.PROD", INVENTORIES / "absent" / "prod.yaml")
    with pytest.raises(NotConfigured, match="copy .*prod.example.yaml"):
        resolve("prod")


def test_pytest_m_prod_without_inventory_stops_at_once(tmp_path):
    missing = tmp_path / "prod.yaml"
    proc = subprocess.run([sys.executable, "-m", "pytest", "-m", "prod", f"--inventory={missing}", "-q"],
                          cwd=ROOT, capture_output=True, text=True)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 4 and "Traceback" not in out
    assert f"inventory {missing} does not exist" in out


LAB = (INVENTORIES / "lab.yaml").read_text()


def test_the_lab_maps_overlapping_networks_in_one_place():
    """Every production bridge is 10.1.0.0/24; the lab inventory gives OVH's another, and container
    addresses (what address checks compare) follow it."""
    from specs import load_spec
    from specs.architecture import Architecture
    arch = Architecture(load_spec())
    assert arch.container("ovh-stunnel-client").address == "10.1.0.113"
    load_inventory(INVENTORIES / "lab.yaml", arch)
    assert arch.container("ovh-stunnel-client").address == "10.1.3.113"
    assert arch.container("off").address == "10.1.0.113"
    assert arch.internal("ovh1", "10.1.3.113") and not arch.internal("ovh1", "10.1.0.113")


def test_lab_network_map_of_an_unknown_host_is_one_line(tmp_path):
    from specs import load_spec
    from specs.architecture import Architecture
    path = tmp_path / "lab.yaml"
    path.write_text(LAB.replace("  ovh1: 10.1.3.0/24", "  ovh9: 10.1.3.0/24"))
    with pytest.raises(SpecError) as err:
        load_inventory(path, Architecture(load_spec()))
    line = line_of(path.read_text(), "  ovh9:")
    assert str(err.value).startswith(f"{path}:{line}: internal_networks.ovh9: no host 'ovh9'"), str(err.value)


def test_inventory_given_with_a_space_is_one_line(tmp_path):
    """`--inventory FILE`: pytest would take FILE for a test path (and lose its settings): say how to write it."""
    path = tmp_path / "prod.yaml"
    path.write_text("backend: ssh\n")
    proc = subprocess.run([sys.executable, "-m", "pytest", "-m", "prod", "--inventory", str(path), "-q"],
                          cwd=ROOT, capture_output=True, text=True)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 4 and "Traceback" not in out
    assert "write --inventory=FILE (with '=')" in out
