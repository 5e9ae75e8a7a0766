"""The nightly runs kept on disk, one dated folder each (`<out>/2026-11-25T0200Z/results.json`):
the previous run, what broke and what was fixed since, the trend over the kept runs, and pruning
to a bounded number of runs.
"""
import datetime
import re
import shutil
from pathlib import Path

from reports import rundata

STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d{6}Z$")
RESULTS = "results.json"


def stamp(when):
    """The folder name of a run started at `when` (UTC): sorts by time."""
    return when.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H%M%SZ")


def runs(out):
    """The kept run folders holding results, oldest first."""
    out = Path(out)
    if not out.is_dir():
        return []
    return sorted(p for p in out.iterdir() if p.is_dir() and STAMP.match(p.name) and (p / RESULTS).is_file())


def previous(out, current):
    """The results of the newest kept run before the folder `current`, or None."""
    before = [p for p in runs(out) if p.name < Path(current).name]
    return rundata.read(before[-1] / RESULTS) if before else None


def _bad(status):
    return status in rundata.BAD


def compare(prev, cur):
    """{"broke": [...], "fixed": [...], "still": [...]} requirement by requirement since `prev`, each
    {"requirement", "title", "severity", "was", "now", "checks": [check ids that changed]}."""
    out = {"broke": [], "fixed": [], "still": []}
    if prev is None:
        return out
    before = {c["id"]: c["status"] for c in prev["checks"]}
    for rid, req in cur["requirements"].items():
        was = prev["requirements"].get(rid, {}).get("status", "not checked")
        now = req["status"]
        if _bad(now) and not _bad(was):
            kind = "broke"
            changed = [c["id"] for c in cur["checks"] if c["requirement"] == rid and _bad(c["status"])
                       and not _bad(before.get(c["id"], "passed"))]
        elif _bad(was) and not _bad(now):
            kind = "fixed"
            now_by_id = {c["id"]: c["status"] for c in cur["checks"]}
            changed = [c["id"] for c in prev["checks"] if c["requirement"] == rid and _bad(c["status"])
                       and not _bad(now_by_id.get(c["id"], "not checked"))]
        elif _bad(was) and _bad(now):
            kind = "still"
            changed = []
        else:
            continue
        out[kind].append({"requirement": rid, "title": req["title"], "severity": req["severity"],
                          "was": was, "now": now, "checks": changed})
    return out


def trend(out, current=None):
    """[{"stamp", "share_met", "by_status", "requirements": {id: status}}] over the kept runs, oldest
    first, with `current` (a results dict not yet on disk, or already the newest) last."""
    points = []
    for p in runs(out):
        run = rundata.read(p / RESULTS)
        points.append(point(p.name, run))
    if current is not None:
        name = current["run"].get("stamp", "now")
        points = [pt for pt in points if pt["stamp"] != name] + [point(name, current)]
    return points


def point(name, run):
    return {"stamp": name, "share_met": run["summary"]["share_met"], "by_status": run["summary"]["by_status"],
            "requirements": {rid: r["status"] for rid, r in run["requirements"].items()}}


def prune(out, keep):
    """Remove the oldest run folders so that at most `keep` remain; returns the removed folders."""
    folders = sorted(p for p in Path(out).iterdir() if p.is_dir() and STAMP.match(p.name)) if Path(out).is_dir() else []
    removed = folders[:-keep] if keep > 0 and len(folders) > keep else []
    for p in removed:
        shutil.rmtree(p)
    return removed
