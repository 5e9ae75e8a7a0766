"""Fixtures of the suite's own tests."""
import subprocess
import sys
from pathlib import Path

import pytest

from reports.results import read_cases

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
    """The lab, up (brought up if needed; idempotent): waits for the bring-up started at collection."""
    from fixtures.inventory import map_lab_networks
    from fixtures.plugin import spec_path
    future = EARLY.pop("up", None)
    if future is not None:
        future.result()   # its failure is this fixture's
    else:
        _bring_up(spec_path(pytestconfig))
    return map_lab_networks(arch)


def is_lab(item):
    return item.get_closest_marker("lab") is not None or "lab" in getattr(item, "fixturenames", ())


def pytest_configure(config):
    config.addinivalue_line("markers", "last: run after every other test of the session (it tears the lab down)")


def pytest_collection_modifyitems(config, items):
    """The lab's tests after the others (the order kept otherwise), the `last` one at the very end; when lab
    tests are selected, the lab's bring-up starts now, in the background, while the others run (one bring-up
    is minutes of waiting on containers)."""
    items.sort(key=lambda item: (item.get_closest_marker("last") is not None, is_lab(item)))
    follow_the_faults(items)
    if any(is_lab(i) for i in items) and not config.option.collectonly and "up" not in EARLY:
        from concurrent.futures import ThreadPoolExecutor

        from fixtures.plugin import spec_path
        pool = ThreadPoolExecutor(1, thread_name_prefix="lab-bring-up")
        EARLY["up"] = pool.submit(_bring_up, spec_path(config))
        pool.shutdown(wait=False)


PROVISIONER_TEST = "test_fixable_faults_planned_applied_green_and_nothing_destroyed"


def follow_the_faults(items):
    """The provisioner's lab test right after the faults' (tests/lab/test_faults.py): the faults' module leaves the
    lab's job timers paused for it, and its own end resumes them, once for both (the runs the timers missed
    meanwhile, when a tick passed: every host's snapshots and replication, about 35 s)."""
    follow = [i for i in items if getattr(i, "originalname", "") == PROVISIONER_TEST]
    rest = [i for i in items if i not in follow]
    faults = [n for n, i in enumerate(rest) if getattr(getattr(i, "module", None), "__name__", "").endswith("test_faults")]
    if follow and faults:
        items[:] = rest[:faults[-1] + 1] + follow + rest[faults[-1] + 1:]


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
