"""The users' incident history against the suite: docs/incidents.yaml -> docs/incidents.md.

    .venv/bin/python -m reports.incidents > docs/incidents.md

One entry per incident of the users' reports and dated log entries: what broke, the requirements that
catch it today and the lab faults that reproduce it, the planned requirements (../shared/REQUIREMENTS.md,
not yet in the catalogue) that would catch the rest, or why it is out of scope. The counts are computed
against the catalogue and the lab's fault catalogue, so that they follow both: a requirement counts as
catching only when specs/requirements.yaml has it and a lab fault turns it red.
"""
import re
import sys
from pathlib import Path
from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field

from specs.load import validate
from specs.yaml_source import read_yaml

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "docs" / "incidents.yaml"
USERS_DOCS = ROOT.parent / "shared" / "off-infrastructure" / "docs"

Verdict = Literal["caught", "partly", "no"]
RANK = {"no": 0, "partly": 1, "caught": 2}
LOG_HEADING = re.compile(r"^##\s+(\d{4}-\d{2}-\d{2})", re.M)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Incident(_Strict):
    id: int
    date: str
    source: list[str] = Field(min_length=1)
    broke: str = Field(min_length=1)
    severity: Literal["critical", "high", "medium"]
    verdict: Verdict
    requirements: list[str] = []
    faults: list[str] = []
    planned: list[str] = []
    after: Optional[Verdict] = None
    lab: str = ""
    out_of_scope: str = ""

    def verdict_after(self):
        """The verdict once the planned requirements have landed (today's when none is planned)."""
        return self.after or self.verdict


class Dropped(_Strict):
    reports: dict[str, str] = {}
    logs: dict[str, str] = {}


class Before(_Strict):
    """The counts of an earlier reading, kept as it was (the catalogue then is not rebuilt)."""
    when: str
    caught: int
    partly: int
    no: int


class IncidentTable(_Strict):
    planned: list[str]
    before: Optional[Before] = None
    dropped: Dropped
    incidents: list[Incident]


def load(path=DATA):
    """The incident table, validated (a SpecError `file:line: field: what` when broken)."""
    return validate(read_yaml(path), IncidentTable)


def _faulted(lab_faults):
    return {f.requirement for f in lab_faults.values()}


def verdict_now(incident, catalogue, lab_faults):
    """The verdict as the catalogue stands: a requirement catches only if the catalogue has it and a lab
    fault for it exists; a caught incident missing one of its requirements is partly caught."""
    faulted = _faulted(lab_faults)
    counting = [r for r in incident.requirements if r in catalogue and r in faulted]
    if incident.verdict == "caught" and len(counting) < len(incident.requirements):
        return "partly" if counting else "no"
    if incident.verdict == "partly" and not counting:
        return "no"
    return incident.verdict


def verdict_planned(incident, catalogue, lab_faults):
    """The verdict once the planned requirements land (never below today's)."""
    now = verdict_now(incident, catalogue, lab_faults)
    if not incident.planned:
        return now
    return max(now, incident.verdict_after(), key=RANK.get)


