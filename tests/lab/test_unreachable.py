"""A machine that cannot be reached errors its own checks and those comparing other machines with it, with
the reason; the rest of the audit completes."""
import pytest

from fixtures.lab import docker_ops
from fixtures.lab.state import docker_name


@pytest.mark.lab
def test_unreachable_container_errors_its_checks_alone(lab, audit):
    victim = lab.app_containers()[-1]
    container = docker_ops.client().containers.get(docker_name(victim.name))
    container.pause()
    try:
        cases = audit()
    finally:
        container.unpause()
    errors = [c for c in cases if c.outcome == "error"]
    others = [c for c in cases if c.outcome != "error"]
    assert errors, "the paused container's checks should be errors"
    assert any(c.target == victim.name for c in errors)
    # the others' errors are comparisons that read it (NET-1 compares every application's addresses)
    assert all(c.target == victim.name or victim.name in c.machines for c in errors), \
        [c.name for c in errors if victim.name not in c.machines]
    assert all("cannot be read" in c.message and victim.name in c.message for c in errors), errors[0].message
    # what a visitor gets of the names it serves is its outage seen from outside (WEB-5 red, through the proxy)
    served = {ch.public_name for ch in lab.chains() if ch.app.name == victim.name}
    outage = [c for c in others if c.outcome == "failed" and c.requirement == "WEB-5"
              and any(name in c.message for name in served)]
    assert others and all(c.outcome == "passed" or c in outage for c in others), \
        [c.name for c in others if c.outcome != "passed" and c not in outage]
    assert len(errors) + len(others) == len(cases)
