"""What goes wrong on the prod path gives one clear line for the machines concerned while the others are
audited (issue 9): a changed host key, an unknown host, a hung command, a wrong key, a missing sudo right.
No key, passphrase or PSK appears in any output, report or log of these runs."""
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from fixtures.inventory import load_inventory
from fixtures.lab import access, docker_ops
from fixtures.lab.state import docker_name
from tests.conftest import ROOT
from tests.lab.inprocess import AccessPath
from tests.lab.prod_access import inventory, leaks, machines, prod_audit, red_lines, verdicts

HANG_SECONDS = 4   # the per-command time-out of the hung-command case


def new_key(path):
    key = ed25519.Ed25519PrivateKey.generate()
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                                       serialization.NoEncryption()))
    path.chmod(0o600)
    return key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()


def variant(tmp_path, path="jump", known_hosts=None, ssh_config=None, timeouts=None, name="variant"):
    """A copy of the lab's inventory with another known_hosts, ssh_config or time-outs."""
    text = inventory(path).read_text()
    if known_hosts:
        text = text.replace(str(access.ACCESS_DIR / "known_hosts"), str(known_hosts))
    if ssh_config:
        text = text.replace(str(access.ACCESS_DIR / "ssh_config"), str(ssh_config))
    if timeouts:
        text = text.replace(f"command: {access.TIMEOUTS['command']}", f"command: {timeouts}")
    out = tmp_path / f"{name}.yaml"
    out.write_text(text)
    return out


def concerned_machines(arch, machine):
    """A machine and, for a host, the containers reached through it."""
    return {machine} | ({c.name for c in arch.containers() if c.host == machine} if machine in arch.spec.hosts else set())


@pytest.fixture
def healthy(lab, healthy_runs):
    run = healthy_runs.runs["jump"]
    assert not leaks(lab, run.output)
    return verdicts(run.cases)


def judge(arch, healthy, cases, output, concerned, expect, elsewhere=frozenset()):
    """Every case reading a concerned machine errors with a first line naming the machine and containing
    each text of expect; every other case is judged as on the healthy lab. elsewhere: the machines another
    thing wrong of the same audit stops (a case reading both may name either, with that one's reason)."""
    assert cases, "the audit judged nothing"
    mine = [c for c in cases if set(c.machines) & concerned]
    others = [c for c in cases if not set(c.machines) & (concerned | elsewhere)]
    assert mine, f"no case read {sorted(concerned)}"
    for c in mine:
        first = c.message.splitlines()[0] if c.message else ""
        assert c.outcome == "error", f"{c.name}: {c.outcome}, expected an error: {first}"
        if set(c.machines) & elsewhere:
            assert any(m in first for m in concerned | elsewhere), f"{c.name}: the first line should name a machine: {first}"
            continue
        assert any(m in first for m in concerned) and all(t in first for t in expect), \
            f"{c.name}: the first line should name the machine and say {expect}: {first}"
    moved = [f"{c.name}: {healthy.get((c.requirement, c.name))} -> {c.outcome}: {c.message[:200]}"
             for c in others if healthy.get((c.requirement, c.name)) != c.outcome]
    assert not moved, "the other machines were not audited as on the healthy lab:\n" + "\n".join(moved)
    assert not leaks(arch, output), f"secrets in the output: {leaks(arch, output)}"
    return mine


def victims(arch):
    """(an application container whose host key changed, a Proxmox host unknown to known_hosts, an application
    container whose IdentityFile is a key it does not know): the host one that runs neither container."""
    apps = arch.app_containers()
    changed, wrong = apps[0], apps[-1]
    spare = [h for h in reversed(list(arch.spec.hosts)) if h not in {changed.host, wrong.host}]
    assert spare, (f"the spec's hosts {', '.join(arch.spec.hosts)} all run {changed.name} or {wrong.name}: the "
                   "unknown host must be one that runs neither")
    return changed.name, spare[0], wrong.name


