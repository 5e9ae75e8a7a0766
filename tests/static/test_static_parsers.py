"""The readers of each configuration format: what they understand, and where they stop."""
import pytest

from confs.errors import ConfParseError
from confs.nginx import parse_nginx
from confs.pve import parse_pve
from confs.sanoid import parse_sanoid
from confs.stunnel import parse_stunnel
from confs.syncoid import parse_syncoid
from confs.web import servers_for, targets, upstreams_of


def write(tmp_path, text, name="f.conf"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_stunnel_services_inherit_global_options(tmp_path):
    [svc] = parse_stunnel(write(tmp_path, "; comment\n# other\nciphers = PSK\nclient = yes\n\n"
                                          "[redis]\naccept = 10.1.1.103:6379\nPSKsecrets = /etc/stunnel/psk/redis.txt\n"))
    assert (svc.name, svc.line, svc.is_client, svc.accept_port) == ("redis", 6, True, 6379)
    assert svc.get("CIPHERS").value == "PSK" and svc.get("ciphers").line == 3


def test_stunnel_service_overrides_global(tmp_path):
    [svc] = parse_stunnel(write(tmp_path, "ciphers = PSK\n[a]\nciphers = AES256-SHA\naccept = 1234\n"))
    assert svc.get("ciphers").value == "AES256-SHA" and svc.accept_port == 1234 and not svc.is_client


def test_sanoid_templates_recursion_and_defaults(tmp_path):
    conf = parse_sanoid(write(tmp_path, "[template_a]\nhourly = 10\nautosnap = no\n[template_b]\nhourly = 20\n"
                                        "[pool/off]\nuse_template = a, b\nrecursive = yes\ndaily = 5\n"
                                        "[pool/obf]\nmonthly = 1\n"))
    policy = conf.policy("pool/off/products")
    assert (policy.section, policy.count("hourly"), policy.count("daily")) == ("pool/off", 20, 5)
    assert policy.flag("autosnap", True) is False
    assert conf.policy("pool/obf/products") is None               # not recursive
    assert conf.policy("pool/obf").flag("autosnap", True) is True  # sanoid's default
    assert conf.policy("pool/other") is None


def test_sanoid_unknown_template_is_named(tmp_path):
    conf = parse_sanoid(write(tmp_path, "[pool/off]\nuse_template = nope\n"))
    assert conf.missing_template("pool/off") == ("nope", 2)


@pytest.mark.parametrize("text, line", [("x = 1\n", 1), ("[a]\njunk\n", 2)])
def test_sanoid_errors_carry_their_line(tmp_path, text, line):
    with pytest.raises(ConfParseError) as err:
        parse_sanoid(write(tmp_path, text))
    assert err.value.line == line


def test_pve_reads_mount_points_of_the_current_container_only(tmp_path):
    pve = parse_pve(write(tmp_path, "#description: mp0: not read\narch: amd64\n"
                                    "mp0: /zfs-hdd/off/users,mp=/mnt/off/users\n"
                                    "mp1: volume=/zfs-hdd/assets/,mp=/opt/x/,ro=1,backup=0\n"
                                    "lxc.mount.entry: /zfs-hdd/off/logs mnt/off/logs none ro,bind 0 0\n"
                                    "[snap1]\nmp0: /old,mp=/mnt/old\n"))
    points = [(m.key, m.source, m.path, m.read_only, m.line) for m in pve.mount_points()]
    assert points == [("mp0", "/zfs-hdd/off/users", "/mnt/off/users", False, 3),
                      ("mp1", "/zfs-hdd/assets", "/opt/x", True, 4),
                      ("lxc.mount.entry", "/zfs-hdd/off/logs", "/mnt/off/logs", True, 5)]


@pytest.mark.parametrize("text, line", [("arch: amd64\nnot a line\n", 2), ("mp0: /zfs-hdd/x\n", 1)])
def test_pve_errors_carry_their_line(tmp_path, text, line):
    with pytest.raises(ConfParseError) as err:
        parse_pve(write(tmp_path, text))
    assert err.value.line == line


def test_syncoid_jobs_with_quoted_options(tmp_path):
    jobs = parse_syncoid(write(tmp_path, "# comment\n\n--sshkey '/root/.ssh/id key' -r --no-sync-snap "
                                         "op@10.0.0.2:zfs-hdd/off zfs-hdd/off  # trailing\n"))
    [job] = jobs
    assert job.line == 3 and job.flags[0] == "--sshkey=/root/.ssh/id key" and job.recursive
    assert (job.source.user, job.source.host, job.source.dataset) == ("op", "10.0.0.2", "zfs-hdd/off")
    assert job.covers("zfs-hdd/off/images") == "zfs-hdd/off/images"
    assert job.covers("zfs-hdd/offx") is None


def test_syncoid_needs_source_and_target(tmp_path):
    with pytest.raises(ConfParseError, match="expected '<flags> <source> <target>'") as err:
        parse_syncoid(write(tmp_path, "--no-sync-snap a b\n--recursive only-one\n"))
    assert err.value.line == 2


def test_nginx_exact_name_beats_wildcard_and_upstreams_resolve(tmp_path):
    write(tmp_path, "upstream off_app { server 10.1.0.113:80; }\n"
                    "server { server_name *.example.org; location / { proxy_pass http://10.1.0.1; } }\n"
                    "server { server_name pro.example.org;\n location / { proxy_pass http://off_app; } }\n", "site")
    files = [("site", parse_nginx(tmp_path / "site"))]
    [(_, pro)] = servers_for(files, "pro.example.org")
    [(_, other)] = servers_for(files, "world.example.org")
    assert other.line == 2 and servers_for(files, "example.org") == []
    [t] = targets("site", pro.proxy_passes, upstreams_of(files), {})
    assert (t.address, t.port, t.line) == ("10.1.0.113", 80, 1)
    [t] = targets("site", other.proxy_passes, {}, {})
    assert (t.address, t.port) == ("10.1.0.1", 80)


def test_repeats_are_read_as_the_programs_do_and_named(tmp_path):
    conf = parse_sanoid(write(tmp_path, "[a]\nhourly = 1\n[b]\nhourly = 2\n[a]\nhourly = 3\ndaily = 4\n"))
    assert conf.policy("a").count("hourly") == 3 and conf.policy("a").count("daily") == 4   # merged, last wins
    assert [(r.first, r.line) for r in conf.repeats] == [(1, 5), (2, 6)]
    services = parse_stunnel(write(tmp_path, "ciphers = PSK\n[a]\naccept = 1\n[a]\naccept = 2\n"))
    assert [s.accept_port for s in services] == [1, 2]                                   # a second service
    assert [(r.first, r.line) for r in services.repeats] == [(2, 4)]


def test_bad_encoding_names_its_real_line(tmp_path):
    path = tmp_path / "off.conf"
    path.write_bytes(b"[a]\naccept = 1\n; caf\xe9\n")
    with pytest.raises(ConfParseError, match="line 3"):
        parse_stunnel(path)


def test_cipher_strings_are_judged_as_openssl_expands_them():
    from confs.check_stunnel import cipher_problem
    assert cipher_problem("PSK") is None
    assert "non-PSK" in cipher_problem("ALL:!PSK") and "no PSK cipher at all" in cipher_problem("ALL:!PSK")
    assert "AES256-SHA" in cipher_problem("PSK:AES256-SHA")
    assert "sets no ciphers" in cipher_problem(None)


NGINX_SAMPLES = [
    'a "x\\"y" \'z\';\nb "one" "two";\nif ($a = "b") { return 301; }\nd ${var}x;\ne a#b; # c\n',
    'log_format main \'$remote_addr - [$time_local] \'\n    \'"$request" $status\';\nserver { listen 80; }\n',
    'location ~ ^/(css|js)/ { try_files $uri @app; }\nlocation @app { proxy_pass http://u; }\n',
    'map $uri $b {\n  default 1;\n  ~*\\.jpg 2;\n  "" 3;\n}\n',
    'if ( $request_method = POST ) { return 405; }\n',
    'server {\n  server_name a; # trailing { brace in a comment\n}\n',
]


@pytest.mark.parametrize("text", NGINX_SAMPLES)
def test_fast_nginx_reader_reads_as_crossplane(tmp_path, text):
    """The linear reader gives crossplane's tree, or hands the file to crossplane (None)."""
    import crossplane
    from confs.nginx import _fast_parse
    path = tmp_path / "x.conf"
    path.write_text(text)
    result = crossplane.parse(str(path), single=True, check_ctx=False, check_args=False, comments=False)
    fast = _fast_parse(text)
    assert fast is None or (not result["errors"] and fast == result["config"][0]["parsed"])


def test_fast_nginx_reader_reads_the_real_repository_as_crossplane():
    import os
    from pathlib import Path
    import crossplane
    from confs.nginx import _fast_parse
    real = Path(__file__).resolve().parents[3] / "shared" / "off-infrastructure" / "confs"
    if not real.is_dir():
        pytest.skip(f"the users' real repository is absent ({real})")
    compared = 0
    for dirpath, _, names in os.walk(real):
        for name in names:
            path = Path(dirpath) / name
            if "/nginx/" not in str(path) or path.is_symlink():
                continue
            result = crossplane.parse(str(path), single=True, check_ctx=False, check_args=False, comments=False)
            fast = _fast_parse(path.read_text(errors="replace"))
            if fast is not None:
                assert not result["errors"] and fast == result["config"][0]["parsed"], path
                compared += 1
    assert compared > 50
