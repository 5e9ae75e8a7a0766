"""What the spec's replication topology means for the files: which host runs each job, which
dataset name it writes on the target, which account it logs in with."""
from dataclasses import dataclass

from confs import layout


@dataclass(frozen=True)
class ReplicatedDataset:
    source_host: str
    target_host: str
    dataset: str            # on the source
    received_as: str        # on the target (pool_map applied)
    runner: str             # host whose syncoid-args.conf holds the job
    remote: str             # the other end, which the job logs in to

    @property
    def jobs_file(self):
        return layout.syncoid_file(self.runner)


def received_name(job, dataset):
    pool, _, rest = dataset.partition("/")
    return f"{job.pool_map.get(pool, pool)}/{rest}" if rest else job.pool_map.get(pool, pool)


def replicated_datasets(spec):
    pull = spec.replication.mode == "pull"
    return [ReplicatedDataset(job.source, job.target, ds, received_name(job, ds),
                              job.target if pull else job.source, job.source if pull else job.target)
            for job in spec.replication.jobs for ds in job.datasets]


def operator_user(spec, runner):
    """The account a job running on `runner` logs in with (pull mode), e.g. off1operator."""
    return spec.replication.operator.format(target=runner)


def host_named(spec, word):
    """The spec host an ssh destination word designates (name, name.domain or address), else None."""
    for name, host in spec.hosts.items():
        if word in (name, str(host.internal_address), str(host.public_address)) or word.startswith(name + "."):
            return name
    return None
