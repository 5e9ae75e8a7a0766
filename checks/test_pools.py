"""Pools and snapshots, from the users' incident reports: every pool healthy and answering (ZFS-10: a pool left
DEGRADED for days while the images site hung, 2023-11-28-ovh3-sdf-broken, 2023-07-16-ovh3-sdc-broken), and
snapshot retention enforced (ZFS-12: snapshots outside any policy filling a pool,
2023-08-31-off2-products-snapshots-clean, 2024-02-06-cleanup-products-snapshots).

When ZFS does not answer within the spec's bound, ZFS-10 says so (failed) and every other check reading ZFS on
that machine errors with "ZFS did not answer" (fixtures/probes/pools.py)."""
import json
import re
import time

from checks import targets
from checks.requirement import report, requirement
from confs.check_pruning import pruning_policy_problem
from fixtures.probes import MissingEvidence
from fixtures.probes.pools import BAD_STATES, HUNG, HUNG_RC


def _when(epoch):
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(epoch))


def hung_reason(f, probe="pool_health"):
    """The reason ZFS did not answer on this machine (its probe timed out), or None."""
    section = f.sections.get(probe)
    if section is not None and section.rc == HUNG_RC and HUNG in (section.error or ""):
        return section.error.strip()
    return None


def pool_problems(pools, expected, now, scrub_max_age_days):
    """What ZFS-10 finds in {pool: Pool} (fixtures/probes/pools.py): a pool of the spec not imported, a pool not
    ONLINE, a device DEGRADED/FAULTED/OFFLINE/UNAVAIL/REMOVED, read/write/checksum errors, data errors, a scrub
    that found errors, or none finished within scrub_max_age_days (a resilver counts: it is the last scan zpool
    status shows)."""
    problems = [f"pool {name} is not imported (zpool status does not list it); expected by the spec"
                for name in expected if name not in pools]
    limit = scrub_max_age_days * 86400
    for name, p in sorted(pools.items()):
        if p.state != "ONLINE":
            problems.append(f"pool {name} is {p.state}" + (f" ({p.status[:200]})" if p.status else "")
                            + f"; expected ONLINE: `zpool status -v {name}`")
        for d in p.devices:
            where = f"pool {name}: {'the pool itself' if d.name == name else 'device ' + d.name}"
            if d.state in BAD_STATES and d.name != name:
                problems.append(f"{where} is {d.state}" + (f" {d.note}" if d.note else ""))
            errors = [f"{n} {v}" for n, v in (("read", d.read), ("write", d.write), ("checksum", d.cksum)) if v]
            if errors:
                problems.append(f"{where} has {', '.join(errors)} errors; expected 0: `zpool status -v {name}`")
        if p.errors and not p.errors.startswith("No known data errors"):
            problems.append(f"pool {name}: {p.errors}: `zpool status -v {name}` lists the files")
        s = p.scan
        if s.outcome == "none":
            problems.append(f"pool {name} was never scrubbed ({s.text or 'no scan line'}); expected a scrub every "
                            f"{scrub_max_age_days} days at most: `zpool scrub {name}`")
        elif s.errors and s.outcome == "finished":
            problems.append(f"pool {name}: the last {s.kind} found {s.errors} errors ({s.text[:160]}): "
                            f"`zpool status -v {name}`")
        elif s.when is None:
            problems.append(f"pool {name}: its last {s.kind} ({s.outcome}) has no date zpool status gives "
                            f"({s.text[:120]}); expected a scrub finished within {scrub_max_age_days} days")
        elif now - s.when > limit:
            age = (now - s.when) // 86400
            problems.append(f"pool {name}: its last {s.kind} {s.outcome} {_when(s.when)}, {age} days ago; expected "
                            f"a scrub every {scrub_max_age_days} days at most: `zpool scrub {name}`")
    return problems


def pool_summary(pools, now):
    """[{pool, state, errors, scrub}] for the nightly report (reports/pools.py), one per pool."""
    out = []
    for name, p in sorted(pools.items()):
        errors = sum(d.read + d.write + d.cksum for d in p.devices)
        s = p.scan
        scrub = (f"{s.kind} {s.outcome} {_when(s.when)} ({(now - s.when) // 86400} days ago), {s.errors} errors"
                 if s.when is not None else (s.text or "never"))
        out.append({"pool": name, "state": p.state, "errors": errors, "scrub": scrub})
    return out