def three_things_wrong(arch, folder):
    """The on-call engineer's files with three things wrong at once, each on machines of its own: a container's
    known_hosts line replaced by another key's, a Proxmox host's known_hosts line removed, another container's
    IdentityFile a key it does not know. (inventory, {variant: (machines concerned, texts their first line
    must hold)})."""
    changed, host, wrong = victims(arch)
    addresses = access.addresses(arch)
    other = new_key(folder / "other")
    known = folder / "known_hosts"
    lines = []
    for line in (access.ACCESS_DIR / "known_hosts").read_text().splitlines(True):
        if line.startswith(f"{addresses[host][0]} "):
            continue   # the unknown host
        lines.append(f"{addresses[changed][0]} {other}\n" if line.startswith(f"{addresses[changed][0]} ") else line)
    known.write_text("".join(lines))
    new_key(folder / "wrong")
    text = (access.ACCESS_DIR / "ssh_config").read_text()
    head, _, rest = text.partition(f"Host {wrong}\n")
    block, sep, tail = rest.partition("\nHost ")
    block = block.replace(str(access.ACCESS_DIR / "oncall_ed25519"), str(folder / "wrong"))
    config = folder / "ssh_config"
    config.write_text(f"{head}Host {wrong}\n{block}{sep}{tail}")
    return variant(folder, known_hosts=known, ssh_config=config), {
        "changed-host-key": ({changed}, ["SHA256:"]),
        "unknown-host": (concerned_machines(arch, host), []),
        "wrong-key": ({wrong}, []),
    }


@pytest.fixture(scope="module")
def variant_audits(lab, tmp_path_factory):
    """{variant: (cases, output, machines concerned, texts their first line must hold, machines the audit's
    other variants stop)}: the on-call engineer's files audited twice at once (read-only audits, as two
    engineers at once would): with three things wrong, each on machines of its own (a changed host key, an
    unknown host, a wrong key), and as an account that may run nothing through sudo."""
    wrong_folder, nosudo_folder = tmp_path_factory.mktemp("three-wrong"), tmp_path_factory.mktemp("no-sudo")
    inventory_file, parts = three_things_wrong(lab, wrong_folder)
    with ThreadPoolExecutor(2) as pool:
        wrong = pool.submit(prod_audit, wrong_folder, inventory_file)
        nosudo = pool.submit(prod_audit, nosudo_folder, access.ACCESS_DIR / "inventory-nosudo.yaml")
        (cases, output), nosudo_run = wrong.result(), nosudo.result()
    out = {"no-sudo": (*nosudo_run, set(), [], set())}
    for name, (concerned, expect) in parts.items():
        elsewhere = set().union(*(m for other, (m, _) in parts.items() if other != name))
        out[name] = (cases, output, concerned, expect, elsewhere)
    return out


@pytest.mark.lab
def test_a_changed_host_key_stops_that_machine_alone(lab, healthy, variant_audits):
    judge(lab, healthy, *variant_audits["changed-host-key"])


@pytest.mark.lab
def test_an_unknown_host_stops_it_and_its_containers(lab, healthy, variant_audits):
    cases, output, concerned, expect, elsewhere = variant_audits["unknown-host"]
    judge(lab, healthy, cases, output, concerned, expect, elsewhere)
    victim = next(m for m in concerned if m in lab.spec.hosts)
    host_cases = [c for c in cases if victim in c.machines and not set(c.machines) & elsewhere]
    assert host_cases, f"no case read {victim} alone"
    assert all("SHA256:" in c.message.splitlines()[0] for c in host_cases), host_cases[0].message


@pytest.mark.lab
def test_a_wrong_key_stops_that_machine_alone(lab, healthy, variant_audits):
    judge(lab, healthy, *variant_audits["wrong-key"])


HANG = """set -e; [ -e /usr/bin/ss.offsuite-real ] || mv /usr/bin/ss /usr/bin/ss.offsuite-real
printf '#!/bin/sh\\necho $$ >> /run/offsuite-hang.pids\\nexec sleep 600\\n' > /usr/bin/ss; chmod 0755 /usr/bin/ss"""
UNHANG = """[ -e /usr/bin/ss.offsuite-real ] && mv /usr/bin/ss.offsuite-real /usr/bin/ss
[ -e /run/offsuite-hang.pids ] && kill $(cat /run/offsuite-hang.pids) 2>/dev/null; rm -f /run/offsuite-hang.pids; true"""


