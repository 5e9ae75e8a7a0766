"""ZFS-12, where the files show it: every dataset that gets snapshots on a host (a sanoid section taking them,
autosnap yes: sanoid's default) and every dataset it receives (a target of its syncoid-args.conf) is pruned by a
sanoid policy of that host (a section covering it, autoprune not off). Without one, its snapshots pile up until
the pool fills (2023-08-31-off2-products-snapshots-clean, 2024-02-06-cleanup-products-snapshots).

`pruning_policy_problem` is the one rule, used by the live check (checks/test_pools.py) on the host's own
/etc/sanoid/sanoid.conf and here on the repository's."""
from confs.findings import Finding
from confs.replication import host_file
from confs.sanoid import TEMPLATE_PREFIX


def pruning_policy_problem(policy, dataset):
    """Why nothing prunes dataset's snapshots under this sanoid Policy (None: no section covers it), or None."""
    if policy is None:
        return f"no sanoid section covers {dataset} (nor a parent with recursive = yes): nothing prunes it"
    if not policy.flag("autoprune", True):
        value = policy.values.get("autoprune")
        return f"sanoid [{policy.section}] has autoprune = {value.value} (from [{value.origin}]): nothing prunes it"
    return None


def check(arch, repo):
    issues = {}   # (file, line, why) -> [datasets]: one finding per faulty line, its datasets together

    def issue(rel, line, why, dataset):
        issues.setdefault((rel, line, why), []).append(dataset)

    for host in sorted(arch.spec.hosts):
        rel, conf, present = host_file(arch, repo, host, "sanoid")
        if conf is None and present:
            continue   # a sanoid.conf that does not parse is its own finding: what it covers is unknown
        policy_of = conf.policy if conf is not None else (lambda dataset: None)

        def judge(dataset, how, where):
            policy = policy_of(dataset)
            if pruning_policy_problem(policy, dataset) is None:
                return
            if policy is None:
                issue(where[0], where[1], f"{how}, and no sanoid section of {rel} covers it (nor a parent with "
                                          "recursive = yes): nothing prunes its snapshots; expected a section with "
                                          "use_template and autoprune = yes", dataset)
            else:
                value = policy.values["autoprune"]
                issue(rel, value.line, f"{how}, and autoprune = {value.value} in [{value.origin}] covers it: nothing "
                                       "prunes its snapshots; expected autoprune = yes", dataset)

        for name, section in sorted(conf.sections.items()) if conf is not None else ():
            if not name.startswith(TEMPLATE_PREFIX) and name and conf.policy(name).flag("autosnap", True):
                judge(name, "snapshotted (autosnap)", (rel, section.line))
        srel, jobs, _ = host_file(arch, repo, host, "syncoid")
        for job in jobs or ():
            if not job.target.host:   # received here (a push job's target is another machine)
                judge(job.target.dataset, f"received on {host}", (srel, job.line))
    return [Finding("ZFS-12", rel, line, f"{', '.join(sorted(set(datasets)))}: {why}")
            for (rel, line, why), datasets in sorted(issues.items(), key=lambda kv: (kv[0][0], kv[0][1] or 0))]


def examined(arch, repo):
    """The files this rule reads: each host's sanoid.conf and syncoid-args.conf."""
    out = []
    for host in sorted(arch.spec.hosts):
        for fmt in ("sanoid", "syncoid"):
            rel, parsed, present = host_file(arch, repo, host, fmt)
            if present and parsed is not None:
                out.append(rel)
    return sorted(set(out))
