"""The static rules of the health requirements (issue 19 item 5): OPS-2 (a container that does not
start at boot or whose systemd cannot run; a Redis unit whose Type= its redis.conf does not support),
STO-7 (a log file no logrotate rule rotates) and OPS-3 (a job unit without a time-out). Each is red on
a minimal bad input and green on the good one, on copies of the clean repository generated from the
shipped spec; the logrotate parser and its glob matching are tested on their own."""
import shutil
from pathlib import Path

import pytest

from confs import check_job_timeouts, layout
from confs.audit import run_gate, static_findings
from confs.errors import ConfParseError
from confs.example import write_example
from confs.logrotate import covers, parse_logrotate_text
from confs.repo import ConfRepo
from confs.nginx import parse_nginx_text
from specs import load_spec
from specs.architecture import Architecture

ARCH = Architecture(load_spec())
CT = ARCH.app_containers()[0]
PVE = layout.pve_file(ARCH, CT.host, CT.id)
CHAIN = next(c for c in ARCH.chains() if c.proxy)
PROXY = CHAIN.proxy.name
SITE = f"{layout.nginx_dir(ARCH, PROXY)}/sites-enabled/{CHAIN.public_name}"
RUNNER = sorted(ARCH.spec.replication.runners())[0]
SYNCOID = f"{layout.folder(ARCH, RUNNER)}/systemd/system/{ARCH.spec.replication.unit}"
OTHER = "confs/db-cache"            # a folder no machine of the spec names: read by the rules that need no spec


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    dest = tmp_path_factory.mktemp("clean")
    write_example(ARCH, dest)
    return dest


@pytest.fixture
def repo(clean, tmp_path):
    return Path(shutil.copytree(clean, tmp_path / "repo"))


def found(repo, requirement=None):
    return {(f.requirement, f.file, f.line) for f in static_findings(ARCH, repo)
            if requirement is None or f.requirement == requirement}


def messages(repo):
    return "\n".join(f"{f.requirement} {f}" for f in static_findings(ARCH, repo))


def edit(repo, rel, old, new):
    path = repo / rel
    text = path.read_text()
    assert old in text, f"{old!r} not in {rel}"
    path.write_text(text.replace(old, new, 1))
    return next((n for n, line in enumerate(path.read_text().splitlines(), 1) if new.strip() in line), None) \
        if new.strip() else None


def line_of(repo, rel, text):
    return next(n for n, line in enumerate((repo / rel).read_text().splitlines(), 1) if text in line)


def write(repo, rel, text):
    (repo / rel).parent.mkdir(parents=True, exist_ok=True)
    (repo / rel).write_text(text)


def test_the_clean_repository_meets_the_health_rules_with_evidence(clean):
    result = run_gate(ARCH, clean)
    assert result.findings == [], "\n".join(map(str, result.findings))
    for requirement in ("OPS-2", "STO-7", "OPS-3"):
        assert result.skip_reason(requirement) is None, requirement


# -- OPS-2: containers ------------------------------------------------------------------------
def test_a_container_without_onboot_is_a_finding(repo):
    edit(repo, PVE, "onboot: 1\n", "")
    assert found(repo) == {("OPS-2", PVE, None)}, messages(repo)
    assert "onboot: 1" in messages(repo) and f"container {CT.id} ({CT.name})" in messages(repo)


def test_onboot_0_is_a_finding_at_its_line(repo):
    line = edit(repo, PVE, "onboot: 1", "onboot: 0")
    assert found(repo) == {("OPS-2", PVE, line)}, messages(repo)


def test_a_template_is_not_judged(repo):
    edit(repo, PVE, "onboot: 1\n", "template: 1\n")
    assert found(repo) == set(), messages(repo)


def test_an_unprivileged_systemd_container_without_nesting_is_a_finding(repo):
    edit(repo, PVE, "features: nesting=1\n", "")
    assert found(repo) == {("OPS-2", PVE, None)}, messages(repo)
    assert "mount namespacing" in messages(repo)


def test_features_without_nesting_is_a_finding_at_its_line(repo):
    line = edit(repo, PVE, "features: nesting=1", "features: keyctl=1")
    assert found(repo) == {("OPS-2", PVE, line)}, messages(repo)


