"""Each fault of the lab turns exactly its requirement red, and the audit is green once it is removed; the
same lab, healthy and under each fault (applied once), gets the docker inventory's verdict through both prod
access paths (ssh + sudo with ProxyJump, ssh + pct exec on the host), for every check they run.

Each fault is applied once and read once by each path: every machine through docker (only the fault's
requirement may turn red), then the machines its red cases read through both prod paths at once (every path
was shown equal on every machine of the healthy lab); the verdicts are computed in this process from those
readings (tests/lab/inprocess.py), which the first test proves equal to the pytest audits' (as users run
them) on the healthy lab. A fault's removal is proven by the next
fault's audit (the faults are ordered so that two in a row never break the same requirement when the
catalogue allows it; otherwise, and after the last fault, by an audit of its own)."""
import pytest

from fixtures.lab import docker_ops, faults, remediable
from specs import load_spec
from specs.architecture import Architecture
from specs.load import DEFAULT_SPEC
from tests.lab.inprocess import EVERY_PATH, AccessPath, audit_every_path, audit_fault, failing, red, same_as_docker
from tests.lab.prod_access import PATHS


def interleaved(catalogue):
    """Fault names, sorted within a requirement, ordered so that no two in a row break the same requirement
    when the catalogue allows it (the most numerous requirement first among those allowed)."""
    groups = {}
    for name in sorted(catalogue):
        groups.setdefault(catalogue[name].requirement, []).append(name)
    order, last = [], None
    while groups:
        allowed = [r for r in groups if r != last] or list(groups)
        req = min(allowed, key=lambda r: (-len(groups[r]), r))
        order.append(groups[req].pop(0))
        if not groups[req]:
            del groups[req]
        last = req
    return order


CATALOGUE = faults.catalogue(Architecture(load_spec(DEFAULT_SPEC)))
ORDER = interleaved(CATALOGUE)
PENDING = []   # the fault removed last, its removal not yet proven by an audit


@pytest.fixture(scope="module")
def paths(lab):
    """{path: AccessPath}; the prod paths read with keys from their IdentityFile, no ssh-agent (as prod_audit).
    The hosts' job timers are paused meanwhile (well within the maximum lag): a snapshot or replication run
    fired by its timer while a fault is in would fail because of it and leave its unit failed (OPS-2) into
    the next fault's audit. Resumed at the end: the jobs run once on every host, then their timers."""
    client = docker_ops.client()
    remediable.pause_jobs(client, lab)
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.delenv("SSH_AUTH_SOCK", raising=False)
            built = {name: AccessPath(name) for name in EVERY_PATH}
            yield built
            if PENDING:   # a selection (-k) without the last test: the last removal is proven here
                prove_removed(built, PENDING.pop())
    finally:
        remediable.pause_jobs(client, lab, resume=True)


def prove_removed(paths, fault):
    """An audit of its own: the lab is green again after the fault's removal."""
    docker = paths["docker"].audit()
    assert not failing(docker), f"{fault.name}: not green after the fault was removed:\n{red(docker)}"


def compare_paths(verdicts, when, paths=None):
    """Every case judged by a prod path as docker judges it; with paths: every red docker case of a check
    the path runs was judged by it."""
    assert all(path in verdicts for path in PATHS), f"{when}: not read through {PATHS}"
    problems = [line for path in PATHS for line in same_as_docker(verdicts["docker"], verdicts[path], path)]
    for path in PATHS if paths else ():
        runs = {fn.__name__ for _, fn in paths[path].checks}
        problems += [f"{path}: {req} {name}: red through docker, not judged through {path}"
                     for (req, name), (outcome, _) in sorted(verdicts["docker"].items())
                     if outcome in ("failed", "error") and name.partition("[")[0] in runs
                     and (req, name) not in verdicts[path]]
    assert not problems, f"{when}: a prod path judges otherwise than the docker inventory:\n" + "\n".join(problems)


@pytest.mark.lab
def test_in_process_audits_give_the_pytest_audits_verdicts_on_the_healthy_lab(lab, paths, healthy_runs):
    """The bridge: the readings judged in this process give, case for case, the pytest audit's outcome
    through each path; an ssh path runs exactly the checks marked prod (the others said, never run)."""
    verdicts = audit_every_path(list(paths.values()))
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


@pytest.mark.lab
@pytest.mark.parametrize("name", ORDER)
def test_fault_turns_its_requirement_red_then_green(name, lab, paths):
    fault = faults.catalogue(lab)[name]
    client = docker_ops.client()
    previous = PENDING.pop() if PENDING else None
    if previous and previous.requirement == fault.requirement:   # this audit could not tell them apart
        prove_removed(paths, previous)
        previous = None
    fault.apply(client)
    try:
        verdicts = audit_fault(list(paths.values()))
        got = failing(verdicts["docker"], expected_errors=fault.errors)
        if fault.errors:   # the fault declares what the other requirements say: it must be said, as errors only
            assert fault.requirement in got and failing(verdicts["docker"]) - got, (
                f"{name}: expected {fault.requirement} red and others erroring with {fault.errors!r}, got:\n"
                f"{red(verdicts['docker'])}")
        if previous:
            assert previous.requirement not in got, \
                f"{previous.name}: not green after the fault was removed:\n{red(verdicts['docker'])}"
        assert got == {fault.requirement}, (
            f"{name}: expected only {fault.requirement} red, got:\n{red(verdicts['docker'])}"
            + (f"\n(the fault before, {previous.name}, was removed just before this one was applied)"
               if previous else ""))
        compare_paths(verdicts, f"fault {name}", paths)
    finally:
        fault.remove(client)
        PENDING.append(fault)
        remediable.pause_jobs(client, lab)   # a fault's removal may have resumed the timers it paused


@pytest.mark.lab
def test_the_lab_is_green_after_the_last_fault_is_removed(lab, paths):
    if not PENDING:
        pytest.skip("no fault was applied in this run")
    prove_removed(paths, PENDING.pop())
