"""The static gate on a clean repository generated from the shipped spec, and on copies of it
with exactly one defect each: a defect shows under exactly the requirement it breaks, at the
right file and line; the clean repository has no finding."""
import shutil
import subprocess
import sys
from pathlib import Path, PurePosixPath

import pytest

from confs.audit import STATIC_REQUIREMENTS, static_findings
from confs.errors import ConfsRepoError
from confs import layout
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


def line_of(repo, rel, contains, after=None):
    """The first line holding `contains` (after the first line holding `after`, when given)."""
    lines, start = _lines(repo, rel), 0
    if after:
        start = next(n for n, line in enumerate(lines) if after in line)
    for n, line in enumerate(lines[start:], start + 1):
        if contains in line:
            return n
    raise AssertionError(f"{contains!r} not in {rel}")


def replace(repo, rel, contains, old, new, after=None):
    n, lines = line_of(repo, rel, contains, after), _lines(repo, rel)
    assert old in lines[n - 1], f"{old!r} not in {rel}:{n}"
    lines[n - 1] = lines[n - 1].replace(old, new)
    _write(repo, rel, lines)
    return n


def delete(repo, rel, contains, count=1, after=None):
    n, lines = line_of(repo, rel, contains, after), _lines(repo, rel)
    del lines[n - 1:n - 1 + count]
    _write(repo, rel, lines)


def insert_after(repo, rel, contains, new_lines, after=None):
    n, lines = line_of(repo, rel, contains, after), _lines(repo, rel)
    lines[n:n] = new_lines
    _write(repo, rel, lines)
    return n + 1


def append(repo, rel, line):
    lines = _lines(repo, rel) + [line]
    _write(repo, rel, lines)
    return len(lines)


# the files of the shipped spec's clean repository (paths from the spec, never written by hand) --
_ARCH = Architecture(load_spec())
_CHAIN = next(c for c in _ARCH.chains() if c.application == "off" and c.public_name == "openfoodfacts.org")
_OFF, _PRO = _ARCH.container("off"), _ARCH.container("off-pro")
_LINKS = {link.name: link for link in _ARCH.links()}
_MONGO, _REDIS = _LINKS["mongodb"], _LINKS["redis"]
_STUNNEL = PurePosixPath(_ARCH.spec.stunnel.config).name
_RUNNERS = sorted({j.target for j in _ARCH.jobs()})          # pull mode: the receivers hold the jobs
PROXY_DIR = layout.nginx_dir(_ARCH, _CHAIN.proxy.name)
PROXY_OFF = f"{PROXY_DIR}/sites-enabled/{_CHAIN.public_name}"
OFF, OFF_PRO = layout.pve_file(_ARCH, _OFF.host, _OFF.id), layout.pve_file(_ARCH, _PRO.host, _PRO.id)
OFF1_JOBS, OVH3_JOBS = (layout.syncoid_file(_ARCH, h) for h in ("off1", "ovh3"))
OFF1_SANOID, OVH3_SANOID = (layout.sanoid_file(_ARCH, h) for h in ("off1", "ovh3"))
MONGO_SERVER = f"{layout.stunnel_dir(_ARCH, _MONGO.server.name)}/{_STUNNEL}"
REDIS_SERVER = f"{layout.stunnel_dir(_ARCH, _REDIS.server.name)}/{_STUNNEL}"
MONGO_CLIENT = f"{layout.stunnel_dir(_ARCH, _MONGO.client.name)}/{_STUNNEL}"
REDIS_CLIENT = f"{layout.stunnel_dir(_ARCH, _REDIS.client.name)}/{_STUNNEL}"
IMAGES_SITE = f"{layout.nginx_dir(_ARCH, _ARCH.spec.web.images.host)}/sites-enabled/{_ARCH.spec.web.images.public_name}"
OTHER_SITE = f"{PROXY_DIR}/sites-enabled/world.openfoodfacts.org"
OFF_ADDRESS = _OFF.address


# the defects ------------------------------------------------------------------------------------
def shared_psk_file(r):
    return replace(r, REDIS_SERVER, "PSKsecrets", "redis-psk.txt", "mongodb-psk.txt", after="[redis]")


def shared_psk_identity(r):
    insert_after(r, MONGO_CLIENT, "PSKsecrets", ["PSKidentity = off"], after="[mongodb]")
    return insert_after(r, REDIS_CLIENT, "PSKsecrets", ["PSKidentity = off"], after="[redis]")


def missing_psk_ciphers(r):
    delete(r, REDIS_CLIENT, "ciphers = PSK", after="[redis]")
    return line_of(r, REDIS_CLIENT, "[redis]")


def non_psk_ciphers(r):
    return replace(r, REDIS_CLIENT, "ciphers", "PSK", "PSK:AES256-SHA", after="[redis]")


