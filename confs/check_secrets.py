"""Committed secrets: a private key, a PSK secret or a password in any file of the repository
(the users' own docs: "take attention not to push files which contains secrets"). A finding says
what and where, never the secret. Placeholders (XXX, changeme, <...>, ${VAR}, empty) are not secrets.
Reported under NET-4 (secrets stay private)."""
import re

from confs.errors import ConfParseError
from confs.findings import Finding
from confs.source import MAX_BYTES, TooBig, Unreadable, read_text

REQ = "NET-4"
PRIVATE_KEY = re.compile(r"-----BEGIN (?:[A-Z]+ )*PRIVATE KEY-----")
PSK_LINE = re.compile(r"^\s*[^\s:#;]{1,128}:[0-9A-Za-z+/=]{16,}\s*$")
ASSIGNED = re.compile(r"^\s*(?:export\s+)?(?P<key>[A-Za-z0-9_.-]*(?:password|passwd|passphrase|secret|requirepass"
                      r"|masterauth|api[_-]?key|token))\s*(?:=|:|\s)\s*(?P<value>\S.*?)\s*$", re.I)
URL_PASSWORD = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s:/@]+:(?P<value>[^\s@/]+)@")
DSN_PASSWORD = re.compile(r"\b[A-Za-z0-9_]+:(?P<value>[^\s@:/()\"']+)@(?:unix|tcp)\(")
PLACEHOLDER = re.compile(r"^(?:[xX*]+|<[^>]*>|\$\{?[A-Za-z_][A-Za-z0-9_]*\}?|%[a-z]|changeme|change_me|none|null|"
                         r"nopassword|no|yes|on|off|true|false|\"\"|''|-|\.+|\{\{.*\}\}|__\w+__)$", re.I)


def _secret_value(value):
    value = value.strip().strip("\"'").strip()
    return bool(value) and not PLACEHOLDER.match(value) and not value.startswith(("/", "$", "%"))


def secret_lines(text, is_psk_file=False):
    """[(line, what)] of secrets in a text; never the secret itself."""
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        if PRIVATE_KEY.search(line):
            out.append((n, "a private key"))
            continue
        stripped = line.strip()
        if not stripped or stripped.startswith(("#", ";", "//")):
            continue
        if is_psk_file and PSK_LINE.match(line):
            out.append((n, "a PSK secret (identity:key)"))
            continue
        m = ASSIGNED.match(line)
        if m and _secret_value(m.group("value").split()[0] if m.group("value") else ""):
            key = m.group("key").lower()
            if not key.endswith(("_file", "file", "_path", "path", "_cmd", "command")):
                out.append((n, f"a {m.group('key')} value"))
                continue
        m = URL_PASSWORD.search(line) or DSN_PASSWORD.search(line)
        if m and _secret_value(m.group("value")):
            out.append((n, "a password in a connection address"))
    return out


def scan(repo):
    """(findings, files scanned) over every file of confs/ (examined or not). A file that cannot be
    read (permissions, size, encoding) is a finding naming it, never skipped silently."""
    findings, scanned = [], set()
    reals = {s.real for s in repo.seen} | set(k for k in repo.not_recognised if not k.endswith("/"))
    for rel in sorted(reals):
        path = repo.root / rel
        if not path.is_file():
            continue
        try:
            text = read_text(path, MAX_BYTES)
        except (TooBig, Unreadable, ConfParseError) as exc:
            if rel not in repo.failures:            # else already a finding naming the file and why
                why = getattr(exc, "message", None) or str(exc)
                findings.append(Finding(REQ, rel, getattr(exc, "line", None),
                                        f"not checked for committed secrets: {why}; expected a readable UTF-8 "
                                        "text file under the size limit (or none)"))
            continue
        scanned.add(rel)
        psk = "psk" in rel.lower().rsplit("/", 1)[-1]
        for line, what in secret_lines(text, psk):
            findings.append(Finding(REQ, rel, line, f"{what} is committed to the repository (not shown); remove it "
                                                    "from the repository and its history, rotate it, and keep it "
                                                    "on the machine only"))
    return findings, sorted(scanned)
