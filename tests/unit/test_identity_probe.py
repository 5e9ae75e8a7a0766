"""APP-3's protocol probe (fixtures/probes/identity.py) run as the machine runs it, against small servers
that answer as each database answers: told by protocol, whatever the port."""
import socketserver
import struct
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from fixtures.probes.identity import _PERL, parse_protocols

STAND_IN = Path(__file__).resolve().parents[2] / "fixtures/lab/image/rootfs/usr/local/bin/mongod"


class _Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


def _serve(answer):
    class Handler(socketserver.BaseRequestHandler):
        def handle(self):
            self.request.settimeout(2)
            try:
                data = self.request.recv(4096)
            except OSError:
                return
            reply = answer(data)
            if reply:
                self.request.sendall(reply)
    server = _Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _redis(data):
    return b"+PONG\r\n" if data == b"PING\r\n" else b"-ERR unknown command\r\n"


def _mongod(data):
    """A real mongod's answer to OP_MSG hello: an OP_MSG whose responseTo is the request's id."""
    if len(data) < 16:
        return None
    length, request_id, _, opcode = struct.unpack("<iiii", data[:16])
    if opcode != 2013 or length != len(data):
        return None
    doc = b"\x01ok\x00" + struct.pack("<d", 1.0) + b"\x00"
    body = struct.pack("<I", 0) + b"\x00" + struct.pack("<i", len(doc) + 4) + doc
    return struct.pack("<iiii", 16 + len(body), 77, request_id, 2013) + body


def _http(data):
    return b"HTTP/1.1 400 Bad Request\r\nServer: nginx\r\n\r\n"


@pytest.fixture
def servers():
    started = {"redis": _serve(_redis), "mongodb": _serve(_mongod), "-": _serve(_http)}
    yield {kind: s.server_address[1] for kind, s in started.items()}
    for s in started.values():
        s.shutdown()
        s.server_close()


def _probe(ports):
    ss = "".join(f"LISTEN 0      5      127.0.0.1:{p}      0.0.0.0:*\n" for p in ports)
    run = subprocess.run(["perl", "-e", _PERL.strip()], input=ss, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    return {a.port: a for a in parse_protocols(run.stdout.splitlines())}


def test_each_database_is_told_by_its_answer_not_its_port(servers):
    got = _probe(servers.values())
    assert {kind: got[port].kinds for kind, port in servers.items()} == \
        {"redis": ("redis",), "mongodb": ("mongodb",), "-": ()}


def test_the_lab_mongod_stand_in_is_told_by_its_answer():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, str(STAND_IN), "--port", str(port)])
    try:
        for _ in range(1200):   # until it listens (python starting on a loaded machine)
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                threading.Event().wait(0.05)
        assert _probe([port])[port].kinds == ("mongodb",)
    finally:
        proc.kill()
        proc.wait()


def test_a_socket_nothing_listens_on_cannot_be_asked():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    assert _probe([port])[port].error
