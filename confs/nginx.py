"""nginx configuration read with crossplane: one parser for a repository file (`parse_nginx`), any
text (`parse_nginx_text`) and the output of `nginx -T` (`parse_nginx_dump`), so the static gate and
the live audit see the same server blocks.

A file gives its server blocks (at any depth: top level, inside http {}), their names, listens,
certificate, every proxy_pass (in locations, nested locations and `if` blocks) with its line and
location, every root/alias with the location it is in; its upstream {} blocks; and the values its
`set $var` and `map ... $var {}` give to variables, so `proxy_pass http://$var/...` is resolved
where the configuration sets the variable. Includes are not followed (nginx -T inlines them).

Each location also keeps what hands its requests on inside nginx: `try_files ... @name` and
`error_page ... @name` (a named location), `rewrite ... last|break` (a new URI, matched again), so a
rule can follow a static path to where it really goes.

Tokens are read by one regular expression over the whole text (linear: a 2 MB file in well under a
second); crossplane reads a file the fast reader finds irregular, so its error messages are the ones
reported.
"""
import os
import re
import tempfile
from dataclasses import dataclass

import crossplane
import crossplane.errors
from crossplane.parser import _prepare_if_args

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
class Location:
    match: str              # the location's arguments as one string ('= /x', '~ \\.js$', '/images/', '@apache')
    line: int
    proxy_passes: tuple     # ProxyPass at its own level (its `if` blocks included, nested locations not)
    handoffs: tuple = ()    # (kind, target, line): ('named', '@x', n) from try_files/error_page,
    #                          ('uri', '/new/', n) from rewrite ... last|break

    @property
    def path(self):
        """The URI or name it matches (its last argument)."""
        return self.match.split()[-1] if self.match else ""

    @property
    def is_prefix(self):
        return len(self.match.split()) == 1 or self.match.split()[0] == "^~"


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
    blocks: tuple = ()      # Location of every location block, at any depth
    handoffs: tuple = ()    # server-level error_page to a named location (inherited by locations)

    def location(self, path):
        """The location block nginx picks for a URI (exact match, then the longest prefix unless it
        is `^~`, then the first regex that matches, in file order, else that prefix); a named location
        by its name."""
        if path.startswith("@"):
            return next((b for b in self.blocks if b.match == path), None)
        exact = next((b for b in self.blocks if b.match == f"= {path}"), None)
        if exact:
            return exact
        prefixes = [b for b in self.blocks if b.is_prefix and not b.path.startswith("@") and path.startswith(b.path)]
        prefix = max(prefixes, key=lambda b: len(b.path), default=None)
        if prefix is not None and prefix.match.startswith("^~"):
            return prefix
        for b in self.blocks:
            words = b.match.split(None, 1)
            if len(words) == 2 and words[0] in ("~", "~*"):
                try:
                    if re.search(words[1], path, re.I if words[0] == "~*" else 0):
                        return b
                except re.error:
                    continue
        return prefix

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
    error: str = None       # set (by parse_nginx_dump) for a file that does not parse: why
    logs: tuple = ()        # (directive, path, line) of every access_log / error_log writing to a file


def proxy_pass(arg, line, location=""):
    m = re.match(r"^(https?)://(\[[^\]]+\]|[^/:]+)(?::(\d+))?", arg)
    if not m:
        return ProxyPass("", arg, 0, line, arg, location)
    scheme, host, port = m.group(1), m.group(2).strip("[]"), m.group(3)
    default = 443 if scheme == "https" else 80
    return ProxyPass(scheme, host, int(port) if port else default, line, arg, location)


def _walk(block, location="", out=None, ends=None):
    """[(directive, enclosing location)] at any depth, in file order (one pass: linear); `ends`, when
    given, gets {id(directive): index after its last descendant} (its subtree is out[i + 1:end])."""
    out = [] if out is None else out
    for d in block:
        out.append((d, location))
        inner = d.get("block")
        if inner:
            _walk(inner, " ".join(d["args"]) if d["directive"] == "location" else location, out, ends)
            if ends is not None:
                ends[id(d)] = len(out)
    return out


