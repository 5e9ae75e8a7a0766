"""Benchmark of the static gate: the users' real repository, generated repositories of growing size
(up to 5,000 files) and one 1.9 MB nginx file.

    python bench/static_bench.py [--small] [DEST]

Writes the clean repository of the shipped spec plus realistic extra files (more proxy sites, nginx
snippets, Proxmox definitions of other containers, more stunnel services, units with their timers),
runs confs.audit.run_gate on it and prints `name: value unit` lines: files, findings, wall time,
CPU time per file at each size and the growth factor between the smallest and the largest (linear:
time per file stays flat). `--small` (about 250 and 500 files, a 0.2 MB nginx file; what
tests/static/test_static_bench.py runs) prints the same figures. A script, not a timed test:
the targets (under 1 s on the real repository, linear growth) are read from its output.
"""
import argparse
import itertools
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from confs import layout  # noqa: E402
from confs.audit import run_gate  # noqa: E402
from confs.example import example_files, write_files  # noqa: E402
from confs.nginx import parse_nginx  # noqa: E402
from specs import load_spec  # noqa: E402
from specs.architecture import Architecture  # noqa: E402

REAL = Path(__file__).resolve().parents[2] / "shared" / "off-infrastructure"
SIZES = (1250, 2500, 5000)
SMALL_SIZES = (250, 500)

SNIPPET = """# {name}: shared proxy headers
proxy_set_header Host $host;
proxy_set_header X-Real-IP $remote_addr;
proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
proxy_read_timeout {n}s;
gzip on;
gzip_types text/plain application/json text/css application/javascript;
"""


def figure(name, value, unit):
    """One figure: the benches' shared printer (bench/figures.py, `figure: name: value unit`) where the
    tree has it, else the same line without the prefix."""
    try:
        from bench.figures import figure as shared
    except ImportError:
        text = f"{value:.3f}" if isinstance(value, float) else str(value)
        print(f"{name}: {text} {unit}", flush=True)
        return
    shared(name, value, unit)


def site(arch, chain, name):
    return (f"server {{\n    listen 443 ssl;\n    server_name {name};\n"
            f"    ssl_certificate /etc/letsencrypt/live/{chain.public_name}/fullchain.pem;\n"
            f"    ssl_certificate_key /etc/letsencrypt/live/{chain.public_name}/privkey.pem;\n"
            f"    location / {{\n        include snippets/proxy-headers.conf;\n"
            f"        proxy_pass http://{chain.app.address}:{chain.nginx_port};\n    }}\n}}\n")


def extra_files(arch):
    """An endless, repeatable stream of (path, text) of realistic extra files, each kind in turn."""
    chains = [c for c in arch.chains() if c.proxy]
    proxies = arch.containers("reverse-proxy")
    nginx_machines = proxies + arch.app_containers()
    hosts = list(arch.spec.hosts)

    def sites():
        for n in itertools.count():
            chain = chains[n % len(chains)]
            name = f"c{n}.{chain.public_name}"
            yield f"{layout.nginx_dir(arch, chain.proxy.name)}/sites-enabled/{name}", site(arch, chain, name)

    def snippets():
        for n in itertools.count():
            c = nginx_machines[n % len(nginx_machines)]
            yield f"{layout.nginx_dir(arch, c.name)}/snippets/snippet-{n}.conf", SNIPPET.format(name=c.name, n=30 + n % 60)

    def containers():
        for n in itertools.count():
            host, cid = hosts[n % len(hosts)], 1000 + n
            yield layout.pve_file(arch, host, cid), (
                f"arch: amd64\ncores: 2\nhostname: misc-{cid}\nmemory: 4096\n"
                f"net0: name=eth0,bridge=vmbr1,ip={arch.networks[host].network_address + 200}/24,type=veth\n"
                f"onboot: 1\nrootfs: zfs-hdd:subvol-{cid}-disk-0,size=10G\nunprivileged: 1\n"
                f"mp0: /zfs-hdd/misc/{cid}/data,mp=/srv/data\n\n[daily]\narch: amd64\nsnaptime: 1700000000\n")

    def stunnel():
        for n in itertools.count():
            c = proxies[n % len(proxies)]
            yield f"{layout.stunnel_dir(arch, c.name)}/svc{n}.conf", (
                f"; extra service {n}\n[{c.name}-svc{n}]\nclient = no\naccept = {10000 + n}\n"
                f"connect = 127.0.0.1:{20000 + n % 10000}\nciphers = PSK\n"
                f"PSKsecrets = {arch.spec.stunnel.psk_dir}/{c.name}-svc{n}-psk.txt\n")

    def units():
        for n in itertools.count():
            host = hosts[n % len(hosts)]
            base = f"{layout.folder(arch, host)}/systemd/system/job{n}"
            yield f"{base}.service", ("[Unit]\nOnFailure=email-failures@%n.service\n\n[Service]\nType=oneshot\n"
                                      "ExecStart=/usr/sbin/zpool status -x\nTimeoutStartSec=10m\n")
            yield f"{base}.timer", "[Timer]\nOnCalendar=hourly\n\n[Install]\nWantedBy=timers.target\n"

    streams = [sites(), snippets(), containers(), stunnel(), units()]
    for stream in itertools.cycle(streams):
        yield next(stream)


