"""Each fault of the lab turns exactly its requirement red, and the audit is green once it is removed."""
import pytest

from fixtures.lab import docker_ops, faults
from reports.results import failing_requirements
from specs import load_spec
from specs.architecture import Architecture
from specs.load import DEFAULT_SPEC

CATALOGUE = faults.catalogue(Architecture(load_spec(DEFAULT_SPEC)))


@pytest.mark.lab
@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_fault_turns_its_requirement_red_then_green(name, lab, audit):
    fault = faults.catalogue(lab)[name]
    client = docker_ops.client()
    assert not failing_requirements(audit()), "the lab must be healthy before the fault"
    fault.apply(client)
    try:
        red = audit()
    finally:
        fault.remove(client)
    failing = failing_requirements(red)
    assert failing == {fault.requirement}, f"{name}: expected only {fault.requirement} red, got {sorted(failing)}"
    assert not failing_requirements(audit()), f"{name}: the audit is not green after the fault was removed"
