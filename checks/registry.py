"""The suite's live checks, found in one place: every check function of checks/test_*.py with its
markers (requirement, targets). The report (reports/elements.py, reports/traceability.py), the offline
verdicts (checks/offline.py) and the provisioner read them here; pytest collects the same files."""
import importlib
import inspect
import pkgutil
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True, eq=False)
class Check:
    module: str        # test_zfs
    name: str          # the function's name
    fn: object
    marks: dict        # {marker name: Mark}

    @property
    def id(self):
        """`checks.test_zfs::test_x`, as the report names a check (reports/results.py)."""
        return f"checks.{self.module}::{self.name}"

    @property
    def path(self):
        """`checks/test_zfs.py::test_x`, as the traceability table names it."""
        return f"checks/{self.module}.py::{self.name}"

    @property
    def requirement(self):
        mark = self.marks.get("requirement")
        return mark.args[0] if mark else None

    @property
    def over(self):
        """The spec query the check is parametrized over (None: not parametrized from the spec)."""
        mark = self.marks.get("targets")
        return mark.args[0] if mark else None

    @property
    def reads(self):
        """(target, arch) -> [machine]: the machines one instance reads."""
        mark = self.marks.get("targets")
        return mark.args[1] if mark else None


@lru_cache(maxsize=1)
def all_checks():
    """(Check, ...) of every function of checks/test_*.py (helpers too: a check is one with a requirement
    or targets marker; the static checks, in checks/static/, apart)."""
    import checks
    out = []
    for info in pkgutil.iter_modules(checks.__path__):
        if not info.name.startswith("test_"):
            continue
        module = importlib.import_module(f"checks.{info.name}")
        for name, fn in inspect.getmembers(module, inspect.isfunction):
            out.append(Check(info.name, name, fn, {m.name: m for m in getattr(fn, "pytestmark", [])}))
    return tuple(out)


def by_requirement():
    """{requirement: [Check]} of the checks that name a requirement."""
    out = {}
    for check in all_checks():
        if check.requirement:
            out.setdefault(check.requirement, []).append(check)
    return out


def find(check_id):
    """The Check named `checks.<module>::<function>`, or None (a check this version does not know)."""
    return next((c for c in all_checks() if c.id == check_id), None)
