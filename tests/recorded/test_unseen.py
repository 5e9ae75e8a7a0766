"""Faults in forms the first catalogue did not have (issue 18), on readings in the tools' own formats:
each verdict below was a pass before the check judged the substance (the lab's fault of the same form
is in fixtures/lab/faults_unseen.py)."""
from checks import test_app, test_db, test_net, test_replication_rights, test_storage, test_web
from fixtures.probes.appconfig import parse_app_config
from fixtures.probes.identity import parse_exe_packages, parse_protocols
from fixtures.probes.operators import parse_operators
from fixtures.probes.route import parse_route
from tests.recorded.harness import replaced, run, section

APP = "opff"


def _address(fleet):
    return fleet[APP].addresses[0]


def _healthy(fleet, shipped, text=None, **sections):
    """opff's reading with the sections of issue 18's probes as a healthy application container has them
    (as the lab prints them), each replaceable."""
    a = _address(fleet)
    ep = shipped.database_endpoints(APP)
    base = {
        "db_protocols": ["127.0.0.11 40455 -", f"{a} 8080 -", f"{a} 22 -", f"{a} 80 -"],
        "exe_packages": ["@@file /usr/sbin/nginx\tnginx\tnginx:/usr/sbin/nginx ",
                         "@@file /usr/sbin/apache2\tapache2-bin\tapache2-bin:/usr/sbin/apache2 ",
                         "380 /usr/sbin/nginx", "395 /usr/sbin/apache2"],
        "app_config": ["@@file /opt/product-opener/lib/ProductOpener/Config2.pm"] +
                      [f"{k} {v} {v.split(':')[0]}" for k, v in ep.items()],
        "route": ["/images/ missing 404 nginx -", "/images/ file - - nofile",
                  "/css/ missing 404 nginx -", "/css/ file /css/dist/lab.css 200 same -"],
    }
    base.update(sections)
    text = text or fleet[APP].text
    for name, lines in base.items():
        text = section(text, name, lines)
    return replaced(fleet, shipped, APP, text)


# --- APP-3: a database server under another name, on another port -----------------------------------

def test_app3_healthy_sections_pass(fleet, shipped):
    assert run(test_app.test_no_database_server_in_application_container, APP, _healthy(fleet, shipped), shipped)[0] \
        == "passed"


def test_app3_a_socket_answering_redis_on_another_port_is_red(fleet, shipped):
    protocols = ["127.0.0.1 7379 redis", f"{_address(fleet)} 80 -"]
    outcome, message = run(test_app.test_no_database_server_in_application_container, APP,
                           _healthy(fleet, shipped, db_protocols=protocols), shipped)
    assert outcome == "failed" and "127.0.0.1:7379 answers the redis protocol" in message, message


def test_app3_the_lab_mongod_stand_in_and_a_real_mongod_are_told_by_protocol_and_package(fleet, shipped):
    outcome, message = run(test_app.test_no_database_server_in_application_container, APP,
                           _healthy(fleet, shipped, db_protocols=["0.0.0.0 27999 mongodb"]), shipped)
    assert outcome == "failed" and "answers the mongodb protocol" in message
    exe = ["@@file /usr/bin/mongod\tmongodb-org-server\t-", "4711 /usr/bin/mongod"]
    outcome, message = run(test_app.test_no_database_server_in_application_container, APP,
                           _healthy(fleet, shipped, exe_packages=exe), shipped)
    assert outcome == "failed" and "process 4711" in message and "packaged by mongodb-org-server" in message


def test_app3_a_copy_of_a_database_binary_is_told_by_its_content(fleet, shipped):
    exe = ["@@file /usr/local/bin/kvcache\t-\tredis-tools:/usr/bin/redis-check-aof redis-tools:/usr/bin/redis-check-rdb ",
           "4242 /usr/local/bin/kvcache"]
    outcome, message = run(test_app.test_no_database_server_in_application_container, APP,
                           _healthy(fleet, shipped, exe_packages=exe), shipped)
    assert outcome == "failed" and "process 4242" in message and "redis-tools:/usr/bin/redis-check-rdb" in message
    # redis-cli, of the same package but another program, is no server
    exe = ["@@file /usr/bin/redis-cli\tredis-tools\tredis-tools:/usr/bin/redis-cli ", "4243 /usr/bin/redis-cli"]
    assert run(test_app.test_no_database_server_in_application_container, APP,
               _healthy(fleet, shipped, exe_packages=exe), shipped)[0] == "passed"


def test_app3_a_socket_that_cannot_be_asked_is_no_pass(fleet, shipped):
    outcome, message = run(test_app.test_no_database_server_in_application_container, APP,
                           _healthy(fleet, shipped, db_protocols=["10.9.9.9 7000 ! Connection refused"]), shipped)
    assert outcome == "failed" and message.startswith("no evidence") and "10.9.9.9:7000" in message