def all_but_psk_ciphers(r):
    return replace(r, REDIS_CLIENT, "ciphers", "PSK", "ALL:!PSK", after="[redis]")


def global_non_psk_ciphers(r):
    """ciphers set once in the global section, for every service; the services' own lines removed."""
    delete(r, REDIS_CLIENT, "ciphers = PSK", after="[redis]")
    delete(r, REDIS_CLIENT, "ciphers = PSK", after="[mongodb]")
    return insert_after(r, REDIS_CLIENT, "setgid", ["ciphers = ALL"])


def missing_stunnel_service(r):
    delete(r, MONGO_CLIENT, "[mongodb]", count=6)


def stunnel_garbage(r):
    return insert_after(r, MONGO_SERVER, "[mongodb]", ["ciphers PSK"])


def stunnel_repeated_section(r):
    return replace(r, MONGO_SERVER, "[redis]", "[redis]", "[mongodb]")


def missing_own_mount(r):
    delete(r, OFF, "mp=/mnt/off/users")


def missing_shared_users(r):
    delete(r, OFF_PRO, "mp=/mnt/off-pro/users")


def missing_shared_images(r):
    delete(r, OFF, "mp=/mnt/off-pro/images")


def missing_movable_products(r):
    delete(r, OFF, "mp=/mnt/obf/products")


def mount_at_wrong_path(r):
    return replace(r, OFF, "mp=/mnt/off/users", "mp=/mnt/off/users", "mp=/mnt/off/user")


def asset_mount_writable(r):
    return replace(r, OFF, "mp=/srv/off/html/js/dist", ",ro=1", "")


def missing_pve_file(r):
    (r / OFF).unlink()


def pve_repeated_mount_key(r):
    """The orgs mount written under the users mount's key: Proxmox keeps the later line, so one mount is
    lost; the repeat is named at that line, the lost mount as missing."""
    users = _lines(r, OFF)[line_of(r, OFF, "mp=/mnt/off/users") - 1].split(":", 1)[0]
    orgs = _lines(r, OFF)[line_of(r, OFF, "mp=/mnt/off/orgs") - 1].split(":", 1)[0]
    replace(r, OFF, "mp=/mnt/off/orgs", orgs + ":", users + ":")
    return max(line_of(r, OFF, "mp=/mnt/off/users"), line_of(r, OFF, "mp=/mnt/off/orgs"))


def pve_garbage(r):
    return insert_after(r, OFF, "memory:", ["this line is not a pve entry"])


def missing_syncoid_job(r):
    delete(r, OVH3_JOBS, "zfs-hdd/obf rpool/obf")


def duplicated_syncoid_job(r):
    return append(r, OFF1_JOBS, _lines(r, OFF1_JOBS)[1])


def root_syncoid_job(r):
    return replace(r, OFF1_JOBS, "zfs-hdd/obf", "off1operator@", "root@")


def job_without_no_privilege_elevation(r):
    return replace(r, OFF1_JOBS, "zfs-hdd/obf", "--no-privilege-elevation ", "")


def job_over_plain_tcp(r):
    return replace(r, OVH3_JOBS, "zfs-hdd/obf", "--recursive", "--recursive --insecure-direct-connection=10.0.0.2:9000")


def syncoid_unclosed_quote(r):
    return append(r, OFF1_JOBS, '--sshkey "/root/.ssh/id off1operator@10.0.0.2:zfs-hdd/x zfs-hdd/x')


def missing_retention(r):
    delete(r, OVH3_SANOID, "[rpool/off/images]", count=2)


def retention_below_backups(r):
    return replace(r, OVH3_SANOID, "monthly", "= 6", "= 1")


def autosnap_on_replica(r):
    return replace(r, OFF1_SANOID, "autosnap", "no", "yes", after="[template_replica]")


def sanoid_garbage(r):
    return insert_after(r, OFF1_SANOID, "[template_replica]", ["hourly 36"])


def replica_not_pruned(r):
    """ZFS-12: the replicas' template stops pruning: every dataset off1 receives piles up snapshots."""
    return replace(r, OFF1_SANOID, "autoprune", "yes", "no", after="[template_replica]")


def sanoid_repeated_option(r):
    return insert_after(r, OVH3_SANOID, "autosnap = no", ["autosnap = yes"])


def proxy_to_apache(r):
    return replace(r, PROXY_OFF, "proxy_pass", ":80;", ":8080;")


def proxy_to_apache_in_if(r):
    """An `if` block inside a nested location forwards to apache: nginx reads it, so does the gate."""
    insert_after(r, PROXY_OFF, "ssl_certificate_key", [
        "    location /cgi/ {", "        location ~ \\.pl$ {", "            if ($arg_debug) {",
        f"                proxy_pass http://{OFF_ADDRESS}:8080;", "            }", "        }", "    }"])
    return line_of(r, PROXY_OFF, f"{OFF_ADDRESS}:8080")


