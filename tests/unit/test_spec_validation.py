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
    ("hosts.yaml", "    datacenter: free\n    roles: [proxmox, replica]", "    datacentre: free\n    roles: [proxmox, replica]",
     "hosts.off1.datacentre", "unknown field"),
    ("hosts.yaml", "{id: 102, role: database", "{id: one-oh-two, role: database", "hosts.off1.containers.mongodb.id", "integer"),
    ("network.yaml", "client: {container: stunnel-off2, accept: 27017}", "client: {container: stunnel-offf2, accept: 27017}",
     "stunnel.links.mongodb.client.container", "does not exist"),
    ("applications.yaml", "shared_with: [off-pro, obf, opf, opff]", "shared_with: [off-pro, obf, opf, opfff]",
     "flavors.off.folders.users.shared_with.3", "not an application"),
    ("storage.yaml", "- {source: off2, target: ovh3,", "- {source: off1, target: off2, datasets: *replicated}\n    - {source: off2, target: ovh3,",
     "replication.jobs.1", "replication cycle"),
    ("storage.yaml", "max_lag_minutes: 420", "max_lag_minutes: -5", "replication.max_lag_minutes", "greater than 0"),
    ("hosts.yaml", "memcached: {id: 121,", "memcached: {id: 120,", "hosts.off2.containers.memcached.id", "already used"),
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
    if field != "replication.jobs.1":
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
    assert set(arch.hosts) == {"off1", "off2", "ovh3"}