@pytest.mark.parametrize("old, new", [("unprivileged: 1", "unprivileged: 0"), ("ostype: debian", "ostype: alpine"),
                                      ("unprivileged: 1", "unprivileged: 1\nlxc.apparmor.profile: unconfined")],
                         ids=["privileged", "no-systemd", "unconfined"])
def test_nesting_is_not_asked_where_systemd_is_not_blocked(repo, old, new):
    edit(repo, PVE, "features: nesting=1\n", "")
    edit(repo, PVE, old, new)
    assert found(repo) == set(), messages(repo)


# -- OPS-2: a Redis unit's type against its redis.conf ------------------------------------------
REDIS_CONF = f"{OTHER}/redis/redis.conf"
REDIS_DROPIN = f"{OTHER}/systemd/system/redis-server.service.d/override.conf"


@pytest.mark.parametrize("conf, dropin, bad", [
    ("port 6379\nsupervised no\n", "[Service]\nType=notify\n", True),
    ("port 6379\n", "[Service]\nType=notify\n", True),                       # Redis's default: no
    ("port 6379\nsupervised systemd\n", "[Service]\nType=notify\n", False),
    ("port 6379\nsupervised auto\n", "[Service]\nType=notify\n", False),
    ("port 6379\n", "[Service]\nType=notify\nExecStart=\n"
                    "ExecStart=/usr/bin/redis-server /etc/redis/redis.conf --supervised systemd\n", False),
    ("port 6379\ndaemonize no\n", "[Service]\nType=forking\n", True),
    ("port 6379\ndaemonize yes\n", "[Service]\nType=forking\n", False),
    ("port 6379\ndaemonize yes\n", "[Service]\nType=simple\n", True),
    ("port 6379\nsupervised no\n", "[Unit]\nOnFailure=email-failures@%n.service\n", False),   # type not said here
], ids=["notify-supervised-no", "notify-no-supervised", "notify-systemd", "notify-auto", "notify-cli",
        "forking-no-daemon", "forking-daemon", "simple-daemon", "type-from-the-package"])
def test_a_redis_unit_type_its_configuration_does_not_support(repo, conf, dropin, bad):
    write(repo, REDIS_CONF, conf)
    write(repo, REDIS_DROPIN, dropin)
    expected = {("OPS-2", REDIS_DROPIN, 2)} if bad else set()
    assert found(repo, "OPS-2") == expected, messages(repo)
    if bad and "notify" in dropin:
        assert "supervised systemd" in messages(repo) and REDIS_CONF in messages(repo)


# -- STO-7: log files and logrotate ----------------------------------------------------------------
def test_an_access_log_no_rule_rotates_is_a_finding(repo):
    line = edit(repo, SITE, "access_log /var/log/nginx/", "access_log /srv/logs-nginx/")
    assert found(repo) == {("STO-7", SITE, line)}, messages(repo)
    assert "/srv/logs-nginx/" in messages(repo) and "/var/log/nginx/*.log only" in messages(repo)


def test_a_logrotate_rule_of_the_machine_covers_it(repo):
    edit(repo, SITE, "access_log /var/log/nginx/", "access_log /srv/logs-nginx/")
    write(repo, f"{layout.folder(ARCH, PROXY)}/logrotate.d/nginx-data",
          '"/srv/logs-nginx/*.log" {\n  weekly\n  postrotate\n    invoke-rc.d nginx rotate >/dev/null 2>&1 }\n'
          '  endscript\n}\n')
    assert found(repo) == set(), messages(repo)


def test_a_log_outside_the_package_rule_glob_is_a_finding(repo):
    """Debian's /etc/logrotate.d/nginx rotates /var/log/nginx/*.log: `x.err` is never rotated."""
    edit(repo, SITE, "access_log /var/log/nginx/", "error_log /var/log/nginx/site.err;\n    access_log /var/log/nginx/")
    line = line_of(repo, SITE, "site.err")
    assert found(repo) == {("STO-7", SITE, line)}, messages(repo)


