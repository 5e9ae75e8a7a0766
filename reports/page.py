"""The compliance report: one self-contained HTML page (inline CSS and SVG, no script, no network)
from a run's results: share met, what changed since the last run and the trend, the architecture
drawn with Graphviz and coloured by its checks, each failure with its message (and the fix the
provisioner would plan), the requirement x machine matrix, replication lag, waivers.
"""
import datetime
from collections import defaultdict
from html import escape

from reports import charts, drawing, fixes, history, metrics, pools
from reports.rundata import BAD, ORDER, worst
from reports.style import CELL, PALE, SEVERITY, STRONG

CSS = """
:root{--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--bg:#f6f8fa}
*{box-sizing:border-box}body{font:14px/1.45 "DejaVu Sans",system-ui,sans-serif;margin:0;color:var(--fg);background:#fff}
header{padding:22px 32px 18px;background:linear-gradient(120deg,#0d1117,#1f2a37);color:#f0f6fc}
header h1{margin:0 0 4px;font-size:24px;font-weight:650}header .meta{color:#9da7b3;font-size:13px}
.gate{display:inline-block;margin-top:10px;padding:5px 14px;border-radius:20px;font-weight:650;font-size:14px}
main{padding:8px 32px 40px;max-width:1500px}
h2{font-size:18px;margin:30px 0 10px;padding-bottom:6px;border-bottom:1px solid var(--line)}
h2 .count{color:var(--muted);font-weight:400}
.cards{display:grid;grid-template-columns:190px 1fr 1.2fr 1.3fr;gap:16px;margin-top:18px}
.card{border:1px solid var(--line);border-radius:10px;padding:12px 16px;background:#fff}
.card h3{margin:0 0 8px;font-size:13px;text-transform:uppercase;letter-spacing:.04em;color:var(--muted)}
.ring-big{font-size:26px;font-weight:700;fill:var(--fg)}.ring-small{font-size:11px;fill:var(--muted)}
.stat{display:flex;align-items:center;gap:8px;margin:3px 0}.dot{width:12px;height:12px;border-radius:3px;display:inline-block}
.stat b{min-width:2.2em;text-align:right}
.change{margin:4px 0;padding:5px 8px;border-radius:6px}.change small{color:var(--muted)}
.broke{background:#ffebe9}.fixed{background:#dafbe1}.still{background:var(--bg)}
.pill{display:inline-block;border-radius:10px;padding:0 8px;font-size:12px;font-weight:650;color:#fff;vertical-align:1px}
.sev{display:inline-block;border:1px solid;border-radius:10px;padding:0 7px;font-size:11px;font-weight:650;vertical-align:1px}
svg.arch{width:100%;height:auto;max-height:760px}
.legend{display:flex;gap:18px;flex-wrap:wrap;color:var(--muted);font-size:12px;margin:4px 0 0}
.failure{border:1px solid var(--line);border-left:5px solid;border-radius:8px;margin:10px 0;padding:10px 14px;background:#fff}
.failure h3{margin:0 0 6px;font-size:15px}.failure .inst{margin:8px 0 0;padding-top:8px;border-top:1px dashed var(--line)}
.failure .where{font-weight:600}.failure .mach{color:var(--muted);font-size:12px}
pre{white-space:pre-wrap;word-break:break-word;margin:4px 0;font:12px/1.45 "DejaVu Sans Mono",monospace;background:var(--bg);padding:8px 10px;border-radius:6px}
.fix{background:#ddf4ff}.note{font-size:12px;color:var(--muted)}
table{border-collapse:collapse}td:first-child{white-space:nowrap}td,th{padding:5px 8px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
.matrix{overflow-x:auto}.matrix table td,.matrix table th{border:0;padding:0}
.matrix th.m{height:130px;vertical-align:bottom;font-weight:500;font-size:12px;padding-top:6px}
.matrix th.m div{writing-mode:vertical-rl;transform:rotate(180deg);white-space:nowrap;height:122px;text-align:left;padding:4px 0;margin:0 auto}
details summary{cursor:pointer;color:#0969da;margin-top:8px}
.matrix th.host div{font-weight:700}.matrix td.c{width:24px;height:22px}
.matrix td.c span{display:block;width:20px;height:18px;margin:2px;border-radius:4px}
.matrix td.sep,.matrix th.sep{width:10px}
.matrix td.r{padding-right:12px;white-space:nowrap;font-size:12.5px}.matrix td.r small{color:var(--muted)}
.matrix tr.section td{padding-top:10px;font-size:11px;text-transform:uppercase;letter-spacing:.05em;color:var(--muted)}
.hist span{display:inline-block;width:9px;height:16px;margin-right:2px;border-radius:2px;vertical-align:middle}
.lag .label{font-size:12px;fill:var(--fg)}.lag .value{font-size:12px;fill:var(--muted)}.lag .over{fill:#cf222e;font-weight:700}
.lag .maxline{stroke:#cf222e;stroke-dasharray:5 4;stroke-width:1.5}
.axis{font-size:11px;fill:var(--muted)}.grid{stroke:#eaeef2}
.muted{color:var(--muted)}footer{color:var(--muted);font-size:12px;margin-top:30px}
a{color:#0969da;text-decoration:none}
"""


