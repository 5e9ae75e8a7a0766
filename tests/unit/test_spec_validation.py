"""A broken spec stops the run with one line naming file, line and field; never a traceback."""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from specs import SpecError, load_spec
from specs.load import DEFAULT_SPEC

ROOT = Path(__file__).resolve().parents[2]


def broken(tmp_path, file, old, new):
    spec = tmp_path / "spec"
    shutil.copytree(DEFAULT_SPEC, spec)
    text = (spec / file).read_text()
    assert old in text, f"test set-up: {old!r} not in {file}"
    (spec / file).write_text(text.replace(old, new, 1))
    line = next((i for i, l in enumerate((spec / file).read_text().splitlines(), 1) if new and new.splitlines()[0] in l), None)
    return spec, line


CASES = [
    # (file, old text, new text, field in message, words in message)
    ("applications.yaml", "software_root: /srv/{application}", "software_root: /srv/{flavor}", "software_root",
     "pattern"),
    ("hosts.yaml", "    datacenter: free\n    roles: [proxmox, replica]", "    datacentre: free\n    roles: [proxmox, replica]",
     "hosts.off1.datacentre", "unknown field"),
    ("hosts.yaml", "{id: 102, role: database", "{id: one-oh-two, role: database", "hosts.off1.containers.mongodb.id", "integer"),
    ("network.yaml", "client: {container: ovh-stunnel-client, accept: 27017}", "client: {container: ovh-stunel-client, accept: 27017}",
     "stunnel.links.mongodb.client.container", "does not exist"),
    ("applications.yaml", "shared_with: [off-pro, obf, opf, opff]", "shared_with: [off-pro, obf, opf, opfff]",
     "flavors.off.folders.users.shared_with.3", "not an application"),
    ("storage.yaml", "- {source: off2, target: off1, dataset: zfs-hdd/off}",
     "- {source: ovh3, target: off2, dataset: rpool/off/users, target_dataset: zfs-hdd/off/users}\n"
     "    - {source: off2, target: off1, dataset: zfs-hdd/off}", "replication.jobs.0", "replication cycle"),
    ("storage.yaml", "dataset: zfs-nvme/off, target_dataset: zfs-hdd/off-nvme}", "dataset: zfs-nvme/off, target_dataset: rpool/off-nvme}",
     "replication.jobs.1.target_dataset", "not a pool of host off1"),
    ("storage.yaml", "- {source: off2, target: off1, dataset: zfs-hdd/off-pro}", "- {source: off2, target: off1, dataset: zfs-hdd/off-pro, recursive: maybe}",
     "replication.jobs.2.recursive", "boolean"),
    ("applications.yaml", "mounted_by: [off, obf, opff]}", "mounted_by: [off, obf, opfff]}",
     "flavors.opf.folders.products.mounted_by.2", "not an application"),
    ("applications.yaml", "dataset: zfs-hdd/obf, public_names", "dataset: zfs-hd/obf, public_names",
     "applications.obf.dataset", "not a pool of host off2"),
    ("hosts.yaml", "off1-reverse-proxy: {id: 100,", "off1-reverse-proxy: {id: 101,",
     "hosts.off2.containers.off2-reverse-proxy.id", "shares the internal network"),
    ("hosts.yaml", "conf_dirs: [off2-reverse-proxy, proxy-off]", "conf_dirs: [off2-reverse-proxy, ../proxy-off]",
     "hosts.off2.containers.off2-reverse-proxy.conf_dirs.1", "pattern"),
    ("storage.yaml", "max_lag_minutes: 420", "max_lag_minutes: -5", "replication.max_lag_minutes", "greater than 0"),
    ("hosts.yaml", "off-memcached: {id: 121,", "off-memcached: {id: 120,", "hosts.off2.containers.off-memcached.id", "already used"),
    ("health.yaml", "max_restarts: 3", "max_restarts: 0", "operations.max_restarts", "greater than 0"),
]


@pytest.mark.parametrize("file,old,new,field,words", CASES, ids=[c[3] for c in CASES])
def test_broken_spec_gives_one_clear_error(tmp_path, file, old, new, field, words):
    spec, line = broken(tmp_path, file, old, new)
    with pytest.raises(SpecError) as err:
        load_spec(spec)
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith(f"{spec / file}:"), message
    assert err.value.field == field, message
    assert words in message, message
    if field not in ("replication.jobs.0", "hosts.off2.containers.off2-reverse-proxy.id"):
        assert err.value.line == line, message