def test_a_machine_logrotate_nginx_file_replaces_the_package_rule(repo):
    write(repo, f"{layout.folder(ARCH, PROXY)}/logrotate.d/nginx", "/srv/other/*.log {\n  daily\n}\n")
    assert {r for r, _, _ in found(repo)} == {"STO-7"}, messages(repo)
    assert ("STO-7", SITE, line_of(repo, SITE, "access_log")) in found(repo), messages(repo)


def test_a_unit_appending_to_a_file_no_rule_rotates_is_a_finding(repo):
    unit = f"{OTHER}/systemd/system/report@.service"
    write(repo, unit, "[Service]\nType=oneshot\nExecStart=/usr/bin/report %i\nTimeoutStartSec=1h\n"
                      "StandardOutput=append:/var/log/report/report-%i.log\nStandardError=journal\n")
    assert found(repo) == {("STO-7", unit, 5)}, messages(repo)
    write(repo, f"{OTHER}/logrotate.d/report", "/var/log/report/*.log {\n  rotate 7\n}\n")
    assert found(repo) == set(), messages(repo)


def test_the_nginx_package_rule_applies_where_nginx_is_configured_only(repo):
    text = "[Service]\nType=oneshot\nExecStart=/bin/true\nStandardOutput=append:/var/log/nginx/job.log\n"
    write(repo, f"{layout.folder(ARCH, PROXY)}/systemd/system/job.service", text)
    assert found(repo, "STO-7") == set(), messages(repo)
    write(repo, f"{OTHER}/systemd/system/job.service", text)
    assert found(repo, "STO-7") == {("STO-7", f"{OTHER}/systemd/system/job.service", 4)}, messages(repo)


def test_a_logrotate_file_that_does_not_parse_is_one_finding_and_proves_no_absence(repo):
    edit(repo, SITE, "access_log /var/log/nginx/", "access_log /srv/logs-nginx/")
    rule = f"{layout.folder(ARCH, PROXY)}/logrotate.d/nginx-data"
    write(repo, rule, "/srv/logs-nginx/*.log {\n  weekly\n")
    assert found(repo) == {("STO-7", rule, 1)}, messages(repo)
    assert "never closed" in messages(repo)


# -- OPS-3: job units and their time-out -------------------------------------------------------------
# The rule is read directly: the gate reports OPS-3 once the requirement is in the catalogue (with its live
# check and lab fault, another branch); until then its findings are held back (confs.audit._catalogued).
def _ops3(repo):
    return check_job_timeouts.check(ARCH, ConfRepo(repo, ARCH.conf_dir_machines(), ARCH.spec.deploy_path))


def ops3(repo):
    return {(f.requirement, f.file, f.line) for f in _ops3(repo)}


def ops3_messages(repo):
    return "\n".join(map(str, _ops3(repo)))


def test_the_gate_reports_ops3_exactly_when_the_catalogue_has_it(repo):
    from specs import load_requirements
    edit(repo, SYNCOID, "TimeoutStartSec=6h\n", "")
    assert ("OPS-3" in {r for r, _, _ in found(repo)}) == ("OPS-3" in load_requirements())
def test_a_oneshot_job_without_timeout_is_a_finding(repo):
    edit(repo, SYNCOID, "TimeoutStartSec=6h\n", "")
    assert ops3(repo) == {("OPS-3", SYNCOID, None)}, ops3_messages(repo)
    assert "infinity" in ops3_messages(repo)


@pytest.mark.parametrize("value", ["infinity", "0"])
def test_a_timeout_of_no_limit_is_a_finding_at_its_line(repo, value):
    line = edit(repo, SYNCOID, "TimeoutStartSec=6h", f"TimeoutStartSec={value}")
    assert ops3(repo) == {("OPS-3", SYNCOID, line)}, ops3_messages(repo)


def test_runtime_max_does_not_bound_a_oneshot_job_and_timeout_sec_does(repo):
    edit(repo, SYNCOID, "TimeoutStartSec=6h", "RuntimeMaxSec=6h")
    assert ops3(repo) == {("OPS-3", SYNCOID, None)}, ops3_messages(repo)
    edit(repo, SYNCOID, "RuntimeMaxSec=6h", "TimeoutSec=6h")
    assert ops3(repo) == set(), ops3_messages(repo)


