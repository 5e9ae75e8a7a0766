"""logrotate configuration (/etc/logrotate.conf, /etc/logrotate.d/*): which log files it rotates.

A stanza is one or more log file patterns (absolute, optionally quoted, on one or more lines) then
`{`, its directives one a line, `}`. Scripts (prerotate, postrotate, firstaction, lastaction,
preremove) run to `endscript` and are not read. Directives outside a stanza are global options
(`weekly`, `include /etc/logrotate.d`, ...). A pattern covers a path as logrotate's glob(3) does
(GLOB_NOCHECK): `*`, `?` and `[...]` match inside one path component, never a `/`, and never a
leading `.` of a component; no braces; `~` is the home folder (never a log path here).
"""
import fnmatch
import shlex
from dataclasses import dataclass
from pathlib import PurePosixPath

from confs.errors import ConfParseError
from confs.source import read_text

SCRIPTS = frozenset(("prerotate", "postrotate", "firstaction", "lastaction", "preremove"))


@dataclass(frozen=True)
class Stanza:
    patterns: tuple         # ("/var/log/nginx/*.log", ...)
    line: int               # the line of its first pattern

    def covers(self, path):
        return any(covers(p, path) for p in self.patterns)


@dataclass(frozen=True)
class LogrotateFile:
    stanzas: tuple

    def covering(self, path):
        """The first stanza that rotates this path, or None."""
        return next((s for s in self.stanzas if s.covers(path)), None)


def _component(pattern, name):
    if name.startswith(".") and not pattern.startswith("."):
        return False                                # glob(3): a leading dot is matched only literally
    return fnmatch.fnmatchcase(name, pattern)


def covers(pattern, path):
    """Does the logrotate pattern match the absolute path, as glob(3) would?"""
    p, f = PurePosixPath(pattern).parts, PurePosixPath(path).parts
    return len(p) == len(f) and all(_component(a, b) for a, b in zip(p, f))


def _words(line, number):
    try:
        return shlex.split(line, comments=True)
    except ValueError as exc:
        raise ConfParseError(number, f"cannot read {line.strip()!r}: {exc}") from None


def parse_logrotate_text(text):
    stanzas, pending, pending_line, inside, script = [], [], None, None, None
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if script:
            if line.split("#", 1)[0].strip() == "endscript":
                script = None
            continue
        if not line or line.startswith("#"):
            continue
        if inside is not None:
            words = _words(line, number)
            if not words:
                continue
            if words[0] == "}":
                stanzas.append(Stanza(tuple(inside[0]), inside[1]))
                inside = None
                if len(words) > 1:
                    raise ConfParseError(number, f"text after '}}': {' '.join(words[1:])!r}")
            elif words[0] == "{" or "{" in words:
                raise ConfParseError(number, f"'{{' inside the stanza opened at line {inside[1]}; expected "
                                             "directives, then '}'")
            elif words[0] in SCRIPTS:
                script = (words[0], number)
            continue
        words = _words(line, number)
        if not words:
            continue
        opens = words[-1].endswith("{")
        if opens:
            words[-1] = words[-1][:-1]
        paths = [w for w in words if w]
        if words[0] == "}":
            raise ConfParseError(number, "'}' closes no stanza")
        if paths and not paths[0].startswith(("/", "~")) and not pending:
            if opens:
                raise ConfParseError(number, f"{paths[0]!r} is not an absolute log file path; expected "
                                             "'/path/to/*.log {'")
            continue                                 # a global directive (weekly, include, ...)
        bad = [p for p in paths if not p.startswith(("/", "~"))]
        if bad:
            raise ConfParseError(number, f"{bad[0]!r} is not an absolute log file path")
        if not pending:
            pending_line = number
        pending += paths
        if opens:
            if not pending:
                raise ConfParseError(number, "'{' with no log file pattern before it")
            inside, pending = (pending, pending_line), []
    if script:
        raise ConfParseError(script[1], f"{script[0]} is never ended by 'endscript'")
    if inside is not None:
        raise ConfParseError(inside[1], "the stanza opened here is never closed by '}'")
    if pending:
        raise ConfParseError(pending_line, f"log file pattern(s) {' '.join(pending)} not followed by '{{'")
    return LogrotateFile(tuple(stanzas))


def parse_logrotate(path):
    return parse_logrotate_text(read_text(path))
