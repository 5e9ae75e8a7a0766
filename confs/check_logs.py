"""STO-7 from the files: every log file a web server or a unit writes is rotated by a logrotate rule.

Writers: nginx `access_log` / `error_log` (a file: not `off`, syslog:, memory: or a device; a path
relative to nginx's prefix, /usr/share/nginx on Debian; a variable stands for any one name), and
systemd `StandardOutput=` / `StandardError=` `append:<file>` (systemd appends for ever; `file:` and
`truncate:` do not grow across runs). Rules: the logrotate files (logrotate.d/*, logrotate.conf) of
the folders of every machine that uses the writer's folder (the spec's conf_dirs), and the rule
Debian's nginx package installs as /etc/logrotate.d/nginx (`/var/log/nginx/*.log`) wherever nginx is
configured, unless those folders ship their own logrotate.d/nginx, which replaces it. A pattern
covers a path as logrotate's glob does (confs.logrotate). (2023-09-12, logs-ovh3.md: nginx
static-access.log reached 52 GB under /rpool/logs-nginx/, which no rule covered.)

Fails closed: a logrotate file that does not parse is a finding of its own, and nothing is concluded
missing in the folders it serves.
"""
import re
from pathlib import PurePosixPath

from confs import layout
from confs.findings import Finding
from confs.logrotate import covers
from confs.systemd import Unit

REQ = "STO-7"
NGINX_PREFIX = "/usr/share/nginx"
# rules a Debian package installs where its program is configured (a file of that format in the machine's
# folders), unless the machine ships a logrotate.d file of the same name: {format: (file name, patterns)}
PACKAGE_RULES = {"nginx": ("nginx", ("/var/log/nginx/*.log",))}
NGINX_VARIABLE = re.compile(r"\$\{?[A-Za-z0-9_]+\}?")
UNIT_SPECIFIER = re.compile(r"%(.)")
STREAMS = ("StandardOutput", "StandardError")


def _nginx_path(path):
    path = NGINX_VARIABLE.sub("x", path)
    return path if path.startswith("/") else f"{NGINX_PREFIX}/{path}"


def _unit_path(path):
    return UNIT_SPECIFIER.sub(lambda m: "%" if m.group(1) == "%" else "x", path)


def writers(repo, folder):
    """[(real file, line, what, path as written, path to match)] of the log files a folder's files write."""
    out = []
    for seen, nginx in repo.files([folder], "nginx"):
        for directive, path, line in nginx.logs:
            out.append((seen.real, line, f"nginx {directive} ", path, _nginx_path(path), "nginx"))
    for seen, lines in repo.files([folder], "systemd"):
        unit = Unit(PurePosixPath(seen.inner).name, lines)
        for key in STREAMS:
            for setting in unit.get("Service", key):
                if setting.value.startswith("append:"):
                    path = setting.value[len("append:"):]
                    out.append((seen.real, setting.line, f"{key}=append:", path, _unit_path(path), "systemd"))
    return out


def rules(repo, folders):
    """([(real file, Stanza)], names of logrotate.d files, complete?) of these folders."""
    stanzas, names, complete = [], set(), True
    for s in repo._of(folders, "logrotate"):
        names.add(PurePosixPath(s.inner).name)
        parsed = repo.parsed(s.real, "logrotate")
        if parsed is None:
            complete = False
            continue
        stanzas += [(s.real, st) for st in parsed.stanzas]
    if any(f in folders for f, _ in repo.unreadable):
        complete = False
    return stanzas, names, complete


def examined(repo):
    return sorted({s.real for s in repo.seen if s.fmt == "logrotate"}
                  | {real for folder in {s.folder for s in repo.seen} for real, *_ in writers(repo, folder)})


def check(arch, repo):
    missing = {}            # (real, line, what, written) -> [folders]
    for folder in sorted({s.folder for s in repo.seen}):
        found = writers(repo, folder)
        if not found:
            continue
        folders = layout.sharing(arch, repo, folder)
        stanzas, names, complete = rules(repo, folders)
        if not complete:
            continue
        package_patterns = [p for fmt, (name, patterns) in PACKAGE_RULES.items()
                            if name not in names and repo.has(folders, fmt) for p in patterns]
        for real, line, what, written, path, _ in found:
            if any(st.covers(path) for _, st in stanzas):
                continue
            if any(covers(p, path) for p in package_patterns):
                continue
            missing.setdefault((real, line, what, written), []).append(folder)
    out = []
    for (real, line, what, written), folders in missing.items():
        where = ", ".join(f"{layout.ROOT}/{f}/" for f in folders)
        out.append(Finding(REQ, real, line, f"`{what}{written}`: no logrotate rule rotates this file (none in "
                                            f"{where} covers it{_package_note(what)}), so it grows until its "
                                            "filesystem is full; add it to a logrotate.d stanza there"))
    return out


def _package_note(what):
    if what.startswith("nginx"):
        return "; Debian's nginx rule rotates /var/log/nginx/*.log only"
    return ""
