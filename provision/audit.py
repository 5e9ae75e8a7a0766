"""Run the suite's checks in this process and return what failed, with the spec targets themselves.

The checks are the measure: the provisioner fixes what they find red and asks them again afterwards.
Running pytest in-process (rather than reading JUnit XML) keeps each failing check's target as the
spec object it was parametrized with (a ContainerRef, LinkRef, Chain, Replica...), and the facts the
audit read, so a remediation needs no parsing of messages.
"""
import contextlib
import io
import os
from dataclasses import dataclass, field

import pytest

from fixtures import outcomes
from fixtures.inventory import ROOT


@dataclass
class Finding:
    requirement: str
    target: object          # the spec object the check ran over
    outcome: str            # failed | error
    message: str
    nodeid: str = field(compare=False, default="")

    @property
    def key(self):
        return (self.requirement, str(self.target))


@dataclass
class Audit:
    findings: list
    passed: set             # (requirement, target) keys of the checks that passed
    readings: object = None
    exit_code: int = 0
    output: str = ""

    def facts(self, machine):
        """What the audit read of a machine, or None if it was not read or could not be."""
        try:
            return self.readings[machine] if self.readings is not None else None
        except Exception:
            return None


class _Collector:
    def __init__(self):
        self.findings, self.passed, self.readings = [], set(), None

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item, call):
        rep = yield
        mark = item.get_closest_marker("requirement")
        callspec = getattr(item, "callspec", None)
        if mark and callspec and "target" in callspec.params and (rep.when == "call" or rep.failed):
            target, outcome = callspec.params["target"], outcomes.of_report(rep)
            if outcome in (outcomes.FAILED, outcomes.ERROR):
                text = rep.longreprtext.strip()
                self.findings.append(Finding(mark.args[0], target, outcome, text, item.nodeid))
            elif rep.when == "call" and outcome == outcomes.PASSED:
                self.passed.add((mark.args[0], str(target)))
        return rep

    def pytest_sessionfinish(self, session):
        self.readings = getattr(session.config, "offsuite_readings", None)


def run(inventory="lab", requirements=(), spec=None):
    """Audit the inventory's machines (only these requirements' checks, when given)."""
    args = ["checks", "-q", "-p", "no:cacheprovider", "--no-header", "-o", "addopts=", f"--inventory={inventory}"]
    args += [f"--requirement={r}" for r in requirements]
    if spec:
        args.append(f"--spec={spec}")
    collector, out = _Collector(), io.StringIO()
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        with contextlib.redirect_stdout(out):
            code = pytest.main(args, plugins=[collector])
    finally:
        os.chdir(cwd)
    if int(code) not in (0, 1, 5):   # 5: no check selected
        last = next((l for l in reversed(out.getvalue().splitlines()) if l.strip()), f"exit {int(code)}")
        last = last.strip().strip("!").strip()
        raise AuditStopped(f"the audit stopped: {last.split('Exit: ', 1)[-1]}")
    return Audit(collector.findings, collector.passed, collector.readings, int(code), out.getvalue())


class AuditStopped(Exception):
    """The checks could not run (bad spec or inventory...): str() is the audit's one-line reason."""
