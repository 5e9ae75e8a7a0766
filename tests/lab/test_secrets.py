"""No PSK ever appears in the suite's output: terminal, JUnit XML, report, kept readings (NET-4)."""
import subprocess
import sys

import pytest

from fixtures.lab.state import psk_line
from tests.conftest import ROOT


@pytest.mark.lab
def test_audit_output_holds_no_psk(lab, tmp_path):
    xml, html, kept = tmp_path / "audit.xml", tmp_path / "report.html", tmp_path / "readings"
    proc = subprocess.run([sys.executable, "-m", "pytest", "checks", "-vv", "-rA", "--inventory", "lab",
                           f"--junitxml={xml}", f"--record={kept}"], cwd=ROOT, capture_output=True, text=True)
    subprocess.run([sys.executable, "-m", "reports.compliance", str(xml), str(html)], cwd=ROOT, check=True,
                   capture_output=True)
    outputs = proc.stdout + proc.stderr + xml.read_text() + html.read_text()
    outputs += "".join(p.read_text() for p in kept.glob("*.reading"))   # kept readings: digests only
    for link in lab.links():
        identity, key = psk_line(link.name).strip().split(":", 1)
        assert key not in outputs, f"the PSK of link {link.name} appears in the output"
