"""Run the suite's checks on readings held in memory (no pytest run, no machine): the verdict of one
check on one target, as the audit would give it (set-up evidence check included)."""
import inspect
from pathlib import Path

import pytest

from fixtures.facts import Facts
from fixtures.gather import plan
from fixtures.plugin import FactsView
from fixtures.probes import MissingEvidence
from fixtures.readings import Unreachable
from reports.traceability import live_checks

HERE = Path(__file__).resolve().parent
LAB = HERE / "lab"


def load_dir(directory, arch):
    return {p.stem: Facts(p.stem, p.read_text(), plan(arch, p.stem)) for p in Path(directory).glob("*.reading")}


class Fleet(dict):
    """{machine: Facts}; a machine not held is unreachable."""

    def __missing__(self, machine):
        raise Unreachable(f"{machine}: not in the recorded fleet")


def checks(requirements=None):
    """[(requirement, check function)] of the live checks."""
    import importlib
    out = []
    for req, names in live_checks().items():
        if requirements is None or req in requirements:
            for name in names:
                module, fn = name.removesuffix("").split("::")
                out.append((req, getattr(importlib.import_module(module[:-3].replace("/", ".")), fn)))
    return out


def marks(fn):
    got = {m.name: m for m in fn.pytestmark}
    return got["requirement"].args[0], got["targets"].args[0], got["targets"].args[1]


def verdict(fn, target, fleet, arch):
    """('passed'|'failed'|'error'|'skipped', message). A traceback is a bug: it propagates."""
    req, _, reads = marks(fn)
    try:
        view = FactsView(fleet, reads(target, arch), req)
    except pytest.fail.Exception as exc:
        return "error", str(exc)
    kwargs = {"target": target, "facts": view, "arch": arch}
    params = inspect.signature(fn).parameters
    try:
        fn(**{k: v for k, v in kwargs.items() if k in params})
    except pytest.fail.Exception as exc:
        return "failed", str(exc)
    except pytest.skip.Exception as exc:
        return "skipped", str(exc)
    except MissingEvidence as exc:
        return "failed", f"no evidence: {exc}"
    return "passed", ""


def verdicts(fleet, arch, requirements=None):
    """{(requirement, target id): (outcome, message)} over every target of the selected checks."""
    out = {}
    for req, fn in checks(requirements):
        _, over, _ = marks(fn)
        for target in over(arch):
            out[(req, str(target))] = verdict(fn, target, fleet, arch)
    return out
