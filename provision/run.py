"""Plan and apply: audit, map each failing check to its remediation, let pyinfra say what would change,
apply on request, then ask the affected checks again.

pyinfra does the work: facts, idempotence (an operation that would change nothing yields no command),
file diffs (Config.DIFF, captured from its logger), execution and results. This module only collects
its answers per machine, prints them, and logs every change (machine, operation, result).
"""
import datetime
import logging
import re
import time
from dataclasses import dataclass, field

from pyinfra.api import FileUploadCommand, StringCommand
from pyinfra.api.connect import connect_all, disconnect_all
from pyinfra.api.exceptions import PyinfraError
from pyinfra.api.operation import add_op
from pyinfra.api.operations import run_ops
from pyinfra.context import ctx_host, ctx_state

from provision import audit as audit_mod
from provision.machines import state_for
from provision.remedies import Action, Manual, steps_for

ANSI = re.compile(r"\x1b\[[0-9;]*m")


@dataclass
class PlannedOp:
    action: Action
    name: str
    meta: object = None            # pyinfra OperationMeta
    will_change: bool = False
    diff: list = field(default_factory=list)
    commands: list = field(default_factory=list)


@dataclass
class Plan:
    audit: object
    actions: list
    manual: list
    ops: list = field(default_factory=list)
    errors: list = field(default_factory=list)     # checks that errored (unreachable...): nothing to plan
    state: object = None

    @property
    def changing(self):
        return [o for o in self.ops if o.will_change]


class _Capture(logging.Handler):
    """pyinfra logs its diffs (Config.DIFF) while an operation is added: keep them for the plan."""

    def __init__(self):
        super().__init__(logging.INFO)
        self.lines, self.on = [], False

    def emit(self, record):
        if self.on:
            self.lines.append(ANSI.sub("", record.getMessage()))


def _command_text(cmd):
    if isinstance(cmd, FileUploadCommand):
        return f"upload -> {cmd.dest}"
    if isinstance(cmd, StringCommand):
        return cmd.get_masked_value()
    return str(cmd)


def plan(arch, inventory, requirements=(), spec=None):
    """Audit (the spec given, else the default), then plan every remediation with pyinfra (facts read,
    nothing changed)."""
    audited = audit_mod.run(inventory.path, requirements, spec)
    steps, seen = [], set()
    for f in audited.findings:
        if f.outcome != "failed":
            continue
        for s in steps_for(f, arch, audited):
            if isinstance(s, Action) and s.key in seen:
                continue   # two failing checks, one fix (two links sharing a key, one replication run)
            seen.add(getattr(s, "key", None))
            steps.append(s)
    p = Plan(audited, [s for s in steps if isinstance(s, Action)], merge_manual(s for s in steps if isinstance(s, Manual)),
             errors=[f for f in audited.findings if f.outcome == "error"])
    if not p.actions:
        return p
    machines = sorted({a.machine for a in p.actions})
    state, hosts = state_for(inventory, machines)
    state.check_for_changes = False   # the single pass below tells what would change
    p.state = state
    log = logging.getLogger("pyinfra")
    capture = _Capture()
    log.addHandler(capture)
    log.propagate, log.level = False, logging.INFO
    try:
        connect_all(state)
        for a in p.actions:
            host = hosts[a.machine]
            for op, kwargs in a.ops:
                meta = add_op(state, op, host=host, **kwargs)[host]
                # one pass of pyinfra's command generator: it reads the facts, logs the diff (Config.DIFF,
                # off for secrets) and yields the commands it would run; none means nothing to change
                capture.lines, capture.on = [], not a.secret
                state.config.DIFF = not a.secret
                try:
                    with ctx_state.use(state), ctx_host.use(host):
                        commands = [_command_text(c) for c in
                                    state.get_op_data_for_host(host, meta._hash).command_generator()]
                finally:
                    capture.on, state.config.DIFF = False, False
                planned = PlannedOp(a, kwargs["name"], meta, bool(commands),
                                    [] if a.secret else [l for l in capture.lines if l.strip()], commands)
                p.ops.append(planned)
            if not any(o.will_change for o in p.ops if o.action is a):   # pyinfra finds nothing to change
                p.manual.append(a.fallback or Manual(a.machine, a.requirement, a.target,
                                                     f"the automatic fix ({a.what}) finds nothing to change; "
                                                     "the check's finding needs a person"))
    finally:
        log.removeHandler(capture)
    return p


