"""Each fault of the lab turns exactly its requirement red, and the audit is green once it is removed; the
same lab, healthy and under each fault, gets the docker inventory's verdict through both prod access paths (ssh +
sudo with ProxyJump, ssh + pct exec on the host), for every check they run; and the provisioner plans a step for
each red case from that same reading (automatic where the fault has a safe fix, only manual where it has none).

The faults are applied in batches, each fault of a batch breaking a requirement of its own, and each batch is
read once by each path: every machine through docker (exactly the batch's requirements may turn red), then the
machines its red cases read through both prod paths at once (every path was shown equal on every machine of the
healthy lab); the verdicts are computed in this process from those readings (tests/lab/inprocess.py), judged as
the pytest audits (as users run them) judge them: the first test shows it on the readings they kept of the healthy
lab. When a batch's reading is
not exactly its requirements, each of its faults is read again alone (the authority for that fault). A batch's
removal is proven by the next batch's reading for the requirements that batch leaves green; for those it breaks
too, by a reading of their own of the machines of those requirements' red cases, before it is put in; after the
last batch, by an audit of its own."""
import time
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest

from fixtures.lab import docker_ops, faults, remediable
from provision.remedies import Action, Manual
from specs import load_spec
from specs.architecture import Architecture
from specs.load import DEFAULT_SPEC
from tests.conftest import ROOT
from tests.lab.inprocess import EVERY_PATH, PROVISIONER, READ_BY, AccessPath, audit_fault, failing, red, same_as_docker
from tests.lab.prod_access import PATHS


BATCH_SIZE = 20   # at most so many faults applied at once and read once (each of its own requirement)
AT_ONCE = 8       # faults of a batch put in (and taken out) at the same time: each mostly waits on its container


