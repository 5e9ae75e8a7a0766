"""Each fault of the lab turns exactly its requirement red, and the audit is green once it is removed; the
same lab, healthy and under each fault (applied once), gets the docker inventory's verdict through both prod
access paths (ssh + sudo with ProxyJump, ssh + pct exec on the host), for every check they run."""
import pytest

from fixtures.lab import docker_ops, faults
from reports.results import failing_requirements
from tests.lab.prod_access import PATHS, compare, inventory, not_prod_checks, prod_audit


def red(cases):
    return "\n".join(f"{c.requirement} {c.name}: {c.message[:300]}" for c in cases if c.outcome in ("failed", "error"))
from specs import load_spec
from specs.architecture import Architecture
from specs.load import DEFAULT_SPEC

HEALTHY = []
CATALOGUE = faults.catalogue(Architecture(load_spec(DEFAULT_SPEC)))
NOT_PROD = []   # checks not marked prod: the prod paths do not run them (lab-only), computed once


def same_verdicts_by_every_path(docker_cases, tmp_path, when):
    """Assert that each prod path gives the docker audit's outcome for every (requirement, target) it runs;
    what it does not run must be exactly the checks not marked prod (said, never silently skipped)."""
    if not NOT_PROD:
        NOT_PROD.append(not_prod_checks())
    problems = []
    for path in PATHS:
        cases, _ = prod_audit(tmp_path, inventory(path))
        diffs, unjudged = compare(docker_cases, cases, path)
        problems += diffs
        problems += [f"{path}: {req} {name}: not run through {path}, yet it is a prod check"
                     for req, name in unjudged if name.partition("[")[0] not in NOT_PROD[0]]
    assert not problems, f"{when}: a prod path judges otherwise than the docker inventory:\n" + "\n".join(problems)


@pytest.mark.lab
def test_every_path_gives_the_docker_verdicts_on_the_healthy_lab(lab, audit, tmp_path):
    cases = audit()
    assert not failing_requirements(cases), f"the lab must be healthy:\n{red(cases)}"
    same_verdicts_by_every_path(cases, tmp_path, "healthy lab")


@pytest.mark.lab
@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_fault_turns_its_requirement_red_then_green(name, lab, audit, tmp_path):
    fault = faults.catalogue(lab)[name]
    client = docker_ops.client()
    if not HEALTHY:  # after the first fault, the previous test's last audit showed the lab healthy
        before = audit()
        assert not failing_requirements(before), f"the lab must be healthy before the fault:\n{red(before)}"
        HEALTHY.append(True)
    fault.apply(client)
    try:
        red_cases = audit()
        failing = failing_requirements(red_cases)
        assert failing == {fault.requirement}, f"{name}: expected only {fault.requirement} red, got:\n{red(red_cases)}"
        same_verdicts_by_every_path(red_cases, tmp_path, f"fault {name}")
    finally:
        fault.remove(client)
    after = audit()
    HEALTHY.clear()
    assert not failing_requirements(after), f"{name}: not green after the fault was removed:\n{red(after)}"
    HEALTHY.append(True)
