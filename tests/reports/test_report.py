"""The nightly report on JUnit files shaped like a lab audit with two faults (ZFS-2 on one replica host,
NET-4 on one stunnel end), made from today's spec: results as data, history, metrics, waivers, the page
in Chromium, and no secret in any file it writes. tests/lab/test_report_nightly.py does it on the lab."""
import json
import re
from types import SimpleNamespace

import pytest
from prometheus_client.parser import text_string_to_metric_families

from reports import drawing, history, redact, rundata
from reports.results import read_cases
from specs import load_requirements
from tests.reports.helpers import console_errors, derive, junit_failures, lab_like_faults, nightly, png_pixels, render_in_chromium, synth_junit

FAULTS = {"ZFS-2", "NET-4"}


@pytest.fixture(scope="module")
def junit(arch, tmp_path_factory):
    """JUnit files of a green audit and of one with the two faults, and what the faults touch."""
    folder = tmp_path_factory.mktemp("junit")
    failing, lags = lab_like_faults(arch)
    link = arch.links()[0]
    stale = [r for r in arch.replicas() if ("ZFS-2", str(r)) in failing]
    return SimpleNamespace(green=synth_junit(folder / "green.xml", arch, lags={k: 0.8 for k in lags}),
                           two_faults=synth_junit(folder / "two-faults.xml", arch, failing, lags),
                           psk_end=link.server.name, stale=stale, arch=arch)


def run_folder(out):
    return (out / "latest").resolve()


def test_fixture_is_the_lab_with_two_faults(junit):
    assert {req for req, _ in junit_failures(junit.two_faults)} == FAULTS
    assert not junit_failures(junit.green)


def test_junit_and_json_list_exactly_the_failures_with_their_ids(junit, tmp_path):
    proc = nightly("--out", tmp_path, "--junit", junit.two_faults, "--now", "2026-11-25T02:00:00")
    assert proc.returncode == 1, proc.stderr  # ZFS-2 (critical) and NET-4 (high) fail unwaived
    folder = run_folder(tmp_path)
    assert folder.name == "2026-11-25T020000Z"
    expected = junit_failures(junit.two_faults)
    assert junit_failures(folder / "audit.xml") == expected
    result = json.loads((folder / "results.json").read_text())
    failing = {(c["requirement"], c["id"].split("::")[1]) for c in result["checks"] if c["status"] in ("failed", "error")}
    assert failing == expected
    assert {r for r, v in result["requirements"].items() if v["status"] == "failed"} == FAULTS
    assert result["summary"]["gate_failing"] == sorted(FAULTS)
    # every check instance: requirement, target, machines, status, message, duration; the run's metadata
    check = next(c for c in result["checks"] if c["requirement"] == "NET-4" and c["status"] == "failed")
    assert check["target"] == junit.psk_end and check["machines"] == [junit.psk_end] and check["severity"] == "high"
    assert "mode 644" in check["message"] and check["duration"] >= 0
    assert set(result["run"]) >= {"started", "duration_seconds", "spec_digest", "inventory", "suite_version"}
    assert len(result["checks"]) == len(read_cases(junit.two_faults))


def test_metrics_parse_with_prometheus_parser(junit, tmp_path):
    nightly("--out", tmp_path, "--junit", junit.two_faults, "--now", "2026-11-25T02:00:00", "--textfile-dir", tmp_path / "tf")
    text = (run_folder(tmp_path) / "metrics.prom").read_text()
    assert text == (tmp_path / "tf" / "offsuite.prom").read_text()
    families = {f.name: f for f in text_string_to_metric_families(text)}
    status = {(s.labels["requirement"], s.labels["offsuite_requirement_status"]): s.value
              for s in families["offsuite_requirement_status"].samples}
    assert status[("ZFS-2", "failed")] == 1 and status[("NET-4", "failed")] == 1 and status[("APP-1", "passed")] == 1
    lag = {(s.labels["target"], s.labels["dataset"]): s.value for s in families["offsuite_replication_lag_minutes"].samples}
    most = junit.arch.spec.replication.max_lag_minutes
    assert len(lag) == len(junit.arch.replicas())
    assert {key for key, minutes in lag.items() if minutes > most} == {(r.target, r.target_dataset) for r in junit.stale}
    assert families["offsuite_replication_max_lag_minutes"].samples[0].value == most
    assert "offsuite_last_run_timestamp_seconds" in families and "offsuite_last_run_duration_seconds" in families