def _pill(status):
    return f'<span class="pill" style="background:{STRONG[status]}">{escape(status)}</span>'


def _sev(severity):
    colour = SEVERITY.get(severity, "#57606a")
    return f'<span class="sev" style="color:{colour};border-color:{colour}">{escape(severity or "?")}</span>'


def _when(meta):
    started = meta.get("started")
    if not started:
        return ""
    try:
        return datetime.datetime.fromisoformat(started).strftime("%Y-%m-%d %H:%M UTC")
    except ValueError:
        return escape(started)


def _header(run):
    meta, summary = run["run"], run["summary"]
    gate = summary["gate_failing"]
    if gate:
        pill = (f'<span class="gate" style="background:{STRONG["failed"]}">Gate failed: {len(gate)} high/critical '
                f'requirement{"s" if len(gate) != 1 else ""} failing ({escape(", ".join(gate))})</span>')
    else:
        pill = f'<span class="gate" style="background:{STRONG["passed"]}">Gate passed: no unwaived high or critical failure</span>'
    bits = [_when(meta), f"inventory {escape(str(meta.get('inventory', '?')))}",
            f"spec {escape(str(meta.get('spec', '')))} ({escape(str(meta.get('spec_digest', '?')))})"]
    if "duration_seconds" in meta:
        bits.append(f"audit took {meta['duration_seconds']:.1f} s")
    bits.append(f"offsuite {escape(str(meta.get('suite_version', '?')))}")
    return (f'<header><h1>Architecture compliance</h1><div class="meta">{" · ".join(b for b in bits if b)}</div>'
            f"{pill}</header>")


def _changes(comparison, has_previous):
    if not has_previous:
        return '<p class="muted">First kept run: nothing to compare with yet.</p>'
    out = []
    for kind, title in (("broke", "Broke since last run"), ("fixed", "Fixed since last run")):
        items = comparison[kind]
        out.append(f'<div class="{kind}-list" id="{kind}"><b>{title}</b> <span class="muted">({len(items)})</span>')
        for it in items:
            targets = ", ".join(escape(c.split("[", 1)[-1].rstrip("]")) for c in it["checks"][:4])
            more = f" +{len(it['checks']) - 4}" if len(it["checks"]) > 4 else ""
            out.append(f'<div class="change {kind}"><a href="#req-{escape(it["requirement"])}"><b>{escape(it["requirement"])}</b></a> '
                       f'{_sev(it["severity"])} {escape(it["was"])} → {escape(it["now"])}'
                       f'<br><small>{targets}{more}</small></div>')
        if not items:
            out.append('<div class="muted">none</div>')
        out.append("</div>")
    if comparison["still"]:
        out.append(f'<div class="note">Still failing: {escape(", ".join(i["requirement"] for i in comparison["still"]))}</div>')
    return "".join(out)


def _summary(run, comparison, has_previous, points):
    s = run["summary"]
    stats = "".join(f'<div class="stat"><span class="dot" style="background:{CELL[k]}"></span><b>{s["by_status"][k]}</b> {k}</div>'
                    for k in ORDER if s["by_status"].get(k) or k in ("failed", "passed"))
    total_checks = sum(s["checks"].values())
    bad_checks = s["checks"].get("failed", 0) + s["checks"].get("error", 0)
    return ('<section class="cards">'
            f'<div class="card">{charts.ring(s["by_status"], s["requirements"], ORDER)}</div>'
            f'<div class="card"><h3>Requirements</h3>{stats}<div class="note" style="margin-top:8px">'
            f'{bad_checks} of {total_checks} checks failing · {s["checks"].get("waived", 0)} waived</div></div>'
            f'<div class="card"><h3>Since last run</h3>{_changes(comparison, has_previous)}</div>'
            f'<div class="card"><h3>Trend over kept runs</h3>{charts.trend(points)}'
            f'<div class="note">line: share of requirements met · bars: failing requirements</div></div>'
            "</section>")


