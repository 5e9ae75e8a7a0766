"""The nightly report's pool health: per pool of each host, its state, device errors and last scrub, as the
ZFS-10 check recorded them (JUnit property `pools`)."""
import json
from html import escape


def rows(run):
    """[{host, pool, state, errors, scrub, status}] from the ZFS-10 checks of a run."""
    out = []
    for c in run["checks"]:
        text = c["properties"].get("pools")
        if not text:
            continue
        try:
            pools = json.loads(text)
        except ValueError:
            continue
        host = c["properties"].get("machine") or c["target"]
        for p in pools:
            out.append({"host": host, **{k: p.get(k, "") for k in ("pool", "state", "errors", "scrub")},
                        "status": c["status"]})
    return sorted(out, key=lambda r: (r["host"], r["pool"]))


def section(run):
    found = rows(run)
    if not found:
        return ""
    body = "".join(f'<tr><td>{escape(r["host"])}</td><td>{escape(str(r["pool"]))}</td>'
                   f'<td class="{"ok" if r["state"] == "ONLINE" else "bad"}">{escape(str(r["state"]))}</td>'
                   f'<td>{escape(str(r["errors"]))}</td><td>{escape(str(r["scrub"]))}</td></tr>' for r in found)
    return ('<h2 id="pools">Pool health <span class="count">(ZFS-10: state, read/write/checksum errors, last scrub)'
            '</span></h2><table><tr><th>Host</th><th>Pool</th><th>State</th><th>Errors</th><th>Last scrub</th></tr>'
            f'{body}</table>')
