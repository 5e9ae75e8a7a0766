"""The fix the provisioner would plan for a failing check, when the provisioner is there.

Guarded: `provision.plan.fix_for(requirement_id, target_id, arch) -> str | None` is used when it
exists (the provisioner, issue 11); otherwise the report shows no planned fix. Never raises.
"""
import importlib


def planner():
    try:
        module = importlib.import_module("provision.plan")
    except Exception:  # absent, or broken: the report goes on without planned fixes
        return None
    fn = getattr(module, "fix_for", None)
    return fn if callable(fn) else None


def planned_fix(fn, requirement, target, arch):
    if fn is None:
        return None
    try:
        text = fn(requirement, target, arch)
    except Exception:
        return None
    return str(text) if text else None