def problems(table, catalogue, lab_faults):
    """What makes the table wrong against the catalogue and the lab (one line each); [] when sound.
    catalogue: {id: Requirement} (specs.load_requirements()); lab_faults: fixtures.lab.faults.catalogue(arch)."""
    out = []
    landed = sorted((set(table.planned) | {r for i in table.incidents for r in i.planned}) & set(catalogue))
    for req in landed:
        rows = [f"#{i.id}" for i in table.incidents if req in i.planned]
        out.append(f"{req} has landed in specs/requirements.yaml: move it from `planned` to `requirements` in "
                   f"docs/incidents.yaml (top list and rows {', '.join(rows) or 'none'}), name its lab fault "
                   "and re-judge those rows' verdict")
    seen = set()
    for inc in table.incidents:
        row = f"#{inc.id}"
        if inc.id in seen:
            out.append(f"{row}: id given twice")
        seen.add(inc.id)
        for req in inc.requirements:
            if req not in catalogue:
                out.append(f"{row}: requirement {req} is not in specs/requirements.yaml"
                           + (" (it is planned: list it under `planned`)" if req in table.planned else ""))
        for req in inc.planned:
            if req not in table.planned and req not in catalogue:  # (one in the catalogue is `landed` above)
                out.append(f"{row}: planned {req} is neither in specs/requirements.yaml nor in the planned list")
        for name in inc.faults:
            fault = lab_faults.get(name)
            if fault is None:
                out.append(f"{row}: lab fault {name} is not in the lab's fault catalogue")
            elif fault.requirement not in inc.requirements:
                out.append(f"{row}: lab fault {name} turns {fault.requirement} red, which the row does not name")
        if inc.verdict == "no" and inc.requirements:
            out.append(f"{row}: verdict no, yet it names requirements that catch it")
        if inc.verdict != "no" and not inc.requirements:
            out.append(f"{row}: verdict {inc.verdict} names no requirement that catches it")
        if inc.planned and inc.after is None and inc.verdict != "caught":
            out.append(f"{row}: planned requirements without `after` (the verdict once they land)")
        if not inc.planned and inc.after not in (None, inc.verdict):
            out.append(f"{row}: `after` differs from today's verdict with nothing planned")
        if RANK[inc.verdict_after()] < RANK[inc.verdict]:
            out.append(f"{row}: `after` is below today's verdict")
        if inc.verdict_after() != "caught" and not inc.out_of_scope:
            out.append(f"{row}: not caught even with the planned requirements, and no `out_of_scope` reason")
    return out


def _log_entries(logs_dir):
    """{`logs-<host>.md#<date>`} of the dated headings of the users' host logs."""
    return {f"{path.name}#{date}" for path in sorted(Path(logs_dir).glob("logs-*.md"))
            for date in LOG_HEADING.findall(path.read_text())}


def unaccounted(table, docs_dir=USERS_DOCS):
    """Reports and dated log entries of the users' repository that the table neither keeps nor drops,
    and names it gives that are not there (one line each); [] when every one is accounted for."""
    docs_dir = Path(docs_dir)
    reports = {p.name for p in (docs_dir / "reports").glob("*.md")}
    logs = _log_entries(docs_dir)
    named = {s for inc in table.incidents for s in inc.source}
    out = []
    for name in sorted(reports - named - set(table.dropped.reports)):
        out.append(f"report {name} is neither an incident's source nor dropped (with its reason) in docs/incidents.yaml")
    for name in sorted(logs - named - set(table.dropped.logs)):
        out.append(f"log entry {name} is neither an incident's source nor dropped in docs/incidents.yaml")
    for name in sorted((named | set(table.dropped.reports) | set(table.dropped.logs)) - reports - logs):
        out.append(f"{name} is named in docs/incidents.yaml but is no report or dated log entry of the users' docs")
    for name in sorted(named & (set(table.dropped.reports) | set(table.dropped.logs))):
        out.append(f"{name} is both an incident's source and dropped")
    for name, why in {**table.dropped.reports, **table.dropped.logs}.items():
        if not why.strip():
            out.append(f"{name} is dropped without a reason")
    return out


def counts(table, catalogue, lab_faults):
    """{"now": {verdict: n}, "planned": {verdict: n}}."""
    out = {"now": dict.fromkeys(RANK, 0), "planned": dict.fromkeys(RANK, 0)}
    for inc in table.incidents:
        out["now"][verdict_now(inc, catalogue, lab_faults)] += 1
        out["planned"][verdict_planned(inc, catalogue, lab_faults)] += 1
    return out


def _cell(text):
    return text.replace("|", "\\|").replace("\n", " ")


def _source(name):
    return name.replace("#", " ") if name.startswith("logs-") else name.removesuffix(".md")


