"""Privilege on the prod path: root probes run as `sudo -n <exact command>`; a refused sudo is an error naming
the right to grant (never a pass, never "absent"); the sudoers lines list exactly what is sent; via pct a
container's script goes on its host's connection."""
import base64
import re
import subprocess

import pytest

from fixtures.facts import Facts
from fixtures.gather import plan, script
from fixtures.probes import MissingEvidence, catalogue
from fixtures.remote_commands import (allowlist, encoded, pct_argv, root_argv, root_probes, sent, sudo_commands,
                                      sudoers_lines)


def machines(arch):
    return list(arch.spec.hosts) + [c.name for c in arch.containers()]


def decode(argv):
    if argv[:2] == ["/bin/sh", "-c"]:
        b64 = argv[2][len("echo "):].split("|")[0]
        return base64.b64decode(b64).decode().rstrip("\n")
    return " ".join(argv)


def test_a_root_probe_is_sent_as_its_exact_command(arch):
    seen = 0
    for m in machines(arch):
        for probe, command in root_probes(arch, m):
            assert decode(root_argv(command)) == command.rstrip("\n")
            seen += 1
    assert seen and set(encoded("x").split("|")[0][5:]) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")


def run_with_sudo(text, sudo_body):
    """Run a machine's script here with `sudo` replaced by a shell function (a refusing or a granting sudo)."""
    return subprocess.run(["sh", "-c", f"sudo() {{ {sudo_body}; }}\n" + text], capture_output=True, text=True,
                          timeout=60).stdout


def test_refused_sudo_is_an_error_naming_the_right_and_the_rest_is_read(arch):
    m = "off2"
    out = run_with_sudo(script(arch, m, sudo=True), "echo 'sudo: a password is required' >&2; return 1")
    facts = Facts(m, out, plan(arch, m))
    for probe, _ in root_probes(arch, m):
        with pytest.raises(MissingEvidence) as err:
            facts.evidence(probe.name)
        line = str(err.value)
        assert "permission missing: sudo -n " in line or "command not found" in line, line
        if "permission missing" in line:
            assert line.endswith("(sudo: a password is required)") and "(needs root)" not in line
    assert facts.has_evidence("addrs")   # a probe that needs no root is read as before


def test_granted_sudo_reads_what_the_plain_script_reads(arch):
    m = "off2"
    out = run_with_sudo(script(arch, m, sudo=True), 'shift; "$@"')   # sudo -n CMD -> CMD
    plain = subprocess.run(["sh", "-c", script(arch, m)], capture_output=True, text=True, timeout=60).stdout
    facts, ref = Facts(m, out, plan(arch, m)), Facts(m, plain, plan(arch, m))
    for probe, _ in root_probes(arch, m):
        assert facts.sections.get(probe.name).rc == ref.sections.get(probe.name).rc, probe.name


def unescape(word):
    return re.sub(r"\\(.)", r"\1", word)


def test_sudoers_lines_list_exactly_the_commands_sent(arch):
    lines = sudoers_lines("oncall", arch)
    text = "\n".join(lines).replace(", \\\n    ", "\n")
    alias = lines[-1].split()[-1]
    assert lines[-1] == f"oncall ALL=(root) NOPASSWD: {alias}"
    listed = text.split(" = ", 1)[1].rsplit("\noncall ", 1)[0].splitlines()
    # no unescaped wildcard or separator: each entry matches one command line only
    for entry in listed:
        assert not re.search(r"(?<!\\)[*?\[\],:=]", entry.split(" ", 1)[1] if " " in entry else ""), entry[:80]
    expected = {" ".join(a[1:]) for a in sudo_commands(arch)}
    assert {unescape(e.split(" ", 1)[1]) for e in listed} == expected
    # every sudo the scripts run is listed
    for m in machines(arch):
        for _, command in root_probes(arch, m):
            argv = root_argv(command)
            assert " ".join(argv[1:]) in expected
    assert any(e.startswith("/usr/sbin/pct exec ") for e in listed)


def test_sudoers_of_a_container_has_no_pct_and_refuses_bad_accounts(arch):
    lines = sudoers_lines("oncall", arch, machine="off")
    assert not any("pct exec" in l for l in lines)
    with pytest.raises(ValueError):
        sudoers_lines("oncall ALL=(ALL) ALL #", arch)


def test_via_pct_a_container_is_read_on_its_host_with_one_exact_text(arch):
    off = arch.container("off")
    on, text = sent(arch, "off", via="pct")
    assert on == off.host
    assert text.startswith(f"sudo -n pct exec {off.id} -- /bin/sh -c 'echo ")
    assert decode(pct_argv(arch, "off")[4:]) == script(arch, "off").rstrip("\n")
    allowed = allowlist(arch, via="pct")
    assert text in allowed[off.host] and "off" not in allowed
    assert script(arch, off.host, sudo=True) in allowed[off.host]
    assert set(allowlist(arch, via="jump")) == set(machines(arch))


@pytest.mark.parametrize("text", ["touch /x", "systemctl restart nginx", "echo x > /etc/passwd", "ps; rm -f /y",
                                  "zfs allow -u off send,hold zfs-hdd/off", "zfs destroy p/d", "sed -i s/a/b/ f",
                                  "nginx -s stop", "cat f | tee g", "nft flush ruleset", "pct stop 101"])
def test_a_writing_construct_is_named(text):
    from fixtures.remote_commands import writes
    assert writes(text), text


def test_every_probe_reads_only_and_a_writing_probe_is_refused(arch, monkeypatch):
    from fixtures import probes
    from fixtures.probes import Probe
    from fixtures.remote_commands import Refused, writes
    for m in machines(arch):
        for p in catalogue().values():
            command = p.command_for(arch, m)
            assert not command or not writes(command), (m, p.name, writes(command))
    real = probes.catalogue()
    bad = Probe("bad", "ps -e; systemctl restart nginx", lambda lines: lines, ())
    monkeypatch.setattr(probes, "catalogue", lambda: {**real, "bad": bad})
    with pytest.raises(Refused, match="probe bad would send 'systemctl restart'"):
        allowlist(arch)
