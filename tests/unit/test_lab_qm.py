"""The lab's `qm` stand-in (fixtures/lab/host_files/qm, NOT Proxmox's), run here with its guest's ssh replaced
by a local shell: `qm list` and `qm config` as Proxmox prints them, `qm guest exec` printing Proxmox's JSON
(what the guest_health probe parses) or, without an agent, Proxmox's message on stderr and exit 255."""
import importlib.machinery
import importlib.util
import json
from pathlib import Path

import pytest

from fixtures.probes.guest_health import agent_output
from fixtures.probes.jobs import parse_qm

QM = Path(__file__).resolve().parents[2] / "fixtures" / "lab" / "host_files" / "qm"


@pytest.fixture
def qm(tmp_path, monkeypatch):
    loader = importlib.machinery.SourceFileLoader("lab_qm", str(QM))
    module = importlib.util.module_from_spec(importlib.util.spec_from_loader("lab_qm", loader))
    loader.exec_module(module)
    confs = tmp_path / "qemu-server"
    confs.mkdir()
    (confs / "991.conf").write_text("name: lab-extra-vm\nostype: l26\nagent: 1\n#a comment\n\n[snap]\nagent: 0\n")
    (confs / "992.conf").write_text("name: no-agent\n")
    (confs / "993.conf").write_text("name: agent-off\nagent: enabled=0,fstrim_cloned_disks=1\n")
    (tmp_path / "qm.conf").write_text("# comment\n991 10.1.0.100\n993 10.1.0.100\n")
    ssh = tmp_path / "ssh"   # as the guest: runs the last argument (the command line) with sh
    ssh.write_text('#!/bin/sh\nfor a; do last=$a; done\nexec sh -c "$last"\n')
    ssh.chmod(0o755)
    monkeypatch.setattr(module, "CONF_DIR", str(confs))
    monkeypatch.setattr(module, "MAP", str(tmp_path / "qm.conf"))
    monkeypatch.setattr(module, "SSH", str(ssh))
    monkeypatch.setattr(module.os, "geteuid", lambda: 0)
    return module


def test_list_and_config_print_as_proxmox(qm, capsys):
    assert qm.main(["list"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert listed[0].split() == ["VMID", "NAME", "STATUS", "MEM(MB)", "BOOTDISK(GB)", "PID"]
    vms = parse_qm(listed)
    assert vms["991"].name == "lab-extra-vm" and vms["991"].status == "running" and set(vms) == {"991", "992", "993"}
    assert qm.main(["config", "991"]) == 0
    assert capsys.readouterr().out == "agent: 1\nname: lab-extra-vm\nostype: l26\n"   # sorted, no snapshot
    assert qm.main(["config", "999"]) == 255 and "999.conf' does not exist" in capsys.readouterr().err


def test_guest_exec_prints_proxmoxs_json(qm, capsys):
    assert qm.main(["guest", "exec", "991", "--timeout", "5", "--", "/bin/sh", "-c",
                    "echo @@units; echo 'it is 5 o'\"'\"'clock' >&2; exit 3"]) == 0
    out = capsys.readouterr().out
    assert out.startswith('{\n   "err-data" : "it is 5 o\'clock\\n",\n   "exitcode" : 3,\n   "exited" : 1,\n')
    assert json.loads(out) == {"err-data": "it is 5 o'clock\n", "exitcode": 3, "exited": 1, "out-data": "@@units\n"}
    with pytest.raises(ValueError, match="exited 3 in the VM: it is 5 o'clock"):
        agent_output(out.splitlines())
    assert qm.main(["guest", "exec", "991", "--", "/bin/sh", "-c", "echo @@units"]) == 0
    assert agent_output(capsys.readouterr().out.splitlines()) == ["@@units"]


def test_guest_exec_past_its_timeout_returns_the_pid(qm, capsys):
    assert qm.main(["guest", "exec", "991", "--timeout", "1", "--", "sleep", "5"]) == 0
    captured = capsys.readouterr()
    assert list(json.loads(captured.out)) == ["pid"] and "timeout reached, returning pid" in captured.err
    with pytest.raises(ValueError, match="did not finish"):
        agent_output(captured.out.splitlines())


@pytest.mark.parametrize("vmid,says", [("992", "No QEMU guest agent configured"),
                                       ("993", "QEMU guest agent is not running")])
def test_a_vm_without_an_agent_says_so_on_stderr_and_exits_255(qm, capsys, vmid, says):
    assert qm.main(["guest", "exec", vmid, "--", "true"]) == 255
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == says + "\n"


def test_agent_values_as_proxmox_writes_them(qm):
    assert qm.agent_enabled("1") and qm.agent_enabled("enabled=1,fstrim_cloned_disks=1") and qm.agent_enabled("1,type=virtio")
    assert not qm.agent_enabled("0") and not qm.agent_enabled("enabled=0")
