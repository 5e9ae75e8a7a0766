"""The healthy lab audited five times in a row: no red, ever (no flaky check); and a run recorded
with --record gives the same verdicts when replayed with --replay, with no machine."""
import pytest

from reports.results import failing_requirements
from tests.lab.test_faults import red


@pytest.mark.lab
def test_five_healthy_audits_in_a_row_and_replay(lab, audit, tmp_path):
    kept = tmp_path / "readings"
    runs = [audit(f"--record={kept}") if i == 0 else audit() for i in range(5)]
    for i, cases in enumerate(runs, 1):
        assert cases and not failing_requirements(cases), f"audit {i} of 5 is red:\n{red(cases)}"
    assert sorted(p.name for p in kept.glob("*.reading")) == sorted(f"{m.name}.reading" for m in lab.machines())
    replayed = audit(f"--replay={kept}", "--inventory=/nonexistent.yaml")
    assert {c.name: c.outcome for c in replayed} == {c.name: c.outcome for c in runs[0]}
