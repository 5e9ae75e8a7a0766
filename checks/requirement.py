"""`@requirement(ID, over=..., reads=...)`: what ties a check to its requirement and its targets."""
import pytest

from specs.architecture import ContainerRef, HostRef


def reads_target(target, arch):
    """Default: a check reads the machine it is about."""
    return [target.name] if isinstance(target, (ContainerRef, HostRef)) else []


def requirement(req_id, over, reads=reads_target, safe=True):
    """Mark a check: its requirement ID, its targets (`over(arch)`), the machines it reads.

    safe=True means read-only, safe against production (marker `prod`); otherwise marker `lab`.
    """
    def mark(fn):
        fn = pytest.mark.requirement(req_id)(fn)
        fn = pytest.mark.targets(over, reads)(fn)
        fn = (pytest.mark.prod if safe else pytest.mark.lab)(fn)
        return fn
    return mark


def report(problems, where):
    """Fail with every problem at once (one line each, no traceback), so one run shows all to fix."""
    if problems:
        pytest.fail(f"{where}:\n  - " + "\n  - ".join(problems), pytrace=False)
