"""A clean configuration repository for a spec: what each file looks like when it meets the spec.

    python -m confs.example DEST [SPEC_DIR]

writes DEST/confs/<machine>/... for every machine the spec names:
  <container>/stunnel/<name>.conf    stunnel services of the links it serves or uses (PSK)
  <host>/pve/lxc_<id>.conf           Proxmox definition of each application container (mount points)
  <host>/sanoid/sanoid.conf          snapshot policies: autosnap where data is written, prune on replicas
  <host>/sanoid/syncoid-args.conf    one replication job a line, on the host that runs it
  <proxy>/nginx/sites-enabled/<public name>   reverse-proxy site of each public name
  <app>/nginx/sites-enabled/<app>.conf        the application's own nginx (static files, apache)
  <images host>/nginx/sites-enabled/<images public name>
Everything is derived from the spec; no secret is written (PSK files are never in the repository).
"""
import sys
from pathlib import Path, PurePosixPath

from confs import layout
from confs.replication import replicated_datasets


# stunnel ---------------------------------------------------------------------------------------
def _stunnel_global(name):
    return (f"; stunnel on {name}: one [service] per link (spec stunnel.links)\n"
            "setuid = stunnel4\nsetgid = stunnel4\n"
            f"pid = /var/run/stunnel4/{name}.pid\noutput = /var/log/stunnel4/stunnel.log\n")


def _stunnel_service(link, side):
    if side == "server":
        accept, connect, client = f"{link.server.public_address or link.server.address}:{link.server_accept}", link.connect, "no"
    else:
        accept = f"{link.client.address}:{link.client_accept}"
        connect, client = f"{link.server.public_address or link.server.address}:{link.server_accept}", "yes"
    return (f"\n[{link.name}]\nclient = {client}\naccept = {accept}\nconnect = {connect}\n"
            f"ciphers = PSK\nPSKsecrets = {link.psk_path}\n")


def stunnel_files(arch):
    services = {}
    for link in arch.links():
        for side in ("server", "client"):
            services.setdefault(getattr(link, side).name, []).append(_stunnel_service(link, side))
    conf = PurePosixPath(arch.spec.stunnel.config).name
    return {f"{layout.stunnel_dir(arch, m)}/{conf}": _stunnel_global(m) + "".join(s) for m, s in services.items()}


# proxmox ---------------------------------------------------------------------------------------
def _pve(arch, c):
    net = arch.networks[c.host]
    lines = [f"# {c.name}: {c.application} application container", "arch: amd64", "cores: 8",
             "features: nesting=1", f"hostname: {c.name}", "memory: 32768",
             f"net0: name=eth0,bridge=vmbr1,gw={arch.spec.hosts[c.host].internal_address},ip={c.address}/{net.prefixlen},"
             "type=veth", "onboot: 1",
             "ostype: debian", f"rootfs: zfs-hdd:subvol-{c.id}-disk-0,size=30G", "swap: 0", "unprivileged: 1"]
    n = 0
    for path, mount in sorted(arch.mounts(c.application).items()):
        lines.append(f"mp{n}: /{mount.dataset},mp={path}")
        n += 1
    for name, path in sorted(arch.assets(c.application).items()):
        lines.append(f"mp{n}: /zfs-hdd/assets/{c.application}/{name},mp={path},ro=1")
        n += 1
    lines += ["", "[before-upgrade]", "# a snapshot: describes the container as it was, not read by the checks",
              "arch: amd64", f"hostname: {c.name}", "mp0: /zfs-hdd/old,mp=/mnt/old", "snaptime: 1700000000"]
    return "\n".join(lines) + "\n"


def pve_files(arch):
    return {layout.pve_file(arch, c.host, c.id): _pve(arch, c) for c in arch.app_containers()}


# sanoid / syncoid ------------------------------------------------------------------------------
def _template(name, retention, autosnap):
    counts = "".join(f"{k} = {v}\n" for k, v in retention.model_dump().items() if v)
    return f"[template_{name}]\n{counts}autosnap = {autosnap}\nautoprune = yes\n\n"


def sanoid_files(arch):
    snaps, out = arch.spec.snapshots, {}
    wanted = replicated_datasets(arch)
    for host in sorted({rd.source_host for rd in wanted} | {rd.target_host for rd in wanted}):
        text = "# sanoid: snapshots where data is written, prune only on replicas\n\n"
        sources = sorted({rd.dataset for rd in wanted if rd.source_host == host})
        received = sorted({rd.received_as for rd in wanted if rd.target_host == host})
        if sources:
            text += _template("source", snaps.source, "yes")
        if received:
            backups = host == snaps.backups.host
            text += _template("backup" if backups else "replica",
                              snaps.backups.retention if backups else snaps.replica, "no")
        text += "".join(f"[{ds}]\nuse_template = source\n\n" for ds in sources)
        text += "".join(f"[{ds}]\nuse_template = {'backup' if host == snaps.backups.host else 'replica'}\n\n"
                        for ds in received)
        out[layout.sanoid_file(arch, host)] = text
    return out


def _ssh_address(spec, remote, runner):
    r, h = spec.hosts[remote], spec.hosts[runner]
    return r.internal_address if r.datacenter == h.datacenter else r.public_address


def syncoid_files(arch):
    spec, out = arch.spec, {}
    pull = spec.replication.pulls
    for job in arch.jobs():
        runner, remote = spec.replication.runner(job), spec.replication.remote(job)
        at = f"{_ssh_address(spec, remote, runner)}"
        line = (f"{job.operator}@{at}:{job.source_dataset} {job.target_dataset}" if pull
                else f"{job.source_dataset} {at}:{job.target_dataset}")
        rel = layout.syncoid_file(arch, runner)
        out.setdefault(rel, "# one job a line: syncoid flags, source, target\n")
        out[rel] += f"--no-sync-snap --no-privilege-elevation{' --recursive' if job.recursive else ''} {line}\n"
    return out


