"""DB-3 (each shared database answers its protocol, has room under its cap, its unit enabled and running):
the probes run on real-format tool output (fake `redis-cli`, `psql`, `runuser`, `systemctl` printing what the
real ones print; a memcached `stats` server; the lab's MongoDB stand-in and a reply shaped as a real mongod's
serverStatus), the rule, failing closed, and the provisioner's plan."""
import os
import socket
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from checks.test_db import answer_problem, connection_problems, unit_problems
from fixtures.facts import Facts, MissingEvidence
from fixtures.probes.databases import _ASK, Connections, _command, parse_connections
from fixtures.probes.network import _REACH_PERL, Reach, parse_reach
from fixtures.probes.units import UnitHealth
from provision.audit import Finding
from provision.remedies import Action, Manual, steps_for
from specs import load_requirements, load_spec
from specs.architecture import Architecture

ROOT = Path(__file__).resolve().parents[2]
STAND_IN = ROOT / "fixtures" / "lab" / "image" / "rootfs" / "usr" / "local" / "bin" / "mongod"
REPORTS = ROOT.parent / "shared" / "off-infrastructure" / "docs" / "reports"
ARCH = Architecture(load_spec())
PCT = ARCH.spec.connections.max_percent


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(script, path_dir=None):
    env = dict(os.environ, PATH=f"{path_dir}:{os.environ['PATH']}" if path_dir else os.environ["PATH"])
    return subprocess.run(["sh", "-c", script], capture_output=True, text=True, env=env, timeout=30).stdout


def _fake(tmp_path, name, body):
    f = tmp_path / name
    f.write_text("#!/bin/sh\n" + body)
    f.chmod(0o755)


# --- the server side probe, per kind -------------------------------------------------------------------

TOOLS = ROOT / "tests" / "recorded" / "tools"


def _recorded(name):
    return (TOOLS / name).read_bytes().decode()


def _fake_system(tmp_path, enabled="enabled"):
    _fake(tmp_path, "systemctl", f'[ "$1" = is-enabled ] && echo {enabled}\n')
    _fake(tmp_path, "runuser", 'shift 3; exec "$@"\n')


def test_redis_read_with_redis_cli(tmp_path):
    _fake_system(tmp_path)
    (tmp_path / "info").write_text(_recorded("debian12-redis-cli-info-clients.txt").replace("connected_clients:1",
                                                                                             "connected_clients:3"))
    (tmp_path / "config").write_text(_recorded("debian12-redis-cli-config-get-maxclients.txt"))
    _fake(tmp_path, "redis-cli", f'case "$*" in *INFO*) cat {tmp_path}/info;; *CONFIG*) cat {tmp_path}/config;; esac\n')
    got = parse_connections(_run(_command(ARCH, "off-redis"), tmp_path).splitlines())
    assert got == {"redis": Connections("enabled", 3, 10000)}


def test_redis_refusing_at_its_cap_is_a_finding_not_a_count(tmp_path):
    _fake_system(tmp_path)
    _fake(tmp_path, "redis-cli", "echo 'Error: Connection reset by peer'\n")
    got = parse_connections(_run(_command(ARCH, "off-redis"), tmp_path).splitlines())["redis"]
    assert got.error.startswith("Error: Connection reset") and got.current is None
    assert connection_problems("redis", {"redis": got}, PCT)[0].startswith("redis gave no connection count")


def test_postgresql_read_with_psql(tmp_path):
    _fake_system(tmp_path, "enabled")
    _fake(tmp_path, "psql", "printf '100\\n7\\n'\n")      # psql -XAtq: SHOW max_connections, then the count
    got = parse_connections(_run(_command(ARCH, "off-postgres"), tmp_path).splitlines())
    assert got == {"postgresql": Connections("enabled", 7, 100)}


def test_postgresql_refusing_is_a_finding(tmp_path):
    _fake_system(tmp_path)
    _fake(tmp_path, "psql", "echo 'psql: error: connection to server on socket \"/var/run/postgresql/.s.PGSQL.5432\" "
                            "failed: FATAL:  sorry, too many clients already' >&2; exit 2\n")
    got = parse_connections(_run(_command(ARCH, "off-postgres"), tmp_path).splitlines())["postgresql"]
    assert "too many clients" in got.error


def test_a_missing_tool_is_missing_evidence_not_a_pass(tmp_path):
    lines = ["postgresql enabled enabled", "postgresql ? psql is not installed here"]
    with pytest.raises(MissingEvidence, match="psql is not installed"):
        connection_problems("postgresql", parse_connections(lines), PCT)
    with pytest.raises(MissingEvidence, match="not read"):
        connection_problems("redis", {}, PCT)


def _serve(handler):
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen()

    def loop():
        while True:
            try:
                c, _ = srv.accept()
            except OSError:
                return
            handler(c)
            c.close()
    threading.Thread(target=loop, daemon=True).start()
    return srv


