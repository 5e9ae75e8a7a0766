"""Fixtures of the lab tests: the healthy lab audited once by each access path as a user runs it (pytest
processes), shared by the tests that judge such a run (green through each path, read-only, no secret in
any output, the verdicts the fault tests compare with): one audit per path instead of one per test."""
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import lab_audit
from tests.lab.prod_access import PATHS, fingerprint, inventory, prod_audit


@dataclass
class Run:
    cases: list
    output: str        # stdout and stderr of the run, and its JUnit XML
    xml: Path
    kept: Path         # the readings it kept (--record)


@dataclass
class HealthyRuns:
    runs: dict         # {"docker" | "jump" | "pct": Run}
    before: dict       # fingerprint of every machine before the prod-path runs
    after: dict        # ... and after them


TAKEN = {}   # {the lab's known_hosts (new host keys at each bring-up from nothing): HealthyRuns}


@pytest.fixture
def healthy_runs(lab, tmp_path_factory):
    """The two prod paths (`-m prod`, -vv, --record) between two fingerprints of every machine, then the
    docker inventory (-vv -rA, --record): each once per lab, on the healthy lab (taken again after the lab
    was torn down and brought up, with its new keys and PSKs)."""
    from fixtures.lab import access
    key = (access.ACCESS_DIR / "known_hosts").read_text()
    if key not in TAKEN:
        TAKEN.clear()
        TAKEN[key] = _take(lab, tmp_path_factory)
    return TAKEN[key]


def _take(lab, tmp_path_factory):
    def prod_run(path, directory):
        kept = directory / "readings"
        cases, output = prod_audit(directory, inventory(path), "-vv", f"--record={kept}")
        return Run(cases, output, max(directory.glob("prod-*.xml")), kept)

    before = fingerprint(lab)
    folders = {path: tmp_path_factory.mktemp(f"healthy-{path}") for path in PATHS}
    with ThreadPoolExecutor(len(PATHS)) as pool:   # the prod paths' audits at once, as two on-call engineers
        runs = dict(zip(PATHS, pool.map(prod_run, PATHS, [folders[p] for p in PATHS])))
    after = fingerprint(lab)
    directory = tmp_path_factory.mktemp("healthy-docker")
    kept = directory / "readings"
    cases, output, xml = lab_audit(directory, "checks", "-vv", "-rA", f"--record={kept}", quiet=False)
    runs["docker"] = Run(cases, output + xml.read_text(), xml, kept)
    return HealthyRuns(runs, before, after)