def test_empty_file(tmp_path):
    spec = tmp_path / "spec"
    shutil.copytree(DEFAULT_SPEC, spec)
    (spec / "network.yaml").write_text("")
    with pytest.raises(SpecError, match=r"network\.yaml: the file is empty"):
        load_spec(spec)


def test_not_yaml(tmp_path):
    spec = tmp_path / "spec"
    shutil.copytree(DEFAULT_SPEC, spec)
    (spec / "network.yaml").write_text("web:\n  nginx_port: 80\n   apache_port: [8080\n")
    with pytest.raises(SpecError) as err:
        load_spec(spec)
    assert "not valid YAML" in str(err.value) and err.value.line == 3, str(err.value)


def test_missing_section_is_named(tmp_path):
    spec = tmp_path / "spec"
    shutil.copytree(DEFAULT_SPEC, spec)
    (spec / "network.yaml").unlink()
    with pytest.raises(SpecError, match=r"web: missing"):
        load_spec(spec)


def test_pytest_with_broken_spec_prints_one_line_and_fails(tmp_path):
    spec, line = broken(tmp_path, "hosts.yaml", "{id: 102, role: database", "{id: 102, role: databse")
    proc = subprocess.run([sys.executable, "-m", "pytest", f"--spec={spec}", "-q"], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode != 0
    out = proc.stdout + proc.stderr
    assert "Traceback" not in out
    assert f"hosts.yaml:{line}: hosts.off1.containers.mongodb.role:" in out, out


def test_shipped_spec_loads():
    arch = load_spec()
    assert set(arch.hosts) == {"off1", "off2", "ovh1", "ovh2", "ovh3"}


def test_shipped_spec_is_production_as_it_runs():
    """A few values the users' repository states (confs/off2/pve/lxc_113.conf, syncoid-args.conf)."""
    from specs.architecture import Architecture
    arch = Architecture(load_spec())
    mounts = arch.mounts("off")
    assert mounts["/mnt/off"].dataset == "zfs-hdd/off"
    assert mounts["/mnt/off/products"].dataset == "zfs-nvme/off/products"
    assert mounts["/mnt/off/images"].dataset == "zfs-hdd/off/images"
    assert mounts["/mnt/off-pro/cache/export_files"].dataset == "zfs-hdd/off-pro/cache/export_files"
    assert arch.mounts("obf")["/mnt/obf/products"].dataset == "zfs-hdd/obf/products"
    pairs = {(r.target, r.source_dataset, r.target_dataset) for r in arch.replicas()}
    assert ("off1", "zfs-nvme/off/products", "zfs-hdd/off-nvme/products") in pairs
    assert ("ovh3", "zfs-hdd/off/users", "rpool/off/users") in pairs
    assert {str(h.internal_network) for h in arch.spec.hosts.values()} == {"10.1.0.0/24"}
    assert arch.container("off").address == "10.1.0.113"
    assert arch.conf_dirs("off2-reverse-proxy") == ["off2-reverse-proxy", "proxy-off"]
    assert arch.conf_dirs("off-redis") == ["off-redis"]
    assert arch.conf_dir_machines()["proxy-off"] == ["off2-reverse-proxy"]
    assert arch.container("obf").address == "10.1.0.116"


def test_each_install_runs_from_its_own_srv_folder_as_production():
    """docs/spec-deviations.md #17: /srv/<install> (docs/product-opener.md:50-51), not /opt/product-opener."""
    from fixtures.probes.files import _links_command
    from specs.architecture import Architecture
    arch = Architecture(load_spec(DEFAULT_SPEC))
    assert arch.software_root("off") == "/srv/off" and arch.software_root("off-pro") == "/srv/off-pro"
    assert arch.assets("obf")["js_dist"] == "/srv/obf/html/js/dist"
    off = next(c for c in arch.app_containers() if c.application == "off")
    assert "/srv/off/html/images/products" in _links_command(arch, off.name)