def test_identity_parsers():
    assert parse_protocols(["127.0.0.1 7000 memcached", ":: 7001 redis", "0.0.0.0 80 -", "::1 9 ! refused"])[1].kinds \
        == ("redis",)
    got = parse_exe_packages(["@@file /usr/bin/dash\tdash\tdash:/bin/dash ", "1 /usr/bin/dash", "2 /usr/bin/x (deleted)"])
    assert got[1].packaged_paths() == ["/usr/bin/dash", "/usr/bin/dash"] and got[2].owner == "-"


# --- NET-1: a connection to a public address of the project's own machines -------------------------

def test_net1_a_connection_to_the_reverse_proxy_public_address_is_red(fleet, shipped):
    proxy = shipped.proxy_of(shipped.container(APP).host)
    conns = fleet[APP].sections["conns"].lines + [f"0      0      {_address(fleet)}:40312   {proxy.public_address}:443"]
    outcome, message = run(test_net.test_applications_talk_over_the_internal_network, APP,
                           _healthy(fleet, shipped, conns=conns), shipped)
    assert outcome == "failed" and f"reverse-proxy {proxy.name} at its public address {proxy.public_address}:443" \
        in message, message


# --- ZFS-8: the operator's shell, sudo rights and keys ---------------------------------------------

OPS_OK = ["@@user {op}", "@@shell /bin/sh", "@@sudo (root) NOPASSWD: /usr/local/sbin/lab-operator-zfs",
          "@@keys /etc/ssh/authorized_keys/{op}",
          '@@key ssh-ed25519 from="198.18.0.1",no-pty,no-agent-forwarding,no-port-forwarding,no-X11-forwarding']


def _zfs8(fleet, shipped, lines, stand_in=("/usr/local/sbin/lab-operator-zfs",)):
    from checks.test_replication_rights import _operator, replicas
    target = replicas(shipped)[0]
    op, source = _operator(shipped, target), target.source
    text = section(fleet[source].text, "operators", [l.format(op=op) for l in lines])
    saved = shipped.operator_sudo
    shipped.operator_sudo = stand_in
    try:
        return run(test_replication_rights.test_replication_pulls_through_an_unprivileged_operator, str(target),
                   replaced(fleet, shipped, source, text), shipped)
    finally:
        shipped.operator_sudo = saved


def test_zfs8_the_lab_operator_passes(fleet, shipped):
    assert _zfs8(fleet, shipped, OPS_OK)[0] == "passed"


def test_zfs8_sudo_rights_and_a_login_shell_are_red(fleet, shipped):
    lines = ["@@user {op}", "@@shell /bin/bash", "@@sudo (root) NOPASSWD: /usr/local/sbin/lab-operator-zfs",
             "@@sudo (ALL) NOPASSWD: ALL"] + OPS_OK[3:]
    outcome, message = _zfs8(fleet, shipped, lines)
    assert outcome == "failed" and "may run as root through sudo: (ALL) NOPASSWD: ALL" in message and "/bin/bash" in message
    # in production (no stand-in) the lab's rule is a sudo right like any other
    outcome, message = _zfs8(fleet, shipped, OPS_OK, stand_in=())
    assert outcome == "failed" and "lab-operator-zfs" in message


def test_zfs8_an_unrestricted_key_with_a_shell_is_an_interactive_login(fleet, shipped):
    lines = OPS_OK[:4] + ["@@key ssh-ed25519 -"]
    outcome, message = _zfs8(fleet, shipped, lines)
    assert outcome == "failed" and "can log in interactively" in message
    assert _zfs8(fleet, shipped, ["@@user {op}", "@@shell /usr/sbin/nologin", OPS_OK[2], OPS_OK[3],
                                  "@@key ssh-ed25519 -"])[0] == "passed"


def test_zfs8_sudo_that_cannot_say_is_no_evidence(fleet, shipped):
    outcome, message = _zfs8(fleet, shipped, ["@@user {op}", "@@shell /bin/sh", "@@sudoerror sudo: unable to read"])
    assert outcome == "failed" and message.startswith("no evidence") and "unable to read" in message


def test_operators_parser():
    got = parse_operators(["@@user a", "@@shell /bin/sh", "@@sudo (root) NOPASSWD: /x", "@@keys /k",
                           '@@key ssh-ed25519 from="1.2.3.4",no-pty', "@@user b", "@@absent"])
    assert got["a"].sudo == ["(root) NOPASSWD: /x"] and got["a"].keys == [("/k", "ssh-ed25519", 'from="1.2.3.4",no-pty')]
    assert not got["b"].exists


# --- STO-6: every mount at or under an asset folder ------------------------------------------------

