"""Reading an nginx folder the way nginx would: which server block answers a name, and where a
proxy_pass really goes (upstream blocks expanded, variables resolved where the configuration sets
them with `set` or `map`, names of the spec resolved to addresses). Shared by the static gate and
the live audit (the files of `nginx -T`)."""
import functools
import re
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
    via: tuple = None       # (file, line) of the proxy_pass that leads here (its location's own line)

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


@functools.lru_cache(maxsize=65536)
def ip_text(word):
    """The canonical text of an IP address written as `word` (brackets allowed), else None."""
    try:
        return str(ip_address(word.strip("[]")))
    except ValueError:
        return None


def resolve(word, book):
    return ip_text(word) or book.get(word)


def _split(hostport, scheme):
    host, _, port = hostport.rpartition(":") if ":" in hostport and not hostport.endswith("]") else (hostport, "", "")
    return host.strip("[]"), int(port) if port.isdigit() else (443 if scheme == "https" else 80)


def _values(name, variables):
    """[(rel, value, line)] a variable is given (set, map), leaving out values that are not addresses."""
    return [(vrel, value, line) for vrel, value, line in (variables or {}).get(name, [])
            if value and "$" not in value and value not in ("''", '""')]


def targets(rel, passes, upstreams, book, variables=None):
    """Every address a list of ProxyPass reaches: upstream blocks expanded, $variables resolved to
    each value the configuration gives them (values that are no address are left out), including a
    whole URL in a variable (`set $up http://...; proxy_pass $up;`). Each Target keeps `via`, the
    proxy_pass it comes from."""
    from confs.nginx import proxy_pass
    out = []
    for p in passes:
        via = (rel, p.line)
        if not p.scheme:
            whole = re.match(r"^\$\{?([A-Za-z0-9_]+)\}?(.*)$", p.raw)
            if whole:
                for vrel, value, line in _values(whole.group(1), variables):
                    q = proxy_pass(value + whole.group(2), line, p.location)
                    if not q.scheme:
                        continue
                    resolved = targets(vrel, [q], upstreams, book, variables)
                    out += [Target(t.file, t.line, t.word, t.address, t.port, t.scheme, t.location, via)
                            for t in resolved]
            continue
        if p.variables:
            for name in p.variables:
                for vrel, value, line in _values(name, variables):
                    host, port = _split(value, p.scheme) if p.host == f"${name}" or p.host == f"${{{name}}}" \
                        else (p.host.replace(f"${name}", value), p.port)
                    out.append(Target(vrel, line, host, resolve(host, book), port, p.scheme, p.location, via))
            continue
        hostpart = p.raw.split("//", 1)[1].split("/", 1)[0]
        if p.host in upstreams and ":" not in hostpart:
            out += [Target(urel, line, host, resolve(host, book), port, p.scheme, p.location, via)
                    for urel, host, port, line in upstreams[p.host] if port]
        else:
            out.append(Target(rel, p.line, p.host, resolve(p.host, book), p.port, p.scheme, p.location, via))
    return out
