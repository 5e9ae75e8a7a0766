"""The prod path's client, against SSH servers on loopback (no lab): host keys never accepted, one line with
the fingerprint seen; a jump host's bad key stops the machines behind it; a hung command times out and the
others are read; a command outside the allowlist never reaches the wire; a wrong key is one line."""
import time

import pytest

from fixtures.remote_commands import Refused
from fixtures.ssh_transport import CommandTimeout, Connections, HostKeyError, SshError, fingerprint, load_config, target
from tests.unit.loopback_sshd import LoopbackSshd, write_key

READ = "printf 'reading\\n@@@end\\n'"


@pytest.fixture
def key(tmp_path):
    path = tmp_path / "id_ed25519"
    return path, write_key(path)


def config(tmp_path, text):
    path = tmp_path / "ssh_config"
    path.write_text(text)
    return load_config(path)


def host_block(alias, sshd, key_path, known, extra=""):
    return (f"Host {alias}\n  HostName 127.0.0.1\n  Port {sshd.port}\n  User oncall\n"
            f"  IdentityFile {key_path}\n  UserKnownHostsFile {known}\n{extra}")


def conns(allowed, **kw):
    return Connections({m: frozenset(t) for m, t in allowed.items()}, agent=False, **kw)


def test_known_host_is_read(tmp_path, key):
    key_path, pub = key
    known = tmp_path / "known_hosts"
    with LoopbackSshd(pub, handler=lambda c: ("reading\n@@@end\n", "", 0)) as sshd:
        known.write_text(sshd.known_hosts_line())
        t = target(config(tmp_path, host_block("off1", sshd, key_path, known)), "off1")
        c = conns({"off1": [READ]})
        r = c.run("off1", t, READ)
        assert (r.stdout, r.rc) == ("reading\n@@@end\n", 0)
        assert sshd.execs == [READ]
        c.close()


def test_unknown_host_is_one_line_with_the_fingerprint_seen_and_nothing_is_sent(tmp_path, key):
    key_path, pub = key
    known = tmp_path / "known_hosts"
    known.write_text("")
    with LoopbackSshd(pub) as sshd:
        t = target(config(tmp_path, host_block("off1", sshd, key_path, known)), "off1")
        with pytest.raises(HostKeyError) as err:
            conns({"off1": [READ]}).run("off1", t, READ)
        line = str(err.value)
        assert "\n" not in line and fingerprint(sshd.host_key) in line and str(known) in line
        assert "unknown host key" in line and "not accepted" in line
        assert fingerprint(sshd.host_key).startswith("SHA256:") and not fingerprint(sshd.host_key).endswith("=")
        assert sshd.execs == []


def test_changed_host_key_is_one_line_and_the_other_machine_is_read(tmp_path, key):
    key_path, pub = key
    known = tmp_path / "known_hosts"
    with LoopbackSshd(pub) as good, LoopbackSshd(pub) as changed:
        # off2's entry holds another server's key: as after a rebuild, or a man in the middle
        known.write_text(good.known_hosts_line() + good.known_hosts_line(f"[127.0.0.1]:{changed.port}"))
        cfg = config(tmp_path, host_block("off1", good, key_path, known) + host_block("off2", changed, key_path, known))
        c = conns({"off1": [READ], "off2": [READ]})
        with pytest.raises(HostKeyError) as err:
            c.run("off2", target(cfg, "off2"), READ)
        assert "HOST KEY CHANGED" in str(err.value) and fingerprint(changed.host_key) in str(err.value)
        assert fingerprint(good.host_key) not in str(err.value) and "\n" not in str(err.value)
        assert c.run("off1", target(cfg, "off1"), READ).rc == 0
        assert changed.execs == [] and good.execs == [READ]
        c.close()


def test_container_through_proxyjump_and_a_bad_jump_key_stops_it(tmp_path, key):
    key_path, pub = key
    known = tmp_path / "known_hosts"
    with LoopbackSshd(pub) as host, LoopbackSshd(pub) as container:
        cfg_text = (host_block("off2", host, key_path, known) +
                    host_block("off", container, key_path, known, "  ProxyJump off2\n"))
        known.write_text(host.known_hosts_line() + container.known_hosts_line())
        cfg = config(tmp_path, cfg_text)
        t = target(cfg, "off")
        assert [j.alias for j in t.jumps] == ["off2"]
        c = conns({"off": [READ]})
        assert c.run("off", t, READ).rc == 0
        assert host.forwards == [("127.0.0.1", container.port)] and host.execs == [] and container.execs == [READ]
        c.close()
        # the jump host's key is now unknown: the container is not reached, and the line says through which host
        known.write_text(container.known_hosts_line())
        c = conns({"off": [READ]})
        with pytest.raises(SshError) as err:
            c.run("off", target(cfg, "off"), READ)
        assert str(err.value).startswith("through off2: ") and fingerprint(host.host_key) in str(err.value)
        assert container.connections == 0 or container.execs == [READ]


