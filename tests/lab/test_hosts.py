"""The lab's Proxmox hosts: ZFS datasets where the spec puts them, pull replication by syncoid over ssh,
sanoid snapshots, staging clones, the images nginx, and the datasets mounted in application containers."""
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from fixtures.lab import docker_ops, hosts, remediable, tls, zfs_setup
from fixtures.lab.state import docker_name

pytestmark = pytest.mark.lab


def run(name, script):
    """(exit code, output) of a shell script in a lab container."""
    container = docker_ops.client().containers.get(name)
    rc, out = container.exec_run(["sh", "-c", script])
    return rc, (out or b"").decode(errors="replace")


# the period of the snapshots these tests take, as sanoid names them: one its policy keeps (hourly: 36). The lab keeps
# no frequently snapshot (frequently = 0): the source's next sanoid run pruned a test's `_frequently` one while it
# was its replicas' newest, and ZFS-9 rightly said they held a snapshot their source no longer has, until the next
# hourly one came (seen 2026-12-03, in every healthy comparison after a 15-minute tick)
KEPT = "hourly"


@pytest.fixture(autouse=True, scope="module")
def _timers_held(lab):
    """The tests run the jobs by hand: no timer fires one meanwhile."""
    with remediable.timers_held(docker_ops.client(), lab):
        yield


def on_host(host, script):
    return run(hosts.container_name(host), script)


def test_a_product_written_on_the_source_reaches_every_replica_in_one_run(lab):
    first = zfs_setup.replicas(lab)[0]
    reps = [r for r in zfs_setup.replicas(lab) if r.source == first.source]
    name = f"lab-test-{time.time_ns()}.json"
    rc, out = on_host(first.source_host,
                      f"echo '{{\"code\": \"{name}\"}}' > {zfs_setup.mountpoint(first.source)}/{name} && sync && "
                      f"zfs snapshot {first.source}@autosnap_$(date +%Y-%m-%d_%H:%M:%S)_{KEPT}")
    assert rc == 0, out
    receivers = sorted({r.target_host for r in reps})
    # one run on each receiver, at once (as their timers fire), of the jobs that send the dataset (the others'
    # runs are no part of it: a full run is about 15 s of syncoid)
    with ThreadPoolExecutor(len(receivers)) as pool:
        runs = dict(zip(receivers, pool.map(lambda h: on_host(h, zfs_setup.replicate_only(first.source)), receivers)))
    for host, (rc, out) in runs.items():
        assert rc == 0, f"lab-replicate on {host}: {out[-800:]}"
    for r in reps:
        rc, out = on_host(r.target_host, f"cat {zfs_setup.mountpoint(r.target)}/{name}")
        assert rc == 0 and name in out, f"{name} is not on {r.target_host}:{r.target}"


def test_a_failing_job_makes_lab_replicate_exit_non_zero(lab):
    r = zfs_setup.replicas(lab)[0]
    source = lab.spec.hosts[r.source_host].public_address
    bad = f"--no-sync-snap --no-privilege-elevation {r.operator}@{source}:{r.source}-missing {r.target}-missing"
    rc, out = on_host(r.target_host, f"head -1 /etc/sanoid/syncoid-args.conf > /tmp/jobs.conf && "
                                     f"echo '{bad}' >> /tmp/jobs.conf && /usr/local/sbin/lab-replicate /tmp/jobs.conf")
    assert rc != 0 and "FAILED" in out, out


def test_the_backups_host_keeps_sanoid_snapshots_of_each_replica(lab):
    host = lab.spec.snapshots.backups.host
    rc, out = on_host(host, "zfs list -H -t snapshot -o name")
    assert rc == 0, out
    for r in zfs_setup.received(lab, host):
        assert f"{r.target}@autosnap_" in out, f"no sanoid snapshot of {r.target} on {host}"


def test_staging_clones_are_clones_of_replica_snapshots(lab):
    st = lab.spec.staging
    for c in st.clones:
        rc, out = on_host(st.host, f"zfs get -H -o value origin {c.clone}")
        assert rc == 0 and out.strip().startswith(f"{c.origin}@"), f"{c.clone}: origin {out.strip()!r}"


def test_no_root_login_between_hosts_and_operators_only_send(lab):
    r = zfs_setup.replicas(lab)[0]
    source = lab.spec.hosts[r.source_host].public_address
    rc, out = on_host(r.target_host, f"ssh -o BatchMode=yes -o ConnectTimeout=5 root@{source} true")
    assert rc != 0, "root logs in between hosts"
    rc, out = on_host(r.target_host, f"ssh -o BatchMode=yes {r.operator}@{source} zfs destroy {r.source}@none")
    assert rc != 0 and "permission denied" in out, out
    rc, out = on_host(r.target_host, f"ssh -o BatchMode=yes {r.operator}@{source} zfs list -H -o name {r.source}")
    assert rc == 0 and r.source in out, out


def test_the_images_host_serves_images_from_its_replica(lab):
    """A file written on the images' source reaches the images host's replica (read-only: ZFS-11) by one
    replication run, and its nginx serves it."""
    img = lab.spec.web.images
    other = next(h for h in lab.spec.hosts if h != img.host)
    address = lab.spec.hosts[img.host].public_address
    job = max((r for r in zfs_setup.replicas(lab) if r.target_host == img.host and
               (img.dataset == r.target or (r.recursive and img.dataset.startswith(r.target + "/")))),
              key=lambda r: len(r.target))
    source = job.source + img.dataset[len(job.target):]
    name = f"lab-test-{time.time_ns()}.txt"
    rc, out = on_host(job.source_host, f"echo {name} > {zfs_setup.mountpoint(source)}/{name} && sync && "
                                       f"zfs snapshot {source}@autosnap_$(date +%Y-%m-%d_%H:%M:%S)_{KEPT}")
    assert rc == 0, out
    rc, out = on_host(img.host, zfs_setup.replicate_only(source))
    assert rc == 0, f"lab-replicate on {img.host}: {out[-800:]}"
    docker_ops.put_files(docker_ops.client().containers.get(hosts.container_name(other)),
                         {"/tmp/lab-ca.pem": (tls.ca_pem(), 0o644)}, "test: CA")
    rc, out = on_host(other, f"curl -sS --cacert /tmp/lab-ca.pem --resolve {img.public_name}:443:{address} "
                             f"https://{img.public_name}/{name}")
    on_host(job.source_host, f"rm -f {zfs_setup.mountpoint(source)}/{name}")
    assert rc == 0 and name in out, out


def test_application_containers_mount_their_datasets(lab):
    for c in lab.app_containers():
        paths = sorted(lab.mounts(c.application).items())
        script = "; ".join(f"findmnt -n -o TARGET,SOURCE,FSTYPE {path} || echo MISSING {path}" for path, _ in paths)
        rc, out = run(docker_name(c.name), script)
        for path, m in paths:
            assert f"{path} {m.dataset} fuse.zfs" in " ".join(out.split()), f"{c.name}: {path} is not {m.dataset}:\n{out}"
