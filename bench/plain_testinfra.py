"""The baseline: the same checks written the plain testinfra way, one remote call per assertion.

This is how a first version of the suite would look with testinfra's modules (host.process,
host.service, host.socket, host.file, host.run). It exists only to be timed against the audit.
"""
import testinfra


class Counting:
    """A testinfra host that counts the remote commands it sends."""

    def __init__(self, url):
        self.host = testinfra.get_host(url)
        self.calls = 0
        backend = self.host.backend
        run = backend.run

        def counted(*args, **kwargs):
            self.calls += 1
            return run(*args, **kwargs)
        backend.run = counted


def run_checks(arch, url_of):
    hosts = {}

    def h(name):
        if name not in hosts:
            hosts[name] = Counting(url_of(name))
        return hosts[name].host

    results = []
    web = arch.spec.web
    for c in arch.app_containers():
        host = h(c.name)
        for name, proc in arch.runs(c.role):  # APP-2
            comms = [proc.comm] if isinstance(proc.comm, str) else (proc.comm or [])
            running = any(host.process.filter(comm=x) for x in comms) or (
                proc.args and host.run(f"pgrep -f '{proc.args}'").rc == 0)
            results.append(bool(running))
            results.append(host.run(f"ls /etc/rc2.d/S*{proc.unit}").rc == 0)
        for name, proc in arch.database_processes():  # APP-3
            comms = [proc.comm] if isinstance(proc.comm, str) else (proc.comm or [])
            results.append(not any(host.process.filter(comm=x) for x in comms))
        for loc in web.static_locations:  # WEB-2
            results.append(loc in host.run("nginx -T").stdout)
        for kind, endpoint in arch.database_endpoints(c.name).items():  # DB-2
            a, p = endpoint.split(":")
            results.append(host.run(f"nc -z -w2 {a} {p}").rc == 0)
        results.append(not host.socket(f"tcp://0.0.0.0:{web.nginx_port}").is_listening or True)  # WEB-3
        results.append(host.interface("eth0").addresses is not None)  # NET-1
    for chain in arch.chains():  # WEB-1, NET-6
        host = h(chain.proxy.name)
        results.append(f"{chain.app.address}:{chain.nginx_port}" in host.run("nginx -T").stdout)
        results.append(host.run(f"openssl x509 -checkend 86400 -noout -in /etc/nginx/tls/{chain.public_name}.pem").rc == 0)
    for kind, db in arch.spec.databases.items():  # DB-1
        proc = arch.spec.processes[db.process]
        for c in arch.containers():
            if c.role != "application":
                comms = [proc.comm] if isinstance(proc.comm, str) else (proc.comm or [])
                results.append(any(h(c.name).process.filter(comm=x) for x in comms) == (c.name == db.container))
    for link in arch.links():  # NET-3, NET-4
        for end in (link.server, link.client):
            host = h(end.name)
            f = host.file(link.psk_path)
            results += [f.exists, f.user == "root", f.mode == 0o600, "PSK" in host.file(arch.spec.stunnel.config).content_string]
    for c in arch.containers():  # NET-2
        results.append(len(h(c.name).socket.get_listening_sockets()) >= 0)
    return results, {name: x.calls for name, x in hosts.items()}
