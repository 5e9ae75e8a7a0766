"""docs/incidents.md cannot go stale: every report and dated log entry of the users' repository is an
incident's source or dropped with its reason; every requirement and lab fault it names exists; a planned
requirement that has landed in the catalogue moves to it; the page is the generator's output."""
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from fixtures.lab import faults
from reports import incidents
from specs import load_requirements

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "incidents.md"
REQUIREMENTS_MD = ROOT.parent / "shared" / "REQUIREMENTS.md"


@pytest.fixture(scope="module")
def table():
    return incidents.load()


@pytest.fixture(scope="module")
def lab_faults(arch):
    return faults.catalogue(arch)


def test_every_report_and_log_entry_is_kept_or_dropped(table):
    if not (incidents.USERS_DOCS / "reports").is_dir():
        pytest.skip(f"the users' repository is not here ({incidents.USERS_DOCS})")
    assert incidents.unaccounted(table) == []


def test_every_requirement_and_fault_named_exists(table, lab_faults):
    assert incidents.problems(table, load_requirements(), lab_faults) == []


def test_the_planned_requirements_are_those_of_the_users_document(table):
    if not REQUIREMENTS_MD.exists():
        pytest.skip(f"{REQUIREMENTS_MD} is not here")
    section = REQUIREMENTS_MD.read_text().split("## From the users' incident reports", 1)[1].split("\n## ", 1)[0]
    listed = set(re.findall(r"^- ([A-Z]+-\d+) ", section, re.M))
    assert set(table.planned) <= listed, f"planned but not in REQUIREMENTS.md: {sorted(set(table.planned) - listed)}"
    missing = listed - set(table.planned) - set(load_requirements())
    assert not missing, f"in REQUIREMENTS.md, neither in the catalogue nor planned: {sorted(missing)}"


def test_doc_is_current(table, lab_faults):
    assert DOC.read_text() == incidents.document(table, load_requirements(), lab_faults), \
        "docs/incidents.md is out of date: .venv/bin/python -m reports.incidents > docs/incidents.md"


# the rules themselves, on small made-up tables: each can fail

@dataclass(frozen=True)
class _Fault:
    name: str
    requirement: str


def _table(**incident):
    base = {"id": 1, "date": "2024-01", "source": ["2024-01-a.md"], "broke": "x", "severity": "high",
            "verdict": "no", "after": "caught", "planned": ["ZFS-10"]}
    return incidents.IncidentTable.model_validate(
        {"planned": ["ZFS-10"], "dropped": {"reports": {"2024-01-b.md": "install notes"}},
         "incidents": [{**base, **incident}]})


def _users_docs(tmp_path, reports, log):
    (tmp_path / "reports").mkdir()
    for name in reports:
        (tmp_path / "reports" / name).write_text("# a report\n")
    (tmp_path / "logs-off1.md").write_text(log)
    return tmp_path


def test_a_report_or_log_entry_neither_kept_nor_dropped_is_found(tmp_path):
    docs = _users_docs(tmp_path, ["2024-01-a.md", "2024-01-b.md", "2024-02-new.md"],
                       "# off1 server logs\n\n## 2023-09-05 exim paniclog\ntext\n")
    table = _table(source=["2024-01-a.md", "logs-off1.md#2023-09-04"])
    assert incidents.unaccounted(table, docs) == [
        "report 2024-02-new.md is neither an incident's source nor dropped (with its reason) in docs/incidents.yaml",
        "log entry logs-off1.md#2023-09-05 is neither an incident's source nor dropped in docs/incidents.yaml",
        "logs-off1.md#2023-09-04 is named in docs/incidents.yaml but is no report or dated log entry of the users' docs",
    ]


def test_an_unknown_requirement_or_fault_is_found():
    catalogue = {"ZFS-7": object()}
    lab = {"pool-full": _Fault("pool-full", "ZFS-7")}
    table = _table(verdict="partly", requirements=["ZFS-7", "ZFS-99"], faults=["pool-full", "no-such-fault"])
    assert incidents.problems(table, catalogue, lab) == [
        "#1: requirement ZFS-99 is not in specs/requirements.yaml",
        "#1: lab fault no-such-fault is not in the lab's fault catalogue",
    ]


def test_a_planned_requirement_that_landed_must_move():
    catalogue = {"ZFS-7": object(), "ZFS-10": object()}
    lab = {"pool-full": _Fault("pool-full", "ZFS-7")}
    problems = incidents.problems(_table(), catalogue, lab)
    assert problems == ["ZFS-10 has landed in specs/requirements.yaml: move it from `planned` to `requirements` in "
                        "docs/incidents.yaml (top list and rows #1), name its lab fault and re-judge those rows' verdict"]


def test_a_row_left_uncaught_gives_its_reason():
    table = _table(after="partly")
    assert incidents.problems(table, {}, {}) == [
        "#1: not caught even with the planned requirements, and no `out_of_scope` reason"]


def test_a_requirement_without_a_lab_fault_does_not_count_as_catching():
    catalogue = {"ZFS-7": object(), "NET-6": object()}
    lab = {"pool-full": _Fault("pool-full", "ZFS-7")}
    both = _table(verdict="caught", requirements=["ZFS-7", "NET-6"], planned=[], after=None).incidents[0]
    assert incidents.verdict_now(both, catalogue, lab) == "partly"
    lab["certificate-expiring"] = _Fault("certificate-expiring", "NET-6")
    assert incidents.verdict_now(both, catalogue, lab) == "caught"
    only = _table(verdict="partly", requirements=["NET-6"], planned=[], after=None).incidents[0]
    assert incidents.verdict_now(only, catalogue, {"pool-full": lab["pool-full"]}) == "no"
