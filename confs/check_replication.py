"""ZFS-1, ZFS-5, ZFS-8: the syncoid jobs files carry the spec's replication.

ZFS-1: each replicated dataset has exactly one job (a recursive job covers the children of its
source) in the jobs file of the host that runs it (the target in pull mode, the source in push
mode), from the right host and into the right dataset name.
ZFS-5: no job transfers over plain TCP (--insecure-direct-connection).
ZFS-8: in pull mode, jobs log in with the spec's operator account, never root, and use
--no-privilege-elevation.
"""
from confs.findings import Finding
from confs.replication import host_file, host_has_folder, host_named, operator_user, replicated_datasets


def _remote(spec, job):
    return spec.replication.remote(job)


def dataset_findings(spec, rd, jobs, rel):
    pulled = spec.replication.pulls
    covering = [j for j in jobs if j.covers(rd.dataset) is not None]
    carrying = [j for j in covering if host_named(spec, _remote(spec, j).host or "") in (rd.remote, None)]
    what = f"{rd.dataset} ({rd.source_host} -> {rd.target_host})"
    excluded = [j for j in carrying if j.excludes(rd.dataset)]
    for job in excluded:
        yield Finding("ZFS-1", rel, job.line, f"job leaves {what} out (--exclude {job.excludes(rd.dataset)}); "
                                              "expected it replicated")
    carrying = [j for j in carrying if j not in excluded]
    if not carrying:
        if excluded:
            return
        user = f"{operator_user(spec, rd.runner)}@" if pulled else ""
        line = (f"{user}{rd.remote}:{rd.dataset} {rd.received_as}" if pulled
                else f"{rd.dataset} {rd.remote}:{rd.received_as}")
        expected = f"expected a line '--no-sync-snap --no-privilege-elevation {line}'"
        other_host = [j for j in covering if j not in carrying]
        commented = [j for j in getattr(jobs, "commented", ()) if j.covers(rd.dataset) is not None]
        into = [j for j in jobs if j.target.dataset == rd.received_as]
        if other_host:
            job = other_host[0]
            yield Finding("ZFS-1", rel, job.line, f"job replicates {rd.dataset} from {_remote(spec, job).host}, not "
                                                  f"from {rd.remote}: no job replicates {what}; {expected}")
        elif commented:
            yield Finding("ZFS-1", rel, commented[0].line, f"the job for {what} is commented out; {expected}")
        elif into:
            yield Finding("ZFS-1", rel, into[0].line, f"job writes {into[0].source} into {rd.received_as}: no job "
                                                      f"replicates {what}; {expected}")
        else:
            yield Finding("ZFS-1", rel, None, f"no job replicates {what}; {expected}")
        return
    for job in carrying:
        if job.covers(rd.dataset) != rd.received_as:
            yield Finding("ZFS-1", rel, job.line, f"job writes {rd.dataset} to {job.covers(rd.dataset)}; "
                                                           f"expected {rd.received_as} on {rd.target_host}")
    for job in carrying[1:]:
        yield Finding("ZFS-1", rel, job.line, f"{what} is already replicated by the job at line "
                                                       f"{carrying[0].line}; list each job once")


def duplicate_lines(rel, jobs):
    first = {}
    for job in jobs:
        key = (str(job.source), str(job.target))
        if key in first:
            yield Finding("ZFS-1", rel, job.line, f"job {key[0]} -> {key[1]} is already listed at line "
                                                  f"{first[key]}; list each job once")
        first.setdefault(key, job.line)


def login_findings(spec, runner, rel, job):
    """runner None: a host the spec does not describe (its account name is unknown; root and the
    privilege flag are still judged)."""
    remote = _remote(spec, job)
    if remote.host is None:
        return
    if runner is None:
        if remote.user in ("root", None):
            found = "as root" if remote.user else "with no user (ssh default, root)"
            yield Finding("ZFS-8", rel, job.line, f"job logs in to {remote.host} {found}; expected an unprivileged "
                                                  "operator account")
    elif remote.user == "root":
        account = (f"the unprivileged {operator_user(spec, runner)} account" if spec.replication.pulls
                   else "an unprivileged account with zfs allow receive rights")
        yield Finding("ZFS-8", rel, job.line, f"job logs in to {remote.host} as root; expected {account}")
    elif spec.replication.pulls and remote.user != operator_user(spec, runner):
        found = f"as {remote.user}" if remote.user else "with no user (ssh default, root)"
        yield Finding("ZFS-8", rel, job.line, f"job logs in to {remote.host} {found}; expected "
                                              f"{operator_user(spec, runner)}@{remote.host}")
    if spec.replication.pulls and not job.has_flag("--no-privilege-elevation"):
        yield Finding("ZFS-8", rel, job.line, "job lacks --no-privilege-elevation; expected it on every pull job")


def transport_findings(rel, job):
    if job.has_flag("--insecure-direct-connection"):
        yield Finding("ZFS-5", rel, job.line, "job transfers over plain TCP (--insecure-direct-connection); "
                                              "expected ssh: remove the option")


def check(arch, repo):
    spec, findings = arch.spec, []
    wanted = replicated_datasets(arch)
    for runner in sorted({rd.runner for rd in wanted}):
        rel, jobs, present = host_file(arch, repo, runner, "syncoid")
        mine = [rd for rd in wanted if rd.runner == runner]
        if not present:
            if host_has_folder(arch, repo, runner):
                findings.append(Finding("ZFS-1", rel, None, f"no syncoid jobs file; expected one job for each of "
                                                            f"{len(mine)} replicated datasets"))
            continue
        for rd in mine:
            if jobs is not None:
                findings += dataset_findings(spec, rd, jobs, rel)
    host_of_folder = {d: h for h in spec.hosts for d in arch.conf_dirs(h)}
    for seen, jobs in repo.all("syncoid"):          # every jobs file: the spec's hosts' and the others'
        rel, host = seen.real, host_of_folder.get(seen.folder)
        reported = {(f.file, f.line) for f in findings}
        findings += [f for f in duplicate_lines(rel, jobs) if (f.file, f.line) not in reported]
        for job in jobs:
            findings += login_findings(spec, host, rel, job)
            findings += transport_findings(rel, job)
    return sorted(set(findings), key=lambda f: (f.file, f.line or 0, f.message))
