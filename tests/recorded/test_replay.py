"""--replay checks kept readings with no machine and no inventory; a machine without a kept reading
errors its own checks with the reason."""
import shutil
import subprocess
import sys

from reports.results import read_cases
from tests.conftest import ROOT
from tests.recorded.harness import LAB, LAB_SPEC


def _replay(directory, tmp_path):
    xml = tmp_path / "replay.xml"
    proc = subprocess.run([sys.executable, "-m", "pytest", "checks", "-q", "-p", "no:cacheprovider", f"--replay={directory}", f"--spec={LAB_SPEC}",
                           "--inventory=/nonexistent.yaml", f"--junitxml={xml}"], cwd=ROOT, capture_output=True, text=True)
    assert xml.exists(), proc.stdout[-2000:] + proc.stderr[-2000:]
    return read_cases(xml), proc.stdout


def test_replay_of_the_healthy_lab_is_green_and_a_missing_reading_errors(tmp_path):
    kept = tmp_path / "kept"
    shutil.copytree(LAB, kept)
    (kept / "off-redis.reading").unlink()
    cases, out = _replay(kept, tmp_path)
    bad = {c.name: c.outcome for c in cases if c.outcome != "passed"}
    assert len(cases) > 150 and bad and all(o == "error" for o in bad.values()), bad
    assert all("off-redis" in c.message and "no recorded reading" in c.message for c in cases if c.outcome == "error")
    assert "Traceback" not in out


def test_recorder_keeps_readings_unreachable_reasons_and_the_spec(tmp_path):
    from fixtures.readings import Unreachable
    from fixtures.record import Recorder
    r = Recorder(tmp_path / "kept", LAB_SPEC)
    r("opff", (LAB / "opff.reading").read_text())
    r("redis", Unreachable("redis (ssh://x) cannot be read: timed out"))
    names = sorted(p.name for p in (tmp_path / "kept").iterdir())
    assert names == ["index.json", "opff.reading", "redis.unreachable", "spec"]
    assert (tmp_path / "kept" / "spec" / "hosts.yaml").exists()
    assert "timed out" in (tmp_path / "kept" / "redis.unreachable").read_text()
