"""The architecture drawn from the spec with Graphviz (`dot -Tsvg`), each element coloured by its checks:
hosts (with their containers inside), replication between hosts, stunnel links between containers,
and the web chains from each public name through the reverse proxy to its application.
"""
import html
import re
import shutil
import subprocess

from reports.style import PALE, STRONG

FONT = "DejaVu Sans"


def _q(text):
    """A DOT quoted string; a newline becomes DOT's centred line break."""
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _attrs(**kw):
    return "[" + ", ".join(f"{k}={_q(v)}" for k, v in kw.items() if v is not None) + "]"


def _node_id(kind, name):
    return _q(f"{kind}:{name}")


def _tip(element, status, checks):
    bad = [c for c in checks if c["status"] not in ("passed", "skipped")]
    lines = [f"{element}: {status} ({len(checks)} checks)"]
    lines += [f"{c['requirement']} {c['status']}: {c['target']}" for c in bad[:8]]
    return "\n".join(lines)


def _failing(checks):
    """A label line naming the requirements failing on an element, or ''."""
    ids = sorted({c["requirement"] for c in checks if c["status"] in ("failed", "error")})
    return ("\n✗ " + " ".join(ids)) if ids else ""


def host_order(arch):
    """Hosts left to right: the host with the most replication partners in the middle, its partners on
    either side (so that arrows join neighbours), hosts without replication at the end."""
    partners = {}
    for r in arch.replicas():
        partners.setdefault(r.source, []).append(r.target)
        partners.setdefault(r.target, []).append(r.source)
    hosts = list(arch.spec.hosts)
    if not partners:
        return hosts
    hub = max(hosts, key=lambda h: (len(set(partners.get(h, []))), -hosts.index(h)))
    near = [h for h in hosts if h in partners[hub] and h != hub]
    middle = near[0::2][::-1] + [hub] + near[1::2]
    return middle + [h for h in hosts if h not in middle]


