"""What the spec's replication topology means for the files: which host runs each job, which
dataset name it writes on the target, which account it logs in with."""
from dataclasses import dataclass



@dataclass(frozen=True)
class ReplicatedDataset:
    source_host: str
    target_host: str
    dataset: str            # on the source
    received_as: str        # on the target
    runner: str             # host whose syncoid-args.conf holds the job
    remote: str             # the other end, which the job logs in to



def replicated_datasets(arch):
    """Every dataset the spec replicates (recursive jobs expanded to the spec's datasets under them)."""
    rep = arch.spec.replication
    return [ReplicatedDataset(r.source, r.target, r.source_dataset, r.target_dataset, rep.runner(r), rep.remote(r))
            for r in arch.replicas()]


def operator_user(spec, runner):
    """The account a job running on `runner` logs in with (pull mode), e.g. off1operator."""
    return spec.replication.operator.format(target=runner, source=runner)


def host_named(spec, word):
    """The spec host an ssh destination word designates (name, name.domain or address), else None."""
    for name, host in spec.hosts.items():
        if word in (name, str(host.internal_address), str(host.public_address)) or word.startswith(name + "."):
            return name
    return None


def host_file(arch, repo, host, fmt):
    """(rel, parsed, present) of a host's file of a format (syncoid, sanoid): rel is the file read,
    or where it is expected; parsed None when missing or unreadable; present when a file is there."""
    from confs import layout
    dirs = layout.dirs(arch, host)
    found = repo.files(dirs, fmt)
    if found:
        seen, parsed = found[0]
        return seen.real, parsed, True
    expected = layout.syncoid_file(arch, host) if fmt == "syncoid" else layout.sanoid_file(arch, host)
    return expected, None, repo.has(dirs, fmt)


def host_has_folder(arch, repo, host):
    """Is any file of the host's folders in the repository (else nothing can be said of it)?"""
    from confs import layout
    return any(s.folder in layout.dirs(arch, host) for s in repo.seen)