def test_a_timer_started_simple_service_needs_runtime_max(repo):
    unit = f"{OTHER}/systemd/system/backup.service"
    write(repo, f"{OTHER}/systemd/system/backup.timer", "[Timer]\nOnCalendar=daily\n")
    write(repo, unit, "[Service]\nExecStart=/usr/local/bin/backup\nTimeoutStartSec=1h\n")
    assert ops3(repo) == {("OPS-3", unit, None)}, ops3_messages(repo)
    assert "RuntimeMaxSec" in ops3_messages(repo)
    write(repo, unit, "[Service]\nExecStart=/usr/local/bin/backup\nRuntimeMaxSec=3h\n")
    assert ops3(repo) == set(), ops3_messages(repo)


def test_a_package_unit_with_only_a_drop_in_here_is_not_judged(repo):
    write(repo, f"{OTHER}/systemd/system/certbot.timer", "[Timer]\nOnCalendar=twice-daily\n")
    write(repo, f"{OTHER}/systemd/system/certbot.service.d/override.conf", "[Unit]\nOnFailure=x@%n.service\n")
    assert ops3(repo) == set(), ops3_messages(repo)


# -- the logrotate parser and nginx log paths ------------------------------------------------------
def test_logrotate_stanzas_paths_scripts_and_globals():
    text = ("weekly\ninclude /etc/logrotate.d\n\n/var/log/a.log \"/srv/with space/*.log\"\n/var/log/b/*.log\n{\n"
            "  rotate 4\n  postrotate\n    [ -f /run/x.pid ] && kill -USR1 $(cat /run/x.pid) { }\n  endscript\n}\n"
            "/var/log/c.log {\n  missingok\n}\n")
    parsed = parse_logrotate_text(text)
    assert [s.patterns for s in parsed.stanzas] == [("/var/log/a.log", "/srv/with space/*.log", "/var/log/b/*.log"),
                                                    ("/var/log/c.log",)]
    assert [s.line for s in parsed.stanzas] == [4, 12]
    assert parsed.covering("/srv/with space/x.log").line == 4 and parsed.covering("/var/log/d.log") is None


@pytest.mark.parametrize("text, line, why", [
    ("/var/log/a.log {\n  weekly\n", 1, "never closed"),
    ("}\n", 1, "closes no stanza"),
    ("var/log/a.log {\n}\n", 1, "not an absolute"),
    ("/var/log/a.log {\n  postrotate\n    true\n}\n", 2, "endscript"),
    ("/var/log/a.log\n", 1, "not followed by '{'"),
    ("/var/log/a.log {\n  {\n}\n", 2, "inside the stanza"),
])
def test_logrotate_errors_name_their_line(text, line, why):
    with pytest.raises(ConfParseError) as exc:
        parse_logrotate_text(text)
    assert exc.value.line == line and why in exc.value.message


@pytest.mark.parametrize("pattern, path, expected", [
    ("/var/log/nginx/*.log", "/var/log/nginx/site.access.log", True),
    ("/var/log/nginx/*.log", "/var/log/nginx/site.err", False),
    ("/var/log/nginx/*.log", "/var/log/nginx/sub/site.log", False),      # * never crosses /
    ("/var/log/*/*.log", "/var/log/nginx/site.log", True),
    ("/var/log/nginx/*.log", "/var/log/nginx/.hidden.log", False),       # nor matches a leading dot
    ("/var/log/app-[0-9].log", "/var/log/app-3.log", True),
    ("/var/log/app-?.log", "/var/log/app-12.log", False),
])
def test_logrotate_glob_matches_as_glob3(pattern, path, expected):
    assert covers(pattern, path) is expected


def test_nginx_log_paths_that_are_files():
    parsed = parse_nginx_text("error_log /var/log/nginx/error.log;\nhttp {\n  access_log off;\n"
                              "  access_log syslog:server=unix:/dev/log;\n  server {\n"
                              "    access_log /srv/logs/$host.log combined buffer=32k;\n"
                              "    error_log /dev/stderr;\n    error_log logs/error.log warn;\n  }\n}\n")
    assert parsed.logs == (("error_log", "/var/log/nginx/error.log", 1), ("access_log", "/srv/logs/$host.log", 6),
                           ("error_log", "logs/error.log", 8))
