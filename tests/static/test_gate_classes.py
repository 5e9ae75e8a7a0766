"""The static gate on small repositories built from the clean example, one per class of defect the
gate missed, reported at the wrong place, or reported where there was none (issue 21), and the nginx
routing the live audit shares (issue 18): each red before the change, green after."""
import os
import shutil

import pytest

from confs import source
from confs.audit import check_path, run_gate, static_findings
from confs.errors import ConfParseError, ConfsRepoError
from confs.example import write_example
from confs import layout
from specs import load_spec
from specs.architecture import Architecture

from tests.static.test_static_audit import (OFF, OFF_ADDRESS, OVH3_JOBS, PROXY_OFF, insert_after,
                                            line_of, replace)

ARCH = Architecture(load_spec())
OBF = ARCH.container("obf")
APACHE = ARCH.spec.web.apache_port
APP_SITE = f"{layout.nginx_dir(ARCH, 'off')}/sites-enabled/off.conf"
OFF1_UNITS = f"{layout.folder(ARCH, 'off1')}/systemd/system"
OVH3_UNITS = f"{layout.folder(ARCH, 'ovh3')}/systemd/system"
DEPLOY = getattr(ARCH.spec, "deploy_path", "/opt/openfoodfacts-infrastructure")


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    dest = tmp_path_factory.mktemp("clean21")
    write_example(ARCH, dest)
    return dest


@pytest.fixture
def repo(clean, tmp_path):
    return shutil.copytree(clean, tmp_path / "repo")


def refuse_to_open(monkeypatch, suffix):
    """Opening a file whose path ends with `suffix` fails as for a user without the permission (CI
    runs as root, where file modes are not enforced)."""
    real_open = open

    def refusing_open(path, *args, **kwargs):
        if str(path).endswith(suffix):
            raise PermissionError(13, "Permission denied")
        return real_open(path, *args, **kwargs)
    monkeypatch.setattr(source, "open", refusing_open, raising=False)


def found(repo):
    return {(f.requirement, f.file, f.line) for f in static_findings(ARCH, repo)}


def messages(repo):
    return "\n".join(f"{f.requirement} {f}" for f in static_findings(ARCH, repo))


# -- WEB-1: every location that forwards reaches the name's own application ----------------------
def test_one_location_to_another_flavors_container_is_a_finding(repo):
    line = insert_after(repo, PROXY_OFF, "ssl_certificate_key",
                        ["    location /cgi/ {", f"        proxy_pass http://{OBF.address}:80;", "    }"]) + 1
    assert found(repo) == {("WEB-1", PROXY_OFF, line)}, messages(repo)
    assert "container obf" in messages(repo)


def test_one_location_to_the_apache_port_is_a_finding(repo):
    line = insert_after(repo, PROXY_OFF, "ssl_certificate_key",
                        ["    location /api/ {", f"        proxy_pass http://{OFF_ADDRESS}:{APACHE};", "    }"]) + 1
    assert found(repo) == {("WEB-1", PROXY_OFF, line)}, messages(repo)


# -- nginx variables: `set $up http://...; proxy_pass $up;` ----------------------------------------
def test_proxy_pass_of_a_variable_holding_the_url_is_resolved(repo):
    n = line_of(repo, PROXY_OFF, "proxy_pass")
    replace(repo, PROXY_OFF, "proxy_pass", f"proxy_pass http://{OFF_ADDRESS}:80;",
            f"set $up http://{OFF_ADDRESS}:80; proxy_pass $up;")
    assert found(repo) == set(), messages(repo)
    replace(repo, PROXY_OFF, "set $up", f"{OFF_ADDRESS}:80;", f"{OFF_ADDRESS}:{APACHE};")
    assert found(repo) == {("WEB-1", PROXY_OFF, n)}, messages(repo)
    assert "no proxy_pass" not in messages(repo)


def test_proxy_pass_of_a_map_variable_holding_urls_is_resolved(repo):
    replace(repo, PROXY_OFF, "proxy_pass", f"proxy_pass http://{OFF_ADDRESS}:80;", "proxy_pass $backend$request_uri;")
    (repo / f"{layout.nginx_dir(ARCH, 'off2-reverse-proxy')}/conf.d").mkdir(parents=True, exist_ok=True)
    maps = f"{layout.nginx_dir(ARCH, 'off2-reverse-proxy')}/conf.d/backends.conf"
    (repo / maps).write_text(f"map $uri $backend {{\n    default http://{OFF_ADDRESS}:80;\n"
                             f"    ~^/cgi/ http://{OFF_ADDRESS}:{APACHE};\n}}\n")
    assert found(repo) == {("WEB-1", maps, 3)}, messages(repo)