@requirement("ZFS-10", over=targets.hosts)
def test_every_pool_is_healthy_and_answers(target, facts, arch, record_property):
    f = facts[target.name]
    hung = hung_reason(f)
    if hung:
        record_property("pools", json.dumps([{"pool": "(every pool)", "state": hung, "errors": "-", "scrub": "-"}]))
        report([f"{hung}: a pool hung (a dying disk, a stopped ZFS daemon); every other ZFS reading of "
                f"{target.name} is missing: `zpool status -v`, `dmesg | tail`"], f"host {target.name}")
    pools = f.evidence("pool_health")
    record_property("pools", json.dumps(pool_summary(pools, f.now)))
    problems = pool_problems(pools, list(arch.spec.hosts[target.name].pools), f.now, arch.spec.pools.scrub_max_age_days)
    # zpool status answered, a later ZFS reading did not (a pool hanging under load, a slow `zfs get`)
    late = [f"{name}: {hung_reason(f, name)}" for name in sorted(f.sections) if name != "pool_health"
            and hung_reason(f, name)]
    if late:
        problems.append(f"ZFS answered zpool status, then did not answer ({'; '.join(late[:3])}): the other ZFS "
                        f"readings of {target.name} are missing")
    report(problems, f"host {target.name}")


# ZFS-12: the snapshots a policy makes, and prunes: sanoid's autosnap_<date>_<kind> and syncoid's
# syncoid_<host>_<date> (syncoid keeps its newest on each side and destroys its older ones)
SANOID = re.compile(r"^autosnap_\d{4}-\d{2}-\d{2}_\d{2}:\d{2}:\d{2}_(frequently|hourly|daily|weekly|monthly|yearly)$")
SYNCOID = re.compile(r"^syncoid_.+_\d{4}-\d{2}-\d{2}:\d{2}:\d{2}:\d{2}(-GMT[+-]\d{2}:\d{2})?$")
KINDS = ("frequently", "hourly", "daily", "weekly", "monthly", "yearly")


def retention_problems(snapshots, policy, now, margin, outside_days, origins=()):
    """What ZFS-12 finds on one dataset: snapshots [(name, creation, guid)], its sanoid Policy (None: none
    covers it). More of a kind than the policy keeps (plus margin), and each snapshot outside the policy
    (neither sanoid's nor syncoid's naming) older than outside_days; a snapshot a clone is made from (origins)
    is kept on purpose and not judged."""
    problems = []
    dataset = snapshots[0][0].split("@", 1)[0] if snapshots else "?"
    missing = pruning_policy_problem(policy, dataset)
    if missing:
        problems.append(f"{missing}; it holds {len(snapshots)} snapshots that nothing prunes")
    by_kind, outside = {}, []
    for name, created, _ in snapshots:
        short = name.split("@", 1)[1]
        m = SANOID.match(short)
        if m:
            by_kind.setdefault(m.group(1), []).append(name)
        elif not SYNCOID.match(short) and name not in origins:
            outside.append((name, created))
    if policy is not None and not missing:
        for kind in KINDS:
            keep = policy.count(kind) or 0
            have = len(by_kind.get(kind, []))
            if have > keep + margin:
                problems.append(f"{have} {kind} snapshots; sanoid [{policy.section}] keeps {keep} (+{margin}): "
                                "pruning does not run or fails (`systemctl status sanoid.service`); oldest "
                                f"{by_kind[kind][0]}")
    old = [(n, c) for n, c in outside if now - c > outside_days * 86400]
    if old:
        listed = ", ".join(f"{n.split('@', 1)[1]} ({_when(c)})" for n, c in old[:5])
        more = f" and {len(old) - 5} more" if len(old) > 5 else ""
        problems.append(f"{len(old)} snapshots outside any policy (not sanoid's autosnap_ nor syncoid's naming: "
                        f"manual, an old naming, leftovers) older than {outside_days} days: {listed}{more}; "
                        "nothing prunes them: a person decides (`zfs destroy` them)")
    return problems


@requirement("ZFS-12", over=targets.hosts)
def test_snapshot_retention_is_enforced(target, facts, arch):
    f = facts[target.name]
    zfs = f.zfs
    try:
        conf = f.sanoid
    except ValueError as exc:
        raise MissingEvidence(f"{target.name}: /etc/sanoid/sanoid.conf: malformed: {exc}") from None
    origins = {props.get("origin") for props in zfs.values() if props.get("origin") not in (None, "-", "")}
    ret = arch.spec.retention
    problems = []
    for dataset, snaps in sorted(zfs.by_dataset.items()):
        found = retention_problems(snaps, conf.policy(dataset), f.now, ret.count_margin, ret.outside_max_age_days,
                                   origins)
        problems += [f"{dataset}: {p}" for p in found]
    report(problems, f"host {target.name}")
