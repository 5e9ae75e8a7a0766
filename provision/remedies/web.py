"""The double nginx chain (WEB-1, WEB-2, WEB-4)."""
import re
from io import StringIO

from pyinfra import host
from pyinfra.api import operation
from pyinfra.facts.files import FileContents
from pyinfra.operations import files

from provision import units
from provision.remedies import Action, Manual, _facts, _ids, _unit, first_problem, remedy


@operation()
def forward_to(path: str, wrong: str, right: str, service: str):
    """Rewrite `proxy_pass` lines of an nginx file that forward to `wrong` so they forward to `right`,
    then reload `service`; nothing at all (no reload) when no line forwards to `wrong`."""
    lines = host.get_fact(FileContents, path=path) or []
    pattern = re.compile(r"(proxy_pass\s+\w+://)" + re.escape(wrong) + r"(?=[/;\s])")
    if not any(pattern.search(l) for l in lines):
        return
    text = "".join(pattern.sub(lambda m: m.group(1) + right, l) + "\n" for l in lines)
    yield from files.put._inner(src=StringIO(text), dest=path)
    yield from units.service._inner(service=service, action="reload")



# --- web -------------------------------------------------------------------------------------------

@remedy("WEB-1")
def proxy_to_nginx(f, arch, audit):
    chain = f.target
    facts = _facts(audit, chain.proxy.name)
    right = f"{chain.app.address}:{chain.nginx_port}"
    servers = [s for s in facts.nginx_servers if chain.public_name in s.names]
    unit = _unit(arch, "nginx")
    variables = sorted({t for s in servers for t in s.proxies.values() if "$" in t})
    if variables:   # set/map decide where it goes: rewriting the line would not follow them
        files_ = sorted({s.file for s in servers})
        return [Manual(chain.proxy.name, *_ids(f), f"{chain.public_name}'s proxy_pass goes through variable(s) "
                       f"({', '.join(variables)}) set by `set` or `map`: {first_problem(f)}",
                       [f"# on {chain.proxy.name}: where the variable is set, in {', '.join(files_)}",
                        "nginx -T | grep -n -e 'set \\$' -e 'map ' -e proxy_pass",
                        f"# make it forward to {right}, then: nginx -t && systemctl reload {unit}"])]
    wrong = sorted({t.split("://", 1)[-1].split("/", 1)[0].rstrip(";") for s in servers
                    for t in s.proxies.values()} - {right})
    if not wrong or any(w in s.upstreams for s in servers for w in wrong):
        return []   # an upstream block or no proxy_pass at all: left to a person (Manual fallback)
    ops = [(forward_to, dict(name=f"{path}: proxy_pass to {w} -> {right}, reload {unit}", path=path, wrong=w,
                             right=right, service=unit))
           for path in sorted({s.file for s in servers}) for w in wrong]
    return [Action(chain.proxy.name, *_ids(f), f"forward {chain.public_name} to {chain.application}'s nginx {right}",
                   ops)]


@remedy("WEB-2")
def static_to_apache(f, arch, audit):
    c = f.target
    web = arch.spec.web
    return [Manual(c.name, *_ids(f), f"{c.name}'s nginx does not serve static files itself: {first_problem(f)}",
                   [f"# in {c.name}: in the site on port {web.nginx_port}, each of "
                    f"{' '.join(web.static_locations)} served from the files (root/alias), not proxy_pass",
                    "nginx -T | grep -n -e 'location' -e proxy_pass -e root -e alias",
                    f"nginx -t && systemctl reload {_unit(arch, 'nginx')}"])]


@remedy("WEB-4")
def images_site(f, arch, audit):
    img = arch.spec.web.images
    return [Manual(img.host, *_ids(f), f"{img.public_name} is not served from the replica {img.dataset}: "
                   f"{first_problem(f)}",
                   [f"# on {img.host}: the replica's mount point, then point the site's root there",
                    f"zfs get -H -o value mountpoint {img.dataset}",
                    f"grep -rn -e root -e alias /etc/nginx/sites-enabled/{img.public_name}",
                    f"nginx -t && systemctl reload {_unit(arch, 'nginx')}"])]


