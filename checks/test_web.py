"""WEB: the double nginx chain."""
from checks import targets
from checks.requirement import report, requirement
from confs.check_web import apache_ports, web1_problems, web2_problems, web4_problems
from confs.web import address_book


def _chains(arch):
    return arch.chains()


def _reads_proxy(chain, arch):
    return [chain.proxy.name]


def _where(rel, line):
    return f"{rel}:{line}" if line else (rel or "nginx -T")


@requirement("WEB-1", over=_chains, reads=_reads_proxy)
def test_public_name_goes_through_proxy_to_application_nginx(target, facts, arch):
    """The static gate's rule (confs.check_web.web1_problems) on the files of `nginx -T`."""
    f = facts[target.proxy.name]
    where = f"reverse proxy {target.proxy.name} on {target.proxy.host}, site {target.public_name}"
    expected = f"{target.app.address}:{target.nginx_port}"
    problems = web1_problems(f.nginx_files, target.public_name, expected, apache_ports(arch), address_book(arch))
    report([f"{_where(rel, line)}: {message}" for rel, line, message in problems], where)


@requirement("WEB-2", over=targets.app_containers)
def test_application_nginx_serves_static_files_itself(target, facts, arch):
    """The static gate's rule (confs.check_web.web2_problems): a server on the nginx port (8080 is not
    80), the static locations served by nginx, dynamic requests to this container's apache only."""
    f = facts[target.name]
    web = arch.spec.web
    where = f"application container {target.name} on {target.host} ({target.application})"
    own = {f"{target.address}:{web.apache_port}", f"127.0.0.1:{web.apache_port}", f"localhost:{web.apache_port}"}
    problems = web2_problems(f.nginx_files, web.nginx_port, web.static_locations, own, address_book(arch))
    report([f"{_where(rel, line)}: {message}" for rel, line, message in problems] + _static_answers(f), where)


def _static_answers(f):
    """Which server answered a request for each static location (fixtures/probes/route.py): a path that
    does not exist gets nginx's own error page unless nginx hands it on (an error_page of its own makes
    the page no evidence); a file of the software tree comes back as it is on disk."""
    own_pages = any("error_page" in line for line in f.evidence("nginx"))
    problems = []
    for r in f.evidence("route"):
        by = f" ({r.said.replace(',', ' ')})" if r.said != "-" else ""
        if r.status == "000":
            problems.append(f"a request for {r.location}{'' if r.kind == 'missing' else r.path} got no answer from "
                            "the application's nginx")
        elif r.kind == "missing" and (r.said != "-" or r.verdict != "nginx" and not own_pages):
            problems.append(f"a request for a path under {r.location} that does not exist was answered {r.status} by "
                            f"another server than nginx{by}: nginx hands static paths on (try_files fallback, "
                            "error_page, rewrite or proxy); serve them from the files, =404 when absent")
        elif r.kind == "file" and r.verdict == "differs" and (r.status == "200" or r.said != "-"):
            problems.append(f"a request for the static file {r.path} got {r.status} with other content than the "
                            f"file on disk{by}: nginx does not serve it itself")
    return problems


@requirement("WEB-3", over=targets.machines)
def test_only_the_proxy_listens_for_the_public(target, facts, arch):
    f = facts[target.name]
    allowed = arch.public_ports(target.name)
    internal = lambda a: arch.internal(target.host, a)
    problems = [f"listens on {f.public_label(addr, internal)} port {port}, reachable outside the internal network; only the "
                "reverse proxy serves the public on 80/443"
                for addr, port in f.listening
                if port in (80, 443) and port not in allowed and f.public_facing(addr, internal)]
    report(problems, f"{target.role} container {target.name} on {target.host}")