def test_memcached_read_from_its_stats():
    stats = _recorded("debian12-memcached-stats.txt").encode()
    assert stats.endswith(b"END\r\n")
    srv = _serve(lambda c: (c.recv(64), c.sendall(stats)))
    out = subprocess.run(["perl", "-e", _ASK, "memcached", str(srv.getsockname()[1])], capture_output=True,
                         text=True, timeout=20).stdout
    srv.close()
    assert parse_connections(out.splitlines()) == {"memcached": Connections("", 2, 1024)}


def _bson(items):
    body = b"".join(items)
    return struct.pack("<i", len(body) + 5) + body + b"\0"


def _int32(name, v):
    return b"\x10" + name.encode() + b"\0" + struct.pack("<i", v)


def test_mongodb_read_from_a_real_mongod_shaped_server_status():
    """mongod 6/7 answers serverStatus with OP_MSG; connections sits among many sub-documents, its counts int32."""
    doc = _bson([b"\x02host\0" + struct.pack("<i", 8) + b"mongodb\0",
                 b"\x03asserts\0" + _bson([_int32("regular", 0), _int32("warning", 0)]),
                 b"\x03connections\0" + _bson([_int32("current", 287), _int32("available", 313),
                                              _int32("totalCreated", 90211), _int32("active", 40)]),
                 b"\x01ok\0" + struct.pack("<d", 1.0)])

    def reply(c):
        req = c.recv(4096)
        rid = struct.unpack("<i", req[4:8])[0]
        body = struct.pack("<I", 0) + b"\0" + doc
        c.sendall(struct.pack("<iiii", 16 + len(body), 7, rid, 2013) + body)
    srv = _serve(reply)
    out = subprocess.run(["perl", "-e", _ASK, "mongodb", str(srv.getsockname()[1])], capture_output=True,
                         text=True, timeout=20).stdout
    srv.close()
    c = parse_connections(out.splitlines())["mongodb"]
    assert (c.current, c.maximum) == (287, 600)
    assert not connection_problems("mongodb", {"mongodb": c}, PCT)   # 287 of 600: 47%


@pytest.fixture
def stand_in():
    port = _free_port()
    proc = subprocess.Popen([sys.executable, str(STAND_IN), "--port", str(port), "--maxIncomingConnections", "4"])
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port)).close()
            break
        except OSError:
            time.sleep(0.05)
    yield port
    proc.kill()
    proc.wait()


def _ask_stand_in(port):
    out = subprocess.run(["perl", "-e", _ASK, "mongodb", str(port)], capture_output=True, text=True, timeout=20).stdout
    return parse_connections(out.splitlines())["mongodb"]


def test_the_stand_in_reports_its_connections_and_refuses_beyond_its_cap(stand_in):
    c = _ask_stand_in(stand_in)
    assert (c.current, c.maximum) == (1, 4) and not connection_problems("mongodb", {"mongodb": c}, PCT)
    held = []
    for _ in range(3):
        s = socket.create_connection(("127.0.0.1", stand_in))
        s.sendall(b"PING\n")
        assert s.recv(64) == b"PONG mongod\n"
        held.append(s)
    at_cap = _ask_stand_in(stand_in)                 # its own connection is the fourth: 4 of 4
    assert (at_cap.current, at_cap.maximum) == (4, 4)
    assert "holds 4 connections of its maximum 4" in connection_problems("mongodb", {"mongodb": at_cap}, PCT)[0]
    for _ in range(400):   # the fourth place ours once the ask's connection has freed it (a thread of the stand-in's)
        s = socket.create_connection(("127.0.0.1", stand_in))
        s.settimeout(20)
        s.sendall(b"PING\n")
        if s.recv(64) == b"PONG mongod\n":
            held.append(s)
            break
        s.close()   # closed unanswered: the ask's connection still counted
        time.sleep(0.05)
    assert len(held) == 4, "the stand-in never admitted a fourth connection of ours"
    refused = _ask_stand_in(stand_in)                # closed unanswered, as mongod beyond maxIncomingConnections
    assert refused.error.startswith("serverStatus has no connections")
    reach = parse_reach(subprocess.run(["perl", "-e", _REACH_PERL, f"mongodb=127.0.0.1:{stand_in}"],
                                       capture_output=True, text=True, timeout=20).stdout.splitlines())["mongodb"]
    assert reach.reachable and reach.answered == ""
    assert "accepts the connection but gave no answer" in answer_problem("mongodb", reach)
    for s in held:
        s.close()


# --- from the applications: the protocol answered ------------------------------------------------------