# -- WEB-2: a static path handed to apache inside nginx, reported at the location -----------------
def _static_block(repo, location, body):
    """Replace the body of a static location of the off container's nginx; returns its first line."""
    start = line_of(repo, APP_SITE, f"location {location} ")
    lines = (repo / APP_SITE).read_text().splitlines()
    end = next(n for n in range(start, len(lines)) if lines[n].strip() == "}")
    lines[start:end] = [f"        {b}" for b in body]
    (repo / APP_SITE).write_text("\n".join(lines) + "\n")
    return start + 1


def _add_location(repo, text):
    lines = (repo / APP_SITE).read_text().splitlines()
    last = max(n for n, l in enumerate(lines) if l.strip() == "}")
    lines[last:last] = text
    (repo / APP_SITE).write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize("directive", ["try_files $uri @apache;", "error_page 404 = @apache;"])
def test_static_location_handed_to_a_named_location_of_apache(repo, directive):
    line = _static_block(repo, "/images/", [directive])
    _add_location(repo, ["    location @apache {", f"        proxy_pass http://127.0.0.1:{APACHE};", "    }"])
    assert found(repo) == {("WEB-2", APP_SITE, line)}, messages(repo)


def test_static_location_rewritten_to_an_apache_location(repo):
    line = _static_block(repo, "/css/", ["rewrite ^/css/(.*)$ /cgi/css.pl?f=$1 last;"])
    _add_location(repo, ["    location /cgi/ {", f"        proxy_pass http://127.0.0.1:{APACHE};", "    }"])
    assert found(repo) == {("WEB-2", APP_SITE, line)}, messages(repo)


def test_static_location_through_an_upstream_is_reported_at_its_proxy_pass(repo):
    line = _static_block(repo, "/js/", ["proxy_pass http://backend;"])
    insert_after(repo, APP_SITE, "# off:", ["upstream backend {", f"    server 127.0.0.1:{APACHE};", "}"])
    assert found(repo) == {("WEB-2", APP_SITE, line + 3)}, messages(repo)


# -- NET-1: an application container on the public bridge or with a public address ---------------
@pytest.mark.parametrize("entry", ["net1: name=eth1,bridge=vmbr0,ip=10.9.0.7/24,type=veth",
                                   "net1: name=eth1,bridge=vmbr1,ip=203.0.113.0/24,type=veth".replace(
                                       "203.0.113.0", "8.8.4.4"),
                                   "net1: name=eth1,bridge=vmbr1,ip6=2001:41d0:203:948c::113/64,type=veth",
                                   f"net1: name=eth1,bridge=vmbr1,ip={ARCH.spec.hosts['off2'].public_address}/27,"
                                   "type=veth"],
                         ids=["public-bridge", "public-ipv4", "public-ipv6", "host-public-address"])
def test_application_container_with_a_public_interface(repo, entry):
    line = insert_after(repo, OFF, "memory:", [entry])
    assert found(repo) == {("NET-1", OFF, line)}, messages(repo)


# -- OPS-1: every job unit the repository ships, and the scripts they run --------------------------
def _health_check(repo, on_failure=True, script=None, folder=OFF1_UNITS):
    exec_start = f"{DEPLOY}/scripts/zfs/health.sh" if script is not None else "/usr/sbin/zpool status -x"
    (repo / folder / "zfs-health.service").write_text(
        "[Unit]\nDescription=ZFS health\n" + ("OnFailure=email-failures@%n.service\n" if on_failure else "")
        + f"\n[Service]\nType=oneshot\nExecStart={exec_start}\nTimeoutStartSec=10m\n")
    (repo / folder / "zfs-health.timer").write_text("[Timer]\nOnCalendar=hourly\n\n[Install]\nWantedBy=timers.target\n")
    if script is not None:
        (repo / "scripts/zfs").mkdir(parents=True, exist_ok=True)
        (repo / "scripts/zfs/health.sh").write_text(script)
    return f"{folder}/zfs-health.service"