class OneMachineBound:
    """The lab's ssh inventory, but the hung machine read through a copy with the short command time-out:
    only the machine under test gets the short bound (the others keep the inventory's, however loaded the
    machine running the tests)."""

    def __init__(self, normal, short, victim):
        self.normal, self.short, self.victim = normal, short, victim
        self.kind, self.arch, self.inv = normal.kind, normal.arch, normal.inv   # inv: its outside settings too

    def _of(self, machine):
        return self.short if machine == self.victim else self.normal

    def describe(self, machine):
        return self._of(machine).describe(machine)

    def read(self, machine):
        return self._of(machine).read(machine)

    def close(self):
        self.normal.close()
        self.short.close()


@pytest.mark.lab
@pytest.mark.parametrize("path", ["jump", "pct"])
def test_a_hung_command_errors_that_machine_within_the_time_out(lab, healthy, tmp_path, path, monkeypatch):
    """In this process (the audit's readings and checks, tests/lab/inprocess.py): one inventory object
    per time-out, the short one for the hung machine alone."""
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    victim = lab.app_containers()[0].name
    reader = AccessPath(path)
    bound = OneMachineBound(load_inventory(inventory(path), reader.arch),
                            load_inventory(variant(tmp_path, path, timeouts=HANG_SECONDS), reader.arch), victim)
    assert bound.short.inv.timeouts.command == HANG_SECONDS < bound.normal.inv.timeouts.command
    container = docker_ops.client().containers.get(docker_name(victim))
    docker_ops.sh(container, HANG, "hang ss")
    try:
        cases = reader.cases(reader.read(inventory_obj=bound))
    finally:
        docker_ops.sh(container, UNHANG, "unhang ss")
    judge(lab, healthy, cases, "", {victim}, [f"{HANG_SECONDS} s"])


@pytest.mark.lab
def test_a_missing_sudo_right_is_an_error_naming_it(lab, healthy, variant_audits):
    cases, output, _, _, _ = variant_audits["no-sudo"]
    denied = [c for c in cases if c.outcome == "error"]
    assert denied, "without sudo rights some checks must error"
    assert all("sudo" in c.message.splitlines()[0] for c in denied), red_lines(denied)
    assert not [c for c in cases if c.outcome == "failed"], \
        "a missing right must not fail a check as if the thing were absent:\n" + red_lines(cases)
    passed_without = {(c.requirement, c.name) for c in cases if c.outcome == "passed"}
    assert passed_without <= {k for k, v in healthy.items() if v == "passed"}
    assert not leaks(lab, output)


@pytest.mark.lab
def test_no_secret_in_outputs_reports_or_lab_logs(lab, healthy_runs, tmp_path):
    """The healthy lab's audit through each path (-vv, --record; tests/lab/conftest.py): its output, its
    kept readings, the compliance report of its results, and every machine's logs after it."""
    html = tmp_path / "report.html"
    texts = []
    for path in ("jump", "pct"):
        run = healthy_runs.runs[path]
        texts.append(run.output)
        texts += [p.read_text() for p in run.kept.glob("*") if p.is_file()]
    subprocess.run([sys.executable, "-m", "reports.compliance", str(healthy_runs.runs["pct"].xml), str(html)],
                   cwd=ROOT, check=True, capture_output=True)
    texts.append(html.read_text())
    client = docker_ops.client()
    for machine, name in machines(lab):
        texts.append(docker_ops.sh(client.containers.get(name),
                                   "cat /var/log/auth.log /var/log/syslog /var/log/sudo* 2>/dev/null; "
                                   "journalctl --no-pager -q 2>/dev/null | tail -2000; true", f"logs of {machine}"))
    assert all(list(healthy_runs.runs[p].kept.glob("*.reading")) for p in ("jump", "pct")), "nothing was kept"
    found = leaks(lab, "\n".join(texts))
    assert not found, f"secrets appear in outputs, reports or logs: {found}"
