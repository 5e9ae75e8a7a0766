"""The static gate on a clean repository generated from the shipped spec, and on copies of it
with exactly one defect each: a defect shows under exactly the requirement it breaks, at the
right file and line; the clean repository has no finding."""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from confs.audit import STATIC_REQUIREMENTS, static_findings
from confs.errors import ConfsRepoError
from confs.example import write_example
from specs import load_spec
from specs.architecture import Architecture

MAIN = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def arch():
    """The shipped spec, whatever --spec says: these tests name its machines."""
    return Architecture(load_spec())


@pytest.fixture(scope="module")
def clean_repo(arch, tmp_path_factory):
    dest = tmp_path_factory.mktemp("clean")
    write_example(arch, dest)
    return dest


@pytest.fixture
def repo(clean_repo, tmp_path):
    return Path(shutil.copytree(clean_repo, tmp_path / "repo"))


# line-level edits; each returns the line the finding must point at (None: something missing) ----
def _lines(repo, rel):
    return (repo / rel).read_text().splitlines()


def _write(repo, rel, lines):
    (repo / rel).write_text("\n".join(lines) + "\n")


def line_of(repo, rel, contains):
    for n, line in enumerate(_lines(repo, rel), 1):
        if contains in line:
            return n
    raise AssertionError(f"{contains!r} not in {rel}")


def replace(repo, rel, contains, old, new):
    n, lines = line_of(repo, rel, contains), _lines(repo, rel)
    lines[n - 1] = lines[n - 1].replace(old, new)
    _write(repo, rel, lines)
    return n


def delete(repo, rel, contains, count=1):
    n, lines = line_of(repo, rel, contains), _lines(repo, rel)
    del lines[n - 1:n - 1 + count]
    _write(repo, rel, lines)


def insert_after(repo, rel, contains, new_lines):
    n, lines = line_of(repo, rel, contains), _lines(repo, rel)
    lines[n:n] = new_lines
    _write(repo, rel, lines)
    return n + 1


def append(repo, rel, line):
    lines = _lines(repo, rel) + [line]
    _write(repo, rel, lines)
    return len(lines)


# the defects ------------------------------------------------------------------------------------
PROXY_OFF = "confs/proxy-off2/nginx/sites-enabled/openfoodfacts.org"
OFF = "confs/off2/pve/lxc_113.conf"
OFF_PRO = "confs/off2/pve/lxc_114.conf"
OFF1_JOBS, OVH3_JOBS = "confs/off1/sanoid/syncoid-args.conf", "confs/ovh3/sanoid/syncoid-args.conf"
OFF1_SANOID, OVH3_SANOID = "confs/off1/sanoid/sanoid.conf", "confs/ovh3/sanoid/sanoid.conf"
MONGO_SERVER, REDIS_SERVER = "confs/proxy-off1/stunnel/off.conf", "confs/proxy-off2/stunnel/off.conf"
REDIS_CLIENT, MONGO_CLIENT = "confs/stunnel-off1/stunnel/off.conf", "confs/stunnel-off2/stunnel/off.conf"


def shared_psk_file(r):
    return replace(r, REDIS_SERVER, "PSKsecrets", "redis-psk.txt", "mongodb-psk.txt")


def shared_psk_identity(r):
    insert_after(r, REDIS_CLIENT, "PSKsecrets", ["PSKidentity = off"])
    return insert_after(r, MONGO_CLIENT, "PSKsecrets", ["PSKidentity = off"])


def missing_psk_ciphers(r):
    delete(r, REDIS_CLIENT, "ciphers = PSK")
    return line_of(r, REDIS_CLIENT, "[redis]")


def non_psk_ciphers(r):
    return replace(r, REDIS_CLIENT, "ciphers", "PSK", "PSK:AES256-SHA")


def missing_stunnel_service(r):
    (r / MONGO_CLIENT).unlink()


def stunnel_garbage(r):
    return insert_after(r, MONGO_SERVER, "[mongodb]", ["ciphers PSK"])


def missing_own_mount(r):
    delete(r, OFF, "mp=/mnt/off/users")


def missing_shared_users(r):
    delete(r, OFF_PRO, "mp=/mnt/off-pro/users")


def missing_shared_images(r):
    delete(r, OFF_PRO, "mp=/mnt/off-pro/product_images")


def missing_movable_products(r):
    delete(r, OFF, "mp=/mnt/obf/products")


def mount_at_wrong_path(r):
    return replace(r, OFF, "mp=/mnt/off/users", "mp=/mnt/off/users", "mp=/mnt/off/user")


def asset_mount_writable(r):
    return replace(r, OFF, "mp=/opt/product-opener/html/js/dist", ",ro=1", "")


