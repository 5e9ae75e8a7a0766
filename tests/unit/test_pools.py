"""ZFS-10 (pools healthy and answering) and ZFS-12 (snapshot retention): the `zpool status` parser on OpenZFS 2.x
output (as the users' reports quote it) and zfs-fuse's, the rules, the hung reader (a ZFS that does not answer
fails ZFS-10 and makes the other ZFS readings missing evidence with that reason), the static pruning rule."""
import subprocess
from pathlib import Path

import pytest

from checks.test_pools import hung_reason, pool_problems, retention_problems
from confs.check_pruning import pruning_policy_problem
from confs.ini import read_ini
from confs.sanoid import SanoidConf
from fixtures.facts import Facts, MissingEvidence
from fixtures.gather import script
from fixtures.probes.pools import local_epoch, parse_pool_status
from specs import load_spec
from specs.architecture import Architecture

TOOLS = Path(__file__).resolve().parents[1] / "recorded" / "tools"
ARCH = Architecture(load_spec())
DAYS = ARCH.spec.pools.scrub_max_age_days
DAY = 86400


def _status(name, tz="+0000"):
    return [f"@@tz {tz}"] + (TOOLS / name).read_text(encoding="utf-8").splitlines()


OPENZFS_HEALTHY = """\
  pool: rpool
 state: ONLINE
  scan: scrub repaired 0B in 05:41:23 with 0 errors on Sun Nov 10 06:05:24 2024
config:

\tNAME        STATE     READ WRITE CKSUM
\trpool       ONLINE       0     0     0
\t  mirror-0  ONLINE       0     0     0
\t    sda     ONLINE       0     0     0
\t    sdb     ONLINE       0     0     0

errors: No known data errors
"""

ZFS_FUSE_DEGRADED = """\
  pool: lab-mirror
 state: DEGRADED
status: One or more devices has been taken offline by the administrator.
\tSufficient replicas exist for the pool to continue functioning in a
\tdegraded state.
action: Online the device using 'zpool online' or replace the device with
\t'zpool replace'.
 scrub: scrub completed after 0h0m with 0 errors on Wed Dec  2 05:00:00 2026
config:

\tNAME                                   STATE     READ WRITE CKSUM
\tlab-mirror                             DEGRADED     0     0     0
\t  mirror-0                             DEGRADED     0     0     0
\t    /var/lib/lab-vdevs/lab-mirror-a.img  ONLINE       0     0     0
\t    /var/lib/lab-vdevs/lab-mirror-b.img  OFFLINE      0     0     0

errors: No known data errors
"""


def _lines(text, tz="+0000"):
    return [f"@@tz {tz}"] + text.splitlines()


def test_a_healthy_openzfs_pool_scrubbed_recently_has_no_problem():
    pools = parse_pool_status(_lines(OPENZFS_HEALTHY))
    p = pools["rpool"]
    assert p.state == "ONLINE" and [d.name for d in p.devices] == ["rpool", "mirror-0", "sda", "sdb"]
    assert p.scan.kind == "scrub" and p.scan.outcome == "finished" and p.scan.errors == 0
    assert not pool_problems(pools, ["rpool"], p.scan.when + 3 * DAY, DAYS)


def test_a_scrub_older_than_the_interval_is_red_and_its_time_is_read_in_the_machines_zone():
    pools = parse_pool_status(_lines(OPENZFS_HEALTHY, tz="+0100"))
    when = pools["rpool"].scan.when
    assert when == local_epoch("Sun Nov 10 06:05:24 2024", "+0000") - 3600
    (problem,) = pool_problems(pools, ["rpool"], when + (DAYS + 1) * DAY, DAYS)
    assert f"{DAYS + 1} days ago" in problem and "zpool scrub rpool" in problem


def test_the_users_ovh3_pool_with_a_disk_unavailable_is_red():
    pools = parse_pool_status(_status("zpool-status-openzfs-ovh3-unavail.txt"))
    p = pools["rpool"]
    assert p.scan.outcome == "in progress" and p.scan.kind == "scrub"
    problems = pool_problems(pools, ["rpool"], p.scan.when + DAY, DAYS)
    assert any(x.startswith("pool rpool is DEGRADED") for x in problems)
    assert any("device 17844476680277185950 is UNAVAIL was /dev/sdc1" in x for x in problems)
    assert {d.name for d in p.devices} >= {"nvme0n1p4", "nvme0n1p5"}   # logs and cache devices, headers skipped


def test_the_users_ovh3_pool_resilvering_with_a_disk_offline_is_red():
    pools = parse_pool_status(_status("zpool-status-openzfs-ovh3-resilvering.txt"))
    p = pools["rpool"]
    assert p.scan.kind == "resilver" and p.scan.outcome == "in progress"
    problems = pool_problems(pools, ["rpool"], p.scan.when + DAY, DAYS)
    assert any("device sdb is OFFLINE" in x for x in problems) and any("device old is OFFLINE" in x for x in problems)


