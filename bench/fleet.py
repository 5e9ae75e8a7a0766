"""A generated production-sized fleet of recorded readings, for the scale benchmark: the shipped spec
grown with generated Proxmox hosts (each a flavor's host with its reverse proxy and application
containers, replicated to the backups host), and a reading per machine cloned from the healthy lab's
recording (tests/recorded/lab) with names, addresses and ZFS snapshots rewritten (OpenZFS `zfs get -Hp`
lines). Everything is generated offline; nothing is contacted."""
import copy
import json
import re
import zlib
from pathlib import Path


ROOT = Path(__file__).resolve().parent.parent
LAB = ROOT / "tests" / "recorded" / "lab"
SPEC = ROOT / "tests" / "recorded" / "lab-spec"   # the spec LAB was recorded with
NOW = 1_800_000_000
# the recorded machines a generated one is cloned from (their names and addresses come from SPEC)
HOST, APP, PROXY = "off2", "opff", "off1-reverse-proxy"


def _sources():
    """(host public address, app container, app's first public name, app's mount root, proxy container) in LAB."""
    from specs import load_spec
    from specs.architecture import Architecture
    arch = Architecture(load_spec(SPEC))
    by_name = {c.name: c for c in arch.containers()}
    app = arch.spec.applications[by_name[APP].application]
    return str(arch.spec.hosts[HOST].public_address), by_name[APP], app.public_names[0], app.mount_root, by_name[PROXY]


def _spec_data():
    from specs.yaml_source import read_yaml_dir
    return copy.deepcopy(read_yaml_dir(SPEC).data)   # YAML 1.2 booleans: `off` stays a name


def sizes(fraction, hosts=10, containers=400, snapshots=200_000):
    """(generated hosts, applications per generated host, snapshots per replicated dataset copy)."""
    from specs import load_spec
    from specs.architecture import Architecture
    base = _spec_data()
    shipped_hosts = len(base["hosts"])
    shipped_containers = sum(len(h["containers"]) for h in base["hosts"].values())
    # the dataset copies readings() writes snapshots for: each replica's source and target dataset (a
    # recursive job is one replica per dataset of the spec under it)
    replicas = Architecture(load_spec(SPEC)).replicas()
    shipped_copies = len({(r.source, r.source_dataset) for r in replicas} | {(r.target, r.target_dataset) for r in replicas})
    gen = max(1, round((hosts - shipped_hosts) * fraction))
    apps = max(1, round((containers * fraction - shipped_containers) / gen) - 1)
    copies = shipped_copies + gen * 2 * 2
    return gen, apps, max(2, round(snapshots * fraction / copies))


def spec(gen, apps):
    data = _spec_data()
    jobs = data["replication"]["jobs"]
    backups = data["snapshots"]["backups"]["host"]
    for h in range(1, gen + 1):
        name = f"g{h:02d}"
        containers = {f"proxy-{name}": {"id": 101, "role": "reverse-proxy", "public_address": f"198.19.{h}.11"}}
        for k in range(apps):
            containers[f"{name}-a{k}"] = {"id": 110 + k, "role": "application", "application": f"{name}-a{k}"}
            data["applications"][f"{name}-a{k}"] = {"flavor": name, "mode": "public", "mount_root": f"/mnt/{name}-a{k}",
                                                    "public_names": [f"{name}-a{k}.example.org"]}
        data["hosts"][name] = {"datacenter": "free", "roles": ["proxmox", "source"], "internal_address": f"10.0.10.{h}",
                               "public_address": f"198.19.{h}.1", "internal_network": f"10.2.{h}.0/24",
                               "pools": {"zfs-hdd": {"min_free_percent": 10}, "zfs-nvme": {"min_free_percent": 10}},
                               "containers": containers}
        data["flavors"][name] = {"host": name, "folders": {
            "products": {"dataset": f"zfs-nvme/{name}/products", "owner": f"{name}-a0"},
            "images": {"dataset": f"zfs-hdd/{name}/images", "owner": f"{name}-a0"}}}
        for dataset in (f"zfs-nvme/{name}/products", f"zfs-hdd/{name}/images"):
            jobs.append({"source": name, "target": backups, "dataset": dataset,
                         "target_dataset": "rpool/" + dataset.split("/", 1)[1], "recursive": False})
    return data


def _sections(text):
    return {m.group(1): m.group(2) for m in re.finditer(r"^@@@([\w.]+)\n(.*?)^@@@\.rc \1 [^\n]*\n", text, re.S | re.M)}


def _set(text, name, body):
    block = f"@@@{name}\n{body}@@@.rc {name} 0 \n"
    pattern = re.compile(rf"^@@@{name}\n.*?^@@@\.rc {name} [^\n]*\n", re.S | re.M)
    return pattern.sub(lambda m: block, text, count=1) if pattern.search(text) else text.replace("@@@end\n", block + "@@@end\n")


