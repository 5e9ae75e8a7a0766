"""A crash (an unexpected exception: a bug, or an installation missing a module) exits 3 with one line
naming the error, never 1 (findings); OFFSUITE_DEBUG=1 adds the traceback."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
REPO = ROOT / "tests" / "static"   # any folder: the gate crashes before reading it

# the gate, with one of its modules broken in the way the test names
GATE = """
import sys
{breakage}
from confs.cli import main
sys.exit(main([{repo!r}]))
"""
BREAKAGES = {
    # the plugin cannot load (the packaging bug of issue 17: a module left out of the wheel)
    "before the session": ("sys.modules['fixtures.record'] = None", "ModuleNotFoundError"),
    # the gate's own reading raises (a bug)
    "inside the session": ("import confs.audit\ndef boom(*a, **k): raise RuntimeError('boom')\nconfs.audit.run_gate = boom",
                           "RuntimeError: boom"),
}


def _gate(breakage, debug=False):
    env = {k: v for k, v in os.environ.items() if k != "OFFSUITE_DEBUG"}
    if debug:
        env["OFFSUITE_DEBUG"] = "1"
    return subprocess.run([sys.executable, "-c", GATE.format(breakage=breakage, repo=str(REPO))], cwd=ROOT,
                          capture_output=True, text=True, env={**env, "PYTHONDONTWRITEBYTECODE": "1"})


@pytest.mark.parametrize("where", sorted(BREAKAGES))
def test_a_crash_of_the_gate_exits_3_in_one_line(where):
    breakage, error = BREAKAGES[where]
    proc = _gate(breakage)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 3, out[-3000:]
    crash = [line for line in out.splitlines() if "crashed:" in line]
    assert len(crash) == 1 and error in crash[0], out[-3000:]
    assert "Traceback" not in out and "INTERNALERROR" not in out, out[-3000:]


@pytest.mark.parametrize("where", sorted(BREAKAGES))
def test_offsuite_debug_shows_the_crash_traceback(where):
    proc = _gate(BREAKAGES[where][0], debug=True)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 3 and "Traceback" in out, out[-3000:]


def test_a_crash_of_the_nightly_run_exits_3_in_one_line(monkeypatch, capsys):
    from reports import nightly

    def boom(args):
        raise KeyError("datasets")
    monkeypatch.setattr(nightly, "run", boom)
    monkeypatch.delenv("OFFSUITE_DEBUG", raising=False)
    assert nightly.main(["--junit", "/nonexistent.xml"]) == 3
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "nightly: crashed: KeyError: 'datasets'" in err and "Traceback" not in err


def test_the_one_off_report_tells_an_unreadable_file_from_a_crash(monkeypatch, capsys, tmp_path):
    from reports import compliance
    monkeypatch.delenv("OFFSUITE_DEBUG", raising=False)
    assert compliance.main([str(tmp_path / "none.xml"), str(tmp_path / "out.html")]) == 2   # could not be made
    assert "cannot read" in capsys.readouterr().err

    def boom(*a, **k):
        raise KeyError("severity")
    monkeypatch.setattr(compliance.rundata, "build", boom)
    xml = tmp_path / "audit.xml"
    xml.write_text('<testsuite name="pytest"><testcase classname="checks.test_x" name="test_y" time="0"/></testsuite>')
    assert compliance.main([str(xml), str(tmp_path / "out.html")]) == 3
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "compliance: crashed: KeyError: 'severity'" in err


def test_a_crash_of_the_provisioner_exits_3_in_one_line(monkeypatch, capsys):
    import provision.__main__ as cli
    from provision import run

    def boom(*a, **k):
        raise KeyError("runner")
    monkeypatch.setattr(run, "plan", boom)
    monkeypatch.delenv("OFFSUITE_DEBUG", raising=False)
    assert cli.main(["plan"]) == 3
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "provision: crashed: KeyError: 'runner'" in err and "Traceback" not in err
