"""OPS-3 from the files: every job unit has a time-out, so a hung job ends, fails, and its OnFailure=
notification (OPS-1 checks that one) reaches someone.

Job units: the spec's replication and snapshot units on the hosts that run them, and every service a
timer the repository ships starts (its Unit=, else the timer's own name), in any machine folder.
Judged only where the repository holds the unit file itself (a unit of a package with only a drop-in
here takes its type and time-outs from the package, which the files do not show).

- Type=oneshot: the run is its start-up, bounded only by TimeoutStartSec= (or TimeoutSec=), and
  systemd disables that time-out for oneshot services by default (infinity). RuntimeMaxSec= has no
  effect on them (systemd.service(5)).
- any other type (simple, the default, exec, forking, notify): the start-up ends at once or when
  the program says it is ready; the run is bounded only by RuntimeMaxSec=.
A value of `infinity` or `0` is no time-out.
(2023-06-08-stalled-zfs-sync-off-products and the incidents of OPS-3: a job stuck for hours.)
"""
from pathlib import PurePosixPath

from confs import layout
from confs.check_units import job_units, timer_services, unit_files, unread_files
from confs.findings import Finding
from confs.systemd import unit_from_files

REQ = "OPS-3"
NO_LIMIT = frozenset(("infinity", "0", "0s"))


def jobs(arch, repo):
    """[(folders, service, what)] of the job units, each named once per folder set."""
    out = [(layout.dirs(arch, host), unit, does) for host, unit, _, does in job_units(arch)]
    for folder in sorted({s.folder for s in repo.seen}):
        folders = layout.sharing(arch, repo, folder)
        out += [(folders, service, f"started by {timer}") for timer, service in timer_services(repo, [folder])]
    return out


def _own_file(files):
    """The unit's own file among its files (the first), when the repository holds it."""
    return bool(files) and not PurePosixPath(files[0][0].inner).parent.name.endswith(".d")


def examined(arch, repo):
    return sorted({seen.real for folders, name, _ in jobs(arch, repo)
                   for seen, _ in unit_files(repo, folders, name) if _own_file(unit_files(repo, folders, name))})


def _last(unit, key):
    values = unit.get("Service", key)
    return values[-1] if values else None


def limit_problem(unit):
    """(setting or None, message) when the unit's run has no time-out, else None."""
    kind = _last(unit, "Type")
    oneshot = kind is not None and kind.value == "oneshot"
    keys = ("TimeoutStartSec", "TimeoutSec") if oneshot else ("RuntimeMaxSec",)
    settings = [s for s in (_last(unit, k) for k in keys) if s]
    finite = [s for s in settings if s.value.lower() not in NO_LIMIT]
    if finite:
        return None
    said = settings[-1] if settings else None
    if oneshot:
        found = f"`{said.value}` (no limit)" if said else "none (systemd's default for Type=oneshot is infinity)"
        return said, (f"{unit.name} is a Type=oneshot job with no start time-out: TimeoutStartSec= is {found}, so "
                      "a hung run (a remote that stopped answering, a lock) keeps it activating for ever, the next "
                      "runs never start and OnFailure= never fires; set TimeoutStartSec= to the longest honest "
                      "run (RuntimeMaxSec= has no effect on oneshot units)")
    found = f"`{said.value}` (no limit)" if said else "not set"
    return said, (f"{unit.name} is a Type={kind.value if kind else 'simple'} job with no run time-out: "
                  f"RuntimeMaxSec= is {found}, so a hung run never ends and never fails; set RuntimeMaxSec= "
                  "(TimeoutStartSec= bounds only its start-up)")


def check(arch, repo):
    out, done = set(), set()
    for folders, name, what in jobs(arch, repo):
        files = unit_files(repo, folders, name)
        if not _own_file(files) or unread_files(repo, folders, name):
            continue                # the package's unit, or a drop-in that may set the time-out is unreadable
        key = tuple(seen.real for seen, _ in files)
        if key in done:
            continue
        done.add(key)
        unit = unit_from_files(name, [(seen.real, lines) for seen, lines in files])
        problem = limit_problem(unit)
        if problem:
            setting, message = problem
            file = setting.file.lstrip("/") if setting else files[0][0].real
            out.add(Finding(REQ, file, setting.line if setting else None, f"{message} ({what})"))
    return sorted(out)