def test_second_run_shows_the_removed_fault_under_fixed_since_last_run(junit, tmp_path):
    one_fault = derive(junit.two_faults, tmp_path / "one-fault.xml", fix={"NET-4"})
    nightly("--out", tmp_path / "runs", "--junit", junit.two_faults, "--now", "2026-11-24T02:00:00")
    proc = nightly("--out", tmp_path / "runs", "--junit", one_fault, "--now", "2026-11-25T02:00:00")
    assert proc.returncode == 1 and "1 fixed" in proc.stderr
    page = (run_folder(tmp_path / "runs") / "report.html").read_text()
    fixed = re.search(r'<div class="fixed-list" id="fixed">(.*?)</div>(?=<div class="note"|</div></div>)', page, re.S)
    assert fixed and "NET-4" in fixed.group(1) and "ZFS-2" not in fixed.group(1)
    broke = re.search(r'id="broke">(.*?)</div>', page, re.S).group(1)
    assert "NET-4" not in broke and "(0)" in broke
    assert "Still failing: ZFS-2" in page


def test_history_is_bounded_and_trend_covers_kept_runs(junit, tmp_path):
    for day in (21, 22, 23, 24):
        nightly("--out", tmp_path, "--junit", junit.green if day % 2 else junit.two_faults, "--keep", 3, "--now", f"2026-11-{day}T02:00:00")
    kept = [p.name for p in history.runs(tmp_path)]
    assert kept == ["2026-11-22T020000Z", "2026-11-23T020000Z", "2026-11-24T020000Z"]
    assert run_folder(tmp_path).name == kept[-1]
    points = history.trend(tmp_path)
    assert [p["requirements"]["NET-4"] for p in points] == ["failed", "passed", "failed"]


def write_waiver(path, expires, requirement, target):
    path.write_text(f"waivers:\n  - requirement: {requirement}\n    target: {target}\n    reason: new PSK files roll out next week\n"
                    f"    approver: Jane Doe\n    expires: {expires}\n")
    return path


def test_a_waiver_hides_a_failure_until_its_date_then_not(junit, tmp_path):
    only_net4 = derive(junit.two_faults, tmp_path / "net4.xml", fix={"ZFS-2"})
    waivers = write_waiver(tmp_path / "waivers.yaml", "2026-12-01", "NET-4", junit.psk_end)
    before = nightly("--out", tmp_path / "a", "--junit", only_net4, "--waivers", waivers, "--now", "2026-12-01T23:00:00")
    assert before.returncode == 0, before.stderr  # waived: the run passes
    result = json.loads((run_folder(tmp_path / "a") / "results.json").read_text())
    assert result["requirements"]["NET-4"]["status"] == "waived"
    check = next(c for c in result["checks"] if c["requirement"] == "NET-4" and c["target"] == junit.psk_end)
    assert check["status"] == "waived" and check["waiver"]["approver"] == "Jane Doe"
    assert "Gate passed" in (run_folder(tmp_path / "a") / "report.html").read_text()

    after = nightly("--out", tmp_path / "b", "--junit", only_net4, "--waivers", waivers, "--now", "2026-12-02T00:30:00")
    assert after.returncode == 1 and "NET-4" in after.stderr
    result = json.loads((run_folder(tmp_path / "b") / "results.json").read_text())
    check = next(c for c in result["checks"] if c["requirement"] == "NET-4" and c["target"] == junit.psk_end)
    assert check["status"] == "failed" and check["expired_waiver"]["expires"] == "2026-12-01"
    assert "Waiver expired on 2026-12-01" in (run_folder(tmp_path / "b") / "report.html").read_text()