def _handoff(d):
    """(kind, target, line) when a directive hands the request on inside nginx, else None."""
    args = d.get("args") or []
    if d["directive"] in ("try_files", "error_page") and args and args[-1].startswith("@"):
        return "named", args[-1], d["line"]
    if d["directive"] in ("try_files", "error_page") and args and args[-1].startswith("/") and \
            (d["directive"] == "error_page" or len(args) > 1):
        return "uri", args[-1], d["line"]
    if d["directive"] == "rewrite" and len(args) >= 3 and args[2] in ("last", "break") and args[1].startswith("/"):
        return "uri", args[1], d["line"]
    return None


def _own(block, out=None):
    """Directives of a block at its own level, `if` blocks included, nested locations left out."""
    out = [] if out is None else out
    for d in block:
        out.append(d)
        if d["directive"] == "if" and d.get("block"):
            _own(d["block"], out)
    return out


HANDOFF_DIRECTIVES = frozenset(("try_files", "error_page", "rewrite"))


def _locations(inner, passes):
    """Location of every location block among (directive, location) pairs; passes: {id: ProxyPass}."""
    out = []
    for d, _ in inner:
        if d["directive"] == "location" and "block" in d:
            own = _own(d["block"])
            match = " ".join(d["args"])
            out.append(Location(match, d["line"], tuple(passes[id(x)] for x in own if id(x) in passes),
                                tuple(h for h in (_handoff(x) for x in own if x["directive"] in HANDOFF_DIRECTIVES)
                                      if h)))
    return tuple(out)


def _server(d, inner, passes_by_id):
    """A ServerBlock from a server directive and [(directive, location)] of everything inside it."""
    names, passes, roots, locations = [], [], [], []
    for x, loc in inner:
        name = x["directive"]
        if name == "server_name":
            names += x["args"]
        elif name == "proxy_pass":
            if id(x) in passes_by_id:
                passes.append(passes_by_id[id(x)])
        elif name == "root" or name == "alias":
            if x["args"]:
                roots.append(Root(x["args"][0], x["line"], name, loc))
        elif name == "location":
            locations.append((" ".join(x["args"]), x["line"]))
    own = d["block"]
    listens = tuple((" ".join(x["args"]), x["line"]) for x in own if x["directive"] == "listen")
    cert = next((x["args"][0] for x in own if x["directive"] == "ssl_certificate" and x["args"]), None)
    redirect = any(x["directive"] == "return" for x in own)
    server_handoffs = tuple(h for h in (_handoff(x) for x in _own(own) if x["directive"] in HANDOFF_DIRECTIVES)
                            if h and h[0] == "named")
    blocks = _locations(inner, passes_by_id) if locations else ()
    return ServerBlock(tuple(names), d["line"], tuple(passes), tuple(roots), listens, tuple(locations), cert,
                       redirect, blocks, server_handoffs)


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


# one token after its leading whitespace, on one line: a comment, a quoted string, a special character, a
# bare word (escapes and ${var} inside), or any other character (a lone quote: the fast reader gives up)
TOKEN = re.compile(r"""\s*(#.*|"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*'|[{};]"""
                   r"""|(?:[^\s{};"'\\$]+|\$\{[^}\s]*\}|\$|\\.|(?<=[^\s{};])["'])+|\S)""")
SPECIAL = frozenset("{};")


