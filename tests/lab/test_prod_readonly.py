"""A prod-shaped audit of the lab changes nothing on any machine (issue 9 point 6): a fingerprint of every lab
host and container (files under /etc /opt /srv /mnt /var/lib with mtimes and hashes, logs and journal
excepted; unit states and the links that enable or mask units; zfs datasets and snapshots; processes' command
lines) before and after an audit by each access path."""
import pytest

from tests.lab.prod_access import PATHS, changes


@pytest.mark.lab
def test_a_prod_audit_changes_nothing_on_any_lab_machine(lab, healthy_runs):
    """The fingerprints taken before and after the healthy lab's audit through each path (tests/lab/conftest.py)."""
    before, after = healthy_runs.before, healthy_runs.after
    assert all(len(lines) > 50 for lines in before.values()), "the fingerprint read too little to prove anything"
    for path in PATHS:
        cases = healthy_runs.runs[path].cases
        assert cases and any(c.outcome == "passed" for c in cases), f"the audit through {path} read nothing"
    diff = changes(before, after)
    assert not diff, "the prod audits changed the lab:\n" + "\n".join(diff[:40])