def test_hung_command_times_out_and_the_next_machine_is_read(tmp_path, key):
    key_path, pub = key
    known = tmp_path / "known_hosts"
    with LoopbackSshd(pub, handler=lambda c: ("", "", None)) as hung, LoopbackSshd(pub) as ok:
        known.write_text(hung.known_hosts_line() + ok.known_hosts_line())
        cfg = config(tmp_path, host_block("a", hung, key_path, known) + host_block("b", ok, key_path, known))
        c = conns({"a": [READ], "b": [READ]}, command_timeout=1)
        # the message is the deadline's own (never a timed assertion: how fast this machine is does not matter)
        with pytest.raises(CommandTimeout, match=r"^a: no answer within 1 s \(command time-out\)$"):
            c.run("a", target(cfg, "a"), READ)
        c.command_timeout = 30   # the short bound was the hung machine's alone: b is read with the default one
        assert c.run("b", target(cfg, "b"), READ).rc == 0
        c.close()


def test_connect_timeout_on_a_silent_port(tmp_path, key):
    import socket
    key_path, _ = key
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)          # accepts TCP, never speaks SSH
    port = silent.getsockname()[1]
    cfg = config(tmp_path, f"Host s\n  HostName 127.0.0.1\n  Port {port}\n  IdentityFile {key_path}\n")
    with pytest.raises(SshError, match="no answer within 1 s"):   # the deadline's own message, not a stopwatch
        conns({"s": [READ]}, connect_timeout=1).run("s", target(cfg, "s"), READ)
    silent.close()


@pytest.mark.parametrize("command", ["touch /x", "systemctl restart nginx", READ + "; rm -rf /tmp/x"])
def test_a_writing_command_is_refused_before_it_is_sent(tmp_path, key, command):
    key_path, pub = key
    known = tmp_path / "known_hosts"
    with LoopbackSshd(pub) as sshd:
        known.write_text(sshd.known_hosts_line())
        t = target(config(tmp_path, host_block("off1", sshd, key_path, known)), "off1")
        c = conns({"off1": [READ]})
        with pytest.raises(Refused, match="not in the audit's read-only command set"):
            c.run("off1", t, command)
        assert sshd.execs == [] and sshd.connections == 0 and c.sent == []
        with pytest.raises(Refused):       # allowed on another machine is not allowed here
            conns({"off1": [], "off2": [READ]}).run("off1", t, READ)


def test_wrong_key_is_one_line_without_key_material(tmp_path, key):
    key_path, _ = key
    other = tmp_path / "other"
    other_key = write_key(other)
    known = tmp_path / "known_hosts"
    with LoopbackSshd(other_key) as sshd:
        known.write_text(sshd.known_hosts_line())
        t = target(config(tmp_path, host_block("off1", sshd, key_path, known)), "off1")
        with pytest.raises(SshError) as err:
            conns({"off1": [READ]}).run("off1", t, READ)
        line = str(err.value)
        assert line == f"oncall@off1: no key accepted (tried {key_path})"
        assert key_path.read_text().splitlines()[1] not in line and sshd.execs == []


def test_passphrase_key_is_named_never_shown(tmp_path):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519
    path = tmp_path / "id_locked"
    path.write_bytes(ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
        serialization.BestAvailableEncryption(b"s3cret-passphrase")))
    known = tmp_path / "known_hosts"
    with LoopbackSshd(write_key(tmp_path / "y")) as sshd:
        known.write_text(sshd.known_hosts_line())
        t = target(config(tmp_path, host_block("off1", sshd, path, known)), "off1")
        with pytest.raises(SshError) as err:
            conns({"off1": [READ]}).run("off1", t, READ)
        assert "needs a passphrase (load it into ssh-agent)" in str(err.value)
        assert "s3cret" not in str(err.value)