@pytest.mark.parametrize("body, where", [
    ("waivers:\n  - requirement: NET-44\n    target: END\n    reason: r\n    approver: a\n    expires: 2026-12-01\n",
     ":2: waivers.0.requirement: unknown requirement 'NET-44'; did you mean NET-4?"),
    ("waivers:\n  - requirement: NET-4\n    target: END\n    reason: r\n    aprover: a\n    expires: 2026-12-01\n",
     ":5: waivers.0.aprover: unknown field; did you mean 'approver'?"),
    ("waivers:\n  - requirement: NET-4\n    target: END\n    reason: r\n    approver: a\n    expires: 2026-13-01\n",
     ":6: waivers.0.expires: '2026-13-01' is not a date"),
    ("waivers:\n  - requirement: NET-4\n    target: ENDx\n    reason: r\n    approver: a\n    expires: 2026-12-01\n",
     ":3: waivers.0.target: 'ENDx' is not a target of NET-4; did you mean 'END'?"),
    ("waivers:\n  - requirement: NET-4\n    target: END\n    reason: r\n    expires: 2026-12-01\n",
     ":2: waivers.0.approver: missing"),
    ("waivers:\n  - {requirement: NET-4, target: END, reason: r, approver: a, expires: 2026-12-01\n",
     ": not valid YAML"),
])
def test_an_invalid_waiver_file_stops_the_run_with_one_line(junit, tmp_path, body, where):
    bad = tmp_path / "waivers.yaml"
    bad.write_text(body.replace("END", junit.psk_end))
    where = where.replace("END", junit.psk_end)
    proc = nightly("--out", tmp_path / "runs", "--junit", junit.two_faults, "--waivers", bad)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert lines[0].startswith(f"nightly: {bad}") and where in lines[0], lines[0]
    assert not history.runs(tmp_path / "runs")


SECRETS = {
    "psk": "a3f9c2e17b5d4e6f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7",
    "key": "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj",
    "password": "Hunter2-correct-horse",
}
PLANTED = (f"reverse-proxy container proxy-off1 on off1:\n  - /etc/stunnel/psk/mongodb-psk.txt holds\n"
           f"mongodb-7f3a9b1c:{SECRETS['psk']}\n"
           f"  - /root/.ssh/id_ed25519:\n-----BEGIN OPENSSH PRIVATE KEY-----\n{SECRETS['key']}\n"
           f"-----END OPENSSH PRIVATE KEY-----\n  - /etc/app.conf: db_password = {SECRETS['password']}\n"
           f"  - key {SECRETS['psk']} seen in argv")


def test_no_secret_reaches_any_file(junit, tmp_path):
    planted = derive(junit.two_faults, tmp_path / "planted.xml", message=PLANTED)
    assert SECRETS["psk"] in planted.read_text()
    waivers = write_waiver(tmp_path / "w.yaml", "2030-01-01", "ZFS-2", str(junit.stale[0]))
    nightly("--out", tmp_path / "runs", "--junit", planted, "--waivers", waivers, "--textfile-dir", tmp_path / "tf",
            "--now", "2026-11-25T02:00:00")
    from reports import compliance
    compliance.main([str(planted), str(tmp_path / "runs" / "one-off.html")])
    files = [p for p in (tmp_path / "runs").rglob("*") if p.is_file()] + list((tmp_path / "tf").iterdir())
    assert {p.name for p in files} >= {"audit.xml", "results.json", "report.html", "metrics.prom", "offsuite.prom", "one-off.html"}
    for p in files:
        text = p.read_text()
        for kind, secret in SECRETS.items():
            assert secret not in text, f"the planted {kind} reached {p.name}"
    result = json.loads((run_folder(tmp_path / "runs") / "results.json").read_text())
    message = next(c["message"] for c in result["checks"] if c["requirement"] == "NET-4" and c["status"] == "failed")
    assert "[redacted]" in message and "/etc/stunnel/psk/mongodb-psk.txt" in message  # the evidence, not the secret


@pytest.mark.parametrize("text, kept", [
    ("off1:zfs-nvme/off/products of off2:zfs-nvme/off/products", True),
    ("ovh3:rpool/off/products", True),
    ("PSKsecrets = /etc/stunnel/psk/redis-psk.txt; expected its own file", True),
    ("the newest snapshot received zfs-hdd/off/images@autosnap_2026-11-25_19:30:49_monthly is 8.0 h old", True),
    ("guid 12345678901234567890", True),
    ("redis-1a2b3c4d:" + "0f" * 32, False),
    ("password: s3cret!", False),
    ("DATABASE_URL=postgresql://off:Tr0ub4dor@10.1.0.120:5432/minion", False),
    ("reaches postgresql at 10.1.0.120:5432", True),
    ("-----BEGIN RSA PRIVATE KEY-----\nabc\n-----END RSA PRIVATE KEY-----", False),
])
def test_redaction_keeps_evidence_and_drops_secrets(text, kept):
    assert (redact.redact(text) == text) is kept