def test_the_applications_probe_asks_each_kind_its_protocol(stand_in):
    dead = _free_port()
    out = subprocess.run(["perl", "-e", _REACH_PERL, f"mongodb=127.0.0.1:{stand_in}", f"redis=127.0.0.1:{stand_in}",
                          f"memcached=127.0.0.1:{dead}"], capture_output=True, text=True, timeout=30).stdout
    got = parse_reach(out.splitlines())
    assert got["mongodb"] == Reach(f"127.0.0.1:{stand_in}", True, "mongodb")
    assert answer_problem("mongodb", got["mongodb"]) is None
    assert "answered as mongodb" in answer_problem("redis", got["redis"])       # another kind's server
    assert not got["memcached"].reachable and answer_problem("memcached", got["memcached"]) is None  # DB-2's


def test_an_older_reading_still_serves_db2_and_is_no_evidence_for_db3():
    got = parse_reach(["redis=10.1.0.122:6379 ok", "memcached=10.1.0.121:11211 fail"])
    endpoint, ok = got["redis"]                                                 # DB-2 unpacks it so
    assert ok and endpoint == "10.1.0.122:6379"
    with pytest.raises(MissingEvidence, match="not asked its protocol"):
        answer_problem("redis", got["redis"])


@pytest.mark.parametrize("line", ["redis=10.1.0.122:6379 maybe", "redis ok", "redis=1:2 fail extra"])
def test_a_malformed_reach_line_is_refused(line):
    with pytest.raises(ValueError):
        parse_reach([line])


# --- the rules -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("current,maximum,red", [(0, 600, False), (479, 600, False), (480, 600, True),
                                                 (301, 300, True), (8, 10, True), (7, 10, False)])
def test_the_connection_share(current, maximum, red):
    assert bool(connection_problems("x", {"x": Connections("enabled", current, maximum)}, PCT)) == red


@pytest.mark.parametrize("enabled,state,words", [
    ("enabled", UnitHealth("active", "running", "success", 0), None),
    ("disabled", UnitHealth("active", "running", "success", 0), "disabled at boot"),
    ("enabled", None, "not active (not loaded)"),
    ("enabled", UnitHealth("inactive", "dead", "success", 0), "not active (inactive/dead)"),
    ("enabled", UnitHealth("activating", "auto-restart", "exit-code", 9), "restart-looping"),
    ("masked", UnitHealth("failed", "failed", "exit-code", 0), "masked at boot"),
])
def test_the_unit(enabled, state, words):
    found = unit_problems("redis", "redis-server.service", state, enabled, ARCH.spec.operations.max_restarts)
    assert (words is None and not found) or any(words in p for p in found)


@pytest.mark.parametrize("lines", [["redis current many"], ["redis current 3"], ["redis frobbed 3"]])
def test_a_malformed_reading_is_no_evidence(lines):
    with pytest.raises(ValueError):
        parse_connections(lines)


def test_the_check_errors_when_the_probe_printed_nothing():
    facts = Facts("off-redis", "@@@db_connections\n\n@@@.rc db_connections 0 \n@@@end\n", ["db_connections"])
    with pytest.raises(MissingEvidence, match="printed nothing"):
        facts.evidence("db_connections")


def test_db3_is_in_the_catalogue_with_its_incident_reports_and_its_threshold():
    req = load_requirements()["DB-3"]
    assert req.severity == "critical" and "2023-10-14-mongodb-down" in req.sources
    assert PCT == 80
    if REPORTS.is_dir():
        assert not [s for s in req.sources if not (REPORTS / f"{s}.md").is_file()]


# --- the provisioner ------------------------------------------------------------------------------------

def _audit(db_facts, app_facts=None):
    def facts(machine):
        if machine == ARCH.spec.databases["redis"].container:
            return SimpleNamespace(evidence=lambda name: db_facts[name])
        return app_facts
    return SimpleNamespace(facts=facts)


def test_a_stopped_or_disabled_database_is_started_and_enabled():
    steps = steps_for(Finding("DB-3", "redis", "failed", ""), ARCH, _audit(
        {"db_connections": {"redis": Connections("disabled", error="Could not connect")},
         "unit_health": {"redis-server.service": UnitHealth("inactive", "dead", "success", 0)}}))
    action = next(s for s in steps if isinstance(s, Action))
    (_, kw), = action.ops
    assert kw["action"] == "start" and kw["enabled"] is True and kw["service"] == "redis-server"


def test_a_database_at_its_cap_is_a_manual_step_never_a_restart():
    app = SimpleNamespace(probes={"redis": Reach("10.1.0.122:6379", True, "", "-ERR max number of clients reached")})
    steps = steps_for(Finding("DB-3", "redis", "failed", ""), ARCH, _audit(
        {"db_connections": {"redis": Connections("enabled", 10, 10)},
         "unit_health": {"redis-server.service": UnitHealth("active", "running", "success", 0)}}, app))
    assert steps and all(isinstance(s, Manual) for s in steps)
    text = "\n".join(steps[0].commands)
    assert "redis-cli CLIENT LIST" in text and "max number of clients" in text
    assert not any(c.startswith("systemctl restart") for c in steps[0].commands)
