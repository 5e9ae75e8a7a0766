"""No PSK ever appears in the suite's output: terminal, JUnit XML, report, kept readings (NET-4)."""
import subprocess
import sys

import pytest

from fixtures.lab.state import psk_line
from tests.conftest import ROOT


@pytest.mark.lab
def test_audit_output_holds_no_psk(lab, healthy_runs, tmp_path):
    """The healthy lab's docker audit (`pytest checks -vv -rA --record`, tests/lab/conftest.py) and its report."""
    run, html = healthy_runs.runs["docker"], tmp_path / "report.html"
    subprocess.run([sys.executable, "-m", "reports.compliance", str(run.xml), str(html)], cwd=ROOT, check=True,
                   capture_output=True)
    kept = list(run.kept.glob("*.reading"))
    assert kept, "the audit kept no reading"
    outputs = run.output + html.read_text() + "".join(p.read_text() for p in kept)   # kept readings: digests only
    for link in lab.links():
        identity, key = psk_line(link.name).strip().split(":", 1)
        assert key not in outputs, f"the PSK of link {link.name} appears in the output"