def _snapshot_lines(dataset, count, seed):
    out = []
    for i in range(count):
        created = NOW - 300 - 3600 * (count - 1 - i)
        name = f"{dataset}@autosnap_{created}_hourly"
        out.append(f"{name}\ttype\tsnapshot\n{name}\torigin\t-\n{name}\tcreation\t{created}\n"
                   f"{name}\tguid\t{seed * 1_000_003 + i}\n{name}\tused\t0\n{name}\tavailable\t-\n"
                   f"{name}\tmountpoint\t-\n{name}\treadonly\t-\n{name}\tquota\t-\n{name}\trefquota\t-\n"
                   f"{name}\treferenced\t{1 << 20}\n")
    return "".join(out)


def _dataset_lines(dataset):
    return "".join(f"{dataset}\t{p}\t{v}\n" for p, v in (
        ("type", "filesystem"), ("origin", "-"), ("creation", NOW - 10**7), ("guid", zlib.crc32(dataset.encode())),
        ("used", 1 << 20), ("available", 1 << 40), ("mountpoint", "/" + dataset), ("readonly", "off"),
        ("quota", 0), ("refquota", 0), ("referenced", 1 << 20)))


# what the generator does not write for the machines it makes (their checks run and are timed, their
# outcomes are left out of the fleet's "every case passed"): the guests, netN lines and pruning sections of a
# generated host, the renewal state of a generated proxy
NOT_MODELLED = ("INV-1", "NET-7", "NET-9", "ZFS-12")


def not_modelled(requirement, target, lab_machines):
    """A case the generator does not model: one of NOT_MODELLED on a machine it made."""
    return requirement in NOT_MODELLED and str(target).split(":", 1)[0] not in lab_machines


def _scrubbed_recently(text):
    """ZFS-10: each pool's last scrub an hour before the fleet's clock (as zpool status prints it, local time)."""
    import datetime
    when = datetime.datetime.fromtimestamp(NOW - 3600, datetime.timezone.utc).strftime("%a %b %e %H:%M:%S %Y")
    secs = _sections(text)
    if "pool_health" not in secs:
        return text
    body = re.sub(r"(with \d+ errors on ).*", lambda m: m.group(1) + when, secs["pool_health"])
    return _set(text, "pool_health", body)


