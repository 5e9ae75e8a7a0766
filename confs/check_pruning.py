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
    findings = []
    for host in sorted(arch.spec.hosts):
        rel, conf, _ = host_file(arch, repo, host, "sanoid")
        if conf is None:
            conf_policy = lambda dataset: None   # noqa: E731  (no sanoid.conf: no policy for anything)
        else:
            conf_policy = conf.policy
            for name, section in sorted(conf.sections.items()):
                if name.startswith(TEMPLATE_PREFIX):
                    continue
                policy = conf.policy(name)
                if policy.flag("autosnap", True):
                    problem = pruning_policy_problem(policy, name)
                    if problem:
                        findings.append(Finding("ZFS-12", rel, section.line,
                                                f"{name} is snapshotted (autosnap) but {problem.split(': ')[0]}; "
                                                "expected autoprune = yes with its retention counts"))
        srel, jobs, _ = host_file(arch, repo, host, "syncoid")
        for job in jobs or ():
            if job.target.host:
                continue   # a push job: the target is another machine
            problem = pruning_policy_problem(conf_policy(job.target.dataset), job.target.dataset)
            if problem:
                findings.append(Finding("ZFS-12", srel, job.line,
                                        f"{job.target.dataset} is received here ({job.source}) but {problem} "
                                        f"(in {rel}); expected a section with use_template and autoprune = yes"))
    return findings


def examined(arch, repo):
    """The files this rule reads: each host's sanoid.conf and syncoid-args.conf."""
    out = []
    for host in sorted(arch.spec.hosts):
        for fmt in ("sanoid", "syncoid"):
            rel, parsed, present = host_file(arch, repo, host, fmt)
            if present and parsed is not None:
                out.append(rel)
    return sorted(set(out))