def test_a_timer_job_without_on_failure_is_a_finding(repo):
    unit = _health_check(repo, on_failure=False)
    assert found(repo) == {("OPS-1", unit, None)}, messages(repo)


SCRIPTS = {
    "or-true": ("#!/bin/bash\nzpool status -x || true\n", 2),
    "pipe-into-while": ("#!/bin/bash\nR=0\nzfs list -H -o name | while read d; do\n  zfs get -H used \"$d\" "
                        "|| R=1\ndone\nexit $R\n", 3),
    "trailing-exit-0": ("#!/bin/bash\nzpool status -x\nzfs list\nexit 0\n", 4),
    "only-echoed": ("#!/bin/bash\nif ! zpool status -x | grep -q healthy; then\n  echo \"error: pool not healthy\"\n"
                    "fi\n", 3),
    "never-fails": ("#!/bin/bash\nset -e\nLAST=$(echo \"$STAMP\" | date +%s)\n"
                    "if [[ \"$LAST\" -lt 100 ]]; then exit 1; fi\n", 3),
    "constant-test": ("#!/bin/bash\nset -e\nif [ 1 -gt 2 ]; then\n  exit 1\nfi\n", 3),
}


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_a_script_whose_failure_cannot_reach_the_exit_status(repo, name):
    text, line = SCRIPTS[name]
    _health_check(repo, script=text)
    assert found(repo) == {("OPS-1", "scripts/zfs/health.sh", line)}, messages(repo)


def test_a_script_that_fails_properly_is_no_finding(repo):
    _health_check(repo, script="#!/bin/bash\nset -e\nif ! zpool status -x | grep -q healthy; then\n"
                               "  echo \"error: pool not healthy\" >&2\n  exit 1\nfi\n")
    assert found(repo) == set(), messages(repo)


def test_an_unreadable_script_is_a_finding(repo, monkeypatch):
    _health_check(repo, script="#!/bin/bash\nset -e\nzpool status -x\n")
    refuse_to_open(monkeypatch, "scripts/zfs/health.sh")
    findings = static_findings(ARCH, repo)
    assert [(f.requirement, f.file) for f in findings] == [("OPS-1", "scripts/zfs/health.sh")]
    assert "cannot be read" in findings[0].message


def test_a_drop_in_that_clears_on_failure_is_reported_at_its_line(repo):
    dropin = f"{OFF1_UNITS}/sanoid.service.d/zz-quiet.conf"
    (repo / dropin).write_text("[Unit]\nOnFailure=\n")
    assert found(repo) == {("OPS-1", dropin, 2)}, messages(repo)


def test_one_file_linked_from_two_machines_is_one_finding_naming_both(repo):
    common = repo / "confs/common/systemd/system"
    common.mkdir(parents=True)
    shutil.copy(repo / OFF1_UNITS / "syncoid.service", common / "syncoid.service")
    for folder in (OFF1_UNITS, OVH3_UNITS):
        (repo / folder / "syncoid.service").unlink()
        os.symlink(os.path.relpath(common / "syncoid.service", repo / folder), repo / folder / "syncoid.service")
    rel = "confs/common/systemd/system/syncoid.service"
    replace(repo, rel, "ExecStart", "|| R=1", "|| true")
    findings = static_findings(ARCH, repo)
    assert [(f.requirement, f.file) for f in findings] == [("OPS-1", rel)], messages(repo)
    assert "off1" in findings[0].message and "ovh3" in findings[0].message


# -- ZFS-1: a job-list finding has its line ------------------------------------------------------
def test_a_commented_out_job_is_reported_at_its_line(repo):
    line = replace(repo, OVH3_JOBS, "zfs-hdd/obf", "--no-sync-snap", "# --no-sync-snap")
    assert found(repo) == {("ZFS-1", OVH3_JOBS, line)}, messages(repo)


def test_a_job_that_excludes_the_dataset_is_reported_at_its_line(repo):
    line = replace(repo, OVH3_JOBS, "zfs-hdd/obf", "--recursive", "--recursive --exclude=obf")
    assert ("ZFS-1", OVH3_JOBS, line) in found(repo), messages(repo)