def readings(arch, snaps, out_dir):
    """Write <machine>.reading for every machine of the generated spec into out_dir."""
    lab = {p.stem: p.read_text() for p in LAB.glob("*.reading")}
    host_address, app, app_name, app_root, proxy = _sources()
    from specs import load_spec
    from specs.architecture import Architecture
    lab_arch = Architecture(load_spec(SPEC))
    out_dir = Path(out_dir)
    texts = {}
    for m, text in lab.items():
        texts[m] = _scrubbed_recently(_set(text, "clock", f"{NOW}\n"))
    # replicated datasets: the same snapshots (same GUIDs) on the source and on each replica
    per_host = {}
    seeds = {}
    for r in arch.replicas():
        seed = seeds.setdefault(r.source_dataset, len(seeds) + 1)
        per_host.setdefault(r.source, {})[r.source_dataset] = seed
        per_host.setdefault(r.target, {})[r.target_dataset] = seed
    for host in arch.spec.hosts:
        if host not in texts:
            text = _scrubbed_recently(_set(lab[HOST], "clock", f"{NOW}\n"))
            text = text.replace(host_address, str(arch.spec.hosts[host].public_address))
            texts[host] = text
        zfs = _sections(texts[host])["zfs"]
        mine = per_host.get(host, {})
        kept = [l for l in zfs.splitlines(True) if l.split("\t", 1)[0].split("@", 1)[0] not in mine
                or "@" not in l.split("\t", 1)[0]]
        present = {l.split("\t", 1)[0] for l in kept}
        parts = ["".join(kept)]
        for ds, seed in mine.items():
            for parent in (ds.rsplit("/", 1)[0], ds):
                if parent not in present:
                    parts.append(_dataset_lines(parent))
                    present.add(parent)
            parts.append(_snapshot_lines(ds, snaps, seed))
        # ZFS-11: every replica read-only with nothing written since its newest snapshot, as OpenZFS says it
        received = [r.target_dataset for r in arch.replicas() if r.target == host]
        parts += [f"{ds}\treadonly\ton\n" for ds in received]
        texts[host] = _set(texts[host], "zfs", "".join(parts))
        if received:
            texts[host] = _set(texts[host], "zfs_written",
                               "".join(f"@@dataset {ds} 0\n{ds}\twritten\t0\n" for ds in dict.fromkeys(received)))
    backups = arch.spec.snapshots.backups.host
    gen_hosts = [h for h in arch.spec.hosts if h not in lab]
    extra_jobs, extra_sanoid = "", ""
    for h in gen_hosts:
        rs = [r for r in arch.replicas() if r.source == h]
        allow = "".join(f"@@dataset {r.source_dataset} 0\n---- Permissions on {r.source_dataset} ----\n"
                        f"Local+Descendent permissions:\n\tuser {backups}operator hold,send\n" for r in rs)
        texts[h] = _set(texts[h], "zfs_allow", allow)
        for r in rs:
            extra_jobs += (f"--no-sync-snap --no-privilege-elevation --recursive {backups}operator@"
                           f"{arch.spec.hosts[h].public_address}:{r.source_dataset} {r.target_dataset}\n")
            extra_sanoid += f"\n[{r.target_dataset}]\n\tuse_template = backups\n"
    secs = _sections(texts[backups])
    texts[backups] = _set(_set(texts[backups], "syncoid", secs["syncoid"] + extra_jobs), "sanoid",
                          extra_sanoid + secs["sanoid"])
    # generated containers: cloned from the lab's application and proxy readings
    for c in arch.containers():
        if c.name in texts:
            continue
        if c.role == "application":
            text = (lab[APP].replace(app.address, c.address).replace(app_name, f"{c.name}.example.org")
                    .replace(f"{lab_arch.software_root(app.application)}/", f"{arch.software_root(c.application)}/"))
            secs = _sections(text)
            text = _set(text, "links", secs["links"].replace(f"{app_root}/", f"/mnt/{c.name}/"))
            texts[c.name] = _set(text, "mounts", _with_mounts(secs["mounts"], arch.mounts(c.application)))
        else:
            names = [ch for ch in arch.chains() if ch.proxy.name == c.name]
            text = lab[PROXY].replace(proxy.address, c.address).replace(str(proxy.public_address), c.public_address or c.address)
            dump = "".join(f"# configuration file /etc/nginx/sites-enabled/{ch.public_name}:\nserver {{\n    listen 443 ssl;\n"
                           f"    server_name {ch.public_name};\n    ssl_certificate /etc/nginx/tls/{ch.public_name}.pem;\n"
                           f"    location / {{\n        proxy_pass http://{ch.app.address}:{ch.nginx_port};\n    }}\n}}\n\n"
                           for ch in names)
            tls = "".join(f"@@name {ch.public_name}\nnotAfter=Jan 15 00:00:00 2030 GMT\n"
                          f"X509v3 Subject Alternative Name: \n    DNS:{ch.public_name}\n@@rc 0\n" for ch in names)
            listen = "".join(l for l in _sections(text)["listen"].splitlines(True)
                             if not re.search(r":(27017|6379)\s", l))    # PROXY is also a stunnel server
            texts[c.name] = _set(_set(_set(text, "nginx", dump), "tls", tls), "listen", listen)
            # WEB-5, NET-6: what the auditor got from outside, and the proxy's own requests, for these names
            address = c.public_address or c.address
            visits = "".join(json.dumps({"name": ch.public_name, "dns": {"A": [address], "AAAA": [], "error": ""},
                                         "visits": [{"address": address, "tls": True, "status": 200, "verify": "",
                                                     "says": f"application={ch.application}", "seconds": 0.1,
                                                     "not_after": "2030-01-15T00:00:00Z", "names": [ch.public_name],
                                                     "fingerprint": ""}]}) + "\n" for ch in names)
            upstream = "".join(f"{ch.public_name} {ch.app.address}:{ch.nginx_port} 200\n" for ch in names)
            texts[c.name] = _set(_set(texts[c.name], "visitor", visits), "upstream", upstream)
    out_dir.mkdir(parents=True, exist_ok=True)
    for m, text in texts.items():
        (out_dir / f"{m}.reading").write_text(text)
    return sum(len(re.findall(r"^[^\t@]+@[^\t]+\tguid\t", t, re.M)) for t in texts.values())


def _with_mounts(section, mounts):
    """The mounts section (findmnt -J -l, as recorded; or findmnt's older text form) with every mount of
    `mounts` ({path: mount}) it lacks added."""
    if section.lstrip().startswith("{"):
        table = json.loads(section)
        present = {fs["target"] for fs in table["filesystems"]}
        table["filesystems"] += [{"target": path, "source": m.dataset, "fstype": "fuse.zfs", "options": "rw,relatime"}
                                 for path, m in mounts.items() if path not in present]
        return json.dumps(table, indent=3) + "\n"
    for path, m in mounts.items():
        if f"\n{path} " not in "\n" + section:
            section += f"{path} {m.dataset} fuse.zfs rw,relatime\n"
    return section


def lab_inventory_facts(arch):
    """What the lab's inventory said of its machines when the readings were taken (fixtures.record.judge_as_read:
    its networks, gateways and operator_sudo), set on arch as the recorded tests do; a generated host is routed
    as the recorded host its machines are cloned from."""
    from fixtures.record import judge_as_read
    index = LAB / "index.json"
    if not index.is_file():
        return arch
    judge_as_read(arch, index)
    source = json.loads(index.read_text()).get("gateways", {}).get(HOST)
    if source:
        arch.map_gateways({h: source for h in arch.spec.hosts if h not in arch.gateways})
    return arch
