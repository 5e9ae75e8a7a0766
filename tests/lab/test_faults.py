"""Each fault of the lab turns exactly its requirement red, and the audit is green once it is removed."""
import pytest

from fixtures.lab import docker_ops, faults
from reports.results import failing_requirements


def red(cases):
    return "\n".join(f"{c.requirement} {c.name}: {c.message[:300]}" for c in cases if c.outcome in ("failed", "error"))
from specs import load_spec
from specs.architecture import Architecture
from specs.load import DEFAULT_SPEC

HEALTHY = []
CATALOGUE = faults.catalogue(Architecture(load_spec(DEFAULT_SPEC)))


@pytest.mark.lab
@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_fault_turns_its_requirement_red_then_green(name, lab, audit):
    fault = faults.catalogue(lab)[name]
    client = docker_ops.client()
    if not HEALTHY:  # after the first fault, the previous test's last audit showed the lab healthy
        before = audit()
        assert not failing_requirements(before), f"the lab must be healthy before the fault:\n{red(before)}"
        HEALTHY.append(True)
    fault.apply(client)
    try:
        red_cases = audit()
    finally:
        fault.remove(client)
    failing = failing_requirements(red_cases)
    assert failing == {fault.requirement}, f"{name}: expected only {fault.requirement} red, got:\n{red(red_cases)}"
    after = audit()
    HEALTHY.clear()
    assert not failing_requirements(after), f"{name}: not green after the fault was removed:\n{red(after)}"
    HEALTHY.append(True)
