"""nginx configuration read with crossplane: one parser for a repository file (`parse_nginx`), any
text (`parse_nginx_text`) and the output of `nginx -T` (`parse_nginx_dump`), so the static gate and
the live audit see the same server blocks.

A file gives its server blocks (at any depth: top level, inside http {}), their names, listens,
certificate, every proxy_pass (in locations, nested locations and `if` blocks) with its line and
location, every root/alias with the location it is in; its upstream {} blocks; and the values its
`set $var` and `map ... $var {}` give to variables, so `proxy_pass http://$var/...` is resolved
where the configuration sets the variable. Includes are not followed (nginx -T inlines them).
"""
import os
import re
import tempfile
from dataclasses import dataclass

import crossplane
import crossplane.errors

from confs.errors import ConfParseError
from confs.source import read_text

TRAILING_WHERE = re.compile(r" in \S+:\d+$")
VARIABLE = re.compile(r"\$\{?([A-Za-z0-9_]+)\}?")


@dataclass(frozen=True)
class ProxyPass:
    scheme: str             # http, https, or '' when unreadable
    host: str               # address or name (may hold a $variable)
    port: int
    line: int
    raw: str
    location: str = ""      # the location it is in ('' at server level)

    @property
    def target(self):
        return f"{self.host}:{self.port}"

    @property
    def variables(self):
        return VARIABLE.findall(self.host)


@dataclass(frozen=True)
class Root:
    path: str
    line: int
    directive: str          # root or alias
    location: str           # '' at server level


@dataclass(frozen=True)
class ServerBlock:
    names: tuple
    line: int
    proxy_passes: tuple     # every proxy_pass inside, at any depth
    roots: tuple            # Root of root/alias directives inside, at any depth
    listens: tuple = ()     # (listen arguments as one string, line)
    locations: tuple = ()   # (location arguments as one string, line), at any depth
    certificate: str = None
    redirect: bool = False  # the server block answers with `return` at its own level

    def listens_on(self, port):
        """Does a listen directive of this block take `port` (as nginx reads '80', '*:80', '[::]:80')?"""
        for args, _ in self.listens:
            first = args.split()[0] if args else ""
            tail = first.rsplit(":", 1)[-1] if not first.startswith("unix:") else ""
            if tail.isdigit() and int(tail) == port:
                return True
        return False


@dataclass(frozen=True)
class NginxFile:
    servers: tuple
    upstreams: dict         # name -> [(host, port, line)]
    proxy_passes: tuple     # every proxy_pass of the file, in or out of server blocks
    variables: dict = None  # $name -> [(value, line)] from set and map


def proxy_pass(arg, line, location=""):
    m = re.match(r"^(https?)://(\[[^\]]+\]|[^/:]+)(?::(\d+))?", arg)
    if not m:
        return ProxyPass("", arg, 0, line, arg, location)
    scheme, host, port = m.group(1), m.group(2).strip("[]"), m.group(3)
    default = 443 if scheme == "https" else 80
    return ProxyPass(scheme, host, int(port) if port else default, line, arg, location)


def _walk(block, location=""):
    """(directive, enclosing location) at any depth."""
    for d in block:
        yield d, location
        inner = " ".join(d.get("args", ())) if d["directive"] == "location" else location
        yield from _walk(d.get("block", ()), inner)


def _server(d):
    inner = list(_walk(d["block"]))
    names = tuple(n for x, _ in inner if x["directive"] == "server_name" for n in x["args"])
    passes = tuple(proxy_pass(x["args"][0], x["line"], loc) for x, loc in inner
                   if x["directive"] == "proxy_pass" and x["args"])
    roots = tuple(Root(x["args"][0], x["line"], x["directive"], loc) for x, loc in inner
                  if x["directive"] in ("root", "alias") and x["args"])
    listens = tuple((" ".join(x["args"]), x["line"]) for x in d["block"] if x["directive"] == "listen")
    locations = tuple((" ".join(x["args"]), x["line"]) for x, _ in inner if x["directive"] == "location")
    cert = next((x["args"][0] for x in d["block"] if x["directive"] == "ssl_certificate" and x["args"]), None)
    redirect = any(x["directive"] == "return" for x in d["block"])
    return ServerBlock(names, d["line"], passes, roots, listens, locations, cert, redirect)


def _upstream_server(arg, line):
    if arg.startswith("unix:"):
        return arg, 0, line
    host, _, port = arg.rpartition(":") if ":" in arg else (arg, "", "")
    return host.strip("[]"), int(port) if port.isdigit() else 80, line


def _variables(directives):
    out = {}
    for d, _ in directives:
        if d["directive"] == "set" and len(d["args"]) == 2:
            out.setdefault(d["args"][0].lstrip("$"), []).append((d["args"][1], d["line"]))
        elif d["directive"] == "map" and len(d["args"]) == 2 and "block" in d:
            name = d["args"][1].lstrip("$")
            for entry in d["block"]:
                if entry["args"] and entry["directive"] not in ("hostnames", "include", "volatile"):
                    out.setdefault(name, []).append((entry["args"][-1], entry["line"]))
    return out


def _unclosed_block(path):
    """The line of the innermost block left open at end of file, if any."""
    stack = []
    try:
        for token, line, quoted in crossplane.lex(str(path)):
            if not quoted and token == "{":
                stack.append(line)
            elif not quoted and token == "}" and stack:
                stack.pop()
    except crossplane.errors.NgxParserBaseException:
        pass                                        # the lexer also stops at the unbalanced end
    return stack[-1] if stack else None


def _parse_file(path):
    result = crossplane.parse(str(path), single=True, check_ctx=False, check_args=False,
                              comments=False, catch_errors=True)
    if result["errors"]:
        error = result["errors"][0]
        message = TRAILING_WHERE.sub("", error["error"])
        opened = _unclosed_block(path) if "unexpected end of file" in message else None
        if opened:
            message += f" (the block opened at line {opened} is never closed)"
        raise ConfParseError(error.get("line") or 1, message)
    directives = list(_walk(result["config"][0]["parsed"]))
    servers = tuple(_server(d) for d, _ in directives if d["directive"] == "server" and "block" in d)
    upstreams = {d["args"][0]: [_upstream_server(s["args"][0], s["line"]) for s in d["block"]
                                if s["directive"] == "server" and s["args"]]
                 for d, _ in directives if d["directive"] == "upstream" and d.get("args") and "block" in d}
    passes = tuple(proxy_pass(d["args"][0], d["line"], loc) for d, loc in directives
                   if d["directive"] == "proxy_pass" and d["args"])
    return NginxFile(servers, upstreams, passes, _variables(directives))


def parse_nginx(path):
    """A repository file (size limit and encoding checked first)."""
    read_text(path)
    return _parse_file(path)


def parse_nginx_text(text):
    with tempfile.TemporaryDirectory(prefix="offsuite-nginx-") as tmp:
        path = os.path.join(tmp, "nginx.conf")
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return _parse_file(path)


def split_dump(text):
    """{file: text} from `nginx -T` output (each file after '# configuration file <path>:')."""
    files, current = {}, None
    for line in text.splitlines():
        m = re.match(r"^# configuration file (.+):$", line)
        if m:
            current = m.group(1)
            files[current] = []
        elif current:
            files[current].append(line)
    return {name: "\n".join(lines) + "\n" for name, lines in files.items()}


def parse_nginx_dump(text):
    """[(file, NginxFile)] of `nginx -T` output; a file that does not parse is left out."""
    out = []
    for name, body in split_dump(text).items():
        try:
            out.append((name, parse_nginx_text(body)))
        except ConfParseError:
            continue
    return out
