"""nginx files (sites, snippets) read with crossplane, one file at a time (includes not followed).

Gives the server blocks of a file (top level or inside http {}), their names, and every
proxy_pass with its line; upstream {} blocks resolve `proxy_pass http://<upstream>`.
"""
import re
from dataclasses import dataclass

import crossplane
import crossplane.errors

from confs.errors import ConfParseError

TRAILING_WHERE = re.compile(r" in \S+:\d+$")


@dataclass(frozen=True)
class ProxyPass:
    scheme: str             # http, https, or '' when unreadable (variables)
    host: str               # address or name
    port: int
    line: int
    raw: str

    @property
    def target(self):
        return f"{self.host}:{self.port}"


@dataclass(frozen=True)
class ServerBlock:
    names: tuple
    line: int
    proxy_passes: tuple     # every proxy_pass inside, at any depth
    roots: tuple            # (path, line) of root/alias directives inside


@dataclass(frozen=True)
class NginxFile:
    servers: tuple
    upstreams: dict         # name -> [(host, port, line)]
    proxy_passes: tuple     # every proxy_pass of the file, in or out of server blocks


def proxy_pass(arg, line):
    m = re.match(r"^(https?)://(\[[^\]]+\]|[^/:$]+)(?::(\d+))?", arg)
    if not m or "$" in arg.split("/")[2]:
        return ProxyPass("", arg, 0, line, arg)
    scheme, host, port = m.group(1), m.group(2).strip("[]"), m.group(3)
    return ProxyPass(scheme, host, int(port) if port else (443 if scheme == "https" else 80), line, arg)


def _walk(block):
    for d in block:
        yield d
        yield from _walk(d.get("block", ()))


def _server(d):
    inner = list(_walk(d["block"]))
    names = tuple(n for x in inner if x["directive"] == "server_name" for n in x["args"])
    passes = tuple(proxy_pass(x["args"][0], x["line"]) for x in inner if x["directive"] == "proxy_pass" and x["args"])
    roots = tuple((x["args"][0], x["line"]) for x in inner if x["directive"] in ("root", "alias") and x["args"])
    return ServerBlock(names, d["line"], passes, roots)


def _upstream_server(arg, line):
    host, _, port = arg.rpartition(":") if ":" in arg and not arg.startswith("unix:") else (arg, "", "")
    return host, int(port) if port.isdigit() else 80, line


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


def parse_nginx(path):
    result = crossplane.parse(str(path), single=True, check_ctx=False, check_args=False,
                              comments=False, catch_errors=True)
    if result["errors"]:
        error = result["errors"][0]
        message = TRAILING_WHERE.sub("", error["error"])
        opened = _unclosed_block(path) if "unexpected end of file" in message else None
        if opened:
            message += f" (the block opened at line {opened} is never closed)"
        raise ConfParseError(error.get("line") or 1, message)
    parsed = result["config"][0]["parsed"]
    directives = list(_walk(parsed))
    servers = tuple(_server(d) for d in directives if d["directive"] == "server" and "block" in d)
    upstreams = {d["args"][0]: [_upstream_server(s["args"][0], s["line"]) for s in d["block"]
                                if s["directive"] == "server" and s["args"]]
                 for d in directives if d["directive"] == "upstream" and d.get("args")}
    passes = tuple(proxy_pass(d["args"][0], d["line"]) for d in directives if d["directive"] == "proxy_pass" and d["args"])
    return NginxFile(servers, upstreams, passes)
