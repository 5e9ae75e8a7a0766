"""stunnel configuration: a global section, then one [service] a section.

Service-level options given in the global section are defaults for every service (stunnel
semantics), so a service's effective options are its own over the global ones.
"""
from dataclasses import dataclass

from confs.ini import read_ini


@dataclass(frozen=True)
class Service:
    name: str
    line: int
    options: dict           # effective options: lower-case name -> ini.Option (own over global)

    def get(self, key):
        return self.options.get(key.lower())

    @property
    def is_client(self):
        opt = self.get("client")
        return bool(opt) and opt.value.lower() in {"yes", "1", "true"}

    @property
    def accept_port(self):
        opt = self.get("accept")
        return port_of(opt.value) if opt else None


def port_of(endpoint):
    """The port of 'host:port', ':::port' or 'port' (None when absent)."""
    tail = endpoint.rsplit(":", 1)[-1].strip()
    return int(tail) if tail.isdigit() else None


def parse_stunnel(path):
    sections = read_ini(path.read_text(), global_section=True)
    defaults = sections[0].options
    return [Service(s.name, s.line, {**defaults, **s.options}) for s in sections[1:]]