def _by_element(run):
    by = defaultdict(list)
    for c in run["checks"]:
        for e in c["elements"]:
            by[e].append(c)
    return by, {e: worst(c["status"] for c in cs) for e, cs in by.items()}


def _drawing(run, arch):
    by, statuses = _by_element(run)
    svg = drawing.svg(drawing.dot_source(arch, statuses, by))
    if svg is None:
        svg = '<p class="muted">Graphviz (`dot`) is not installed on this machine: bin/setup installs it.</p>'
    legend = "".join(f'<span><span class="dot" style="background:{PALE[k]};border:2px solid {STRONG[k]}"></span> {k}</span>'
                     for k in ("passed", "failed", "error", "waived", "not checked"))
    return (f'<h2 id="architecture">Architecture, coloured by its checks</h2>{svg}'
            f'<div class="legend">{legend}<span>— bold: ZFS replication · dashed: stunnel link · thin: web chain '
            "(public name → reverse proxy → application)</span><span>hover an element for its checks</span></div>")


def _failures(run, arch):
    bad = [c for c in run["checks"] if c["status"] in BAD]
    waived = [c for c in run["checks"] if c["status"] == "waived"]
    planner = fixes.planner()
    by_req = defaultdict(list)
    for c in bad:
        by_req[c["requirement"]].append(c)
    sev_rank = {"critical": 0, "high": 1, "medium": 2, "low": 3}
    reqs = sorted(by_req, key=lambda r: (sev_rank.get(run["requirements"].get(r, {}).get("severity"), 9), r))
    out = [f'<h2 id="failures">Failures <span class="count">({len(bad)} checks, {len(reqs)} requirements)</span></h2>']
    if not bad:
        out.append('<p>Nothing fails. ' + (f"{len(waived)} waived." if waived else "") + "</p>")
    for rid in reqs:
        req = run["requirements"].get(rid, {"title": "", "severity": "", "status": "failed"})
        cases = by_req[rid]
        out.append(f'<div class="failure" id="req-{escape(rid)}" style="border-left-color:{STRONG[req["status"]]}">'
                   f'<h3>{escape(rid)} {_sev(req["severity"])} {escape(req["title"])}</h3>'
                   f'<div class="note">{len(cases)} of {req.get("checks", len(cases))} targets failing</div>')
        for i, c in enumerate(cases):
            if i == 2 and len(cases) > 3:  # the rest folded: one click away, the page stays short
                out.append(f"<details><summary>{len(cases) - 2} more targets failing the same way</summary>")
            machines = ", ".join(c["machines"])
            out.append(f'<div class="inst"><span class="where">{escape(c["target"])}</span> {_pill(c["status"])} '
                       f'<span class="mach">reads {escape(machines)}</span><pre>{escape(c["message"])}</pre>')
            fix = fixes.planned_fix(planner, rid, c["target"], arch)
            if fix:
                out.append(f'<div class="note">The provisioner would plan:</div><pre class="fix">{escape(fix)}</pre>')
            if "expired_waiver" in c:
                w = c["expired_waiver"]
                out.append(f'<div class="note">Waiver expired on {escape(w["expires"])} (approved by '
                           f'{escape(w["approver"])}: {escape(w["reason"])}).</div>')
            out.append("</div>")
        if len(cases) > 3:
            out.append("</details>")
        out.append("</div>")
    return "".join(out)


