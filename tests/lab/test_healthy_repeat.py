"""The healthy lab audited five times in a row: no red, ever (no flaky check); and a run recorded
with --record gives the same verdicts when replayed with --replay, with no machine.

The first audit is the pytest run shared by the lab tests (tests/lab/conftest.py); the four after it read
every machine again and judge the readings in this process (tests/lab/inprocess.py, the same checks)."""
import pytest

from reports.results import failing_requirements
from tests.lab.inprocess import AccessPath, failing, red
from tests.lab.prod_access import red_lines


@pytest.mark.lab
def test_five_healthy_audits_in_a_row_and_replay(lab, audit, healthy_runs):
    first = healthy_runs.runs["docker"]
    assert first.cases and not failing_requirements(first.cases), f"audit 1 of 5 is red:\n{red_lines(first.cases)}"
    docker = AccessPath("docker")
    for i in range(2, 6):
        verdicts = docker.audit()
        assert verdicts and not failing(verdicts), f"audit {i} of 5 is red:\n{red(verdicts)}"
    kept = first.kept
    assert sorted(p.name for p in kept.glob("*.reading")) == sorted(f"{m.name}.reading" for m in lab.machines())
    replayed = audit(f"--replay={kept}", "--inventory=/nonexistent.yaml")
    assert {c.name: c.outcome for c in replayed} == {c.name: c.outcome for c in first.cases}
