"""Reading a repository as the machines see it: folders from the spec, links (real ones and links
checked out as text) followed inside the repository, findings for links leading outside or nowhere,
unreadable and oversized files; one parser and one rule per format for the gate and the live audit."""
import os

import pytest

from confs import source
from confs.audit import run_gate
from confs.example import write_example
from fixtures.facts import Facts
from specs import load_spec
from specs.architecture import Architecture

from tests.static.test_static_audit import PROXY_DIR, PROXY_OFF, REDIS_CLIENT, OFF_ADDRESS, replace


@pytest.fixture(scope="module")
def arch():
    return Architecture(load_spec())


@pytest.fixture
def repo(arch, tmp_path):
    write_example(arch, tmp_path)
    return tmp_path


def _moved_to_common(repo, rel, stub):
    """Move a file to confs/common/ and leave a link to it (a real symlink, or a git text stub)."""
    common = repo / "confs/common" / os.path.basename(rel)
    common.parent.mkdir(parents=True, exist_ok=True)
    (repo / rel).rename(common)
    target = os.path.relpath(common, (repo / rel).parent)
    if stub:
        (repo / rel).write_text(target)
    else:
        os.symlink(target, repo / rel)
    return f"confs/common/{os.path.basename(rel)}"


@pytest.mark.parametrize("stub", [False, True], ids=["symlink", "text-stub"])
def test_links_inside_the_repository_are_followed(arch, repo, stub):
    real = _moved_to_common(repo, PROXY_OFF, stub)
    line = replace(repo, real, "proxy_pass", ":80;", ":8080;")
    result = run_gate(arch, repo)
    assert {(f.requirement, f.file, f.line) for f in result.findings} == {("WEB-1", real, line)}
    assert real in result.examined["nginx"] and PROXY_OFF in result.links


@pytest.mark.parametrize("target, why", [("../../../../../etc/passwd", "outside the repository"),
                                         ("../missing/site", "leads nowhere"),
                                         ("/opt/clone/confs/common/site", "absolute path")])
def test_link_outside_or_nowhere_is_a_finding(arch, repo, target, why):
    (repo / f"{PROXY_DIR}/sites-enabled/extra").write_text(target)
    result = run_gate(arch, repo)
    [finding] = result.findings
    assert finding.requirement == "WEB-1" and why in finding.message and finding.file.endswith("sites-enabled/extra")


def test_unreadable_file_says_unreadable(arch, repo, monkeypatch):
    """Permissions are not enforced for root (CI): the file's open fails as it would for another user."""
    real_open = open

    def refusing_open(path, *args, **kwargs):
        if str(path).endswith(PROXY_OFF):
            raise PermissionError(13, "Permission denied")
        return real_open(path, *args, **kwargs)
    monkeypatch.setattr(source, "open", refusing_open, raising=False)
    [finding] = run_gate(arch, repo).findings
    assert finding.file == PROXY_OFF and "unreadable" in finding.message and "missing" not in finding.message


def test_unreadable_folder_says_unreadable(arch, repo, monkeypatch):
    from confs import repo as repo_module
    real_listdir = os.listdir

    def refusing_listdir(path):
        if str(path).endswith(PROXY_DIR):
            raise PermissionError(13, "Permission denied")
        return real_listdir(path)
    monkeypatch.setattr(repo_module.os, "listdir", refusing_listdir)
    findings = run_gate(arch, repo).findings
    assert [(f.requirement, f.file) for f in findings if "unreadable folder" in f.message] == [("WEB-1", PROXY_DIR)]


def test_oversized_file_is_a_finding_not_read(arch, repo, monkeypatch):
    monkeypatch.setattr(source, "MAX_BYTES", 1000)
    monkeypatch.setattr(source.read_text, "__defaults__", (1000,))
    (repo / PROXY_OFF).write_text("# padding\n" * 200)
    findings = run_gate(arch, repo).findings
    assert any("larger than" in f.message and f.file == PROXY_OFF for f in findings)


def test_bad_encoding_names_the_real_line(arch, repo):
    path = repo / REDIS_CLIENT
    lines = path.read_bytes().split(b"\n")
    lines.insert(3, b"; caf\xe9")
    path.write_bytes(b"\n".join(lines))
    [finding] = run_gate(arch, repo).findings
    assert finding.requirement == "NET-3" and finding.line == 4 and "UTF-8" in finding.message


def test_live_audit_reads_nginx_dump_with_the_gate_parser_and_rule(arch, repo):
    """The same file, once in the repository and once in `nginx -T` output: the same problem, same line."""
    from confs.check_web import apache_ports, web1_problems
    from confs.web import address_book
    line = replace(repo, PROXY_OFF, "proxy_pass", ":80;", ":8080;")
    gate = [(f.requirement, f.line) for f in run_gate(arch, repo).findings]
    dump = "nginx: the configuration file /etc/nginx/nginx.conf syntax is ok\n# configuration file /etc/nginx/sites-enabled/x:\n"
    dump += (repo / PROXY_OFF).read_text()
    facts = Facts("proxy", "@@@nginx\n" + dump + "\n@@@end\n")
    chain = next(c for c in arch.chains() if c.app.address == OFF_ADDRESS and c.public_name == "openfoodfacts.org")
    live = web1_problems(facts.nginx_files, chain.public_name, f"{chain.app.address}:{chain.nginx_port}",
                         apache_ports(arch), address_book(arch))
    assert gate == [("WEB-1", line)] and [(l, "8080" in m) for _, l, m in live] == [(line, True)]


def test_live_audit_finds_stunnel_services_by_endpoint_with_global_options(arch):
    """Section names do not matter; a global `ciphers` applies to every service (stunnel semantics)."""
    from confs.check_stunnel import service_problems
    text = ("@@@stunnel\n@@file /etc/stunnel/off.conf\nciphers = ALL:!PSK\n[whatever]\nclient = yes\n"
            "accept = 127.0.0.1:6379\nconnect = proxy:6379\nPSKsecrets = /etc/stunnel/psk/redis-psk.txt\n@@@end\n")
    facts = Facts("client", text)
    [(file, services)] = facts.stunnel_files.items()
    [service] = [s for s in services if s.accept_port == 6379 and s.is_client]
    [(line, message)] = service_problems(service, "/etc/stunnel/psk/redis-psk.txt")
    assert line == 1 and "non-PSK" in message