def _matrix(run, arch):
    """Requirements (rows) by machines (columns, grouped by host), each cell the worst status of that
    requirement's checks that read the machine."""
    cells = defaultdict(list)
    for c in run["checks"]:
        for m in c["machines"]:
            cells[(c["requirement"], m)].append(c)
    columns = []  # (machine, is_host)
    for host, h in arch.spec.hosts.items():
        if columns:
            columns.append((None, False))
        columns.append((host, True))
        columns += [(name, False) for name in h.containers]
    head = "".join('<th class="sep"></th>' if m is None else
                   f'<th class="m{" host" if is_host else ""}"><div>{escape(m)}</div></th>' for m, is_host in columns)
    rows, section = [], None
    for rid, req in run["requirements"].items():
        if req["section"] != section:
            section = req["section"]
            rows.append(f'<tr class="section"><td colspan="{len(columns) + 1}">{escape(section)}</td></tr>')
        tds = []
        for m, _ in columns:
            if m is None:
                tds.append('<td class="sep"></td>')
                continue
            mine = cells.get((rid, m))
            if not mine:
                tds.append('<td class="c"></td>')
                continue
            status = worst(c["status"] for c in mine)
            tip = f"{rid} on {m}: {status}\n" + "\n".join(f"{c['target']}: {c['status']}" for c in mine[:12])
            tds.append(f'<td class="c" title="{escape(tip)}"><span class="cell-{status.replace(" ", "-")}" '
                       f'style="background:{CELL[status]}"></span></td>')
        title = req["title"] if len(req["title"]) <= 62 else req["title"][:60] + "…"
        rows.append(f'<tr><td class="r"><a href="#req-{escape(rid)}"><b>{escape(rid)}</b></a> '
                    f'<small title="{escape(req["title"])}">{escape(title)}</small></td>{"".join(tds)}</tr>')
    return (f'<h2 id="matrix">Requirements × machines</h2><div class="matrix"><table><tr><th></th>{head}</tr>'
            f'{"".join(rows)}</table></div><div class="legend">'
            + "".join(f'<span><span class="dot" style="background:{CELL[k]}"></span> {k}</span>'
                      for k in ("passed", "failed", "error", "waived", "skipped"))
            + "<span>empty: no check of that requirement reads the machine</span></div>")


def _lag(run):
    points = metrics.lags(run)
    return (f'<h2 id="lag">Replication lag per dataset <span class="count">(age of the newest snapshot received; '
            f'maximum {run["max_lag_minutes"]} min)</span></h2>{charts.lag(points, run["max_lag_minutes"])}')


def _requirements(run, points):
    rows = []
    for rid, req in run["requirements"].items():
        hist = "".join(f'<span style="background:{CELL[p["requirements"].get(rid, "not checked")]}" '
                       f'title="{escape(p["stamp"])}: {escape(p["requirements"].get(rid, "not checked"))}"></span>'
                       for p in points[-30:])
        ok = req["checks"] - req["failing"] - req["waived"]
        rows.append(f'<tr><td><b>{escape(rid)}</b></td><td>{escape(req["title"])}</td><td>{_sev(req["severity"])}</td>'
                    f'<td>{_pill(req["status"])}</td><td>{ok}/{req["checks"]}</td><td class="hist">{hist}</td></tr>')
    return ('<h2 id="requirements">All requirements</h2><table><tr><th>ID</th><th>Requirement</th><th>Severity</th>'
            f'<th>Status</th><th>Targets ok</th><th>History (oldest → newest)</th></tr>{"".join(rows)}</table>')


def _waivers(run):
    if not run["waivers"]:
        return ""
    rows = []
    for w in run["waivers"]:
        state = ("in force" if w["in_force"] else "expired") + ("" if w["used"] or not w["in_force"] else ", not needed")
        colour = STRONG["waived"] if w["in_force"] else STRONG["failed"]
        rows.append(f'<tr><td><b>{escape(w["requirement"])}</b></td><td>{escape(w["target"])}</td><td>{escape(w["reason"])}</td>'
                    f'<td>{escape(w["approver"])}</td><td>{escape(w["expires"])}</td>'
                    f'<td style="color:{colour};font-weight:600">{state}</td></tr>')
    return ('<h2 id="waivers">Waivers</h2><table><tr><th>Requirement</th><th>Target</th><th>Reason</th><th>Approved by</th>'
            f'<th>Expires</th><th>State</th></tr>{"".join(rows)}</table>')


def render(run, arch, comparison=None, has_previous=False, points=None):
    comparison = comparison or {"broke": [], "fixed": [], "still": []}
    points = points or [history.point(run["run"].get("stamp", "this run"), run)]
    body = "".join([_summary(run, comparison, has_previous, points), _drawing(run, arch), _failures(run, arch),
                    _matrix(run, arch), _lag(run), pools.section(run), _waivers(run), _requirements(run, points)])
    files = " · ".join(f"<a href='{f}'>{f}</a>" for f in ("results.json", "audit.xml", "metrics.prom"))
    return ('<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">'
            f'<title>Architecture compliance · {escape(_when(run["run"]))}</title><style>{CSS}</style></head><body>'
            f'{_header(run)}<main>{body}<footer>Data beside this page: {files}. '
            f'Waivers read today = {escape(run["today"])}.</footer></main></body></html>')
