"""Fixtures of the suite's own tests."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from reports.results import read_cases

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def lab(arch):
    """The lab, up (brought up if needed; idempotent)."""
    from fixtures.lab import bringup
    bringup.up(arch)
    return arch


@pytest.fixture
def audit(tmp_path):
    """Run the audit on the lab as a user would (a pytest process) and return its JUnit cases."""
    def run(*args):
        xml = tmp_path / f"audit-{len(list(tmp_path.iterdir()))}.xml"
        proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "--inventory", "lab", f"--junitxml={xml}", *args],
                              cwd=ROOT, capture_output=True, text=True, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
        assert xml.exists(), f"the audit wrote no JUnit XML:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
        return read_cases(xml)
    return run
