"""Fixtures of the suite's own tests."""
import subprocess
import sys
from pathlib import Path

import pytest

from reports.results import read_cases
from tests.lab_apart import LAB_TESTS, lower_priority, runs_lab, worker_id

ROOT = Path(__file__).resolve().parent.parent


FROM_NOTHING = []   # [True] once this session brought the lab up from nothing (no state left by an earlier one)
EARLY = {}          # {"up": Future} the lab's bring-up started at collection, while the tests without a lab run


def _bring_up(spec):
    """The lab up for a spec of its own (the bring-up maps the lab's networks on the Architecture it is given)."""
    from fixtures.archcache import memoized
    from fixtures.lab import bringup
    from fixtures.lab.state import STATE_DIR
    from specs import load_spec
    from specs.architecture import Architecture
    if not STATE_DIR.exists():
        FROM_NOTHING.append(True)
    bringup.up(memoized(Architecture(load_spec(spec))))


@pytest.fixture(scope="session")
def lab(arch, pytestconfig):
    """The lab, up (brought up if needed; idempotent): waits for the bring-up started at collection. Its hosts'
    job timers are held for the session (the runs in flight let finish): a 15-minute tick would otherwise start
    every host's snapshots and replication in the middle of whatever test runs then (half a minute of syncoid on
    every host, an audit reading a run half done, a test running the jobs by hand waiting for it). The snapshots
    stay well within the spec's maximum lag meanwhile; the timers resume at the session's end when the lab is
    still up (a lab brought up again meanwhile has its timers running)."""
    from fixtures.inventory import map_lab_networks
    from fixtures.lab import bringup, docker_ops, remediable
    from fixtures.plugin import spec_path
    assert runs_lab(pytestconfig), f"only tests under {LAB_TESTS} run on the lab's worker (tests/lab_apart.py)"
    future = EARLY.pop("up", None)
    if future is not None:
        future.result()   # its failure is this fixture's
    else:
        _bring_up(spec_path(pytestconfig))
    mapped = map_lab_networks(arch)
    client = docker_ops.client()
    remediable.hold_jobs(client, mapped)
    yield mapped
    remediable.release_jobs(client, mapped, resume=bringup.running(mapped))


def is_lab(item):
    return item.get_closest_marker("lab") is not None or "lab" in getattr(item, "fixturenames", ())


def pytest_configure(config):
    config.addinivalue_line("markers", "last: run after every other test of the session (it tears the lab down)")
    if worker_id(config):
        lower_priority(config)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """bin/test's workers: the lab's tests on one, the others on the other (tests/lab_apart.py)."""
    if config.getoption("dist") == "load":
        from tests.lab_apart import scheduler
        return scheduler(config, log)


def pytest_collection_modifyitems(config, items):
    """The lab's tests after the others (the order kept otherwise), the `last` one at the very end; when lab
    tests are selected, the lab's bring-up starts now, in the background, while the others run (one bring-up
    is minutes of waiting on containers); under bin/test's workers, by the worker of the lab's tests alone."""
    items.sort(key=lambda item: (item.get_closest_marker("last") is not None, is_lab(item)))
    if any(is_lab(i) for i in items) and not config.option.collectonly and "up" not in EARLY and runs_lab(config):
        from concurrent.futures import ThreadPoolExecutor

        from fixtures.plugin import spec_path
        pool = ThreadPoolExecutor(1, thread_name_prefix="lab-bring-up")
        EARLY["up"] = pool.submit(_bring_up, spec_path(config))
        pool.shutdown(wait=False)


def lab_audit(directory, *args, quiet=True):
    """The audit of the lab as a user runs it (a pytest process): (JUnit cases, stdout+stderr, the XML file)."""
    xml = directory / f"audit-{len(list(directory.iterdir()))}.xml"
    proc = subprocess.run([sys.executable, "-m", "pytest", *(["-q"] if quiet else []), "--inventory", "lab",
                           f"--junitxml={xml}", *args],
                          cwd=ROOT, capture_output=True, text=True)
    assert xml.exists(), f"the audit wrote no JUnit XML:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
    return read_cases(xml), proc.stdout + proc.stderr, xml


@pytest.fixture
def audit(tmp_path):
    """Run the audit on the lab as a user would (a pytest process) and return its JUnit cases."""
    return lambda *args: lab_audit(tmp_path, *args)[0]


# --- the time per test folder (tests/unit, tests/lab, ...), printed before pytest's closing line -------------

FOLDER_SECONDS = {}


def pytest_runtest_logreport(report):
    """Set-up, call and tear-down of each test, added to its folder (a session fixture, such as the lab's
    bring-up, counts in the folder of the first test that asks for it)."""
    path = report.nodeid.split("::")[0].split("/")
    folder = "/".join(path[:2]) if len(path) > 2 else path[0]
    FOLDER_SECONDS[folder] = FOLDER_SECONDS.get(folder, 0.0) + report.duration


def pytest_terminal_summary(terminalreporter):
    if len(FOLDER_SECONDS) < 2:
        return
    terminalreporter.write_sep("-", "time per test folder")
    for folder, seconds in sorted(FOLDER_SECONDS.items(), key=lambda kv: -kv[1]):
        terminalreporter.write_line(f"{seconds:8.1f}s  {folder}")
    terminalreporter.write_line(f"{sum(FOLDER_SECONDS.values()):8.1f}s  in all")
