"""stunnel configuration: a global section, then one [service] a section.

Service-level options given in the global section are defaults for every service (stunnel
semantics), so a service's effective options are its own over the global ones. A repeated
[section] is a second service, as stunnel reads it. One parser for a repository file
(`parse_stunnel`) and any text, e.g. a file read on a live machine (`parse_stunnel_text`).
"""
from dataclasses import dataclass

from confs.ini import read_ini
from confs.source import read_text

TRUE_WORDS = {"yes", "1", "true", "on"}


@dataclass(frozen=True)
class Service:
    name: str
    line: int
    options: dict           # effective options: lower-case name -> ini.Option (own over global)

    def get(self, key):
        return self.options.get(key.lower())

    def value(self, key, default=None):
        opt = self.get(key)
        return opt.value if opt else default

    @property
    def is_client(self):
        opt = self.get("client")
        return bool(opt) and opt.value.lower() in TRUE_WORDS

    @property
    def accept_port(self):
        opt = self.get("accept")
        return port_of(opt.value) if opt else None

    @property
    def accept_host(self):
        opt = self.get("accept")
        return host_of(opt.value) if opt else None

    @property
    def connect(self):
        """[(host or None, port)] of every connect= (the last one written, as stunnel keeps)."""
        opt = self.get("connect")
        return (host_of(opt.value), port_of(opt.value)) if opt else None


class StunnelFile(list):
    """[Service] with the repeats (ini.Repeat) found while reading."""
    repeats = ()


def port_of(endpoint):
    """The port of 'host:port', ':::port' or 'port' (None when absent)."""
    tail = endpoint.rsplit(":", 1)[-1].strip()
    return int(tail) if tail.isdigit() else None


def host_of(endpoint):
    """The host of 'host:port' ('[v6]:port', 'v6:port'); None for a bare port or ':::port' (any)."""
    endpoint = endpoint.strip()
    if ":" not in endpoint:
        return None
    host = endpoint.rsplit(":", 1)[0].strip("[]")
    return host if host not in ("", "::", "0.0.0.0", "*") else None


def parse_stunnel_text(text):
    sections = read_ini(text, global_section=True, merge_repeated_sections=False)
    defaults = sections[0].options
    out = StunnelFile(Service(s.name, s.line, {**defaults, **s.options}) for s in sections[1:])
    out.repeats = sections.repeats
    return out


def parse_stunnel(path):
    return parse_stunnel_text(read_text(path))