# -- links: the deploy path, and never into a folder that contains the link ------------------------
def _to_common(repo, rel, written):
    common = repo / "confs/common" / os.path.basename(rel)
    common.parent.mkdir(parents=True, exist_ok=True)
    (repo / rel).rename(common)
    (repo / rel).write_text(written.format(name=os.path.basename(rel)))
    return f"confs/common/{os.path.basename(rel)}"


def test_an_absolute_link_into_the_deploy_path_is_read_inside_the_repository(repo):
    real = _to_common(repo, PROXY_OFF, DEPLOY + "/confs/common/{name}")
    line = replace(repo, real, "proxy_pass", ":80;", f":{APACHE};")
    result = run_gate(ARCH, repo)
    assert {(f.requirement, f.file, f.line) for f in result.findings} == {("WEB-1", real, line)}, \
        "\n".join(map(str, result.findings))


def test_an_absolute_link_elsewhere_is_still_a_finding(repo):
    _to_common(repo, PROXY_OFF, "/srv/elsewhere/confs/common/{name}")
    findings = static_findings(ARCH, repo)
    assert [(f.requirement, f.file) for f in findings] == [("WEB-1", PROXY_OFF)], messages(repo)
    assert "absolute path" in findings[0].message


def test_a_link_to_a_folder_above_is_not_followed(repo):
    os.symlink("..", repo / layout.folder(ARCH, "off1") / "all")
    findings = static_findings(ARCH, repo)
    assert [f.file for f in findings] == [f"{layout.folder(ARCH, 'off1')}/all"], messages(repo)
    assert "contains the link" in findings[0].message


# -- bad input -------------------------------------------------------------------------------------
def test_a_file_given_for_the_repository_says_not_a_folder(tmp_path):
    path = tmp_path / "repo.tar"
    path.write_text("x")
    with pytest.raises(ConfsRepoError, match="not a folder"):
        check_path(str(path))


def test_an_unreadable_folder_proves_nothing_absent(repo, monkeypatch):
    from confs import repo as repo_module
    real_listdir = os.listdir
    sanoid = f"{layout.folder(ARCH, 'ovh3')}/sanoid"

    def refusing_listdir(path):
        if str(path).endswith(sanoid):
            raise PermissionError(13, "Permission denied")
        return real_listdir(path)
    monkeypatch.setattr(repo_module.os, "listdir", refusing_listdir)
    findings = static_findings(ARCH, repo)
    assert [f.file for f in findings] == [sanoid], messages(repo)
    assert "unreadable folder" in findings[0].message


def test_an_unreadable_file_is_not_skipped_by_the_secrets_scan(repo, monkeypatch):
    notes = f"{layout.folder(ARCH, 'off1')}/notes.txt"
    (repo / notes).write_text("nothing secret\n")
    refuse_to_open(monkeypatch, notes)
    assert {(f.requirement, f.file) for f in static_findings(ARCH, repo)} == {("NET-4", notes)}


# -- nginx -T: a listed file that does not parse is an error, never dropped ------------------------
def test_nginx_dump_file_that_does_not_parse_is_an_error(repo):
    from confs.nginx import parse_nginx_dump
    from fixtures.facts import Facts, MissingEvidence
    dump = ("# configuration file /etc/nginx/sites-enabled/good:\nserver { server_name a.example; }\n"
            "# configuration file /etc/nginx/sites-enabled/broken:\nserver { server_name b.example;\n")
    with pytest.raises(ConfParseError, match="sites-enabled/broken"):
        parse_nginx_dump(dump)
    facts = Facts("proxy", "@@@nginx\n" + dump + "@@@end\n")
    with pytest.raises(MissingEvidence, match="sites-enabled/broken"):
        facts.nginx_files


def test_an_unreadable_drop_in_is_a_finding_and_proves_no_absence(repo, monkeypatch):
    """The drop-in that could not be read may hold OnFailure=: the unit is not said to lack it."""
    dropin = f"{OFF1_UNITS}/sanoid.service.d/override.conf"
    (repo / OFF1_UNITS / "sanoid.service").write_text("[Service]\nType=oneshot\nExecStart=/usr/sbin/sanoid --cron\n")
    refuse_to_open(monkeypatch, dropin)
    findings = static_findings(ARCH, repo)
    assert [(f.requirement, f.file) for f in findings] == [("OPS-1", dropin)], messages(repo)
    assert "unreadable" in findings[0].message
