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


def h_host(hosts, name, url_of):
    if name not in hosts:
        hosts[name] = Counting(url_of(name))
    return hosts[name].host


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
    for c in arch.app_containers():  # STO-1..6: one mount or link asked at a time
        host = h(c.name)
        for path, m in arch.mounts(c.application).items():
            mp = host.mount_point(path)
            results.append(mp.exists and mp.device == m.dataset)
        for path in arch.assets(c.application).values():
            results.append("ro" in host.mount_point(path).options)
        for link in arch.spec.software_links:
            results.append(host.file(f"{arch.software_root(c.application)}/{link}").is_symlink)
    zget = "zfs get -H -p -o value {} {}"
    for r in arch.replicas():  # ZFS-1, 2, 6, 9: one property of one dataset at a time
        src, dst = h_host(hosts, r.source, url_of), h_host(hosts, r.target, url_of)
        results.append(dst.run(zget.format("type", r.target_dataset)).rc == 0)
        snaps = [l for l in dst.run(f"zfs get -H -o name -r type {r.target_dataset}").stdout.split() if "@" in l]
        for snap in snaps[-3:]:
            results.append(dst.run(zget.format("creation", snap)).rc == 0)
            results.append(src.run(zget.format("guid", snap.replace(r.target_dataset, r.source_dataset))).rc in (0, 1))
        results.append("autosnap = no" in dst.file("/etc/sanoid/sanoid.conf").content_string)
        results.append(r.source_dataset in dst.file("/etc/sanoid/syncoid-args.conf").content_string)
    for p in arch.pools():  # ZFS-7
        host = h_host(hosts, p.host, url_of)
        results.append(int(host.run(zget.format("available", p.name)).stdout or 0) > 0)
    for clone in arch.staging_clones():  # ZFS-4
        results.append(h_host(hosts, clone.host, url_of).run(zget.format("origin", clone.clone)).stdout.startswith(clone.origin))
    return results, {name: x.calls for name, x in hosts.items()}
