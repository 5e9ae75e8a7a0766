"""A small SSH server on 127.0.0.1 (paramiko's server side), for the client's unit tests: its own host key,
one authorized key, exec answered by a handler (nothing is run), direct-tcpip forwarded to loopback only.
Every exec request received is recorded, so a test can show what reached the wire."""
import io
import socket
import threading
import time

import paramiko
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519


def new_key():
    """A fresh paramiko Ed25519Key (and its OpenSSH private text)."""
    key = ed25519.Ed25519PrivateKey.generate()
    text = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                             serialization.NoEncryption()).decode()
    return paramiko.Ed25519Key.from_private_key(io.StringIO(text)), text


def write_key(path):
    key, text = new_key()
    path.write_text(text)
    path.chmod(0o600)
    return key


def answer(command):
    """Default exec handler: a reading's end marker, exit 0."""
    return "@@@end\n", "", 0


class Server(paramiko.ServerInterface):
    def __init__(self, sshd):
        self.sshd = sshd

    def get_allowed_auths(self, username):
        return "publickey"

    def check_auth_publickey(self, username, key):
        if username == self.sshd.user and key == self.sshd.authorized:
            return paramiko.AUTH_SUCCESSFUL
        return paramiko.AUTH_FAILED

    def check_channel_request(self, kind, chanid):
        return paramiko.OPEN_SUCCEEDED if kind == "session" else paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED

    def check_channel_direct_tcpip_request(self, chanid, origin, destination):
        if destination[0] != "127.0.0.1":
            return paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED
        self.sshd.forwards.append(destination)
        self.sshd._pending[chanid] = destination
        return paramiko.OPEN_SUCCEEDED

    def check_channel_exec_request(self, channel, command):
        self.sshd.execs.append(command.decode())
        threading.Thread(target=self.sshd._exec, args=(channel, command.decode()), daemon=True).start()
        return True


class LoopbackSshd:
    """with LoopbackSshd(authorized_key) as s: s.port, s.host_key, s.execs."""

    def __init__(self, authorized, user="oncall", handler=answer):
        self.authorized, self.user, self.handler = authorized, user, handler
        self.host_key, _ = new_key()
        self.execs, self.forwards, self._pending = [], [], {}
        self.connections = 0
        self._sock = socket.socket()
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(8)
        self.port = self._sock.getsockname()[1]
        self._transports = []
        self._stop = False

    def __enter__(self):
        threading.Thread(target=self._serve, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self._stop = True
        self._sock.close()
        for t in self._transports:
            t.close()

    def known_hosts_line(self, name=None):
        name = name or f"[127.0.0.1]:{self.port}"
        return f"{name} {self.host_key.get_name()} {self.host_key.get_base64()}\n"

    def _serve(self):
        while not self._stop:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            self.connections += 1
            self._start(conn)

    def _start(self, conn):
        t = paramiko.Transport(conn)
        t.add_server_key(self.host_key)
        self._transports.append(t)
        try:
            t.start_server(server=Server(self))
        except Exception:
            return
        threading.Thread(target=self._accept_channels, args=(t,), daemon=True).start()

    def _accept_channels(self, t):
        while t.is_active() and not self._stop:
            chan = t.accept(0.2)
            if chan is None:
                continue
            dest = self._pending.pop(chan.get_id(), None)
            if dest is not None:
                threading.Thread(target=self._pipe, args=(chan, dest), daemon=True).start()

    def _pipe(self, chan, dest):
        try:
            sock = socket.create_connection(dest)
        except OSError:
            chan.close()
            return

        def pump(src_recv, dst_send):
            try:
                while True:
                    data = src_recv(65536)
                    if not data:
                        break
                    dst_send(data)
            except OSError:
                pass
            finally:
                chan.close()
                sock.close()
        threading.Thread(target=pump, args=(chan.recv, sock.sendall), daemon=True).start()
        pump(sock.recv, chan.sendall)

    def _exec(self, channel, command):
        time.sleep(0.05)     # let the exec request's reply go first, as sshd does
        out, err, rc = self.handler(command)
        if rc is None:       # hang: never answer
            time.sleep(3600)
            return
        try:
            if out:
                channel.sendall(out.encode())
            if err:
                channel.sendall_stderr(err.encode())
            channel.send_exit_status(rc)
            channel.shutdown_write()
            channel.close()
        except (OSError, EOFError, paramiko.SSHException):
            pass     # the client went away (a time-out test)