def merge_manual(steps):
    """One manual step for the targets that need the same commands on the same machine (the backups'
    retention of 30 replicas is one edit of one file)."""
    merged = {}
    for m in steps:
        key = (m.machine, m.requirement, tuple(m.commands)) if m.commands else id(m)
        merged.setdefault(key, []).append(m)
    out = []
    for group in merged.values():
        first = group[0]
        target = first.target + (f" (+{len(group) - 1} more: {', '.join(g.target for g in group[1:])})"
                                 if len(group) > 1 else "")
        out.append(Manual(first.machine, first.requirement, target, first.what, first.commands))
    return out


def render(p, inventory, applying=False):
    """The plan, per machine: each action, what it changes (diffs, commands), then the manual steps."""
    out = []
    reds = [f for f in p.audit.findings if f.outcome == "failed"]
    changing = p.changing
    out.append(f"provision: {len(reds)} failing check(s) on inventory {inventory.path.stem}; "
               f"{len(changing)} change(s) planned on {len({o.action.machine for o in changing})} machine(s), "
               f"{len(p.manual)} manual step(s)" + ("" if applying else "; nothing changed (plan only)"))
    by_machine = {}
    for o in p.ops:
        by_machine.setdefault(o.action.machine, []).append(o)
    for machine in sorted(by_machine):
        ops = [o for o in by_machine[machine] if o.will_change]
        if not ops:
            continue
        out.append(f"== {machine} ({inventory.describe(machine)})")
        seen = None
        for o in ops:
            if o.action is not seen:
                out.append(f"  [{o.action.requirement} {o.action.target}] {o.action.what}")
                seen = o.action
            out.append(f"    * {o.name}")
            out += [f"        {l}" for l in o.diff]
            out += [f"        $ {c}" for c in o.commands]
    if p.manual:
        out.append("== manual steps (no safe automatic fix; apply never does these)")
        for m in p.manual:
            out.append(f"  [{m.requirement} {m.target}] on {m.machine}: {m.what}")
            out += [f"        {c}" for c in m.commands]
    for e in p.errors:
        out.append(f"  cannot check [{e.requirement} {e.target}]: {e.message.splitlines()[-1][:200]}")
    return "\n".join(out)


def apply(inventory, p, log_path, spec=None):
    """Run the planned operations, log each (machine, operation, result), then audit the affected checks again."""
    results = []
    if p.changing:
        try:
            run_ops(p.state)
        except PyinfraError as exc:
            results.append(("-", "run", f"stopped: {exc}"))
        finally:
            disconnect_all(p.state)
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    lines = []
    for o in p.changing:
        m = o.meta
        if not m.is_complete():
            result = "not run"
        elif m.did_error():
            result = "FAILED: " + " | ".join((m.stderr_lines or m.stdout_lines)[-2:])[:200]
        else:
            result = "changed" if m.did_change() else "unchanged"
        lines.append(f"{stamp} {o.action.machine} [{o.action.requirement}] {o.name}: {result}")
    lines += [f"{stamp} {machine} {what}: {result}" for machine, what, result in results]
    with open(log_path, "a") as f:
        f.write("".join(l + "\n" for l in lines))
    reqs = sorted({o.action.requirement for o in p.changing})
    again = audit_mod.run(inventory.path, reqs, spec) if reqs else None
    verdict = []
    for f in p.audit.findings:
        if f.outcome != "failed" or f.requirement not in reqs:
            continue
        green = again is not None and f.key in again.passed
        verdict.append((f, green))
    return lines, verdict


def timed(fn, *args, **kwargs):
    t0 = time.monotonic()
    result = fn(*args, **kwargs)
    return result, time.monotonic() - t0
