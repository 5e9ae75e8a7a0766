"""Take secrets out of text before it is written to a report file (JUnit, JSON, HTML, metrics, logs).

The checks never print a secret; this is the second line of defence for evidence that would hold
one anyway (a config line quoted in a failure, a key file's content): PEM private keys, stunnel
PSK lines (`identity:key`), `password=`/`secret:`-style assignments, passwords in URLs, and long
hex or base64 keys.
"""
import re
import xml.etree.ElementTree as ET

MARK = "[redacted]"

_PEM = re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----.*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|\Z)", re.S)
_ASSIGNED = re.compile(r"(?i)\b((?:[\w-]*?)(?:password|passwd|passphrase|secret|psk|token|api[_-]?key|private[_-]?key)"
                       r"[\w-]*\s*(?:=|:)\s*)(\"[^\"]*\"|'[^']*'|\S+)")
_URL_PASSWORD = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^:/@\s]+:)([^@\s]+)(@)", re.I)
_PSK_LINE = re.compile(r"(?m)^(\s*[\w.@-]{1,128}):(?=[A-Za-z0-9+/=]*\d)([A-Za-z0-9+/=]{16,})\s*$")  # a key holds a digit; a path rarely
# hex keys of 128 bits or more; base64 runs of 40+ holding a digit and a letter (not a path: no leading /)
_LONG_KEY = re.compile(r"(?<![\w/+=.-])(?:[0-9a-fA-F]{32,}|(?=[A-Za-z0-9+/]*\d)(?=[A-Za-z0-9+/]*[A-Za-z])"
                       r"[A-Za-z0-9+][A-Za-z0-9+/]{39,}={0,2})(?![\w/+=])")


def _assigned(m):
    value = m.group(2)
    # "psk: PSKsecrets = /etc/stunnel/psk/x.txt" names a file, not the secret: keep paths and units
    if value.startswith("/") or value in ("(unset)", "-", "yes", "no"):
        return m.group(0)
    return m.group(1) + MARK


def redact(text):
    """text with every secret-shaped part replaced by [redacted]."""
    if not text:
        return text
    text = _PEM.sub("[redacted private key]", text)
    text = _URL_PASSWORD.sub(lambda m: m.group(1) + MARK + m.group(3), text)
    text = _PSK_LINE.sub(lambda m: f"{m.group(1)}:{MARK}", text)
    text = _ASSIGNED.sub(_assigned, text)
    return _LONG_KEY.sub(MARK, text)


def redact_junit(path):
    """Rewrite a JUnit XML file in place with every text and attribute redacted."""
    tree = ET.parse(path)
    for el in tree.getroot().iter():
        if el.text:
            el.text = redact(el.text)
        if el.tail:
            el.tail = redact(el.tail)
        for key, value in el.attrib.items():
            el.attrib[key] = redact(value)
    tree.write(path, encoding="utf-8", xml_declaration=True)
