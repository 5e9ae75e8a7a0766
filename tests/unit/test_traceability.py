"""Every requirement of the catalogue has a check and a lab fault; the traceability table is current."""
from pathlib import Path

from fixtures.lab import faults
from reports import traceability
from specs import load_requirements

DOC = Path(__file__).resolve().parents[2] / "docs" / "traceability.md"


def test_every_requirement_has_a_check(arch):
    missing = set(load_requirements()) - set(traceability.live_checks())
    assert not missing, f"requirements without a check: {sorted(missing)}"


def test_every_requirement_has_a_fault(arch):
    covered = {f.requirement for f in faults.catalogue(arch).values()}
    missing = set(load_requirements()) - covered
    assert not missing, f"requirements without a lab fault: {sorted(missing)}"


def test_doc_is_current():
    """As `python -m reports.traceability` writes it: the shipped spec, no inventory's map (the session's arch
    carries the lab's networks and gateways once a lab test has run, and the faults' texts name addresses)."""
    from specs import load_spec
    from specs.architecture import Architecture
    arch = Architecture(load_spec())
    assert DOC.read_text() == traceability.document(arch, faults.catalogue(arch)), \
        "docs/traceability.md is out of date: .venv/bin/python -m reports.traceability > docs/traceability.md"