def test_sto6_a_read_write_mount_below_a_read_only_asset_is_red(fleet, shipped):
    import json
    asset = sorted(shipped.assets(APP).values())[0]

    def with_mount(options):   # the recording's findmnt -J form, one mount added
        table = json.loads("\n".join(fleet[APP].sections["mounts"].lines))
        table["filesystems"].append({"target": f"{asset}/cache", "source": "lab-fault", "fstype": "tmpfs",
                                     "options": options})
        return json.dumps(table, indent=3).splitlines()
    mounts = with_mount("rw,relatime,size=1024k")
    outcome, message = run(test_storage.test_assets_are_read_only, APP, _healthy(fleet, shipped, mounts=mounts), shipped)
    assert outcome == "failed" and f"{asset}/cache (tmpfs lab-fault) is mounted read-write below {asset}" in message, message
    mounts = with_mount("ro,relatime")
    assert run(test_storage.test_assets_are_read_only, APP, _healthy(fleet, shipped, mounts=mounts), shipped)[0] == "passed"


# --- DB-2: the instance the configuration names, no connection open --------------------------------

def test_db2_configuration_naming_another_instance_is_red(fleet, shipped):
    ep = shipped.database_endpoints(APP)
    config = ["@@file /srv/opff/lib/ProductOpener/Config2.pm"] + [f"{k} {v} {v.split(':')[0]}" for k, v in ep.items()
                                                                   if k != "memcached"] + \
        ["memcached 10.1.0.100:11211 10.1.0.100"]
    outcome, message = run(test_db.test_application_reaches_the_shared_databases, APP,
                           _healthy(fleet, shipped, app_config=config), shipped)
    assert outcome == "failed" and "Config2.pm names a memcached instance at 10.1.0.100:11211" in message, message


def test_db2_a_host_name_and_the_default_port(fleet, shipped):
    ep = shipped.database_endpoints(APP)
    mongo = ep["mongodb"].split(":")[0]
    config = ["@@file /srv/opff/lib/ProductOpener/Config2.pm", f"mongodb mongodb {mongo}" if ep["mongodb"].endswith(
        ":27017") else f"mongodb {ep['mongodb']} {mongo}"]
    assert run(test_db.test_application_reaches_the_shared_databases, APP,
               _healthy(fleet, shipped, app_config=config), shipped)[0] == "passed"
    outcome, message = run(test_db.test_application_reaches_the_shared_databases, APP,
                           _healthy(fleet, shipped, app_config=["@@file /c", "mongodb nowhere unresolved"]), shipped)
    assert outcome == "failed" and "does not resolve" in message


def test_app_config_parser_never_keeps_a_password():
    got = parse_app_config(["@@file /c", "postgresql 10.1.0.120 10.1.0.120", "redis ? expression"])
    assert got.endpoints[0].value == "10.1.0.120" and got.endpoints[1].address == ""


def test_app_config_probe_cuts_passwords_on_the_machine(tmp_path):
    import subprocess

    from fixtures.probes import appconfig
    conf = tmp_path / "Config2.pm"
    conf.write_text("$mongodb_host = \"10.1.0.102\";\n# $mongodb_host = \"1.1.1.1\";\n"
                    "$memd_servers = [\"10.1.0.121:11211\", 'localhost:11212'];\n$redis_url = 'redis://:s3cret@10.1.0.122:6379/0';\n"
                    "%server_options = (\n\tminion_backend => {'Pg' => 'postgresql://off:hunter2@10.1.0.120/minion'},\n);\n")
    out = subprocess.run(["sh", "-c", f"perl -e '{appconfig._PERL.strip()}' {conf}"], capture_output=True, text=True)
    assert out.returncode == 0 and "hunter2" not in out.stdout and "s3cret" not in out.stdout
    got = {(e.kind, e.value) for e in parse_app_config(out.stdout.splitlines()).endpoints}
    assert got == {("mongodb", "10.1.0.102"), ("memcached", "10.1.0.121:11211"), ("memcached", "localhost:11212"),
                   ("redis", "10.1.0.122:6379"), ("postgresql", "10.1.0.120")}


# --- WEB-2: which server answers a static path -----------------------------------------------------

def test_web2_a_static_path_answered_by_apache_is_red(fleet, shipped):
    route = ["/css/ missing 200 other served-by=apache,application=opff", "/css/ file /css/dist/lab.css 200 same -"]
    outcome, message = run(test_web.test_application_nginx_serves_static_files_itself, APP,
                           _healthy(fleet, shipped, route=route), shipped)
    assert outcome == "failed" and "answered 200 by another server than nginx (served-by=apache application=opff)" \
        in message, message
    route = ["/css/ missing 404 nginx -", "/css/ file /css/dist/lab.css 200 differs served-by=apache,application=opff"]
    outcome, message = run(test_web.test_application_nginx_serves_static_files_itself, APP,
                           _healthy(fleet, shipped, route=route), shipped)
    assert outcome == "failed" and "other content than the file on disk" in message


def test_route_parser():
    got = parse_route(["/css/ missing 404 nginx -", "/css/ file /css/a.css 200 same -", "/js/ file - - nofile"])
    assert got[1].path == "/css/a.css" and got[2].verdict == "nofile"
