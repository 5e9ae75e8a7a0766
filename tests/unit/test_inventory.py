"""Inventories: a broken one is one line with file and line; no prod inventory says how to make one."""
import subprocess
import sys

import pytest

from fixtures.inventory import INVENTORIES, NotConfigured, load_inventory, resolve
from specs import SpecError
from tests.conftest import ROOT

EXAMPLE = (INVENTORIES / "prod.example.yaml").read_text()


def test_example_prod_inventory_is_valid(arch):
    inv = load_inventory(INVENTORIES / "prod.example.yaml", arch)
    assert inv.describe("off").endswith("via off2")
    assert inv.describe("mongodb").startswith("ssh://audit@10.1.0.102")


def line_of(text, words):
    return next(i for i, l in enumerate(text.splitlines(), 1) if l.startswith(words))


@pytest.mark.parametrize("old,new,field,at", [
    ("user: audit", "usr: audit", "usr", "usr:"),
    ("  ovh3: {address: ovh3.openfoodfacts.invalid, port: 22}\n", "", "hosts", "hosts:"),
    ("  mongodb: {address: 10.1.0.102}", "  mongo: {address: 10.1.0.102}", "containers.mongo", "  mongo:"),
    ("backend: ssh", "backend: telnet", "backend", "backend:"),
])
def test_broken_inventory_names_file_line_and_field(tmp_path, arch, old, new, field, at):
    path = tmp_path / "prod.yaml"
    path.write_text(EXAMPLE.replace(old, new))
    line = line_of(path.read_text(), at)
    with pytest.raises(SpecError) as err:
        load_inventory(path, arch)
    assert err.value.field == field and err.value.line == line, str(err.value)
    assert str(err.value).startswith(f"{path}:{line}: ")


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