def missing_pve_file(r):
    (r / OFF).unlink()


def pve_garbage(r):
    return insert_after(r, OFF, "memory:", ["this line is not a pve entry"])


def missing_syncoid_job(r):
    delete(r, OVH3_JOBS, "zfs-hdd/off/images")


def duplicated_syncoid_job(r):
    return append(r, OFF1_JOBS, _lines(r, OFF1_JOBS)[1])


def root_syncoid_job(r):
    return replace(r, OFF1_JOBS, "zfs-hdd/off/images", "off1operator@", "root@")


def job_without_no_privilege_elevation(r):
    return replace(r, OFF1_JOBS, "zfs-hdd/obf/images", "--no-privilege-elevation ", "")


def job_over_plain_tcp(r):
    return replace(r, OVH3_JOBS, "zfs-hdd/off/images", "--recursive", "--recursive --insecure-direct-connection=10.0.0.2:9000")


def syncoid_unclosed_quote(r):
    return append(r, OFF1_JOBS, '--sshkey "/root/.ssh/id off1operator@10.0.0.2:zfs-hdd/x zfs-hdd/x')


def missing_retention(r):
    delete(r, OVH3_SANOID, "[rpool/off/images]", count=2)


def retention_below_backups(r):
    return replace(r, OVH3_SANOID, "monthly", "= 6", "= 3")


def autosnap_on_replica(r):
    return replace(r, OFF1_SANOID, "autosnap", "no", "yes")


def sanoid_garbage(r):
    return insert_after(r, OFF1_SANOID, "[template_replica]", ["hourly 36"])


def proxy_to_apache(r):
    return replace(r, PROXY_OFF, "proxy_pass", ":80;", ":8080;")


def other_site_to_apache(r):
    rel = "confs/proxy-off2/nginx/sites-enabled/world.openfoodfacts.org"
    (r / rel).write_text("server {\n    listen 443 ssl;\n    server_name world.openfoodfacts.org;\n"
                         "    location / { proxy_pass http://10.1.0.113:8080; }\n}\n")
    return 4


def missing_proxy_site(r):
    (r / PROXY_OFF).unlink()


def plain_http_cross_machine(r):
    return 1 + insert_after(r, PROXY_OFF, "access_log", ["    location /api/ {", "        proxy_pass http://10.1.1.102:8000;", "    }"])


def stunnel_server_forwards_off_host(r):
    return replace(r, MONGO_SERVER, "connect", "10.1.1.102", "10.1.0.122")


def images_not_from_replica(r):
    return replace(r, "confs/ovh3/nginx/sites-enabled/images.openfoodfacts.org", "root", "/rpool/", "/zfs-hdd/")


def nginx_unclosed_brace(r):
    lines = _lines(r, PROXY_OFF)
    _write(r, PROXY_OFF, lines[:-1])          # drop the last '}'
    return len(lines) - 1                      # nginx stops at the end of the file


# (defect, requirements with findings, file of the finding)
DEFECTS = [
    (shared_psk_file, {"NET-3"}, REDIS_SERVER),
    (shared_psk_identity, {"NET-3"}, MONGO_CLIENT),
    (missing_psk_ciphers, {"NET-3"}, REDIS_CLIENT),
    (non_psk_ciphers, {"NET-3"}, REDIS_CLIENT),
    (missing_stunnel_service, {"NET-3"}, "confs/stunnel-off2/stunnel"),
    (stunnel_garbage, {"NET-3"}, MONGO_SERVER),
    (missing_own_mount, {"STO-2"}, OFF),
    (missing_shared_users, {"STO-3"}, OFF_PRO),
    (missing_shared_images, {"STO-4"}, OFF_PRO),
    (missing_movable_products, {"STO-5"}, OFF),
    (mount_at_wrong_path, {"STO-2"}, OFF),
    (asset_mount_writable, {"STO-6"}, OFF),
    (missing_pve_file, {"STO-2", "STO-5"}, OFF),
    (pve_garbage, {"STO-2"}, OFF),
    (missing_syncoid_job, {"ZFS-1"}, OVH3_JOBS),
    (duplicated_syncoid_job, {"ZFS-1"}, OFF1_JOBS),
    (root_syncoid_job, {"ZFS-8"}, OFF1_JOBS),
    (job_without_no_privilege_elevation, {"ZFS-8"}, OFF1_JOBS),
    (job_over_plain_tcp, {"ZFS-5"}, OVH3_JOBS),
    (syncoid_unclosed_quote, {"ZFS-1"}, OFF1_JOBS),
    (missing_retention, {"ZFS-3"}, OVH3_SANOID),
    (retention_below_backups, {"ZFS-3"}, OVH3_SANOID),
    (autosnap_on_replica, {"ZFS-9"}, OFF1_SANOID),
    (sanoid_garbage, {"ZFS-3"}, OFF1_SANOID),
    (proxy_to_apache, {"WEB-1"}, PROXY_OFF),
    (other_site_to_apache, {"WEB-1"}, "confs/proxy-off2/nginx/sites-enabled/world.openfoodfacts.org"),
    (missing_proxy_site, {"WEB-1"}, "confs/proxy-off2/nginx"),
    (plain_http_cross_machine, {"NET-2"}, PROXY_OFF),
    (stunnel_server_forwards_off_host, {"NET-2"}, MONGO_SERVER),
    (images_not_from_replica, {"WEB-4"}, "confs/ovh3/nginx/sites-enabled/images.openfoodfacts.org"),
    (nginx_unclosed_brace, {"WEB-1"}, PROXY_OFF),
]


