"""ZFS-3 and ZFS-9: sanoid on each replica keeps the received datasets, and only prunes them.

ZFS-3: the target's sanoid.conf covers every received dataset (its own section, or a parent
section with recursive = yes) with an explicit retention (hourly/daily/monthly/yearly, directly
or through use_template); on the backups host each count is at least the spec's.
ZFS-9: on the target, received datasets have autosnap = no (sanoid's default is yes).
Datasets that share one faulty line (a template) are reported together, at that line.
"""
from collections import namedtuple

from confs.findings import Finding
from confs.replication import host_file, host_has_folder, replicated_datasets
from confs.sanoid import RETENTION_KEYS

# one problem of one received dataset; rendered as "<datasets> (received from <source>): <problem>"
Issue = namedtuple("Issue", "requirement file line source problem dataset")


def retention_issues(spec, rd, rel, policy, conf):
    def issue(line, problem, req="ZFS-3"):
        return Issue(req, rel, line, rd.source_host, problem, rd.received_as)

    if policy is None:
        yield issue(None, f"no retention policy; expected a [{rd.received_as}] section (or a recursive parent) "
                          f"with use_template = <template with hourly/daily/monthly>")
        return
    missing = conf.missing_template(rd.received_as)
    if missing:
        yield issue(missing[1], f"[{policy.section}] uses template {missing[0]!r}, which is not defined; "
                                f"expected a [template_{missing[0]}] section")
    if not any(policy.count(k) for k in RETENTION_KEYS):
        yield issue(policy.line, f"[{policy.section}] keeps no snapshots; expected hourly/daily/monthly counts "
                                 f"(directly or via use_template)")
        return
    if rd.target_host != spec.snapshots.backups.host:
        return
    for key, want in spec.snapshots.backups.retention.model_dump().items():
        have = policy.count(key)
        if want and (have or 0) < want:
            value = policy.values.get(key)
            found = f"{key} = {value.value} in [{value.origin}]" if value else f"{key} not set in [{policy.section}]"
            yield issue(value.line if value else policy.line,
                        f"{found}; expected {key} >= {want} on the backups host (spec snapshots.backups)")


def autosnap_issues(rd, rel, policy):
    if policy is None or not policy.flag("autosnap", True):
        return
    value = policy.values.get("autosnap")
    found = (f"autosnap = {value.value} in [{value.origin}]" if value
             else f"autosnap not set in [{policy.section}] (sanoid default: yes)")
    yield Issue("ZFS-9", rel, value.line if value else policy.line, rd.source_host,
                f"a replica takes its own snapshots ({found}); expected autosnap = no", rd.received_as)


def render(issues):
    grouped = {}
    for i in issues:
        grouped.setdefault((i.requirement, i.file, i.line, i.source, i.problem), []).append(i.dataset)
    return [Finding(req, rel, line, f"{', '.join(sorted(set(datasets)))} (received from {source}): {problem}")
            for (req, rel, line, source, problem), datasets in grouped.items()]


def repeat_findings(rel, conf):
    return [Finding("ZFS-3", rel, r.line, f"{r.what} repeats line {r.first}; sanoid (Config::IniFiles) merges a "
                                          "repeated section and keeps one value of a repeated option: the gate "
                                          "reads the last; write each once") for r in conf.repeats]


def check(arch, repo):
    spec, findings, issues = arch.spec, [], []
    wanted = replicated_datasets(arch)
    for host in sorted({rd.target_host for rd in wanted}):
        rel, conf, present = host_file(arch, repo, host, "sanoid")
        if not present and host_has_folder(arch, repo, host):
            findings.append(Finding("ZFS-3", rel, None, f"no sanoid.conf on replica {host}; expected a retention "
                                                        f"policy for each received dataset"))
        if conf is None:
            continue
        for rd in (rd for rd in wanted if rd.target_host == host):
            policy = conf.policy(rd.received_as)
            issues += retention_issues(spec, rd, rel, policy, conf)
            issues += autosnap_issues(rd, rel, policy)
    for seen, conf in repo.all("sanoid"):           # every sanoid.conf: repeats are read as sanoid reads them
        findings += repeat_findings(seen.real, conf)
    return findings + render(issues)