def bench_files(arch, count):
    """{path: text}: the clean repository plus extra files, `count` files in all."""
    files = example_files(arch)
    for path, text in extra_files(arch):
        if len(files) >= count:
            break
        files[path] = text
    return files


def big_nginx(size):
    """An nginx file of about `size` bytes: many server blocks with locations, upstreams and maps."""
    parts, n, total = [], 0, 0
    while total < size:
        block = (f"upstream u{n} {{ server 10.1.0.{n % 250}:80; }}\nmap $uri $b{n} {{ default 10.1.0.{n % 250}:80; }}\n"
                 f"server {{\n    listen 80;\n    server_name s{n}.example.org;\n    root /srv/s{n};\n"
                 f"    location /a/ {{ proxy_pass http://u{n}; }}\n    location /b/ {{ try_files $uri @c; }}\n"
                 f"    location @c {{ proxy_pass http://$b{n}; }}\n    # comment {n}\n}}\n")
        parts.append(block)
        total += len(block)
        n += 1
    return "".join(parts)


def timed_gate(arch, path):
    """(result, wall seconds, CPU seconds of this process: less sensitive to a loaded machine)."""
    start, cpu = time.perf_counter(), time.process_time()
    result = run_gate(arch, path)
    return result, time.perf_counter() - start, time.process_time() - cpu


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="small sizes (what the test runs)")
    parser.add_argument("dest", nargs="?", help="where to write the generated repositories (default: a temp folder)")
    args = parser.parse_args(argv)
    arch = Architecture(load_spec())
    if not args.small and (REAL / "confs").is_dir():
        files = sum(1 for p in (REAL / "confs").rglob("*") if p.is_file())
        result, elapsed, cpu = timed_gate(arch, REAL)
        figure("real repository", files, "files")
        figure("real repository findings", len(result.findings), "findings")
        figure("real repository gate wall time (target < 1 s)", elapsed, "s")
        figure("real repository gate cpu time", cpu, "s")
    elif not args.small:
        print(f"real repository absent ({REAL}): not timed")
    dest = Path(args.dest) if args.dest else Path(tempfile.mkdtemp(prefix="confs-bench-"))
    per_file = []
    for count in (SMALL_SIZES if args.small else SIZES):
        where = dest / f"repo-{count}"
        shutil.rmtree(where, ignore_errors=True)
        files = bench_files(arch, count)
        write_files(files, where)
        result, elapsed, cpu = timed_gate(arch, where)
        figure(f"generated {count} files: findings", len(result.findings), "findings")
        figure(f"generated {count} files: gate wall time", elapsed, "s")
        figure(f"generated {count} files: gate cpu time", cpu, "s")
        figure(f"generated {count} files: cpu time per file", cpu / len(files) * 1000, "ms")
        per_file.append(cpu / len(files))
    figure("growth of cpu time per file, smallest to largest (linear: about 1)", per_file[-1] / per_file[0], "x")
    size = 200_000 if args.small else 1_900_000
    big = dest / "big-nginx.conf"
    big.write_text(big_nginx(size))
    start, cpu = time.perf_counter(), time.process_time()
    parsed = parse_nginx(big)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    figure(f"nginx file of {big.stat().st_size / 1e6:.1f} MB: server blocks", len(parsed.servers), "blocks")
    figure(f"nginx file of {big.stat().st_size / 1e6:.1f} MB: parse wall time", elapsed, "s")
    figure(f"nginx file of {big.stat().st_size / 1e6:.1f} MB: parse cpu time", cpu, "s")
    with_big = dest / "repo-big-nginx"
    shutil.rmtree(with_big, ignore_errors=True)
    write_files(example_files(arch), with_big)
    proxy = next(c.proxy.name for c in arch.chains() if c.proxy)
    sites = with_big / layout.nginx_dir(arch, proxy) / "sites-enabled"
    sites.mkdir(parents=True, exist_ok=True)
    shutil.copy(big, sites / "big.conf")
    result, elapsed, cpu = timed_gate(arch, with_big)
    figure(f"gate on the clean repository with that file in {proxy}'s folder: wall time", elapsed, "s")
    figure(f"gate on the clean repository with that file in {proxy}'s folder: cpu time", cpu, "s")
    if not args.dest:
        shutil.rmtree(dest, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
