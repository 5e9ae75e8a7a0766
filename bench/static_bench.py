"""Benchmark of the static gate on a configuration repository of about 500 files.

    python bench/static_bench.py [DEST]

Writes the clean repository of the shipped spec plus realistic extra files (more proxy sites,
nginx snippets, Proxmox definitions of other containers, more stunnel services), runs
confs.audit.static_findings on it and prints the file count and the wall time. A script, not a
timed test: the target is under 1 second, on the users' real repository and on ~500 files.
"""
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from confs import layout  # noqa: E402
from confs.audit import static_findings  # noqa: E402
from confs.example import example_files, write_files  # noqa: E402
from specs import load_spec  # noqa: E402
from specs.architecture import Architecture  # noqa: E402

COUNTRIES = [f"c{n:02d}" for n in range(54)]

SNIPPET = """# {name}: shared proxy headers
proxy_set_header Host $host;
proxy_set_header X-Real-IP $remote_addr;
proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
proxy_read_timeout {n}s;
gzip on;
gzip_types text/plain application/json text/css application/javascript;
"""


def extra_sites(arch):
    """A site per country subdomain of each public name, forwarding to the application's nginx."""
    out = {}
    for chain in arch.chains():
        for cc in COUNTRIES:
            name = f"{cc}.{chain.public_name}"
            out[f"{layout.nginx_dir(arch, chain.proxy.name)}/sites-enabled/{name}"] = (
                f"server {{\n    listen 443 ssl;\n    server_name {name};\n"
                f"    ssl_certificate /etc/letsencrypt/live/{chain.public_name}/fullchain.pem;\n"
                f"    ssl_certificate_key /etc/letsencrypt/live/{chain.public_name}/privkey.pem;\n"
                f"    location / {{\n        include snippets/proxy-headers.conf;\n"
                f"        proxy_pass http://{chain.app.address}:{chain.nginx_port};\n    }}\n}}\n")
    return out


def extra_snippets(arch):
    out = {}
    for c in arch.containers("reverse-proxy") + arch.app_containers():
        for n in range(12):
            out[f"{layout.nginx_dir(arch, c.name)}/snippets/snippet-{n}.conf"] = SNIPPET.format(name=c.name, n=30 + n)
    return out


def other_containers(arch):
    """Proxmox definitions of containers the spec does not describe (ids 200+ on each host)."""
    out = {}
    for host, h in arch.spec.hosts.items():
        for cid in range(200, 235):
            out[layout.pve_file(arch, host, cid)] = (
                f"arch: amd64\ncores: 2\nhostname: misc-{cid}\nmemory: 4096\n"
                f"net0: name=eth0,bridge=vmbr1,ip={arch.networks[host].network_address + cid}/24,type=veth\n"
                f"rootfs: zfs-hdd:subvol-{cid}-disk-0,size=10G\nunprivileged: 1\n"
                f"mp0: /zfs-hdd/misc/{cid}/data,mp=/srv/data\nmp1: /zfs-hdd/misc/{cid}/logs,mp=/var/log/app\n"
                f"\n[daily]\narch: amd64\nsnaptime: 1700000000\n")
    return out


def extra_stunnel(arch):
    """More PSK services on each proxy (each with its own port, PSK file and identity)."""
    out = {}
    for c in arch.containers("reverse-proxy"):
        for n in range(10):
            name = f"svc{n}"
            out[f"{layout.stunnel_dir(arch, c.name)}/{name}.conf"] = (
                f"; extra service {name}\n[{c.name}-{name}]\nclient = no\naccept = {10000 + n}\n"
                f"connect = 127.0.0.1:{20000 + n}\nciphers = PSK\n"
                f"PSKsecrets = {arch.spec.stunnel.psk_dir}/{c.name}-{name}-psk.txt\n")
    return out


def bench_files(arch):
    files = example_files(arch)
    for extra in (extra_sites, extra_snippets, other_containers, extra_stunnel):
        files.update(extra(arch))
    return files


REAL = Path(__file__).resolve().parents[2] / "shared" / "off-infrastructure"


def timed(arch, path):
    start = time.perf_counter()
    findings = static_findings(arch, path)
    return findings, time.perf_counter() - start


def main(argv):
    arch = Architecture(load_spec())
    if (REAL / "confs").is_dir():
        files = sum(1 for p in (REAL / "confs").rglob("*") if p.is_file())
        findings, elapsed = timed(arch, REAL)
        print(f"real repository {REAL}: {files} files, {len(findings)} findings, "
              f"gate wall time {elapsed:.3f} s (target < 1 s)")
    else:
        print(f"real repository absent ({REAL}): not timed")
    dest = Path(argv[1]) if len(argv) > 1 else Path(tempfile.mkdtemp(prefix="confs-bench-"))
    files = bench_files(arch)
    write_files(files, dest)
    findings, elapsed = timed(arch, dest)
    print(f"repository: {dest}")
    print(f"files: {len(files)}")
    print(f"findings: {len(findings)}")
    for f in findings[:10]:
        print(f"  {f.requirement} {f}")
    print(f"generated repository wall time: {elapsed:.3f} s (target < 1 s)")


if __name__ == "__main__":
    main(sys.argv)