def test_zfs_fuse_pools_never_scrubbed_are_red():
    pools = parse_pool_status(_status("zpool-status-zfs-fuse-never-scrubbed.txt"))
    assert set(pools) == {"zfs-hdd", "zfs-nvme"} and all(p.state == "ONLINE" for p in pools.values())
    problems = pool_problems(pools, ["zfs-hdd", "zfs-nvme"], 2_000_000_000, DAYS)
    assert len(problems) == 2 and all("was never scrubbed" in x for x in problems)


def test_a_zfs_fuse_mirror_with_a_vdev_offline_is_red_and_names_the_vdev():
    pools = parse_pool_status(_lines(ZFS_FUSE_DEGRADED))
    p = pools["lab-mirror"]
    assert p.scan.outcome == "finished" and p.status.startswith("One or more devices has been taken offline")
    problems = pool_problems(pools, ["lab-mirror"], p.scan.when + 60, DAYS)
    assert problems[0].startswith("pool lab-mirror is DEGRADED")
    assert any("/var/lib/lab-vdevs/lab-mirror-b.img is OFFLINE" in x for x in problems)
    assert any("device mirror-0 is DEGRADED" in x for x in problems)   # the vdev above it, said too


def test_errors_counts_a_scrub_with_errors_and_a_missing_pool_are_red():
    text = OPENZFS_HEALTHY.replace("sdb     ONLINE       0     0     0", "sdb     ONLINE       0     3  1.2K") \
        .replace("with 0 errors", "with 2 errors").replace("No known data errors", "2 data errors, use '-v' for a list")
    pools = parse_pool_status(_lines(text))
    problems = pool_problems(pools, ["rpool", "zfs-hdd"], pools["rpool"].scan.when + DAY, DAYS)
    assert "pool zfs-hdd is not imported (zpool status does not list it); expected by the spec" in problems
    assert any("device sdb has write 3, checksum 1200 errors" in x for x in problems)
    assert any("the last scrub found 2 errors" in x for x in problems)
    assert any("2 data errors" in x for x in problems)


@pytest.mark.parametrize("text", ["garbage", "  pool: x\nconfig:\n", " state: ONLINE\n"])
def test_what_is_not_zpool_status_is_refused(text):
    with pytest.raises(ValueError):
        parse_pool_status(_lines(text))


def test_no_pools_is_an_empty_reading():
    assert parse_pool_status(["@@tz +0000", "no pools available"]) == {}


def _reading(sections):
    out = []
    for name, (lines, rc, err) in sections.items():
        out.append(f"@@@{name}\n" + "".join(l + "\n" for l in lines) + f"@@@.rc {name} {rc} {err}\n")
    return "".join(out) + "@@@end\n"


def test_a_hung_zfs_fails_zfs_10_and_the_other_zfs_readings_miss_with_its_reason():
    hung = "ZFS did not answer within 10 s"
    f = Facts("off2", _reading({"pool_health": (["@@tz +0000"], 124, hung + " (zpool status)"),
                                "zfs": ([], 124, hung), "clock": (["1800000000"], 0, "")}))
    assert hung_reason(f) == hung + " (zpool status)"
    with pytest.raises(MissingEvidence, match="ZFS did not answer within 10 s"):
        f.zfs
    assert hung_reason(Facts("off2", _reading({"pool_health": (["@@tz +0000"], 2, "usage")}))) is None


def _run(text):
    return subprocess.run(["sh", "-c", text], capture_output=True, text=True, timeout=60)


def test_the_script_asks_zfs_once_when_it_does_not_answer_and_keeps_to_the_bound(tmp_path):
    """A fake zpool/zfs that never answers: the script says so once (pool_health), skips the other ZFS readers
    with the same reason, and ends; its duration is not asserted (no timed assertion), only that it ends."""
    for tool in ("zpool", "zfs"):
        (tmp_path / tool).write_text("#!/bin/sh\nexec sleep 600\n")
        (tmp_path / tool).chmod(0o755)
    spec = ARCH.spec.model_copy(update={"pools": ARCH.spec.pools.model_copy(update={"answer_seconds": 1})})
    arch = Architecture(spec)
    host = next(iter(arch.spec.hosts))
    text = script(arch, host).replace("PATH=", f"PATH={tmp_path}:", 1)
    f = Facts(host, _run(text).stdout)
    assert hung_reason(f) == "ZFS did not answer within 1 s (zpool status)"
    for probe in ("zfs", "zpool"):
        assert f.sections[probe].rc == 124 and f.sections[probe].error.startswith("ZFS did not answer within 1 s")
    assert f.sections["sanoid"].rc != 124   # a file read, not ZFS: still read


