"""Database servers' own configuration files, read for what proves a requirement: the addresses and
port the server listens on (NET-2) and passwords written in them (secrets).

Each parser gives a DbConf. `binds` is [(address, line)]; when the file does not say, it is the
program's default for that file: redis.conf and memcached.conf are whole files (no bind / no -l:
every address), mongod.conf without net.bindIp listens on localhost (MongoDB >= 3.6), a MariaDB
drop-in that does not say leaves it to other files (None: unknown).
"""
from dataclasses import dataclass, field
from typing import Optional

import yaml

from confs.errors import ConfParseError
from confs.source import read_text

ANY = {"0.0.0.0", "*", "::", "::0", "[::]", "0:0:0:0:0:0:0:0"}


@dataclass
class DbConf:
    kind: str
    binds: Optional[list] = None        # [(address, line)]; None when the file does not decide
    port: Optional[tuple] = None        # (port, line)
    secrets: list = field(default_factory=list)     # [(what, line)] of passwords written in the file
    options: dict = field(default_factory=dict)     # {key: (value, line)} of the options a rule reads

    def every_address(self):
        """(line or None) when the server listens on every address, else False."""
        if self.binds is None:
            return False
        if not self.binds:
            return None if self.kind in ("redis", "memcached") else False
        for address, line in self.binds:
            if address.lstrip("-") in ANY:
                return line
        return False


def _lines(text):
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if line and not line.startswith(("#", ";")):
            yield number, line


def parse_redis(path):
    conf = DbConf("redis", binds=[])
    for number, line in _lines(read_text(path)):
        words = line.split()
        key = words[0].lower()
        if key == "bind":
            conf.binds = [(w, number) for w in words[1:]]
        elif key == "port" and len(words) > 1 and words[1].isdigit():
            conf.port = (int(words[1]), number)
        elif key in ("requirepass", "masterauth") and len(words) > 1:
            conf.secrets.append((key, number))
        elif key in REDIS_OPTIONS and len(words) > 1:
            conf.options[key] = (words[1].strip("\"'").lower(), number)
    return conf


REDIS_OPTIONS = ("supervised", "daemonize")


def parse_memcached(path):
    conf = DbConf("memcached", binds=[])
    for number, line in _lines(read_text(path)):
        words = line.split()
        if words[0] == "-l" and len(words) > 1:
            conf.binds += [(a, number) for a in words[1].split(",")]
        elif words[0] == "-p" and len(words) > 1 and words[1].isdigit():
            conf.port = (int(words[1]), number)
    return conf


def _find_line(text, key, after=None):
    start = 0
    lines = text.splitlines()
    if after:
        start = next((i for i, l in enumerate(lines) if l.strip().startswith(after + ":")), 0)
    for i in range(start, len(lines)):
        if lines[i].strip().startswith(key + ":"):
            return i + 1
    return None


def parse_mongod(path):
    text = read_text(path)
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ConfParseError(mark.line + 1 if mark else 1, f"not YAML: {getattr(exc, 'problem', exc)}") from None
    net = data.get("net") or {} if isinstance(data, dict) else {}
    conf = DbConf("mongod", binds=[])
    if net.get("bindIpAll"):
        conf.binds = [("0.0.0.0", _find_line(text, "bindIpAll", "net"))]
    elif net.get("bindIp"):
        line = _find_line(text, "bindIp", "net")
        conf.binds = [(a.strip(), line) for a in str(net["bindIp"]).split(",")]
    else:
        conf.binds = [("127.0.0.1", None)]
    if isinstance(net.get("port"), int):
        conf.port = (net["port"], _find_line(text, "port", "net"))
    return conf


def parse_mysql(path):
    conf = DbConf("mysql", binds=None)
    section = None
    for number, line in _lines(read_text(path)):
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1].strip().lower()
            continue
        key, _, value = (s.strip() for s in line.partition("="))
        key = key.replace("_", "-").lower()
        if section in ("mysqld", "mariadb", "server", "mariadbd") and key == "bind-address":
            conf.binds = [(value, number)]
        elif section in ("mysqld", "mariadb", "server", "mariadbd") and key == "port" and value.isdigit():
            conf.port = (int(value), number)
        elif key == "password" and value:
            conf.secrets.append(("password", number))
    return conf
