"""OPS-2 from the files: a unit's Type= is one its program's configuration supports, else the unit
restart-loops (2024-02-28-upgrade-redis: redis-server's unit is Type=notify, its redis.conf had no
`supervised systemd`, so Redis never told systemd it was ready, the start timed out and systemd
restarted it for ever).

Redis (a unit named redis / redis-server, or whose ExecStart runs redis-server), with its redis.conf
in the same machine's folders (the one its ExecStart names when there are several):
- Type=notify needs `supervised systemd` (or `auto`, which detects systemd), from `--supervised` on
  its ExecStart or the file; Redis's default is `no`;
- Type=forking needs `daemonize yes` (else the start never returns and times out);
- Type=simple or exec (and no Type=: simple) needs `daemonize no`, Redis's default (else the
  process forks away and systemd sees the service end at once); under supervision daemonize has no
  effect (redis.conf says so), so that case is not judged.
Judged only where the repository gives the unit's Type= (unit file or drop-in): a unit of the
package with only a drop-in takes its type from the package, which the files do not show. Other
programs are not judged: the configurations the repository holds say nothing of how they start.
"""
from pathlib import PurePosixPath

from confs import layout
from confs.check_units import unit_files
from confs.findings import Finding
from confs.systemd import exec_command, unit_from_files

REQ = "OPS-2"
REDIS_UNITS = ("redis", "redis-server")
SUPERVISES = frozenset(("systemd", "auto"))


def _unit_names(repo, folders):
    names = set()
    for seen in repo._of(folders, "systemd"):
        p = PurePosixPath(seen.inner)
        name = p.parent.name[:-2] if p.parent.name.endswith(".d") else p.name
        if name.endswith(".service"):
            names.add(name)
    return sorted(names)


def _runs_redis(unit):
    if unit.name.split("@")[0].removesuffix(".service") in REDIS_UNITS:
        return True
    return any(PurePosixPath(argv[0]).name == "redis-server"
               for _, argv in (exec_command(s) for s in unit.get("Service", "ExecStart")) if argv)


def _option(argv, name):
    """The value of `--name value` on a redis-server command line, or None."""
    for i, word in enumerate(argv[:-1]):
        if word == f"--{name}":
            return argv[i + 1].lower()
    return None


def _conf_for(repo, folders, argv):
    confs = [(s, c) for s, c in repo.files(folders, "redis")]
    by_real = {s.real: (s, c) for s, c in confs}
    if len(by_real) == 1:
        return next(iter(by_real.values()))
    named = [a for a in argv[1:] if a.endswith(".conf")]
    for s, c in by_real.values():
        if named and PurePosixPath(named[0]).name == PurePosixPath(s.inner).name:
            return s, c
    return None


def redis_problem(unit, conf_seen, conf):
    """(file, line, message) when the unit's Type= does not fit how Redis is configured, else None."""
    kinds = unit.get("Service", "Type")
    if not kinds:
        return None
    kind = kinds[-1]
    starts = unit.get("Service", "ExecStart")
    argv = exec_command(starts[-1])[1] if starts else []
    where = (kind.file.lstrip("/"), kind.line)
    if kind.value == "notify":
        given = _option(argv, "supervised")
        if given is not None:
            ok, said = given in SUPERVISES, f"its ExecStart passes `--supervised {given}`"
        elif conf is not None:
            value, line = conf.options.get("supervised", ("no", None))
            ok = value in SUPERVISES
            said = f"{conf_seen.real}" + (f":{line} says `supervised {value}`" if line else
                                          " has no `supervised` line (Redis's default: no)")
        else:
            return None
        if not ok:
            return (*where, f"{unit.name} is Type=notify but {said}: Redis never tells systemd it is ready, the "
                            "start times out and the unit restart-loops; set `supervised systemd` in redis.conf "
                            "(or Type=simple)")
        return None
    daemonize = _option(argv, "daemonize")
    said = f"its ExecStart passes `--daemonize {daemonize}`" if daemonize else None
    if daemonize is None and conf is not None:
        value, line = conf.options.get("daemonize", ("no", None))
        daemonize = value
        said = f"{conf_seen.real}" + (f":{line} says `daemonize {value}`" if line else
                                      " has no `daemonize` line (Redis's default: no)")
    if daemonize is None:
        return None
    if kind.value == "forking" and daemonize != "yes":
        return (*where, f"{unit.name} is Type=forking but {said}: Redis never forks, the start times out and "
                        "the unit restart-loops; set `daemonize yes` (or Type=notify with `supervised systemd`)")
    if kind.value in ("simple", "exec") and daemonize == "yes":
        supervised = _option(argv, "supervised") or (conf.options.get("supervised", ("no",))[0] if conf else "no")
        if supervised in ("no",):
            return (*where, f"{unit.name} is Type={kind.value} but {said}: Redis forks away and systemd sees "
                            "the service end at once; set `daemonize no` (or Type=forking)")
    return None


def examined(arch, repo):
    return sorted({f for _, files in _redis_units(arch, repo) for f in files})


def _redis_units(arch, repo):
    """[((unit, conf seen, conf), files read)] of every Redis unit the repository shows, once each."""
    out, done = [], set()
    for folder in sorted({s.folder for s in repo.seen}):
        folders = layout.sharing(arch, repo, folder)
        for name in _unit_names(repo, [folder]):
            files = unit_files(repo, folders, name)
            key = tuple(s.real for s, _ in files)
            if not files or key in done:
                continue
            unit = unit_from_files(name, [(s.real, lines) for s, lines in files])
            if not _runs_redis(unit):
                continue
            done.add(key)
            starts = unit.get("Service", "ExecStart")
            found = _conf_for(repo, folders, exec_command(starts[-1])[1] if starts else [])
            conf_seen, conf = found if found else (None, None)
            out.append(((unit, conf_seen, conf), list(key) + ([conf_seen.real] if conf_seen else [])))
    return out


def check(arch, repo):
    out = set()
    for (unit, conf_seen, conf), _ in _redis_units(arch, repo):
        problem = redis_problem(unit, conf_seen, conf)
        if problem:
            out.add(Finding(REQ, *problem))
    return sorted(out)
