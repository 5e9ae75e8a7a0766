"""syncoid-args.conf: one replication job a line, `<flags> <source> <target>`.

Lines are split like a shell would (quoted option values, '#' comments). An endpoint is
`[user@]host:dataset` (remote) or `dataset` (local).
"""
import shlex
from dataclasses import dataclass
from typing import Optional

from confs.errors import ConfParseError
from confs.source import read_text

# syncoid options that take their value as the next word (Getopt: --opt value or --opt=value)
OPTIONS_WITH_VALUE = {
    "--compress", "--source-bwlimit", "--target-bwlimit", "--mbuffer-size", "--pv-options",
    "--sshconfig", "--sshkey", "--sshport", "--sshcipher", "--sshoption", "-o", "--identifier",
    "--exclude", "--exclude-datasets", "--exclude-snaps", "--include-snaps", "--sendoptions",
    "--recvoptions", "--insecure-direct-connection",
}


@dataclass(frozen=True)
class Endpoint:
    user: Optional[str]
    host: Optional[str]     # None for a local dataset
    dataset: str

    def __str__(self):
        remote = f"{self.user}@{self.host}:" if self.user else (f"{self.host}:" if self.host else "")
        return remote + self.dataset


@dataclass(frozen=True)
class Job:
    line: int
    flags: tuple            # option words as written, e.g. ("--no-sync-snap", "--recursive")
    source: Endpoint
    target: Endpoint

    def has_flag(self, *names):
        return any(f.split("=", 1)[0] in names for f in self.flags)

    @property
    def recursive(self):
        return self.has_flag("--recursive", "-r")

    def excludes(self, dataset):
        """The --exclude/--exclude-datasets pattern that leaves `dataset` out of this job, or None."""
        import re
        for f in self.flags:
            name, _, pattern = f.partition("=")
            if name in ("--exclude", "--exclude-datasets") and pattern:
                try:
                    if re.search(pattern, dataset):
                        return pattern
                except re.error:
                    continue
        return None

    def covers(self, dataset):
        """The target dataset name this job writes `dataset` to, or None if it does not carry it."""
        if dataset == self.source.dataset:
            return self.target.dataset
        if self.recursive and dataset.startswith(self.source.dataset + "/"):
            return self.target.dataset + dataset[len(self.source.dataset):]
        return None


def endpoint(word):
    if ":" not in word:
        return Endpoint(None, None, word)
    remote, dataset = word.split(":", 1)
    user, _, host = remote.rpartition("@")
    return Endpoint(user or None, host, dataset)


def parse_job(text, line):
    try:
        words = shlex.split(text, comments=True)
    except ValueError as exc:
        raise ConfParseError(line, f"cannot split the job into words: {exc}") from None
    if not words:
        return None
    flags, positional, i = [], [], 0
    while i < len(words):
        word = words[i]
        if word.startswith("-"):
            flags.append(word)
            if word in OPTIONS_WITH_VALUE:
                i += 1
                if i == len(words):
                    raise ConfParseError(line, f"option {word} has no value")
                flags[-1] = f"{word}={words[i]}"
        else:
            positional.append(word)
        i += 1
    if len(positional) != 2:
        raise ConfParseError(line, f"expected '<flags> <source> <target>', found {len(positional)} "
                                   f"dataset word(s): {' '.join(positional) or 'none'}")
    return Job(line, tuple(flags), endpoint(positional[0]), endpoint(positional[1]))


class Jobs(list):
    """The jobs of a file, in order; `commented`: [Job] of lines that are a job commented out."""
    commented = ()


def parse_syncoid(path):
    jobs, commented = Jobs(), []
    for number, raw in enumerate(read_text(path).splitlines(), 1):
        job = parse_job(raw, number)
        if job:
            jobs.append(job)
        elif raw.lstrip().startswith("#"):
            try:
                old = parse_job(raw.lstrip().lstrip("#"), number)
            except ConfParseError:
                old = None
            if old:
                commented.append(old)
    jobs.commented = tuple(commented)
    return jobs
