"""The decisions made in one place (issue 17): which host runs a replication job, the check registry,
a check instance's verdict."""
import pytest

from checks import registry
from fixtures import outcomes
from fixtures.probes import MissingEvidence
from specs.architecture import JobRef


def _job():
    return JobRef("off2", "off1", "zfs-hdd/off", "zfs-hdd/off", True, "off1operator")


@pytest.mark.parametrize("mode, runner, remote", [("pull", "off1", "off2"), ("push", "off2", "off1")])
def test_the_receiver_pulls_the_source_pushes(arch, mode, runner, remote):
    rep = arch.spec.replication.model_copy(update={"mode": mode})
    assert (rep.runner(_job()), rep.remote(_job()), rep.pulls) == (runner, remote, mode == "pull")
    assert list(rep.runners()) == list(dict.fromkeys(getattr(j, "target" if mode == "pull" else "source")
                                                     for j in rep.jobs))


def test_the_registry_knows_every_check_once_with_its_requirement_and_targets():
    found = [c for c in registry.all_checks() if c.requirement]
    assert len({c.id for c in found}) == len(found) > 30
    assert all(c.over and c.reads for c in found), [c.id for c in found if not c.over]
    some = found[0]
    assert registry.find(some.id) is some and registry.find("checks.test_nothing::test_x") is None
    assert some in registry.by_requirement()[some.requirement]


@pytest.mark.parametrize("when, exc, verdict", [
    ("call", pytest.fail.Exception("x"), "failed"),
    ("setup", pytest.fail.Exception("x"), "error"),
    ("call", pytest.skip.Exception("x"), "skipped"),
    ("call", MissingEvidence("zfs: permission denied"), "failed"),
    ("setup", MissingEvidence("zfs: permission denied"), "error"),
])
def test_an_outcome_is_one_verdict(when, exc, verdict):
    got, message = outcomes.of_exception(when, exc)
    assert got == verdict
    if isinstance(exc, MissingEvidence):
        assert message == "no evidence: zfs: permission denied"


def test_a_bug_in_a_check_is_not_a_verdict():
    with pytest.raises(KeyError):
        outcomes.of_exception("call", KeyError("datasets"))


class _Report:
    def __init__(self, when, outcome):
        self.when, self.failed, self.skipped = when, outcome == "failed", outcome == "skipped"


@pytest.mark.parametrize("when, outcome, verdict", [("call", "failed", "failed"), ("setup", "failed", "error"),
                                                    ("teardown", "failed", "error"), ("call", "passed", "passed"),
                                                    ("setup", "skipped", "skipped")])
def test_a_pytest_report_is_one_verdict(when, outcome, verdict):
    assert outcomes.of_report(_Report(when, outcome)) == verdict
