"""Which element of the architecture each check instance is about, from the spec and the checks' own
markers: a machine, a replication (source host -> target host), a stunnel link, or a web chain.

The report colours the drawing and fills the requirement x machine matrix with this; nothing here
names a host or a check: targets come from each check's `@requirement(over=...)` query of the spec.
"""
from functools import lru_cache

from checks import registry
from specs.architecture import Chain, ContainerRef, HostRef, LinkRef, PoolRef, Replica, StagingClone


def live_checks():
    """(module name, function name, marks by name) of every check function in checks/test_*.py
    (checks/registry.py)."""
    for check in registry.all_checks():
        yield check.module, check.name, check.marks


@lru_cache(maxsize=4)
def _check_targets(arch):
    """{module::function: {target id: target}} for every live check (static ones have no targets)."""
    return {check.id: {str(t): t for t in check.over(arch)} for check in registry.all_checks() if check.over}


def targets_of(arch, requirement=None):
    """{target id} a requirement's checks run over (every requirement's when None)."""
    out = set()
    for check, targets in _check_targets(arch).items():
        if requirement is None or _requirement_of(check) == requirement:
            out |= set(targets)
    return out


def _requirement_of(check_id):
    check = registry.find(check_id)
    return check.requirement if check else None


def target_object(arch, check, target_id):
    """The spec object a check instance ran over, or None (a static check, or a check unknown here)."""
    return _check_targets(arch).get(check, {}).get(target_id)


def element_of(arch, target):
    """The element a target is drawn as: ("machine", name) | ("replication", source, target) |
    ("link", name) | ("chain", public name); None when the target is none of these."""
    if isinstance(target, (ContainerRef, HostRef)):
        return ("machine", target.name)
    if isinstance(target, (PoolRef, StagingClone)):
        return ("machine", target.host)
    if isinstance(target, Replica):
        return ("replication", target.source, target.target)
    if isinstance(target, LinkRef):
        return ("link", target.name)
    if isinstance(target, Chain):
        return ("chain", target.public_name)
    if isinstance(target, str):
        if target in arch.spec.databases:
            return ("machine", arch.spec.databases[target].container)
        if target == arch.spec.web.images.public_name:
            return ("chain", target)
    return None


def elements_of_case(arch, case):
    """The elements a check instance (`reports.results.Case`) colours: its target's element, else the
    machines it read (a check this version of the suite does not know)."""
    element = element_of(arch, target_object(arch, case.check, case.target))
    if element:
        return [element]
    return [("machine", m) for m in case.machines]