def _fast_parse(text):
    """crossplane's `parsed` list (directive, line, args, block) for a regular file; None where the fast
    reader is not sure to read it as crossplane does (a string over several lines, unbalanced braces,
    a directive cut short, lua blocks): the caller then asks crossplane."""
    if "_by_lua" in text:
        return None
    root = []
    stack = [root]
    stmt = None
    for line, raw in enumerate(text.split("\n"), 1):
        for token in TOKEN.findall(raw):
            first = token[0]
            if first == "#":
                break
            if first == '"' or first == "'":
                if len(token) < 2 or token[-1] != first:
                    return None
                token, special = token[1:-1].replace("\\" + first, first), False
            else:
                special = token in SPECIAL
            if stmt is None:
                if not special:
                    stmt = {"directive": token, "line": line, "args": []}
                elif token == "}" and len(stack) > 1:
                    stack.pop()
                else:
                    return None
            elif not special:
                stmt["args"].append(token)
            elif token == "}":
                return None
            else:
                if stmt["directive"] == "if":
                    _prepare_if_args(stmt)
                stack[-1].append(stmt)
                if token == "{":
                    stmt["block"] = []
                    stack.append(stmt["block"])
                stmt = None
    if stmt is not None or len(stack) != 1:
        return None
    return root


def _parse_file(path, text=None):
    parsed = _fast_parse(read_text(path) if text is None else text)
    if parsed is not None:
        return _nginx_file(parsed)
    result = crossplane.parse(str(path), single=True, check_ctx=False, check_args=False,
                              comments=False, catch_errors=True)
    if result["errors"]:
        error = result["errors"][0]
        message = TRAILING_WHERE.sub("", error["error"])
        opened = _unclosed_block(path) if "unexpected end of file" in message else None
        if opened:
            message += f" (the block opened at line {opened} is never closed)"
        raise ConfParseError(error.get("line") or 1, message)
    return _nginx_file(result["config"][0]["parsed"])


def _nginx_file(parsed):
    ends = {}
    directives = _walk(parsed, ends=ends)
    passes_by_id = {id(d): proxy_pass(d["args"][0], d["line"], loc) for d, loc in directives
                    if d["directive"] == "proxy_pass" and d["args"]}
    servers = tuple(_server(d, directives[i + 1:ends.get(id(d), i + 1)], passes_by_id)
                    for i, (d, _) in enumerate(directives) if d["directive"] == "server" and "block" in d)
    upstreams = {d["args"][0]: [_upstream_server(s["args"][0], s["line"]) for s in d["block"]
                                if s["directive"] == "server" and s["args"]]
                 for d, _ in directives if d["directive"] == "upstream" and d.get("args") and "block" in d}
    passes = tuple(passes_by_id[id(d)] for d, _ in directives if id(d) in passes_by_id)
    logs = tuple((d["directive"], d["args"][0], d["line"]) for d, _ in directives
                 if d["directive"] in LOG_DIRECTIVES and d["args"] and _is_log_file(d["args"][0]))
    return NginxFile(servers, upstreams, passes, _variables(directives), logs=logs)


LOG_DIRECTIVES = frozenset(("access_log", "error_log"))
NOT_A_FILE = ("syslog:", "memory:", "/dev/", "stderr")


def _is_log_file(target):
    """Does an access_log / error_log argument name a file nginx appends to (not off, syslog, a device)?"""
    return target != "off" and not target.startswith(NOT_A_FILE)


def parse_nginx(path):
    """A repository file (size limit and encoding checked first)."""
    return _parse_file(path, read_text(path))


def parse_nginx_text(text):
    parsed = _fast_parse(text)
    if parsed is not None:
        return _nginx_file(parsed)
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
    """[(file, NginxFile)] of `nginx -T` output. A file nginx -T lists that does not parse raises
    ConfParseError naming it: its server names and routes cannot be read, which proves nothing."""
    out = []
    for name, body in split_dump(text).items():
        try:
            out.append((name, parse_nginx_text(body)))
        except ConfParseError as exc:
            raise ConfParseError(exc.line, f"{name} (listed by nginx -T) does not parse at line {exc.line}: "
                                           f"{exc.message}; its server blocks cannot be read") from None
    return out