def test_ssh_config_aliases_proxyjump_chain_and_host_key_alias(tmp_path):
    cfg = config(tmp_path, """
Host bastion
  HostName bastion.example.org
  User me
  Port 2222
Host off2
  HostName off2.example.org
  ProxyJump bastion
  UserKnownHostsFile ~/kh1 /etc/kh2
Host off
  HostName 10.1.0.113
  ProxyJump audit@off2:2022,bastion
  HostKeyAlias off-container
Host *
  User oncall
  IdentityFile ~/.ssh/oncall
""")
    t = target(cfg, "off")
    assert (t.hostname, t.port, t.user, t.host_key_alias) == ("10.1.0.113", 22, "oncall", "off-container")
    # a hop's own ProxyJump comes first, then the hops in order; user@host:port overrides the hop's config
    assert [(j.alias, j.user, j.port) for j in t.jumps] == [("bastion", "me", 2222), ("off2", "audit", 2022),
                                                            ("bastion", "me", 2222)]
    assert t.jumps[1].host_key_alias == "[off2.example.org]:2022"
    assert t.jumps[0].host_key_alias == "[bastion.example.org]:2222"
    import os
    assert target(cfg, "off2").known_hosts[:2] == (os.path.expanduser("~/kh1"), "/etc/kh2")
    assert target(cfg, "off2").identity_files == (os.path.expanduser("~/.ssh/oncall"),)
    assert target(cfg, "off2").describe() == "ssh://oncall@off2.example.org:22 via bastion"


def test_include_is_followed(tmp_path):
    (tmp_path / "off.conf").write_text("Host off1\n  HostName off1.example.org\n  Port 2200\n")
    cfg = config(tmp_path, f"Include {tmp_path}/*.conf\nHost *\n  User oncall\n")
    t = target(cfg, "off1")
    assert (t.hostname, t.port, t.user) == ("off1.example.org", 2200, "oncall")


def test_keys_from_the_agent_first(tmp_path, key, monkeypatch):
    """An agent holding the key: no IdentityFile is needed (and none is read)."""
    import shutil
    import subprocess
    if not shutil.which("ssh-agent"):
        pytest.skip("no ssh-agent on this machine")
    key_path, pub = key
    sock = tmp_path / "agent.sock"
    agent = subprocess.Popen(["ssh-agent", "-D", "-a", str(sock)], stdout=subprocess.DEVNULL)
    try:
        for _ in range(400):   # the agent's socket appears (a bound for a hang only: loaded machines are slow)
            if sock.exists():
                break
            time.sleep(0.05)
        monkeypatch.setenv("SSH_AUTH_SOCK", str(sock))
        subprocess.run(["ssh-add", "-q", str(key_path)], check=True, capture_output=True)
        key_path.unlink()
        known = tmp_path / "known_hosts"
        servers = [LoopbackSshd(pub).__enter__() for _ in range(8)]
        try:   # the machines are connected in parallel: each signs with the agent at the same time
            known.write_text("".join(s.known_hosts_line() for s in servers))
            cfg = config(tmp_path, "".join(host_block(f"m{i}", s, tmp_path / "absent", known)
                                           for i, s in enumerate(servers)))
            c = Connections({f"m{i}": frozenset([READ]) for i in range(len(servers))})
            from concurrent.futures import ThreadPoolExecutor
            with ThreadPoolExecutor(8) as pool:
                results = list(pool.map(lambda i: c.run(f"m{i}", target(cfg, f"m{i}"), READ).rc, range(len(servers))))
            assert results == [0] * len(servers)
            c.close()
            # IdentityAgent names the agent's socket (a laptop's 1Password or gpg-agent): SSH_AUTH_SOCK unset
            monkeypatch.delenv("SSH_AUTH_SOCK")
            cfg = config(tmp_path, host_block("m0", servers[0], tmp_path / "absent", known, f"  IdentityAgent {sock}\n"))
            c = Connections({"m0": frozenset([READ])})
            assert c.run("m0", target(cfg, "m0"), READ).rc == 0
            c.close()
            cfg = config(tmp_path, host_block("m0", servers[0], tmp_path / "absent", known, "  IdentityAgent none\n"))
            with pytest.raises(SshError, match="no key accepted"):
                Connections({"m0": frozenset([READ])}).run("m0", target(cfg, "m0"), READ)
        finally:
            for s in servers:
                s.__exit__(None, None, None)
    finally:
        agent.terminate()
        agent.wait()