def document(table, catalogue, lab_faults):
    c = counts(table, catalogue, lab_faults)
    total = len(table.incidents)
    reports = {s for i in table.incidents for s in i.source if not s.startswith("logs-")}
    logs = {s for i in table.incidents for s in i.source if s.startswith("logs-")}
    more = c["planned"]["caught"] - c["now"]["caught"]
    lines = [
        "# Incidents: what broke production, and what catches it",
        "",
        "Generated from `docs/incidents.yaml` by `.venv/bin/python -m reports.incidents > docs/incidents.md`;",
        "`tests/unit/test_incidents.py` fails when it is out of date, when a report of the users' repository",
        "(`docs/reports/*.md`, the dated entries of `docs/logs-*.md`) is neither kept nor dropped, when a",
        "requirement or lab fault named does not exist, or when a planned requirement has landed in",
        "`specs/requirements.yaml` without its rows moving to it.",
        "",
        f"{total} incidents from {len(reports)} reports and {len(logs)} dated log entries; "
        f"{len(table.dropped.reports)} reports and {len(table.dropped.logs)} log "
        f"{'entry' if len(table.dropped.logs) == 1 else 'entries'} dropped ([below](#dropped)). "
        "A requirement counts as catching only when the catalogue has it and a lab fault turns it red "
        "([traceability](traceability.md)). "
        + ("Planned requirements are those of `../shared/REQUIREMENTS.md` (\"From the users' incident reports\") "
           "not yet in the catalogue: " + ", ".join(table.planned) + "." if table.planned else
           "Every requirement of `../shared/REQUIREMENTS.md` (\"From the users' incident reports\") is in the "
           "catalogue: none is planned."),
        "",
        "## Counts",
        "",
        "| | caught | partly | not caught |",
        "|---|---|---|---|",
        f"| now (the catalogue as it is) | {c['now']['caught']} | {c['now']['partly']} | {c['now']['no']} |",
    ]
    if table.before:
        b = table.before
        lines.insert(-1, f"| before: {b.when} | {b.caught} | {b.partly} | {b.no} |")
    if table.planned:
        lines += [
            f"| once the planned requirements land | {c['planned']['caught']} | {c['planned']['partly']} "
            f"| {c['planned']['no']} |",
            "",
            f"The planned requirements would catch {more} more of the {total} "
            f"({c['planned']['caught']} in all); every incident left partly or not caught says why in its last column.",
            "",
            "| planned requirement | incidents it reads (all or part, or earlier than today's catalogue) |",
            "|---|---|",
        ]
        for req in table.planned:
            rows = [f"#{i.id}" for i in table.incidents if req in i.planned]
            lines.append(f"| {req} | {len(rows)}: {', '.join(rows)} |" if rows else f"| {req} | 0 |")
    else:
        lines += ["", "Every incident left partly or not caught says why in its last column."]
    lines += [
        "",
        "## Incidents",
        "",
        "| # | date | source | what broke | now | caught by (lab fault) | planned -> after | out of scope, or how the lab would reproduce it |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for inc in table.incidents:
        now = verdict_now(inc, catalogue, lab_faults)
        caught_by = ", ".join(inc.requirements) or "-"
        if inc.faults:
            caught_by += " (" + ", ".join(f"`{f}`" for f in inc.faults) + ")"
        planned = (", ".join(inc.planned) + f" -> {verdict_planned(inc, catalogue, lab_faults)}") if inc.planned else "-"
        why = "; ".join(x for x in (inc.out_of_scope, f"lab: {inc.lab}" if inc.lab else "") if x) or "-"
        lines.append(f"| {inc.id} | {inc.date} | {'<br>'.join(_cell(_source(s)) for s in inc.source)} | {_cell(inc.broke)} "
                     f"| {now} | {caught_by} | {planned} | {_cell(why)} |")
    lines += ["", "## Dropped", "", "Reports and log entries that record no incident (install, how-to, training "
              "and migration notes), with why:", ""]
    for name, why in {**table.dropped.reports, **table.dropped.logs}.items():
        lines.append(f"- {_source(name)}: {why}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    from fixtures.lab import faults
    from specs import load_requirements, load_spec
    from specs.architecture import Architecture
    arch = Architecture(load_spec())
    sys.stdout.write(document(load(), load_requirements(), faults.catalogue(arch)))