def batches(catalogue, size=BATCH_SIZE):
    """Fault names in as few batches as the catalogue allows (each read costs a reading of the whole lab by every
    path): within a batch every fault turns requirements of its own red and shares nothing (Fault.shares) with
    another; the most constrained faults placed first, each in the smallest batch it fits. The batch of a fault
    marked `first` comes first; then each batch is the one sharing the fewest requirements with the one before
    (what they share is proven removed by a reading of its own). A fault marked `alone`, or making other
    requirements err (Fault.errors), is a batch of its own, after the others. Within a batch, the faults whose
    removal restarts their container come first (taken out last: Fault.restarts)."""
    alone = [[n] for n in sorted(catalogue) if catalogue[n].alone or catalogue[n].errors]
    rest = [n for n in sorted(catalogue) if [n] not in alone]
    groups = {}
    for name in rest:
        groups.setdefault(catalogue[name].requirement, []).append(name)
    placing = sorted(rest, key=lambda n: (-len(catalogue[n].shares), -len(groups[catalogue[n].requirement]),
                                          catalogue[n].requirement, n))
    count = max([len(g) for g in groups.values()] + [-(-len(rest) // size)])
    while True:
        out = [[] for _ in range(count)]
        reds, shares = [set() for _ in out], [set() for _ in out]
        for name in placing:
            fault = catalogue[name]
            fits = [i for i in range(count) if len(out[i]) < size and not reds[i] & fault.reds
                    and not shares[i] & set(fault.shares)]
            if not fits:
                break
            i = min(fits, key=lambda i: (len(out[i]), i))
            out[i].append(name)
            reds[i] |= fault.reds
            shares[i] |= set(fault.shares)
        else:
            break
        count += 1
    reds_of = lambda batch: set().union(*(catalogue[n].reds for n in batch))
    left = sorted(range(count), key=lambda i: not any(catalogue[n].first for n in out[i]))
    ordered = [left.pop(0)]
    while left:
        ordered.append(min(left, key=lambda i: (len(reds_of(out[i]) & reds_of(out[ordered[-1]])), i)))
        left.remove(ordered[-1])
    return [sorted(out[i], key=lambda n: not catalogue[n].restarts) for i in ordered] + alone


CATALOGUE = faults.catalogue(Architecture(load_spec(DEFAULT_SPEC)))
BATCHES = batches(CATALOGUE)
ORDER = [name for batch in BATCHES for name in batch]
BATCH_OF = {name: i for i, batch in enumerate(BATCHES) for name in batch}
PENDING = []   # the faults removed last, their removal not yet proven by an audit
RED_ON = {}    # fault name -> {requirement: the machines its red cases read in the fault's batch's reading}
STEPS = []     # (seconds, what): the time of each step, written to reports/out/lab-fault-steps.txt at the end
STEPS_FILE = ROOT / "reports" / "out" / "lab-fault-steps.txt"


@contextmanager
def timed(what):
    start = time.monotonic()
    try:
        yield
    finally:
        STEPS.append((time.monotonic() - start, what))


def write_steps():
    """Where the module's time went (the slowest steps first), for the closing notes: not a test."""
    if STEPS:
        STEPS_FILE.parent.mkdir(parents=True, exist_ok=True)
        STEPS_FILE.write_text(f"{sum(t for t, _ in STEPS):.1f} s in {len(STEPS)} steps\n" + "".join(
            f"{t:7.1f} s  {what}\n" for t, what in sorted(STEPS, reverse=True)))


@pytest.fixture(scope="module")
def paths(lab):
    """{path: AccessPath}; the prod paths read with keys from their IdentityFile, no ssh-agent (as prod_audit).
    The hosts' job timers are held meanwhile (as for the whole session, tests/conftest.py; well within the
    maximum lag): a snapshot or replication run fired by its timer while a fault is in would fail because of it
    and leave its unit failed (OPS-2) into the next fault's audit."""
    client = docker_ops.client()
    try:
        with remediable.timers_held(client, lab), pytest.MonkeyPatch.context() as mp:
            mp.delenv("SSH_AUTH_SOCK", raising=False)
            built = {name: AccessPath(name) for name in EVERY_PATH}
            yield built
            if PENDING:   # a selection (-k) without the last test: the last removal is proven here
                prove_removed(built, list(PENDING))
    finally:
        write_steps()


def prove_removed(paths, removed, machines=None):
    """An audit of its own: the lab is green again after the faults' removal; machines: only the cases reading
    nothing but those machines (the ones the faults had turned red; the next batch's reading judges the rest)."""
    PENDING.clear()
    where = f" of {', '.join(sorted(machines))}" if machines else ""
    with timed(f"proved removed by an audit of its own{where}: {', '.join(f.name for f in removed)}"):
        docker = paths["docker"].audit(machines=sorted(machines) if machines else None)
    assert docker and not failing(docker), \
        f"{', '.join(f.name for f in removed)}: not green after the faults were removed:\n{red(docker)}"


def compare_paths(verdicts, when, paths=None, theirs=()):
    """Every case judged by a prod path as docker judges it; with paths: every red docker case of a check
    the path runs was judged by it. theirs: requirements of the other faults of a batch (their cases are
    judged on those faults, not on this one)."""
    assert all(path in verdicts for path in PATHS), f"{when}: not read through {PATHS}"
    problems = [(req, line) for path in PATHS for req, line in same_as_docker(verdicts["docker"], verdicts[path], path)]
    for path in PATHS if paths else ():
        runs = {fn.__name__ for _, fn in paths[path].checks}
        problems += [(req, f"{path}: {req} {name}: red through docker, not judged through {path}")
                     for (req, name), (outcome, _) in sorted(verdicts["docker"].items())
                     if outcome in ("failed", "error") and name.partition("[")[0] in runs
                     and (req, name) not in verdicts[path]]
    problems = [line for req, line in problems if req not in theirs]
    assert not problems, f"{when}: a prod path judges otherwise than the docker inventory:\n" + "\n".join(problems)


@pytest.mark.lab
def test_in_process_audits_give_the_pytest_audits_verdicts_on_the_healthy_lab(lab, paths, healthy_runs):
    """The bridge: the readings each pytest audit of the healthy lab kept (--record), judged in this process,
    give case for case that audit's outcome through each path; an ssh path runs exactly the checks marked
    prod (the others said, never run). (The in-process reading itself is judged by every batch below: a
    reading unlike the pytest audit's turns a requirement red that no fault of the batch breaks.)"""
    with timed("the healthy lab's kept readings judged in process, every path"):
        verdicts = {path: paths[path].judge_kept(healthy_runs.runs[path].kept) for path in EVERY_PATH}
    assert not failing(verdicts["docker"]), f"the lab must be healthy:\n{red(verdicts['docker'])}"
    problems = []
    for path in EVERY_PATH:
        ran = {(c.requirement, c.name): c.outcome for c in healthy_runs.runs[path].cases}
        here = {key: outcome for key, (outcome, _) in verdicts[path].items()}
        problems += [f"{path}: {key}: pytest {ran.get(key, 'not run')}, in process {here.get(key, 'not run')}"
                     f"{': ' + verdicts[path][key][1][:200] if key in verdicts[path] else ''}"
                     for key in sorted(ran.keys() | here.keys()) if ran.get(key) != here.get(key)]
    assert not problems, "the in-process audit judges otherwise than the pytest audit:\n" + "\n".join(problems)
    compare_paths(verdicts, "healthy lab")


@dataclass
class BatchReading:
    """A batch of faults applied at once and read once by every path; a fault whose requirement the batch's
    reading could not show alone (another requirement red, or its own not) is read again with no other in."""
    wanted: set
    verdicts: dict = field(default_factory=dict)
    problems: dict = field(default_factory=dict)   # fault name -> why its reading is not to be judged
    alone: dict = field(default_factory=dict)      # fault name -> verdicts read with that fault alone
    leftover: str = ""                             # the batch before, not green after its removal


def apply_read_remove(client, lab, paths, batch, reading, key=None):
    """Apply the faults (at once: they share nothing), read the lab by every path (docker on every machine, the
    prod paths on the machines of the red cases), remove them (at once; those whose removal restarts their
    container last, in reverse), pause the job timers again (a removal may have resumed them)."""
    applied = []
    try:
        def put_in(fault):
            try:
                with timed(f"apply {fault.name}"):
                    fault.apply(client)
            except Exception as exc:   # said on that fault; the others of its batch are read without it
                reading.problems[fault.name] = f"could not be applied: {exc}"
                try:
                    fault.remove(client)
                except Exception as undo:
                    reading.problems[fault.name] += f" (and not removed: {undo})"
                return False
            return True

        applied = [f for f, ok in zip(batch, docker_ops.at_once(put_in, batch, AT_ONCE)) if ok]
        if not applied:
            return
        if not key:
            reading.wanted = set().union(*(f.reds for f in applied))
        with timed(f"read by every path: {', '.join(f.name for f in applied)}"):
            # a fault saying what the other requirements of its host say as errors (a hung ZFS) makes the host's
            # reading wait out its time-outs: the hosts are read by the prod paths while docker reads
            verdicts = audit_fault(list(paths.values()), hosts_at_once=all(f.errors for f in applied))
        for fault in applied:
            RED_ON[fault.name] = {req: set().union(*(m for (r, _), m in verdicts[READ_BY].items() if r == req))
                                  for req in fault.reds}
        if key:
            reading.alone[key] = verdicts
        else:
            reading.verdicts = verdicts
    except Exception as exc:
        for fault in batch:
            reading.problems.setdefault(fault.name, f"the batch was not read: {type(exc).__name__}: {exc}")
    finally:
        def take_out(fault):
            try:
                with timed(f"remove {fault.name}"):
                    fault.remove(client)
            except Exception as exc:
                reading.problems[fault.name] = f"could not be removed: {exc}"

        # at once, but those whose removal restarts their container after the others, one at a time
        docker_ops.at_once(take_out, [f for f in applied if not f.restarts], AT_ONCE)
        for fault in reversed([f for f in applied if f.restarts]):
            take_out(fault)
        PENDING.extend(applied)
        remediable.pause_jobs(client, lab)


def read_batch(batch, lab, paths):
    client = docker_ops.client()
    reading = BatchReading(set().union(*(f.reds for f in batch)))
    previous = list(PENDING)
    shared = set().union(*(f.reds for f in previous)) & reading.wanted   # this batch's reading cannot tell them apart
    if shared:
        try:
            prove_removed(paths, previous, set().union(*(machines for f in previous for req, machines in
                                                          RED_ON.get(f.name, {}).items() if req in shared)) or None)
        except AssertionError as exc:
            reading.leftover = str(exc)
    PENDING.clear()
    apply_read_remove(client, lab, paths, batch, reading)
    if not reading.verdicts:
        return reading
    batch = [f for f in batch if f.name not in reading.problems]
    got = failing(reading.verdicts["docker"], expected_errors=batch[0].errors if len(batch) == 1 else "")
    left = (set().union(*(f.reds for f in previous)) - shared) & got   # the rest: this batch's reading
    if left:
        reading.leftover += (f"{', '.join(f.name for f in previous if f.reds & left)}: not green after the "
                             f"faults were removed (the next batch's reading):\n{red(reading.verdicts['docker'])}")
    if got != reading.wanted and len(batch) > 1:
        warnings.warn(f"batch {', '.join(f.name for f in batch)}: read {' '.join(sorted(got)) or 'green'} for "
                      f"{' '.join(sorted(reading.wanted))}; each of its faults read again alone")
        for fault in batch:   # read alone; each alone reading also proves the one before it removed
            PENDING.clear()
            apply_read_remove(client, lab, paths, [fault], reading, key=fault.name)
    return reading


READINGS = {}   # batch index -> BatchReading


def selected_faults(session):
    return {item.callspec.params["name"] for item in session.items
            if getattr(item, "originalname", "") == "test_fault_turns_its_requirement_red_then_green"}


@pytest.mark.lab
@pytest.mark.parametrize("name", ORDER)
def test_fault_turns_its_requirement_red_then_green(name, lab, paths, request):
    """The fault's requirement is red under it (with the other faults of its batch in: each of another
    requirement) and nothing else is, by docker and by both prod paths; green again after its removal (the
    next batch's reading, or an audit of its own)."""
    index = BATCH_OF[name]
    if index not in READINGS:
        chosen = selected_faults(request.session)
        catalogue = faults.catalogue(lab)
        READINGS[index] = read_batch([catalogue[n] for n in BATCHES[index] if n in chosen], lab, paths)
    reading = READINGS[index]
    fault = CATALOGUE[name]
    if name == next(n for n in BATCHES[index] if n in selected_faults(request.session)):
        assert not reading.leftover, reading.leftover
    assert name not in reading.problems, f"{name}: {reading.problems[name]}"
    alone = name in reading.alone
    verdicts = reading.alone[name] if alone else reading.verdicts
    wanted = fault.reds if alone else reading.wanted
    got = failing(verdicts["docker"], expected_errors=fault.errors if alone or len(BATCHES[index]) == 1 else "")
    if fault.errors:   # the fault declares what the other requirements say: it must be said, as errors only
        assert fault.requirement in got and failing(verdicts["docker"]) - got, (
            f"{name}: expected {fault.requirement} red and others erroring with {fault.errors!r}, got:\n"
            f"{red(verdicts['docker'])}")
    others = [n for n in BATCHES[index] if n != name and n in selected_faults(request.session)]
    assert got == wanted, (
        f"{name}: expected {' '.join(sorted(wanted))} red"
        + ("" if alone else f" (its batch: {', '.join(others)})") + f", got:\n{red(verdicts['docker'])}"
        + ("\n(read alone, its batch's reading having been otherwise)" if alone and others else ""))
    unshown = [case for case in fault.shows
               if not any(name == case and outcome == "failed" for (_, name), (outcome, _) in verdicts["docker"].items())]
    assert not unshown, f"{name}: expected red: {', '.join(unshown)}, got:\n{red(verdicts['docker'])}"
    theirs = set() if alone else set().union(*(CATALOGUE[n].reds for n in others)) - fault.reds
    compare_paths(verdicts, f"fault {name}" + ("" if alone else f" (with {', '.join(others)})"), paths, theirs)
    provisioner_judges(name, verdicts[PROVISIONER])


def provisioner_judges(name, planned):
    """The provisioner's plan of the fault's red cases, from the same reading: a step for each (never a crash);
    a fault with a safe fix gets an automatic one, a fault without gets only manual steps (apply never runs
    those: provision/run.py), each saying what to do."""
    fault = CATALOGUE[name]
    mine = {case: steps for (req, case), steps in planned.items() if req == fault.requirement}
    crashed = {case: steps for case, steps in mine.items() if isinstance(steps, str)}
    assert not crashed, f"{name}: the provisioner's plan raised: {crashed}"
    if not mine:   # its requirement red by errors only (nothing could be read): nothing to fix, nothing planned
        assert name not in remediable.FIXABLE + remediable.MANUAL, f"{name}: no failed case to plan a fix for"
        return
    assert all(mine.values()), f"{name}: no step planned for its red cases: {sorted(mine)}"
    steps = [s for found in mine.values() for s in found]
    if name in remediable.FIXABLE:
        assert any(isinstance(s, Action) for s in steps), f"{name}: no automatic fix planned: {steps}"
    if name in remediable.MANUAL:
        automatic = [s for s in steps if isinstance(s, Action)]
        assert not automatic, f"{name}: a fault without safe fix got an automatic one: {automatic}"
        assert all(isinstance(s, Manual) and s.what for s in steps), steps
    said = "\n".join(c for s in steps if isinstance(s, Manual) for c in [s.what, *s.commands])
    assert MANUAL_SAYS.get(name, "") in said, f"{name}: the manual step should say {MANUAL_SAYS[name]!r}:\n{said}"


# what the manual step of a fault that touches data must give the person: the commands that keep the data
MANUAL_SAYS = {"source-pruned-common-snapshots": "zfs rename",   # the diverged replica renamed aside, not destroyed
               "replica-missing": "syncoid",                      # the job run by hand, with --no-rollback
               "operator-may-destroy": "zfs unallow"}


@pytest.mark.lab
def test_the_lab_is_green_after_the_last_fault_is_removed(lab, paths):
    if not PENDING:
        pytest.skip("no fault was applied in this run")
    prove_removed(paths, list(PENDING))
