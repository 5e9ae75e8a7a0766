"""WEB: the double nginx chain."""
from checks.requirement import report, requirement


def _chains(arch):
    return arch.chains()


def _reads_proxy(chain, arch):
    return [chain.proxy.name]


def _targets(server, proxy_pass):
    """host:port targets of a proxy_pass value, through an upstream block if it names one."""
    rest = proxy_pass.split("://", 1)[-1].split("/", 1)[0]
    if rest in server.upstreams:
        return server.upstreams[rest]
    return [rest if ":" in rest else f"{rest}:80"]


@requirement("WEB-1", over=_chains, reads=_reads_proxy)
def test_public_name_goes_through_proxy_to_application_nginx(target, facts):
    f = facts[target.proxy.name]
    where = f"reverse proxy {target.proxy.name} on {target.proxy.host}, site {target.public_name}"
    expected = f"{target.app.address}:{target.nginx_port}"
    servers = [s for s in f.nginx_servers if target.public_name in s.names]
    if not servers:
        report([f"no nginx server block has server_name {target.public_name} (nginx -T)"], where)
    problems = []
    for s in servers:
        for location, proxy_pass in s.proxies.items():
            for t in _targets(s, proxy_pass):
                if t == f"{target.app.address}:{target.apache_port}":
                    problems.append(f"{s.file}:{s.line} location {location} forwards straight to apache ({t}); "
                                    f"expected the application's nginx {expected}")
                elif t != expected:
                    problems.append(f"{s.file}:{s.line} location {location} forwards to {t}; expected {expected} "
                                    f"({target.application}'s nginx)")
    if not any(s.proxies for s in servers):
        problems.append(f"server_name {target.public_name} forwards nowhere; expected proxy_pass http://{expected}")
    report(problems, where)