# nginx -----------------------------------------------------------------------------------------
PROXY_SITE = """# {name}: public entry, forwards to the nginx of container {app}
server {{
    listen 80;
    listen [::]:80;
    server_name {name};
    return 301 https://$host$request_uri;
}}

server {{
    listen 443 ssl http2;
    listen [::]:443 ssl http2;
    server_name {name};
    ssl_certificate /etc/letsencrypt/live/{name}/fullchain.pem;
    ssl_certificate_key /etc/letsencrypt/live/{name}/privkey.pem;
    access_log /var/log/nginx/{name}.access.log;

    location / {{
        proxy_set_header Host $host;
        proxy_set_header X-Real-IP $remote_addr;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto $scheme;
        proxy_pass http://{address}:{port};
    }}
}}
"""

APP_SITE = """# {app}: serves static files itself, forwards the rest to its own apache
server {{
    listen {nginx_port};
    server_name {names};
    root {software_root}/html;
{static}
    location / {{
        proxy_set_header Host $host;
        proxy_pass http://127.0.0.1:{apache_port};
    }}
}}
"""

IMAGES_SITE = """# {name}: served from this host's replica of the images dataset
server {{
    listen 443 ssl;
    server_name {name};
    ssl_certificate /etc/letsencrypt/live/{name}/fullchain.pem;
    ssl_certificate_key /etc/letsencrypt/live/{name}/privkey.pem;
    root /{dataset};
    location / {{
        try_files $uri =404;
    }}
}}
"""


def nginx_files(arch):
    web, out = arch.spec.web, {}
    for chain in arch.chains():
        out[f"{layout.nginx_dir(arch, chain.proxy.name)}/sites-enabled/{chain.public_name}"] = PROXY_SITE.format(
            name=chain.public_name, app=chain.app.name, address=chain.app.address, port=chain.nginx_port)
    for c in arch.app_containers():
        static = "".join(f"    location {loc} {{\n        try_files $uri =404;\n    }}\n" for loc in web.static_locations)
        out[f"{layout.nginx_dir(arch, c.name)}/sites-enabled/{c.name}.conf"] = APP_SITE.format(
            app=c.name, nginx_port=web.nginx_port, apache_port=web.apache_port, static=static,
            software_root=arch.software_root(c.application), names=" ".join(arch.spec.applications[c.application].public_names))
    out[f"{layout.nginx_dir(arch, web.images.host)}/sites-enabled/{web.images.public_name}"] = IMAGES_SITE.format(
        name=web.images.public_name, dataset=web.images.dataset)
    return out


# systemd ---------------------------------------------------------------------------------------
def systemd_files(arch):
    """The replication unit on each host that runs jobs, a drop-in notifying the snapshot unit's failures."""
    from confs.check_units import job_units
    out = {}
    for host, unit, on_failure, does in job_units(arch):
        base = f"{layout.folder(arch, host)}/systemd/system"
        notify = on_failure.replace("@.", "@%n.")
        if does == "replication":
            out[f"{base}/{unit}"] = (
                f"[Unit]\nDescription=ZFS replication jobs (one syncoid run a line)\nOnFailure={notify}\n\n"
                "[Service]\nType=oneshot\n"
                "ExecStart=/bin/bash -c 'R=0; while read -a a; do syncoid \"$${a[@]}\" </dev/null || R=1; "
                "done < /etc/sanoid/syncoid-args.conf; exit $$R'\n"
                "# a hung run (a remote that stopped answering) ends and fails: the users' bound\n"
                "TimeoutStartSec=6h\n")
        else:
            out[f"{base}/{unit}.d/override.conf"] = f"[Unit]\nOnFailure={notify}\n"
    return out


def renewal_files(arch):
    """NET-9: each name served over TLS with its certbot renewal configuration, and certbot.service's failure
    notification on each machine serving them (as confs/off1-reverse-proxy/systemd/system/certbot.service.d)."""
    from confs.check_renewal import tls_machines
    r, out = arch.spec.web.renewal, {}
    for machine, names in tls_machines(arch).items():
        base = layout.folder(arch, machine)
        for name in names:
            out[f"{base}/letsencrypt/renewal/{name}.conf"] = (
                f"version = 2.1.0\narchive_dir = {r.config_dir}/archive/{name}\n"
                f"cert = {r.config_dir}/live/{name}/cert.pem\n\n[renewalparams]\nauthenticator = nginx\n"
                "installer = nginx\n")
        out[f"{base}/systemd/system/{r.service}.d/override.conf"] = (
            f"[Unit]\nOnFailure=email-failures@{r.service}\n")
    return out


def example_files(arch):
    """{relative path: text} of a clean repository for the spec."""
    files = {}
    for part in (stunnel_files, pve_files, sanoid_files, syncoid_files, nginx_files, systemd_files, renewal_files):
        files.update(part(arch))
    return files


def write_files(files, dest):
    for rel, text in files.items():
        path = Path(dest) / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def write_example(arch, dest):
    """Write the clean repository for arch's spec under dest; returns the relative paths."""
    files = example_files(arch)
    write_files(files, dest)
    return sorted(files)


def main(argv):
    from specs import load_spec
    from specs.architecture import Architecture
    spec = load_spec(argv[2]) if len(argv) > 2 else load_spec()
    for rel in write_example(Architecture(spec), argv[1]):
        print(rel)


if __name__ == "__main__":
    main(sys.argv)
