"""Fail closed, probe by probe: a probe that failed (command absent, permission denied), printed
nothing where it must print something, or printed something malformed leaves no check green that
read it, and no check crashes."""
import re

import pytest

from fixtures.facts import Facts
from fixtures.gather import plan
from fixtures.probes import catalogue
from tests.recorded.harness import Fleet, checks, marks, verdict

RAW = {"nginx", "stunnel", "sanoid", "syncoid", "zfs_allow", "units"}   # free text, parsed by confs/


def _broken(text, probe, mode):
    """The reading with one probe's section replaced."""
    body = {"absent": ("", "127 /bin/sh: 1: tool: not found"),
            "denied": ("", "1 tool: Permission denied"),
            "empty": ("", "0 "),
            "malformed": ("~~ garbage \t\t line\n", "0 ")}[mode]
    pattern = re.compile(rf"^@@@{probe}\n.*?^@@@\.rc {probe} [^\n]*\n", re.S | re.M)
    assert pattern.search(text), f"{probe} not in the reading"
    return pattern.sub(lambda m: f"@@@{probe}\n{body[0]}@@@.rc {probe} {body[1]}\n", text, count=1)


class Watched(Facts):
    """Facts that remember whether a check asked for the broken probe."""
    asked = False

    def evidence(self, name):
        if name == self.broken:
            Watched.asked = True
        return super().evidence(name)


class Recorded(Facts):
    """Facts that note each (machine, probe) a check asks of them."""
    asked = set()

    def evidence(self, name):
        Recorded.asked.add((self.machine, name))
        return super().evidence(name)


@pytest.fixture(scope="module")
def askers(lab_readings, shipped):
    """{(machine, probe): [(requirement, check, target)]}: the checks that ask for that probe of that machine on
    the healthy readings. Only they can read it once it is broken: a check runs as on the healthy readings up
    to its first read of the broken probe (every other reading is the same), so one that never asks for it
    there never does."""
    fleet = Fleet({m: Recorded(m, f.text, plan(shipped, m)) for m, f in lab_readings.items()})
    out = {}
    for req, fn in checks():
        for target in marks(fn)[1](shipped):
            Recorded.asked = set()
            verdict(fn, target, fleet, shipped)
            for key in Recorded.asked:
                out.setdefault(key, []).append((req, fn, target))
    return out


def _cases():
    out = []
    for name, probe in catalogue().items():
        modes = ["absent", "denied"] + (["empty"] if probe.needs_output else []) + \
                (["malformed"] if name not in RAW else [])
        out += [(name, mode) for mode in modes]
    return out


@pytest.mark.parametrize("probe,mode", _cases())
def test_a_failed_probe_leaves_no_dependent_check_green(probe, mode, lab_readings, shipped, askers):
    machines = [m for m, f in sorted(lab_readings.items()) if probe in plan(shipped, m) and probe in f.sections]
    assert machines, f"no recorded machine was sent {probe}"
    wrongly_green = []
    for machine in machines:
        fleet = Fleet(lab_readings)
        broken = Watched(machine, _broken(lab_readings[machine].text, probe, mode), plan(shipped, machine))
        broken.broken = probe
        fleet[machine] = broken
        for req, fn, target in askers.get((machine, probe), []):
            Watched.asked = False
            outcome, message = verdict(fn, target, fleet, shipped)
            if not Watched.asked or catalogue()[probe].optional:
                continue
            if outcome in ("passed", "skipped"):
                wrongly_green.append(f"{machine}: {req} {target} {outcome} though {probe} was {mode}")
            else:
                assert "no evidence" in message or probe in RAW, f"{req} {target}: {message[:300]}"
    assert not wrongly_green, "\n".join(wrongly_green)