def proxy_to_apache_by_variable(r):
    """proxy_pass http://$backend, the variable set by a map in another file of the proxy."""
    (r / f"{PROXY_DIR}/conf.d").mkdir(parents=True, exist_ok=True)
    (r / f"{PROXY_DIR}/conf.d/backends.conf").write_text(
        f"map $uri $backend {{\n    default {OFF_ADDRESS}:80;\n    /old/ {OFF_ADDRESS}:8080;\n}}\n")
    insert_after(r, PROXY_OFF, "ssl_certificate_key", ["    location /old/ { proxy_pass http://$backend; }"])
    return 3


def other_site_to_apache(r):
    (r / OTHER_SITE).write_text("server {\n    listen 443 ssl;\n    server_name world.openfoodfacts.org;\n"
                                f"    location / {{ proxy_pass http://{OFF_ADDRESS}:8080; }}\n}}\n")
    return 4


def missing_proxy_site(r):
    (r / PROXY_OFF).unlink()


def plain_http_cross_machine(r):
    """To ovh3 (another datacenter) in plain http."""
    return 1 + insert_after(r, PROXY_OFF, "access_log", ["    location /api/ {",
                                                         f"        proxy_pass http://{_ARCH.spec.hosts['ovh3'].public_address}:8000;",
                                                         "    }"])


def stunnel_server_forwards_off_host(r):
    return replace(r, MONGO_SERVER, "connect", "10.1.0.102", str(_ARCH.spec.hosts["ovh3"].public_address))


def images_not_from_replica(r):
    return replace(r, IMAGES_SITE, "root", "/rpool/off/images", "/srv/images")


def nginx_unclosed_brace(r):
    lines = _lines(r, PROXY_OFF)
    _write(r, PROXY_OFF, lines[:-1])          # drop the last '}'
    return len(lines) - 1                      # nginx stops at the end of the file


def committed_psk(r):
    (r / f"{layout.stunnel_dir(_ARCH, _MONGO.server.name)}/psk").mkdir()
    (r / f"{layout.stunnel_dir(_ARCH, _MONGO.server.name)}/psk/mongodb-psk.txt").write_text(
        "offclient:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\n")
    return 1


def committed_private_key(r):
    (r / f"{PROXY_DIR}/ssl").mkdir()
    (r / f"{PROXY_DIR}/ssl/site.key").write_text("-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n"
                                                 "-----END PRIVATE KEY-----\n")
    return 1


def committed_redis_password(r):
    rel = f"{layout.folder(_ARCH, _REDIS.client.name)}/redis/redis.conf"
    (r / rel).parent.mkdir(parents=True)
    (r / rel).write_text("bind 127.0.0.1\nport 6379\nrequirepass s3cr3t-Pa55word\n")
    return 3


def ops_status_lost_in_pipeline(r):
    rel = f"{layout.folder(_ARCH, 'off1')}/systemd/system/syncoid.service"
    _pipe(r, rel)
    return line_of(r, rel, "ExecStart")


def _pipe(r, rel):
    n, lines = line_of(r, rel, "ExecStart"), _lines(r, rel)
    lines[n - 1] = ("ExecStart=/bin/bash -c 'R=0; grep -v ^# /etc/sanoid/syncoid-args.conf | while read -a a; do "
                    "syncoid \"$${a[@]}\" </dev/null; R=$$(($$R + $$?)); done; exit $$R'")
    _write(r, rel, lines)
    return True


def ops_failure_counted_as_success(r):
    rel = f"{layout.folder(_ARCH, 'off1')}/systemd/system/syncoid.service.d/override.conf"
    (r / rel).parent.mkdir(parents=True)
    (r / rel).write_text("[Service]\nSuccessExitStatus=1 2\n")
    return 2


def ops_no_on_failure(r):
    rel = f"{layout.folder(_ARCH, 'off1')}/systemd/system/syncoid.service"
    delete(r, rel, "OnFailure=")


