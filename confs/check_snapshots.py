"""ZFS-3 and ZFS-9: sanoid on each replica keeps the received datasets, and only prunes them.

ZFS-3: the target's sanoid.conf covers every received dataset (its own section, or a parent
section with recursive = yes) with an explicit retention (hourly/daily/monthly/yearly, directly
or through use_template); on the backups host each count is at least the spec's.
ZFS-9: on the target, received datasets have autosnap = no (sanoid's default is yes).
"""
from confs import layout
from confs.findings import Finding
from confs.replication import replicated_datasets
from confs.sanoid import RETENTION_KEYS


def retention_findings(spec, rd, rel, policy, conf):
    what = f"{rd.received_as} (received from {rd.source_host})"
    if policy is None:
        yield Finding("ZFS-3", rel, None, f"no retention policy for {what}; expected a [{rd.received_as}] section "
                                          f"(or a recursive parent) with use_template = <template with hourly/daily/monthly>")
        return
    missing = conf.missing_template(rd.received_as)
    if missing:
        yield Finding("ZFS-3", rel, missing[1], f"[{policy.section}] uses template {missing[0]!r}, which is not "
                                                f"defined; expected a [template_{missing[0]}] section")
    if not any(policy.count(k) for k in RETENTION_KEYS):
        yield Finding("ZFS-3", rel, policy.line, f"[{policy.section}] keeps no snapshots of {what}; expected "
                                                 f"hourly/daily/monthly counts (directly or via use_template)")
        return
    if rd.target_host != spec.snapshots.backups.host:
        return
    for key, want in spec.snapshots.backups.retention.model_dump().items():
        have = policy.count(key)
        if want and (have or 0) < want:
            value = policy.values.get(key)
            where = f"{key} = {value.value} in [{value.origin}]" if value else f"{key} not set"
            yield Finding("ZFS-3", rel, value.line if value else policy.line,
                          f"{what} on the backups host: {where}; expected {key} >= {want} (spec snapshots.backups)")


def autosnap_findings(rd, rel, policy):
    if policy is None or not policy.flag("autosnap", True):
        return
    value = policy.values.get("autosnap")
    found = f"autosnap = {value.value} in [{value.origin}]" if value else f"autosnap not set in [{policy.section}] (sanoid default: yes)"
    yield Finding("ZFS-9", rel, value.line if value else policy.line,
                  f"{rd.received_as} is a replica of {rd.source_host} but takes its own snapshots ({found}); "
                  f"expected autosnap = no")


def check(arch, repo):
    spec, findings = arch.spec, []
    wanted = replicated_datasets(spec)
    for host in sorted({rd.target_host for rd in wanted}):
        rel = layout.sanoid_file(host)
        if not repo.exists(rel):
            findings.append(Finding("ZFS-3", rel, None, f"no sanoid.conf on replica {host}; expected a retention "
                                                        f"policy for each received dataset"))
    for rd in wanted:
        rel = layout.sanoid_file(rd.target_host)
        conf = repo.read(rel, "sanoid")
        if conf is None:
            continue
        policy = conf.policy(rd.received_as)
        findings += retention_findings(spec, rd, rel, policy, conf)
        findings += autosnap_findings(rd, rel, policy)
    return findings