def dot_source(arch, statuses, checks_by_element):
    """DOT text; `statuses`: {element id: status}; `checks_by_element`: {element id: [check dicts]}."""
    spec = arch.spec

    def look(element, default="not checked"):
        status = statuses.get(element, default)
        return status, _tip(element, status, checks_by_element.get(element, []))

    out = ["digraph architecture {",
           f'  graph [rankdir=TB, bgcolor="transparent", fontname="{FONT}", fontsize=13, nodesep=0.22, ranksep=0.55, '
           'compound=true, newrank=true, pad=0.2, splines=true, forcelabels=true];',
           f'  node [shape=box, style="rounded,filled", fontname="{FONT}", fontsize=11, penwidth=1.4, margin="0.14,0.05"];',
           f'  edge [fontname="{FONT}", fontsize=10, arrowsize=0.7, penwidth=1.6];']
    # public names: the web chains start here
    out.append('  subgraph public { rank=source;')
    names = [c.public_name for c in arch.chains()] + [spec.web.images.public_name]
    for name in dict.fromkeys(names):
        status, tip = look(f"chain:{name}")
        out.append(f"    {_node_id('name', name)} {_attrs(label=name + _failing(checks_by_element.get(f'chain:{name}', [])), shape='plaintext', style='', fontcolor=STRONG[status], id=f'name:{name}', tooltip=tip)};")
    out.append("  }")
    order = host_order(arch)
    for host in order:
        h = spec.hosts[host]
        status, tip = look(f"machine:{host}")
        pools = ", ".join(h.pools)
        label = f"{host} · {h.datacenter}\nProxmox host · ZFS: {pools}" + _failing(checks_by_element.get(f"machine:{host}", []))
        host_node = (f"  {_node_id('machine', host)} "
                     + _attrs(label=label, shape="box3d", fillcolor=PALE[status], color=STRONG[status], penwidth=2,
                              fontsize=12, id=f"machine:{host}", tooltip=tip) + ";")
        out.append(host_node)
        if not h.containers:
            continue
        # the host's containers in a box above the host (rows: reverse proxy, applications, the rest)
        out.append(f"  subgraph {_q('cluster_' + host)} {{")
        out.append(f"    label={_q(f'containers on {host}')}; style=\"rounded,filled\"; fillcolor=\"#f6f8fa\"; "
                   f"color={_q(STRONG[status])}; penwidth=1.5; fontcolor=\"#57606a\"; fontsize=12;")
        for name, c in h.containers.items():
            status, tip = look(f"machine:{name}")
            role = c.application and f"app {c.application}" or c.database or c.role
            label = f"{name}\n{role} · {c.id}" + _failing(checks_by_element.get(f"machine:{name}", []))
            out.append(f"    {_node_id('machine', name)} "
                       + _attrs(label=label, fillcolor=PALE[status], color=STRONG[status], id=f"machine:{name}", tooltip=tip) + ";")
        apps = [n for n, c in h.containers.items() if c.role == "application"]
        rest = [n for n, c in h.containers.items() if c.role not in ("application", "reverse-proxy")]
        for name in rest:
            for app in apps[len(apps) // 2:len(apps) // 2 + 1]:
                out.append(f"    {_node_id('machine', app)} -> {_node_id('machine', name)} [style=invis];")
        out.append("  }")
        bottom = (rest or apps or list(h.containers))
        anchor = bottom[len(bottom) // 2]
        out.append(f"  {_node_id('machine', anchor)} -> {_node_id('machine', host)} "
                   f"[ltail={_q('cluster_' + host)}, arrowhead=none, color=\"#afb8c1\", penwidth=6];")
    # the hosts side by side on the bottom row, so that replication arrows run between neighbours
    out.append("  { rank=same; " + " ".join(_node_id("machine", h) for h in order) + "; }")
    for left, right in zip(order, order[1:]):  # keep that order
        out.append(f"  {_node_id('machine', left)} -> {_node_id('machine', right)} [style=invis, weight=10];")
    # replication: one arrow per pair of hosts (source -> target), however the spec groups its jobs
    pairs = {}
    for r in arch.replicas():
        pairs.setdefault((r.source, r.target), []).append(r)
    for (source, target), replicas in pairs.items():
        element = f"replication:{source}:{target}"
        status, tip = look(element)
        ends, direction = (source, target), "forward"
        if order.index(target) < order.index(source):  # drawn right to left: keep the spec's host order
            ends, direction = (target, source), "back"
        out.append(f"  {_node_id('machine', ends[0])} -> {_node_id('machine', ends[1])} "
                   + _attrs(label=f"ZFS replication\n{len(replicas)} datasets" + _failing(checks_by_element.get(element, [])),
                            color=STRONG[status], dir=direction, id=element,
                            fontcolor=STRONG[status], penwidth=3.5, tooltip=tip) + ";")
    # stunnel: client -> server container
    for link in arch.links():
        element = f"link:{link.name}"
        status, tip = look(element)
        out.append(f"  {_node_id('machine', link.client.name)} -> {_node_id('machine', link.server.name)} "
                   + _attrs(xlabel=f"stunnel {link.name}" + _failing(checks_by_element.get(element, [])),
                            id=element, color=STRONG[status], fontcolor=STRONG[status],
                            style="dashed", penwidth=2, constraint="false", tooltip=tip) + ";")
    # web chains: public name -> reverse proxy -> application container
    seen_proxy_edges = set()
    for chain in arch.chains():
        element = f"chain:{chain.public_name}"
        status, tip = look(element)
        out.append(f"  {_node_id('name', chain.public_name)} -> {_node_id('machine', chain.proxy.name)} "
                   + _attrs(color=STRONG[status], arrowhead="normal", id=f"{element}:to-proxy", tooltip=tip) + ";")
        key = (chain.proxy.name, chain.app.name)
        if key not in seen_proxy_edges:
            seen_proxy_edges.add(key)
            out.append(f"  {_node_id('machine', chain.proxy.name)} -> {_node_id('machine', chain.app.name)} "
                       + _attrs(color=STRONG[status], id=f"{element}:to-application", tooltip=tip) + ";")
    images = spec.web.images
    status, tip = look(f"chain:{images.public_name}")
    out.append(f"  {_node_id('name', images.public_name)} -> {_node_id('machine', images.host)} "
               + _attrs(color=STRONG[status], lhead=f"cluster_{images.host}", id=f"chain:{images.public_name}:to-host", tooltip=tip) + ";")
    out.append("}")
    return "\n".join(out)


def svg(dot_text):
    """The drawing as inline SVG markup, or None when Graphviz's `dot` is not installed."""
    dot = shutil.which("dot")
    if dot is None:
        return None
    proc = subprocess.run([dot, "-Tsvg"], input=dot_text, capture_output=True, text=True, timeout=60)
    if proc.returncode != 0:
        return f"<p class=muted>Graphviz failed: {html.escape(proc.stderr.strip()[:300])}</p>"
    text = proc.stdout
    text = text[text.find("<svg"):]                      # no XML prolog or DOCTYPE inside HTML
    text = re.sub(r"<!--.*?-->", "", text, flags=re.S)   # Graphviz's generator comments
    # scale to the page's width, keep the aspect ratio
    text = re.sub(r'<svg width="[\d.]+pt" height="[\d.]+pt"', '<svg class="arch" preserveAspectRatio="xMidYMid meet"', text, count=1)
    return text
