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
    assert all(result.skip_reason(r) is None for r in ("WEB-1", "NET-3", "OPS-1", "ZFS-1", "STO-2"))


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
