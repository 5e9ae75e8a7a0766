"""Small inline SVG charts for the report (no script, no network): the share-met ring, the trend
over the kept runs, and replication lag per dataset against its maximum."""
from html import escape

from reports.style import CELL, STRONG


def ring(counts, total, order):
    """A ring of the requirements by status, the share met in the middle."""
    r, width, c = 52, 16, 2 * 3.14159265 * 52
    parts, offset = [], 0.0
    for status in order:
        n = counts.get(status, 0)
        if not n or not total:
            continue
        length = c * n / total
        parts.append(f'<circle r="{r}" cx="70" cy="70" fill="none" stroke="{CELL[status]}" stroke-width="{width}" '
                     f'stroke-dasharray="{length:.2f} {c - length:.2f}" stroke-dashoffset="{-offset:.2f}" '
                     f'transform="rotate(-90 70 70)"><title>{n} {status}</title></circle>')
        offset += length
    met = counts.get("passed", 0)
    share = round(100 * met / total) if total else 0
    return (f'<svg class="ring" viewBox="0 0 140 140" width="140" height="140" role="img" aria-label="{share}% met">'
            f'<circle r="{r}" cx="70" cy="70" fill="none" stroke="#eaeef2" stroke-width="{width}"/>{"".join(parts)}'
            f'<text x="70" y="68" text-anchor="middle" class="ring-big">{share}%</text>'
            f'<text x="70" y="90" text-anchor="middle" class="ring-small">{met} of {total} met</text></svg>')


def trend(points, width=420, height=130):
    """Share of requirements met per kept run (a line), failing requirements per run (bars)."""
    if not points:
        return ""
    left, right, top, bottom = 34, 10, 10, 22
    w, h = width - left - right, height - top - bottom
    n = len(points)
    step = w / max(n - 1, 1)
    worst = max((p["by_status"].get("failed", 0) + p["by_status"].get("error", 0)) for p in points) or 1
    out = [f'<svg class="trend" viewBox="0 0 {width} {height}" width="100%" role="img" aria-label="trend">']
    for pct in (0, 50, 100):
        y = top + h * (1 - pct / 100)
        out.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
                   f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end" class="axis">{pct}%</text>')
    xs = [left + (i * step if n > 1 else w / 2) for i in range(n)]
    bar = min(14, step * 0.5) if n > 1 else 14
    for x, p in zip(xs, points):
        bad = p["by_status"].get("failed", 0) + p["by_status"].get("error", 0)
        if bad:
            bh = h * 0.45 * bad / worst
            out.append(f'<rect x="{x - bar / 2:.1f}" y="{top + h - bh:.1f}" width="{bar:.1f}" height="{bh:.1f}" '
                       f'fill="{CELL["failed"]}" opacity="0.35"><title>{escape(p["stamp"])}: {bad} failing</title></rect>')
    line = " ".join(f"{x:.1f},{top + h * (1 - p['share_met']):.1f}" for x, p in zip(xs, points))
    out.append(f'<polyline points="{line}" fill="none" stroke="{STRONG["passed"]}" stroke-width="2.5"/>')
    for x, p in zip(xs, points):
        bad = p["by_status"].get("failed", 0) + p["by_status"].get("error", 0)
        colour = STRONG["failed"] if bad else STRONG["passed"]
        out.append(f'<circle cx="{x:.1f}" cy="{top + h * (1 - p["share_met"]):.1f}" r="4" fill="{colour}">'
                   f'<title>{escape(p["stamp"])}: {100 * p["share_met"]:.0f}% met, {bad} failing</title></circle>')
    out.append(f'<text x="{left}" y="{height - 5}" class="axis">{escape(points[0]["stamp"][:10])}</text>'
               f'<text x="{width - right}" y="{height - 5}" text-anchor="end" class="axis">'
               f'{escape(points[-1]["stamp"][:10])} · {n} run{"s" if n != 1 else ""}</text></svg>')
    return "".join(out)


def lag(points, max_minutes, width=900):
    """Horizontal bars, one per replica, against the maximum lag (a dashed line)."""
    if not points:
        return '<p class="muted">No replication lag was recorded in this run.</p>'
    label_w, value_w, row, top = 300, 90, 22, 26
    scale_max = max([max_minutes * 1.2] + [p["minutes"] * 1.05 for p in points])
    plot = width - label_w - value_w
    height = top + row * len(points) + 10
    x_of = lambda m: label_w + plot * m / scale_max
    out = [f'<svg class="lag" viewBox="0 0 {width} {height}" width="100%" role="img" aria-label="replication lag">']
    mx = x_of(max_minutes)
    out.append(f'<line x1="{mx:.1f}" x2="{mx:.1f}" y1="{top - 8}" y2="{height - 6}" class="maxline"/>'
               f'<text x="{mx:.1f}" y="{top - 12}" text-anchor="middle" class="axis">maximum {max_minutes} min</text>')
    for i, p in enumerate(sorted(points, key=lambda p: (p["target"], p["dataset"]))):
        y = top + i * row
        over = p["minutes"] > max_minutes
        colour = CELL["failed"] if over or p["status"] in ("failed", "error") else CELL["passed"]
        bw = max(plot * p["minutes"] / scale_max, 2)
        name = f'{p["target"]} ← {p["source"]}  {p["dataset"]}' if p["source"] else f'{p["target"]}  {p["dataset"]}'
        out.append(f'<text x="{label_w - 8}" y="{y + 14}" text-anchor="end" class="label">{escape(name)}</text>'
                   f'<rect x="{label_w}" y="{y + 3}" width="{bw:.1f}" height="{row - 8}" rx="3" fill="{colour}">'
                   f'<title>{escape(name)}: {p["minutes"]:g} min</title></rect>'
                   f'<text x="{label_w + bw + 6:.1f}" y="{y + 14}" class="value{" over" if over else ""}">'
                   f'{p["minutes"]:g} min</text>')
    out.append("</svg>")
    return "".join(out)
