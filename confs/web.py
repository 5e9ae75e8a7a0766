"""Reading an nginx folder the way nginx would: which server block answers a name, and where a
proxy_pass really goes (upstream blocks expanded, names of the spec resolved to addresses)."""
from dataclasses import dataclass
from ipaddress import ip_address


@dataclass(frozen=True)
class Target:
    file: str
    line: int
    word: str               # as written: address or name
    address: str            # resolved address, or None when the name is unknown to the spec
    port: int
    scheme: str

    def __str__(self):
        return f"{self.scheme}://{self.word}:{self.port}"


def _name_rank(pattern, name):
    """nginx precedence: 0 exact, 1 leading wildcard (longer wins), 2 trailing wildcard; None = no match."""
    if pattern == name:
        return (0, 0)
    if pattern.startswith("*.") and name.endswith(pattern[1:]):
        return (1, -len(pattern))
    if pattern.startswith(".") and (name == pattern[1:] or name.endswith(pattern)):
        return (1, -len(pattern))
    if pattern.endswith(".*") and name.startswith(pattern[:-1]):
        return (2, -len(pattern))
    return None


def servers_for(files, name):
    """[(rel, ServerBlock)] that nginx would pick for `name` (every block at the best rank)."""
    ranked = [(rank, rel, s) for rel, f in files for s in f.servers
              for rank in [min((r for r in (_name_rank(p, name) for p in s.names) if r), default=None)] if rank]
    best = min((r for r, _, _ in ranked), default=None)
    return [(rel, s) for r, rel, s in ranked if r == best]


def upstreams_of(files):
    out = {}
    for rel, f in files:
        for name, servers in f.upstreams.items():
            out[name] = [(rel, host, port, line) for host, port, line in servers]
    return out


def address_book(arch):
    book = {name: str(h.internal_address) for name, h in arch.spec.hosts.items()}
    book.update({c.name: c.address for c in arch.containers()})
    return book


def resolve(word, book):
    try:
        return str(ip_address(word))
    except ValueError:
        return book.get(word)


def targets(rel, passes, upstreams, book):
    """Every address a list of ProxyPass reaches (variables skipped)."""
    out = []
    for p in passes:
        if not p.scheme:
            continue
        if p.host in upstreams and ":" not in p.raw.split("//", 1)[1].split("/", 1)[0]:
            out += [Target(urel, line, host, resolve(host, book), port, p.scheme)
                    for urel, host, port, line in upstreams[p.host]]
        else:
            out.append(Target(rel, p.line, p.host, resolve(p.host, book), p.port, p.scheme))
    return out
