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


def section(text, name, lines, rc=0, err=""):
    """A reading with one probe's section replaced (added before the end marker if absent)."""
    import re
    block = f"@@@{name}\n" + "".join(l + "\n" for l in lines) + f"@@@.rc {name} {rc} {err}\n"
    pattern = re.compile(rf"^@@@{re.escape(name)}\n.*?^@@@\.rc {re.escape(name)} [^\n]*\n", re.S | re.M)
    if pattern.search(text):
        return pattern.sub(lambda m: block, text, count=1)
    return text.replace("@@@end\n", block + "@@@end\n", 1)


def zfs_snapshots(text, dataset, snapshots):
    """A reading whose `zfs get -Hp` lists exactly these snapshots of a dataset, each printed as
    OpenZFS 2.x prints a snapshot: (name after @, creation epoch, guid)."""
    import re
    lines = re.search(r"^@@@zfs\n(.*?)^@@@\.rc zfs", text, re.S | re.M).group(1).splitlines()
    kept = [l for l in lines if not l.startswith(dataset + "@")]
    for snap, created, guid in snapshots:
        name = f"{dataset}@{snap}"
        kept += [f"{name}\ttype\tsnapshot", f"{name}\torigin\t-", f"{name}\tcreation\t{created}",
                 f"{name}\tguid\t{guid}", f"{name}\tused\t0", f"{name}\tavailable\t-", f"{name}\tmountpoint\t-",
                 f"{name}\treadonly\t-"]
    return section(text, "zfs", kept)


def replaced(fleet, arch, machine, text):
    """The fleet with one machine's reading replaced."""
    out = Fleet(fleet)
    out[machine] = Facts(machine, text, plan(arch, machine))
    return out


def run(fn, target_id, fleet, arch):
    """Verdict of one check on the target whose id is target_id."""
    _, over, _ = marks(fn)
    target = next(t for t in over(arch) if str(t) == target_id)
    return verdict(fn, target, fleet, arch)
