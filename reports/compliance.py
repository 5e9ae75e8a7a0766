"""The compliance report: one HTML page from an audit's JUnit XML, requirement by requirement.

`python -m reports.compliance AUDIT.xml OUT.html` — failing requirements first, by severity,
each with its failing targets and what was found; requirements no check covered are listed too.
"""
import datetime
import html
import sys
from collections import defaultdict

from reports.results import read_cases
from specs import load_requirements

ORDER = {"critical": 0, "high": 1, "medium": 2, "low": 3}
COLOURS = {"passed": "#1a7f37", "failed": "#cf222e", "error": "#9a6700", "skipped": "#6e7781", "not checked": "#6e7781"}

PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>Architecture compliance</title>
<style>body{{font:14px system-ui,sans-serif;margin:2em;color:#1f2328}}table{{border-collapse:collapse;width:100%}}
td,th{{border-bottom:1px solid #d0d7de;padding:.4em;text-align:left;vertical-align:top}}
.badge{{color:#fff;border-radius:1em;padding:.1em .7em;font-weight:600}}pre{{white-space:pre-wrap;margin:.2em 0;font-size:12px}}
.summary span{{margin-right:1.5em;font-size:16px}}</style></head><body>
<h1>Architecture compliance</h1><p>{when} &middot; {source}</p>
<p class="summary">{summary}</p>
<table><tr><th>Requirement</th><th>Severity</th><th>Status</th><th>Targets</th><th>What to fix</th></tr>{rows}</table>
</body></html>"""


def status_of(cases):
    if not cases:
        return "not checked"
    for outcome in ("failed", "error"):
        if any(c.outcome == outcome for c in cases):
            return outcome
    return "passed" if any(c.outcome == "passed" for c in cases) else "skipped"


def render(cases, catalogue, source):
    by_req = defaultdict(list)
    for c in cases:
        by_req[c.requirement].append(c)
    reqs = sorted(catalogue.values(), key=lambda r: (status_of(by_req[r.id]) in ("passed", "skipped", "not checked"),
                                                      ORDER.get(r.severity, 9), r.id))
    rows, counts = [], defaultdict(int)
    for r in reqs:
        mine = by_req[r.id]
        status = status_of(mine)
        counts[status] += 1
        bad = [c for c in mine if c.outcome in ("failed", "error")]
        fixes = "".join(f"<pre>{html.escape(c.target)}: {html.escape(c.message)}</pre>" for c in bad)
        rows.append(f"<tr><td><b>{r.id}</b> {html.escape(r.title)}</td><td>{r.severity}</td>"
                    f"<td><span class=badge style='background:{COLOURS[status]}'>{status}</span></td>"
                    f"<td>{len(mine) - len(bad)}/{len(mine)} ok</td><td>{fixes}</td></tr>")
    summary = "".join(f"<span style='color:{COLOURS[k]}'>{counts[k]} {k}</span>"
                      for k in ("failed", "error", "passed", "not checked") if counts[k])
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return PAGE.format(when=when, source=html.escape(str(source)), summary=summary, rows="".join(rows))


def main(argv=None):
    args = argv if argv is not None else sys.argv[1:]
    if len(args) != 2:
        print("usage: python -m reports.compliance AUDIT.xml OUT.html", file=sys.stderr)
        return 2
    try:
        cases = read_cases(args[0])
    except (OSError, Exception) as exc:  # a missing or broken XML file: one line
        print(f"compliance: cannot read {args[0]}: {exc}", file=sys.stderr)
        return 1
    with open(args[1], "w") as out:
        out.write(render(cases, load_requirements(), args[0]))
    failing = sum(1 for c in cases if c.outcome in ("failed", "error"))
    print(f"compliance: {len(cases)} checks, {failing} failing -> {args[1]}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
