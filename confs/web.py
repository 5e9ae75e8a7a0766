"""Reading an nginx folder the way nginx would: which server block answers a name, and where a
proxy_pass really goes (upstream blocks expanded, variables resolved where the configuration sets
them with `set` or `map`, names of the spec resolved to addresses). Shared by the static gate and
the live audit (the files of `nginx -T`)."""
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
    location: str = ""

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


def variables_of(files):
    """{variable: [(rel, value, line)]} set anywhere in these files (set, map)."""
    out = {}
    for rel, f in files:
        for name, values in (f.variables or {}).items():
            out.setdefault(name, []).extend((rel, v, line) for v, line in values)
    return out


def address_book(arch):
    book = {name: str(h.internal_address) for name, h in arch.spec.hosts.items()}
    book.update({c.name: c.address for c in arch.containers()})
    return book


def resolve(word, book):
    try:
        return str(ip_address(word.strip("[]")))
    except ValueError:
        return book.get(word)


def _split(hostport, scheme):
    host, _, port = hostport.rpartition(":") if ":" in hostport and not hostport.endswith("]") else (hostport, "", "")
    return host.strip("[]"), int(port) if port.isdigit() else (443 if scheme == "https" else 80)


def targets(rel, passes, upstreams, book, variables=None):
    """Every address a list of ProxyPass reaches: upstream blocks expanded, $variables resolved to
    each value the configuration gives them (values that are no address are left out)."""
    out = []
    for p in passes:
        if not p.scheme:
            continue
        if p.variables:
            names = p.variables
            for name in names:
                for vrel, value, line in (variables or {}).get(name, []):
                    if not value or "$" in value or value in ("''", '""'):
                        continue
                    host, port = _split(value, p.scheme) if p.host == f"${name}" or p.host == f"${{{name}}}" \
                        else (p.host.replace(f"${name}", value), p.port)
                    out.append(Target(vrel, line, host, resolve(host, book), port, p.scheme, p.location))
            continue
        hostpart = p.raw.split("//", 1)[1].split("/", 1)[0]
        if p.host in upstreams and ":" not in hostpart:
            out += [Target(urel, line, host, resolve(host, book), port, p.scheme, p.location)
                    for urel, host, port, line in upstreams[p.host] if port]
        else:
            out.append(Target(rel, p.line, p.host, resolve(p.host, book), p.port, p.scheme, p.location))
    return out