def test_the_script_reads_zpool_status_without_p_on_zfs_fuse(tmp_path):
    (tmp_path / "zpool").write_text(
        "#!/bin/sh\ncase \"$*\" in *-p*) echo \"invalid option 'p'\" >&2; exit 2;; esac\n"
        f"cat <<'EOF'\n{ZFS_FUSE_DEGRADED}EOF\n")
    (tmp_path / "zpool").chmod(0o755)
    host = next(iter(ARCH.spec.hosts))
    f = Facts(host, _run(script(ARCH, host).replace("PATH=", f"PATH={tmp_path}:", 1)).stdout)
    assert f.evidence("pool_health")["lab-mirror"].state == "DEGRADED"


# ZFS-12

def _conf(text):
    return SanoidConf(read_ini(text))


CONF = _conf("[zfs-hdd/off]\n\tuse_template = synced\n\trecursive = yes\n[zfs-hdd/manual]\n\tuse_template = nop\n"
             "[template_synced]\n\thourly = 2\n\tdaily = 1\n\tautoprune = yes\n\tautosnap = no\n"
             "[template_nop]\n\thourly = 2\n\tautoprune = no\n")
NOW = 1_800_000_000


def _snaps(dataset, names, age_days=0):
    return [(f"{dataset}@{n}", NOW - age_days * DAY + i, str(i)) for i, n in enumerate(names)]


def test_a_dataset_within_its_policy_has_no_problem():
    snaps = _snaps("zfs-hdd/off/products", ["autosnap_2027-01-15_00:00:01_hourly", "autosnap_2027-01-15_01:00:01_hourly",
                                            "autosnap_2027-01-15_00:00:01_daily", "syncoid_off1_2027-01-15:00:00:01"])
    assert not retention_problems(snaps, CONF.policy("zfs-hdd/off/products"), NOW, 2, 30)


def test_more_of_a_kind_than_the_policy_keeps_is_red():
    names = [f"autosnap_2027-01-15_{h:02d}:00:01_hourly" for h in range(5)]
    (problem,) = retention_problems(_snaps("zfs-hdd/off", names), CONF.policy("zfs-hdd/off"), NOW, 2, 30)
    assert problem.startswith("5 hourly snapshots; sanoid [zfs-hdd/off] keeps 2 (+2)")


def test_snapshots_outside_the_policy_older_than_the_bound_are_red_newer_ones_and_clone_origins_not():
    old = _snaps("zfs-hdd/off", ["before-upgrade", "zfs-auto-snap_daily-2023-01-01-0000"], age_days=31)
    new = _snaps("zfs-hdd/off", ["manual-today"])
    origin = _snaps("zfs-hdd/off", ["staging-base"], age_days=90)
    (problem,) = retention_problems(old + new + origin, CONF.policy("zfs-hdd/off"), NOW, 2, 30, {origin[0][0]})
    assert problem.startswith("2 snapshots outside any policy") and "before-upgrade" in problem
    assert "manual-today" not in problem and "staging-base" not in problem


def test_a_dataset_with_snapshots_and_no_pruning_policy_is_red():
    snaps = _snaps("rpool/lost", ["autosnap_2027-01-15_00:00:01_hourly"])
    (problem,) = retention_problems(snaps, CONF.policy("rpool/lost"), NOW, 2, 30)
    assert problem.startswith("no sanoid section covers rpool/lost") and "nothing prunes" in problem
    assert "autoprune = no" in pruning_policy_problem(CONF.policy("zfs-hdd/manual"), "zfs-hdd/manual")


def test_the_nightly_report_shows_each_pools_state_errors_and_last_scrub():
    import json

    from checks.test_pools import pool_summary
    from reports import pools as report_pools
    parsed = parse_pool_status(_lines(ZFS_FUSE_DEGRADED))
    now = parsed["lab-mirror"].scan.when + 2 * DAY
    run = {"checks": [{"target": "ovh1", "status": "failed",
                       "properties": {"machine": "ovh1", "pools": json.dumps(pool_summary(parsed, now))}},
                      {"target": "x", "status": "passed", "properties": {}}]}
    (row,) = report_pools.rows(run)
    assert row["host"] == "ovh1" and row["state"] == "DEGRADED" and row["errors"] == 0
    assert row["scrub"].startswith("scrub finished 2026-12-02 05:00 UTC (2 days ago), 0 errors")
    html = report_pools.section(run)
    assert "Pool health" in html and "lab-mirror" in html and "DEGRADED" in html
    assert report_pools.section({"checks": []}) == ""
