"""The result of one audit run as data (results.json): every check instance with its requirement,
target, machines, status (passed, failed, error, skipped, waived), message and duration; each
requirement's status; and the run's metadata (spec digest, inventory, start, duration, version).

Built from the run's JUnit XML and the waivers; every text passes through `reports.redact`.
"""
import datetime
import hashlib
import json
import subprocess
from importlib import metadata
from pathlib import Path

from reports import elements, waivers as waivers_mod
from reports.redact import redact

FORMAT = 1
ORDER = ("failed", "error", "waived", "passed", "skipped", "not checked")  # worst first
BAD = ("failed", "error")
SEVERITIES = ("critical", "high", "medium", "low")
GATING = ("critical", "high")  # an unwaived failure of these fails the nightly run


def worst(statuses):
    statuses = list(statuses)
    return min(statuses, key=ORDER.index) if statuses else "not checked"


def spec_digest(spec_dir):
    """sha256 over the spec's YAML files (names and contents), first 16 hex digits."""
    spec_dir = Path(spec_dir)
    files = [spec_dir] if spec_dir.is_file() else sorted(spec_dir.glob("*.y*ml"))
    h = hashlib.sha256()
    for f in files:
        h.update(f.name.encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def suite_version():
    """The package version, and the git commit when run from a checkout."""
    try:
        version = metadata.version("offsuite")
    except metadata.PackageNotFoundError:
        version = "unknown"
    try:
        commit = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=Path(__file__).parent,
                                capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = ""
    return f"{version}+{commit}" if commit else version


def _message(case):
    text = case.message
    if text.startswith("Failed: "):
        text = text[len("Failed: "):]
    return redact(text)


def _element_id(element):
    return ":".join(element)


def build(cases, catalogue, arch, waivers=(), today=None, meta=None):
    """The run as a JSON-ready dict. `today` (a date, UTC) decides which waivers are in force."""
    today = today or datetime.datetime.now(datetime.timezone.utc).date()
    checks = []
    for c in cases:
        status = c.outcome
        entry = {"id": f"{c.classname}::{c.name}", "check": c.check, "requirement": c.requirement,
                 "severity": c.severity, "target": redact(c.target), "machines": list(c.machines),
                 "elements": [_element_id(e) for e in elements.elements_of_case(arch, c)],
                 "status": status, "message": _message(c), "duration": round(c.seconds, 3),
                 "properties": {k: redact(v) for k, v in c.properties.items()}}
        w = waivers_mod.match(waivers, c.requirement, c.target) if status in BAD else None
        if w and w.in_force(today):
            entry["status"] = "waived"
            entry["waiver"] = w.as_dict()
        elif w:
            entry["expired_waiver"] = w.as_dict()
        checks.append(entry)
    by_req = {}
    for entry in checks:
        by_req.setdefault(entry["requirement"], []).append(entry)
    requirements = {}
    for rid, req in catalogue.items():
        mine = by_req.get(rid, [])
        requirements[rid] = {"title": req.title, "severity": req.severity, "section": req.section,
                             "status": worst(e["status"] for e in mine), "checks": len(mine),
                             "failing": sum(e["status"] in BAD for e in mine),
                             "waived": sum(e["status"] == "waived" for e in mine)}
    counts = {s: sum(r["status"] == s for r in requirements.values()) for s in ORDER}
    gate = sorted(rid for rid, r in requirements.items() if r["status"] in BAD and r["severity"] in GATING)
    used = {(e["waiver"]["requirement"], e["waiver"]["target"]) for e in checks if "waiver" in e}
    return {
        "format": FORMAT,
        "run": dict(meta or {}),
        "today": today.isoformat(),
        "summary": {"requirements": len(requirements), "met": counts["passed"],
                    "share_met": round(counts["passed"] / len(requirements), 4) if requirements else 0.0,
                    "by_status": counts,
                    "checks": {s: sum(e["status"] == s for e in checks) for s in ORDER[:-1]},
                    "gate_failing": gate},
        "requirements": requirements,
        "checks": checks,
        "waivers": [dict(w.as_dict(), in_force=w.in_force(today), used=(w.requirement, w.target) in used)
                    for w in waivers],
        "max_lag_minutes": arch.spec.replication.max_lag_minutes,
    }


def _redacted(value):
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: _redacted(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_redacted(v) for v in value]
    return value


def write(run, path):
    """results.json, every string of it redacted once more (waiver reasons, metadata)."""
    Path(path).write_text(json.dumps(_redacted(run), indent=1) + "\n", encoding="utf-8")


def read(path):
    return json.loads(Path(path).read_text(encoding="utf-8"))