def test_clean_repository_has_no_finding(arch, clean_repo):
    assert static_findings(arch, clean_repo) == []


@pytest.mark.parametrize("defect, requirements, file", DEFECTS, ids=[d[0].__name__ for d in DEFECTS])
def test_defect_is_found_under_its_requirement(arch, repo, defect, requirements, file):
    line = defect(repo)
    findings = static_findings(arch, repo)
    assert {f.requirement for f in findings} == requirements, "\n".join(f"{f.requirement} {f}" for f in findings)
    assert (file, line) in {(f.file, f.line) for f in findings}, "\n".join(map(str, findings))
    assert all(f.requirement in STATIC_REQUIREMENTS for f in findings)


@pytest.mark.parametrize("defect", [nginx_unclosed_brace, pve_garbage, stunnel_garbage, sanoid_garbage,
                                    syncoid_unclosed_quote], ids=lambda d: d.__name__)
def test_file_that_does_not_parse_gives_one_finding(arch, repo, defect):
    line = defect(repo)
    findings = static_findings(arch, repo)
    assert len(findings) == 1 and findings[0].line == line
    assert "does not parse" in findings[0].message


def test_recursive_jobs_and_policies_cover_children(arch, repo):
    (repo / OFF1_JOBS).write_text("--no-sync-snap --no-privilege-elevation --recursive off1operator@10.0.0.2:zfs-hdd zfs-hdd\n"
                                  "--no-sync-snap --no-privilege-elevation --recursive off1operator@10.0.0.2:zfs-nvme zfs-nvme\n")
    (repo / OFF1_SANOID).write_text("[template_replica]\nhourly = 36\nautosnap = no\n\n"
                                    "[zfs-hdd]\nuse_template = replica\nrecursive = yes\n\n"
                                    "[zfs-nvme]\nuse_template = replica\nrecursive = yes\n")
    assert static_findings(arch, repo) == []


def test_unclosed_brace_names_the_open_block(arch, repo):
    nginx_unclosed_brace(repo)
    [finding] = static_findings(arch, repo)
    assert f"opened at line {line_of(repo, PROXY_OFF, 'listen 443') - 1}" in finding.message


def test_messages_say_expected_and_found(arch, repo):
    proxy_to_apache(repo)
    [finding] = static_findings(arch, repo)
    assert "10.1.0.113:8080" in finding.message and "expected" in finding.message and "10.1.0.113:80" in finding.message


def test_not_a_repository_is_one_clear_error(arch, tmp_path):
    with pytest.raises(ConfsRepoError, match="confs/"):
        static_findings(arch, tmp_path)


def test_no_finding_prints_a_psk_file_content(arch, repo):
    psk = repo / "confs/proxy-off1/stunnel/psk"
    psk.mkdir()
    (psk / "mongodb-psk.txt").write_text("off:not-a-real-secret-0123456789abcdef\n")
    shared_psk_file(repo)
    assert not any("not-a-real-secret" in str(f) for f in static_findings(arch, repo))


# the pytest gate, run as users run it: the root conftest gives --confs and the session fixture arch
def run_gate(repo):
    return subprocess.run([sys.executable, "-m", "pytest", "checks/static/test_static_confs.py", "-q",
                           "-p", "no:cacheprovider", "--confs", str(repo)],
                          capture_output=True, text=True, cwd=MAIN)


def test_gate_passes_on_the_clean_repository(clean_repo):
    result = run_gate(clean_repo)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{len(STATIC_REQUIREMENTS)} passed" in result.stdout


def test_gate_fails_the_broken_requirement_only(repo):
    line = proxy_to_apache(repo)
    result = run_gate(repo)
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"1 failed, {len(STATIC_REQUIREMENTS) - 1} passed" in result.stdout
    assert "test_configuration_meets[WEB-1]" in result.stdout
    assert f"{PROXY_OFF}:{line}: " in result.stdout