def test_page_renders_in_headless_chromium_with_the_failures_in_matrix_and_drawing(junit, tmp_path):
    nightly("--out", tmp_path, "--junit", junit.green, "--now", "2026-11-24T02:00:00")
    nightly("--out", tmp_path, "--junit", junit.two_faults, "--now", "2026-11-25T02:00:00")
    html = run_folder(tmp_path) / "report.html"
    assert not re.search(r"<script|https?://(?!www\.w3\.org)", html.read_text()), "the page must be self-contained"
    dom, log = render_in_chromium(html, tmp_path / "page.png")
    assert not console_errors(log), console_errors(log)
    # rendered: the drawing (Graphviz SVG) with the failing elements red, the matrix with red cells
    assert '<svg class="arch"' in dom and "Failures" in dom
    for element in (f"machine:{junit.psk_end}", f"replication:{junit.stale[0].source}:{junit.stale[0].target}"):
        group = re.search(rf'<g id="{re.escape(element)}"[^>]*>(.*?)</g>', dom, re.S)
        assert group and "#cf222e" in group.group(1), f"{element} is not drawn red"
    green = junit.arch.app_containers()[0].name
    assert "#cf222e" not in re.search(rf'<g id="machine:{re.escape(green)}"[^>]*>(.*?)</g>', dom, re.S).group(1)
    red_cells = re.findall(r'title="(\w+-\d) on ([\w-]+): failed', dom)
    assert {r for r, _ in red_cells} == FAULTS and ("NET-4", junit.psk_end) in red_cells
    width, height, colours = png_pixels(tmp_path / "page.png")
    assert (width, height) == (1400, 2400)
    assert len(colours) > 50, "the screenshot is (nearly) blank"
    red = sum(n for c, n in colours.items() if c[0] > 180 and c[1] < 110 and c[2] < 110)
    assert red > 200, "no failure red on the screenshot"


def test_the_browser_check_sees_a_broken_page(tmp_path):
    page = tmp_path / "broken.html"
    page.write_text('<html><body><img src="missing.png"><script>console.error("boom"); undefinedFn();</script></body></html>')
    _, log = render_in_chromium(page, tmp_path / "broken.png", size="400,300")
    errors = "\n".join(console_errors(log))
    assert "boom" in errors and "Uncaught ReferenceError" in errors


def test_drawing_comes_from_the_spec(junit):
    arch = junit.arch
    result = rundata.build(read_cases(junit.two_faults), load_requirements(), arch)
    dot = drawing.dot_source(arch, {}, {})
    for machine in arch.machines():
        assert f'"machine:{machine.name}"' in dot
    for r in arch.replicas():
        assert re.search(rf'"machine:({r.source}|{r.target})" -> "machine:({r.target}|{r.source})" \[label="ZFS replication', dot)
    for link in arch.links():
        assert f'"machine:{link.client.name}" -> "machine:{link.server.name}" [xlabel="stunnel {link.name}' in dot
    for chain in arch.chains():
        assert f'"name:{chain.public_name}" -> "machine:{chain.proxy.name}"' in dot
    assert {e for c in result["checks"] for e in c["elements"]} >= {f"link:{l.name}" for l in arch.links()}


def test_an_audit_that_cannot_run_stops_the_nightly_with_one_line(tmp_path):
    proc = nightly("--out", tmp_path, "--inventory", tmp_path / "missing.yaml")
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "missing.yaml" in lines[0] and "Traceback" not in proc.stderr, proc.stderr
    assert not history.runs(tmp_path), "no run folder for an audit that did not run"


def test_each_failure_shows_the_fix_the_provisioner_would_plan_when_there_is_one(junit, monkeypatch):
    import sys
    import types

    from reports import page
    arch = junit.arch
    result = rundata.build(read_cases(junit.two_faults), load_requirements(), arch)
    # the real provisioner (provision.plan.fix_for): each failure shows its fix, no machine contacted
    html = page.render(result, arch)
    assert html.count("The provisioner would plan") == len([c for c in result["checks"] if c["status"] == "failed"])
    assert "run the replication unit now" in html and "PSK files owned by root" in html
    monkeypatch.setitem(sys.modules, "provision.plan", None)   # no provisioner: nothing shown
    assert "The provisioner would plan" not in page.render(result, arch)
    plan = types.ModuleType("provision.plan")
    plan.fix_for = lambda requirement, target, arch: f"chmod 0600 on {target}" if requirement == "NET-4" else None
    monkeypatch.setitem(sys.modules, "provision.plan", plan)
    html = page.render(result, arch)
    assert html.count("The provisioner would plan") == 1 and f"chmod 0600 on {junit.psk_end}" in html
    plan.fix_for = lambda *a: 1 / 0  # a broken provisioner does not break the report
    assert "The provisioner would plan" not in page.render(result, arch)