def _tls_sites(arch):
    """Every public name served over TLS, with the machine serving it (the chains' proxies, the images host)."""
    from fixtures.probes.network import tls_names
    machines = [c.proxy.name for c in arch.chains() if c.proxy] + [arch.spec.web.images.host]
    return [TlsSite(name, m) for m in dict.fromkeys(machines) for name in dict.fromkeys(tls_names(arch, m)[0])]


class TlsSite(str):
    def __new__(cls, name, machine):
        site = super().__new__(cls, name)
        site.machine = machine
        return site


@requirement("NET-6", over=_tls_sites, reads=lambda site, arch: [site.machine])
def test_public_certificate_is_valid_long_enough(target, facts, arch):
    """The certificate a visitor's TLS handshake for the name gets from outside (what nginx serves now, not the
    file on disk; read on the serving machine when no handshake from outside completes, which is WEB-5's red);
    when it is wrong, confs.check_tls.certificate_problem says whether the file on disk is wrong too, and
    whether by dates or by names."""
    import datetime
    from confs.check_tls import certificate_problem
    f = facts[target.machine]
    where = f"{target} served by {target.machine}"
    served, unverified = _visitor_certificate(f, str(target))
    if served is None:   # no handshake from outside (WEB-5's red): the certificate nginx serves, read on the machine
        served = f.served_certificates.get(str(target))
        where += " (read on the machine: no handshake from outside)"
    if served is None or served.not_after is None:
        why = served.error if served and served.error else f"exit {served.rc}" if served else "not tried"
        report([f"no certificate is served for {target} on port 443 ({why})"], where)
    now = datetime.datetime.fromtimestamp(f.now, datetime.timezone.utc)
    days = arch.spec.web.tls_min_days
    if certificate_problem(str(target), served, {}, now=now, min_days=days) is None:
        if unverified:
            report([f"the certificate served for {target} does not verify as a visitor's browser checks it: "
                    f"{unverified} (its chain to a trusted CA: the intermediate certificates in ssl_certificate)"],
                   where)
        return   # the served certificate is right: the files on disk are not needed
    problem = certificate_problem(str(target), served, *_certificate_files(f, str(target)), now=now, min_days=days)
    report([problem.message], where)


def _visitor_certificate(f, name):
    """(Served, verification failure or '') of the first handshake the auditor completed for the name from
    outside (fixtures/probes/outside.py), or (None, '') when none did."""
    seen = f.evidence("visitor").get(name)
    for v in seen.visits if seen else ():
        if v.tls and v.served is not None:
            return v.served, v.verify
    return None, ""


def _certificate_files(f, name):
    """({path: certificate} of the files nginx is configured with for the name, why they are not known)."""
    from fixtures.probes import MissingEvidence
    try:
        paths = sorted({s.certificate for s in f.nginx_servers if name in s.names and s.certificate})
        read = f.evidence("certfiles")
    except MissingEvidence as exc:
        return {}, str(exc)
    missing = [p for p in paths if p not in read]
    return {p: read[p] for p in paths if p in read}, (f"not read: {', '.join(missing)}" if missing else "")


@requirement("WEB-4", over=targets.images_site, reads=targets.reads_images_host)
def test_images_are_served_from_the_replica(target, facts, arch):
    """The static gate's rule (confs.check_web.web4_problems) with the replica's mount point as the
    host reports it: every root or alias (server or location) serving the images name lies in it."""
    images = arch.spec.web.images
    f = facts[images.host]
    where = f"{target} on {images.host}"
    replica = arch.replica_of(images.host, images.dataset)
    problems = []
    if replica is None:
        problems.append(f"the spec does not replicate {images.dataset} to {images.host}")
    props = f.zfs.get(images.dataset)
    if props is None:
        report(problems + [f"dataset {images.dataset} does not exist on {images.host}"], where)
    mountpoint = props.get("mountpoint", "").rstrip("/")
    problems += [f"{_where(rel, line)}: {message} ({images.dataset})"
                 for rel, line, message in web4_problems(f.nginx_files, str(target), mountpoint)]
    report(problems, where)
