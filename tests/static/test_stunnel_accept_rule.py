"""NET-8 in the static gate (issue 20 item 7): a stunnel client service (client = yes) on a machine with a
public address (a host, a reverse proxy) whose accept has no address (`accept = 27017`) or a wildcard
(0.0.0.0, ::, *), or a public address, is a finding at its accept line; the example repository (clients on
their internal addresses) is green, with the proxies' stunnel files as evidence. The rule is the live
audit's (checks/test_outside.py imports it from confs/check_stunnel_accept.py)."""
import shutil
from pathlib import Path, PurePosixPath

import pytest

from checks import test_outside
from confs import check_stunnel_accept, layout
from confs.audit import run_gate, static_findings
from confs.example import write_example
from specs import load_spec
from specs.architecture import Architecture

ARCH = Architecture(load_spec())
CONF = PurePosixPath(ARCH.spec.stunnel.config).name
PROXY = next(l.server.name for l in ARCH.links() if l.server.public_address)    # a proxy with a stunnel file
PROXY_FILE = f"{layout.stunnel_dir(ARCH, PROXY)}/{CONF}"
CLIENT = next(l.client for l in ARCH.links() if not l.client.public_address and l.client.name not in ARCH.spec.hosts)
CLIENT_FILE = f"{layout.stunnel_dir(ARCH, CLIENT.name)}/{CONF}"
BAD_CLIENT = "\n[backdoor]\nclient = yes\naccept = {accept}\nconnect = 10.0.0.99:27017\nciphers = PSK\n" \
             "PSKsecrets = /etc/stunnel/psk/backdoor-psk.txt\n"


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    dest = tmp_path_factory.mktemp("clean")
    write_example(ARCH, dest)
    return dest


@pytest.fixture
def repo(clean, tmp_path):
    return Path(shutil.copytree(clean, tmp_path / "repo"))


def net8(repo):
    return [f for f in static_findings(ARCH, repo) if f.requirement == "NET-8"]


def add_client(repo, rel, accept):
    path = repo / rel
    path.write_text(path.read_text() + BAD_CLIENT.format(accept=accept))
    return [n for n, line in enumerate(path.read_text().splitlines(), 1) if line == f"accept = {accept}"][-1]


def test_the_rule_is_the_live_audits():
    assert test_outside.stunnel_client_problems is check_stunnel_accept.stunnel_client_problems


def test_the_example_is_green_with_the_proxies_stunnel_files_as_evidence(clean):
    result = run_gate(ARCH, clean)
    assert not result.of("NET-8"), result.of("NET-8")
    assert PROXY_FILE in result.evidence["NET-8"] and result.skip_reason("NET-8") is None
    assert CLIENT_FILE not in result.evidence["NET-8"]      # a machine without a public address is not read


@pytest.mark.parametrize("accept, why", [
    ("27017", "port 27017 with no address: every address"),
    ("0.0.0.0:27017", "0.0.0.0:27017: every address"),
    (":::27017", ":::27017: every address"),
    ("*:27017", "*:27017: every address"),
    ("[::]:27017", "[::]:27017: every address"),
])
def test_a_proxy_client_accepting_on_every_address_is_a_finding_at_its_line(repo, accept, why):
    line = add_client(repo, PROXY_FILE, accept)
    got = net8(repo)
    assert [(f.file, f.line) for f in got] == [(PROXY_FILE, line)], got
    assert why in got[0].message and f"on {PROXY}" in got[0].message and "[backdoor]" in got[0].message


def test_a_proxy_client_accepting_on_its_public_address_is_a_finding(repo):
    line = add_client(repo, PROXY_FILE, f"{ARCH.container(PROXY).public_address}:27017")
    got = net8(repo)
    assert [(f.file, f.line) for f in got] == [(PROXY_FILE, line)] and "public address" in got[0].message


@pytest.mark.parametrize("accept", ["127.0.0.1:27017", "{internal}:27017", "localhost:27017"])
def test_a_proxy_client_on_loopback_its_internal_address_or_a_name_is_green(repo, accept):
    add_client(repo, PROXY_FILE, accept.format(internal=ARCH.container(PROXY).address))
    assert not net8(repo)


def test_a_server_service_accepting_on_a_bare_port_is_not_net8s(repo):
    """client = no on the proxy is the link's public end (NET-2 judges its port against the spec)."""
    path = repo / PROXY_FILE
    text = path.read_text()
    server_accept = next(line for line in text.splitlines() if line.startswith("accept = "))
    path.write_text(text.replace(server_accept, "accept = " + server_accept.rsplit(":", 1)[-1], 1))
    assert not net8(repo)


def test_a_client_with_no_public_address_is_not_judged_by_the_gate(repo):
    add_client(repo, CLIENT_FILE, "27017")
    assert not net8(repo)
