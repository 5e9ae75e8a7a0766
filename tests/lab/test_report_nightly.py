"""The nightly report on the lab with two faults put in, then one taken away: exactly those failures in
JUnit and JSON, the page rendered in headless Chromium with them in the matrix and the drawing, the
metrics parsed by prometheus_client, "fixed since last run" on the second run, and no PSK anywhere."""
import json
import re

import pytest
from prometheus_client.parser import text_string_to_metric_families

from fixtures.lab import docker_ops, faults, remediable
from fixtures.lab.state import psk_line
from tests.reports.helpers import console_errors, junit_failures, nightly, png_pixels, render_in_chromium

FAULTS = ("replica-stale", "psk-world-readable")


@pytest.mark.lab
def test_nightly_on_the_lab_with_two_faults_then_one(lab, tmp_path):
    catalogue = faults.catalogue(lab)
    wanted = set().union(*(catalogue[name].reds for name in FAULTS))
    client = docker_ops.client()
    out = tmp_path / "nightly"
    applied = []
    try:
        for name in FAULTS:
            catalogue[name].apply(client)
            applied.append(name)
        first = nightly("--out", out, "--inventory", "lab", "--now", "2026-11-24T02:00:00")
        assert first.returncode == 1, first.stderr  # both are high or critical
        folder = (out / "latest").resolve()
        assert {req for req, _ in junit_failures(folder / "audit.xml")} == wanted
        result = json.loads((folder / "results.json").read_text())
        failing = {(c["requirement"], c["id"].split("::")[1]) for c in result["checks"] if c["status"] in ("failed", "error")}
        assert failing == junit_failures(folder / "audit.xml")
        assert {r for r, v in result["requirements"].items() if v["status"] in ("failed", "error")} == wanted

        families = {f.name: f for f in text_string_to_metric_families((folder / "metrics.prom").read_text())}
        lag = [s.value for s in families["offsuite_replication_lag_minutes"].samples]
        assert len(lag) == len(lab.replicas()) and max(lag) > lab.spec.replication.max_lag_minutes

        dom, log = render_in_chromium(folder / "report.html", tmp_path / "page.png")
        assert not console_errors(log), console_errors(log)
        assert {r for r, _ in re.findall(r'title="(\w+-\d) on ([\w-]+): failed', dom)} == wanted
        drawn_red = set(re.findall(r'<g id="([^"]+)"[^>]*>(?:(?!</g>).)*?#cf222e', dom, re.S))
        assert any(e.startswith("replication:") for e in drawn_red), drawn_red
        _, _, colours = png_pixels(tmp_path / "page.png")
        assert len(colours) > 50

        catalogue["psk-world-readable"].remove(client)
        applied.remove("psk-world-readable")
        second = nightly("--out", out, "--inventory", "lab", "--now", "2026-11-25T02:00:00")
        page = ((out / "latest").resolve() / "report.html").read_text()
        fixed = re.search(r'id="fixed">(.*?)</div>(?=<div class="note"|</div></div>)', page, re.S).group(1)
        assert catalogue["psk-world-readable"].requirement in fixed, second.stderr
        assert catalogue["replica-stale"].requirement not in fixed
    finally:
        remediable.remove_all(client, catalogue, applied)
    everything = "".join(p.read_text(errors="replace") for p in out.rglob("*") if p.is_file())
    for link in lab.links():
        assert psk_line(link.name).strip().split(":", 1)[1] not in everything, f"the PSK of {link.name} reached a report file"
