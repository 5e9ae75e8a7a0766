"""The static gate on the users' real configuration repository (../shared/off-infrastructure).

Its findings (requirement, file, line) must be exactly the list kept in real_repo_findings.yaml: a new
finding fails, a listed finding that is gone fails. Every file under confs/ is examined or named as
not recognised, with why. Skipped, saying so, when ../shared/off-infrastructure is absent."""
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from confs.audit import run_gate
from specs import load_spec
from specs.architecture import Architecture

MAIN = Path(__file__).resolve().parents[2]
REAL = MAIN.parent / "shared" / "off-infrastructure"
LISTED = Path(__file__).with_name("real_repo_findings.yaml")

pytestmark = pytest.mark.skipif(not (REAL / "confs").is_dir(),
                                reason=f"the users' real repository is absent ({REAL}): real-repository tests skipped")


def _keys(entries):
    return {(e["requirement"], e["file"], e["line"]) for e in entries or []}


@pytest.fixture(scope="module")
def result():
    return run_gate(Architecture(load_spec()), REAL)


def test_findings_are_the_listed_ones(result):
    listed = yaml.safe_load(LISTED.read_text())
    found = {(f.requirement, f.file, f.line) for f in result.findings}
    expected, tolerated = _keys(listed["findings"]), _keys(listed.get("spec_disagreements"))
    new = sorted(found - expected - tolerated, key=str)
    gone = sorted(expected - found, key=str)
    assert not new and not gone, (f"new findings (not in {LISTED.name}): {new}\n"
                                  f"listed findings gone: {gone}\n" + "\n".join(map(str, result.findings)))


def test_every_file_is_examined_or_named_with_why(result):
    examined = {f for files in result.examined.values() for f in files}
    named = set(result.not_recognised)
    links = set(result.links)
    for dirpath, dirnames, filenames in os.walk(REAL / "confs"):
        for name in filenames:
            rel = (Path(dirpath) / name).relative_to(REAL).as_posix()
            assert rel in examined or rel in named or rel in links, f"{rel} is neither examined nor named"
    assert all(result.not_recognised.values())


def test_secrets_are_looked_for_in_every_file(result):
    assert len(result.evidence["NET-4"]) >= 172 - 38          # every file but the link stubs


def test_a_requirement_with_no_evidence_is_skipped_with_its_reason(result):
    assert result.skip_reason("WEB-2") and "application containers' folders" in result.skip_reason("WEB-2")
    assert all(result.skip_reason(r) is None for r in ("WEB-1", "NET-3", "OPS-1", "ZFS-1", "STO-2", "NET-8"))


def test_net8_reads_the_public_machines_stunnel_files_and_no_client_accepts_everywhere(result):
    """off2's proxy accepts on bare ports (confs/off2-reverse-proxy/stunnel/off.conf:15, :24), every address,
    but as servers (client = no): the links' public ends, NET-2's; no client there, so no NET-8 finding."""
    assert result.evidence["NET-8"] == ["confs/off2-reverse-proxy/stunnel/off.conf"]
    assert not result.of("NET-8")


def test_gate_command_on_the_real_repository():
    """As the users' CI runs it: findings exit 1, coverage printed, WEB-2 skipped with why."""
    proc = subprocess.run([sys.executable, "-m", "pytest", "-m", "static", f"--confs={REAL}", "-q"],
                          cwd=MAIN, capture_output=True, text=True)
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "offsuite static gate: coverage" in proc.stdout and "not recognised" in proc.stdout
    assert "WEB-2 not checked: nothing to examine" in proc.stdout


@pytest.mark.parametrize("arg, why", [("--confs=", "empty"), ("--confs=/nonexistent/repo", "no such folder")])
def test_usage_errors_exit_4_with_one_line(arg, why):
    proc = subprocess.run([sys.executable, "-m", "pytest", "-m", "static", arg, "-q"],
                          cwd=MAIN, capture_output=True, text=True)
    assert proc.returncode == 4, proc.stdout + proc.stderr
    out = proc.stdout + proc.stderr
    assert why in out and out.count("offsuite:") == 1


def test_health_rules_find_what_the_users_files_show(result):
    """OPS-2, STO-7, OPS-3 on the users' files, by substance (issue 19 item 5)."""
    by_file = {}
    for f in result.findings:
        if f.requirement in ("OPS-2", "STO-7", "OPS-3"):
            by_file.setdefault((f.requirement, f.file), []).append(f)
    # OPS-2: off (CT 113, openfoodfacts.org) does not start at boot; the proxy (CT 101) lacks nesting, the
    # cause of its logrotate failing with "Failed to set up mount namespacing" (2023-07-off2-off-reinstall)
    [off] = by_file.pop(("OPS-2", "confs/off2/pve/lxc_113.conf"))
    assert "container 113 (off)" in off.message and "no `onboot: 1`" in off.message
    [proxy] = by_file.pop(("OPS-2", "confs/off2/pve/lxc_101.conf"))
    assert "container 101 (proxy)" in proxy.message and "nesting=1" in proxy.message
    assert "onboot" not in proxy.message
    # STO-7: ovh3's images nginx logs to /rpool/logs-nginx/ with no rule (logs-ovh3.md 2023-09-12: 52 GB);
    # off2's copy logs to /zfs-hdd/logs-nginx/, which confs/off2/logrotate.d/nginx rotates
    [ovh3] = by_file.pop(("STO-7", "confs/ovh3/nginx/sites-available/static-off"))
    assert ovh3.line == 55 and "/rpool/logs-nginx/static-access.log" in ovh3.message
    assert ("STO-7", "confs/off2/nginx/sites-available/static-off") not in by_file
    assert "confs/off2/logrotate.d/nginx" in result.evidence["STO-7"]
    errs = {f for (req, file), fs in list(by_file.items()) if file.startswith("confs/ovh1-reverse-proxy/")
            for f in by_file.pop((req, file))}
    assert len(errs) == 6 and all(".err`" in f.message and "error_log /var/log/nginx/" in f.message for f in errs)
    matomo = [f for (req, file), fs in list(by_file.items()) if file.startswith("confs/matomo/systemd/")
              for f in by_file.pop((req, file))]
    assert sorted(f.message.split("`")[1] for f in matomo) == [
        "StandardError=append:/var/log/matomo/matomo-archive-%i-err.log",
        "StandardError=append:/var/log/matomo/matomo-tracking-%i-err.log",
        "StandardOutput=append:/var/log/matomo/matomo-archive-%i.log",
        "StandardOutput=append:/var/log/matomo/matomo-tracking-%i.log"]
    assert by_file == {}, by_file
    # OPS-3: every job unit file the users ship has TimeoutStartSec=: read, and no finding
    assert {"confs/common/systemd/system/syncoid.service", "confs/common/systemd/system/sanoid_check.service",
            "confs/gdrive-backup/systemd/system/rclone_backup@.service",
            "confs/moji-docker-prod-2/systemd/system/robotoff_db_backup.service"} <= set(result.evidence["OPS-3"])
    # the Redis unit's type: off-redis says `supervised systemd` (the 2024-02-28 fix) and its unit's Type= comes
    # from the package (only an OnFailure drop-in here): read, nothing concluded
    assert "confs/off-redis/redis/redis.conf" in result.evidence["OPS-2"]