# (defect, requirements with findings, file of the finding)
DEFECTS = [
    (shared_psk_file, {"NET-3"}, REDIS_SERVER),
    (shared_psk_identity, {"NET-3"}, REDIS_CLIENT),
    (missing_psk_ciphers, {"NET-3"}, REDIS_CLIENT),
    (non_psk_ciphers, {"NET-3"}, REDIS_CLIENT),
    (all_but_psk_ciphers, {"NET-3"}, REDIS_CLIENT),
    (global_non_psk_ciphers, {"NET-3"}, REDIS_CLIENT),
    (missing_stunnel_service, {"NET-3"}, layout.stunnel_dir(_ARCH, _MONGO.client.name)),
    (stunnel_garbage, {"NET-3"}, MONGO_SERVER),
    (stunnel_repeated_section, {"NET-3"}, MONGO_SERVER),
    (missing_own_mount, {"STO-2"}, OFF),
    (missing_shared_users, {"STO-3"}, OFF_PRO),
    (missing_shared_images, {"STO-4"}, OFF),
    (missing_movable_products, {"STO-5"}, OFF),
    (mount_at_wrong_path, {"STO-2"}, OFF),
    (asset_mount_writable, {"STO-6"}, OFF),
    (pve_garbage, {"STO-2"}, OFF),
    (pve_repeated_mount_key, {"STO-2"}, OFF),
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
    (replica_not_pruned, {"ZFS-12"}, OFF1_SANOID),
    (proxy_to_apache, {"WEB-1"}, PROXY_OFF),
    (proxy_to_apache_in_if, {"WEB-1"}, PROXY_OFF),
    (proxy_to_apache_by_variable, {"WEB-1"}, f"{PROXY_DIR}/conf.d/backends.conf"),
    (other_site_to_apache, {"WEB-1"}, OTHER_SITE),
    (missing_proxy_site, {"WEB-1"}, PROXY_DIR),
    (plain_http_cross_machine, {"NET-2", "WEB-1"}, PROXY_OFF),     # /api/ of the name leaves its application too
    (stunnel_server_forwards_off_host, {"NET-2"}, MONGO_SERVER),
    (images_not_from_replica, {"WEB-4"}, IMAGES_SITE),
    (nginx_unclosed_brace, {"WEB-1"}, PROXY_OFF),
    (ops_status_lost_in_pipeline, {"OPS-1"}, f"{layout.folder(_ARCH, 'off1')}/systemd/system/syncoid.service"),
    (ops_failure_counted_as_success, {"OPS-1"},
     f"{layout.folder(_ARCH, 'off1')}/systemd/system/syncoid.service.d/override.conf"),
    (ops_no_on_failure, {"OPS-1"}, f"{layout.folder(_ARCH, 'off1')}/systemd/system/syncoid.service"),
    (committed_psk, {"NET-4"}, f"{layout.stunnel_dir(_ARCH, _MONGO.server.name)}/psk/mongodb-psk.txt"),
    (committed_private_key, {"NET-4"}, f"{PROXY_DIR}/ssl/site.key"),
    (committed_redis_password, {"NET-4"}, f"{layout.folder(_ARCH, _REDIS.client.name)}/redis/redis.conf"),
]
PARSE_DEFECTS = [stunnel_garbage, pve_garbage, syncoid_unclosed_quote, sanoid_garbage, nginx_unclosed_brace]


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
    job = "--no-sync-snap --no-privilege-elevation --recursive off1operator@10.0.0.2:"
    (repo / OFF1_JOBS).write_text(f"{job}zfs-hdd zfs-hdd\n{job}zfs-nvme/off zfs-hdd/off-nvme\n"
                                  f"{job}zfs-nvme/off-pro zfs-hdd/off-pro-nvme\n")
    (repo / OFF1_SANOID).write_text("[template_replica]\nhourly = 36\nautosnap = no\n\n"
                                    "[zfs-hdd]\nuse_template = replica\nrecursive = yes\n")
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
    psk = repo / layout.stunnel_dir(_ARCH, _MONGO.server.name) / "psk"
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
    assert f"{len(STATIC_REQUIREMENTS) + 1} passed" in result.stdout


def test_gate_fails_the_broken_requirement_only(repo):
    line = proxy_to_apache(repo)
    result = run_gate(repo)
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"1 failed, {len(STATIC_REQUIREMENTS)} passed" in result.stdout
    assert "test_configuration_meets[WEB-1]" in result.stdout
    assert f"{PROXY_OFF}:{line}: " in result.stdout


@pytest.mark.parametrize("defect, secret", [(committed_psk, "9f86d081884c7d659a2f"), (committed_private_key, "MIIEvQIB"),
                                            (committed_redis_password, "s3cr3t-Pa55word")],
                         ids=lambda x: getattr(x, "__name__", "secret"))
def test_committed_secret_is_a_finding_that_does_not_show_it(arch, repo, defect, secret):
    defect(repo)
    findings = [f for f in static_findings(arch, repo) if f.requirement == "NET-4"]
    assert findings and not any(secret in str(f) for f in findings)


def test_missing_container_definition_is_not_checked_not_a_finding(arch, repo):
    """The users copy /etc/pve files by hand: a missing copy is nothing to read, said as such."""
    from confs.audit import run_gate
    missing_pve_file(repo)
    result = run_gate(arch, repo)
    assert result.findings == []
    assert any(OFF in why and "STO-2" in reqs for reqs, why in result.not_checked)
