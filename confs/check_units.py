"""OPS-1 from the files: every job unit the repository ships for a machine of the spec is read: the
spec's replication and snapshot units on each host that runs them, and every service a shipped timer
starts (a health check with its timer is a job too), with their drop-ins (the unit's own `<unit>.d/`
and its template's) and the scripts their ExecStart runs (a path into the deploy path is the
repository's own file; otherwise found in the repository by the path's tail, e.g.
/opt/<clone>/scripts/zfs/x.sh -> scripts/zfs/x.sh).

A failure cannot be seen when: the unit has no OnFailure= (in its file or a drop-in; a drop-in's
empty `OnFailure=` clears it: reported at that line); ExecStart= is prefixed with '-'; a command
hides the job's status (`|| true`); the exit status is computed in a loop that is the last part of
a pipeline (`... | while ...; do ...; R=$((R+$?)); done; exit $R`: bash runs that loop in a
subshell, the variable set there is lost, so the job always exits 0); a script ends with `exit 0`
(without `set -e`); a script only reports its failures (echo, mail) and never exits non-zero; a check
can never fail (a value piped into a command that does not read its input, a test of constants).
A script that cannot be read is a finding (fail closed), never skipped.
"""
import re
from pathlib import PurePosixPath

from confs import layout
from confs.findings import Finding
from confs.source import TooBig, Unreadable, read_text
from confs.systemd import exec_command, is_instance_of, template_of, unit_from_files

REQ = "OPS-1"
MASKS = re.compile(r"\|\|\s*(true|:|exit\s+0)\b")
PIPE_LOOP = re.compile(r"\|\s*while\b(?P<body>.*?)\bdone\b(?P<after>.*)", re.S)
ASSIGN = re.compile(r"\b([A-Za-z_][A-Za-z0-9_]*)(?:\+?=|\[[^\]]*\]=)")
ERREXIT = re.compile(r"^\s*set\s+(-\w*e\w*|-o\s+errexit)\b", re.M)
NONZERO_EXIT = re.compile(r"\b(exit|return)\s+([1-9]|\$|\"\$)|^\s*false\s*$|\|\|\s*exit\s+[1-9]", re.M)
REPORTS = re.compile(r"\b(mailx?|sendmail|logger|echo|printf)\b")
DEAF = re.compile(r"\|\s*(date|echo|printf|true|hostname|sleep)\b(?![^|;)]*\s(-f\s*-|--file=-))")
CONSTANT_TEST = re.compile(r"\[\[?\s+(?P<body>[^\]$`(]*?)\s+\]\]?")
FILE_TEST = re.compile(r"(^|\s)-[a-zA-Z]\s")
TAIL_EXIT0 = re.compile(r"^(exit\s+0|true|:)\s*(;|$)")
SCRIPT_WORD = re.compile(r"^/[^\s;|&]+$")


def _units_index(repo, dirs):
    """{unit name: ([(seen, lines)] of its files, [(seen, lines)] of its drop-ins)} of these folders,
    built once per folder set (linear in the files)."""
    cache = repo.__dict__.setdefault("_units_index", {})
    key = tuple(sorted(dirs))
    if key not in cache:
        index = {}
        for seen, lines in repo.files(dirs, "systemd"):
            p = PurePosixPath(seen.inner)
            parent = p.parent.name
            if parent.endswith(".d"):
                index.setdefault(parent[:-2], ([], []))[1].append((seen, lines))
            else:
                index.setdefault(p.name, ([], []))[0].append((seen, lines))
        cache[key] = index
    return cache[key]


def unit_files(repo, dirs, name):
    """[(seen, lines)] of a unit and its drop-ins in these folders (template drop-ins apply too)."""
    template = template_of(name)
    index = _units_index(repo, dirs)
    main, dropins = [], []
    for n in [name] + ([template] if template else []):
        files, ins = index.get(n, ([], []))
        main += files
        dropins += ins
    dropins.sort(key=lambda x: PurePosixPath(x[0].inner).name)
    return main[:1] + dropins


def lost_status(command):
    """Why a shell command loses its failure, or None."""
    m = PIPE_LOOP.search(command)
    if m:
        why = _loop_var_lost(m.group("body"), m.group("after"))
        if why:
            return why
    mask = MASKS.search(command)
    if mask:
        return f"`{mask.group(0)}` hides the failure of the command before it"
    return None


def _loop_var_lost(body, after):
    assigned = set(ASSIGN.findall(body))
    used = {v for v in assigned if re.search(rf"\$\$?\{{?{v}\b", after)}
    if not used:
        return None
    v = sorted(used)[0]
    shown = after.strip(" ;\n").splitlines()[0][:40] if after.strip(" ;\n") else "what follows"
    return (f"${v} is set inside `| while ... done`, which bash runs in a subshell: it is lost after "
            f"`done`, so `{shown}` always sees its first value and the job "
            "exits 0 even when a run failed; read the input with `done < <(...)` or `done < file`")


def _code(line):
    return line.split("#", 1)[0] if not line.lstrip().startswith("#!") else ""


def script_problems(text):
    """[(line, why)] for a script a job unit runs: every way its failure cannot reach its exit status."""
    lines = text.splitlines()
    code = [_code(l) for l in lines]
    out = []
    for n, line in enumerate(code, 1):
        if "|" in line and re.search(r"\|\s*while\b", line):
            end = next((j for j in range(n - 1, len(code)) if re.search(r"\bdone\b", code[j])), None)
            if end is not None:
                body = "\n".join(code[n - 1:end + 1])
                body = body[re.search(r"\|\s*while\b", body).end():]
                body = body[:body.rfind("done")]
                why = _loop_var_lost(body, "\n".join([code[end].split("done", 1)[1]] + code[end + 1:]))
                if why:
                    out.append((n, why))
                    continue
        mask = MASKS.search(line)
        if mask:
            out.append((n, f"`{mask.group(0)}` hides the failure of the command before it"))
        deaf = DEAF.search(line)
        if deaf:
            out.append((n, f"`| {deaf.group(1)}`: {deaf.group(1)} does not read its standard input, so the value "
                           f"piped into it is dropped and what it prints never depends on it: a check built on it "
                           "can never fail"))
        for test in CONSTANT_TEST.finditer(line):
            body = test.group("body")
            if body.strip() and not FILE_TEST.search(" " + body + " "):
                out.append((n, f"`{test.group(0).strip()}` compares constants: the check always gives the same "
                               "answer and can never fail"))
    whole = "\n".join(code)
    errexit = bool(ERREXIT.search(whole))
    body = [(n, l.strip()) for n, l in enumerate(code, 1) if l.strip()]
    if body and TAIL_EXIT0.match(body[-1][1]) and not errexit:
        n, last = body[-1]
        out.append((n, f"the script ends with `{last}`: it exits 0 even when a command before it failed; exit "
                       "non-zero when any step failed (or `set -e`)"))
    if not NONZERO_EXIT.search(whole):
        reports = [(n, l) for n, l in body if REPORTS.search(l) and re.search(r"err|fail|too old|too many|\$\{?ERR",
                                                                             l, re.I)]
        if reports:
            n, l = reports[-1]
            out.append((n, f"failures are only reported here (`{l[:60]}`) and the script never exits non-zero: "
                           "systemd sees success and OnFailure= never fires; exit 1 after reporting"))
    return sorted(set(out))


def script_in_repo(repo, argv):
    """(rel, text) of a script an ExecStart runs when the repository holds it; (rel, Exception) when it
    is there but cannot be read; None when it is not in the repository."""
    for word in argv[:2]:
        if not SCRIPT_WORD.match(word):
            continue
        deployed = repo.in_deploy_path(word) if hasattr(repo, "in_deploy_path") else None
        parts = PurePosixPath(word).parts[1:]
        candidates = []
        if deployed:
            candidates.append(PurePosixPath(word[len(repo.deploy_path) + 1:]))
        candidates += [PurePosixPath(*parts[i:]) for i in range(len(parts)) if len(parts) - i >= 2]
        for rel in candidates:
            path = repo.root / rel
            if path.is_file() or (deployed and rel == candidates[0] and path.exists()):
                try:
                    return rel.as_posix(), read_text(path)
                except (Unreadable, TooBig, OSError) as exc:
                    return rel.as_posix(), exc
                except Exception as exc:           # a bad encoding: ConfParseError
                    return rel.as_posix(), exc
    return None


def unit_problems(repo, unit, on_failure, does):
    """[(file, line, message)] for one unit as the files give it."""
    problems = []
    first = unit.files[0].lstrip("/") if unit.files else None
    notified = unit.words("Unit", "OnFailure")
    cleared = unit.cleared.get(("Unit", "OnFailure"))
    if not notified and cleared is not None:
        problems.append((cleared.file.lstrip("/"), cleared.line,
                         f"`OnFailure=` (empty) clears the notification set before it: a failing {does} job goes "
                         f"unnoticed; remove this line or set OnFailure={on_failure.replace('@.', '@%n.')}"))
    elif not notified:
        problems.append((first, None, f"{unit.name} has no OnFailure= in its file or drop-ins: a failing {does} job "
                                      f"goes unnoticed; add OnFailure={on_failure.replace('@.', '@%n.')}"))
    for word, setting in notified:
        if not is_instance_of(unit.expand(word), on_failure):
            problems.append((setting.file.lstrip("/"), setting.line, f"OnFailure={word} is not the spec's "
                                                                     f"notification {on_failure}"))
    for setting in unit.get("Service", "SuccessExitStatus"):
        codes = [w for w in setting.value.split() if w.isdigit() and w != "0"]
        if codes:
            problems.append((setting.file.lstrip("/"), setting.line, f"SuccessExitStatus={setting.value} counts exit "
                                                                     f"status {','.join(codes)} as success: a failed "
                                                                     f"{does} job is not reported; remove it"))
    for setting in unit.get("Service", "ExecStart"):
        prefixes, argv = exec_command(setting)
        file = setting.file.lstrip("/")
        if "-" in prefixes:
            problems.append((file, setting.line, f"ExecStart= starts with '-': systemd ignores the {does} job's exit "
                                                 "status, so OnFailure= never fires; remove the '-'"))
        why = lost_status(" ".join(argv))
        if why:
            problems.append((file, setting.line, f"{unit.name} ExecStart: {why}"))
        script = script_in_repo(repo, argv)
        if script:
            rel, text = script
            if isinstance(text, Exception):
                problems.append((rel, None, f"{unit.name} runs this script, which cannot be read "
                                            f"({getattr(text, 'message', None) or text}): whether its failures "
                                            "reach the exit status is unknown"))
                continue
            for n, why in script_problems(text):
                problems.append((rel, n, f"{unit.name} runs this script: {why}"))
    return problems


def job_units(arch):
    """[(host, unit, on_failure, what)] the spec makes hosts run."""
    rep, snaps = arch.spec.replication, arch.spec.snapshots
    runners = rep.runners()
    snapshotting = set(arch.source_datasets()) | {r.target for r in arch.replicas()}
    out = [(h, rep.unit, rep.on_failure, "replication") for h in arch.spec.hosts if h in runners]
    out += [(h, snaps.unit, snaps.on_failure, "snapshot") for h in arch.spec.hosts if h in snapshotting]
    return out


def timer_services(repo, folders):
    """[(timer, service)] of every timer these folders ship and the service it starts (its Unit=, else
    the timer's own name)."""
    from confs.systemd import Unit
    out = []
    for seen, lines in repo.files(folders, "systemd"):
        p = PurePosixPath(seen.inner)
        if not p.name.endswith(".timer") or p.parent.name.endswith(".d"):
            continue
        started = [s.value for s in Unit(p.name, lines).get("Timer", "Unit")]
        out.append((p.name, started[-1] if started else p.name[:-len(".timer")] + ".service"))
    return out


def timer_jobs(arch, repo):
    """[(machine, service, on_failure, what)] for every service a timer the repository ships in a
    machine's folder starts."""
    machines = list(arch.spec.hosts) + [c.name for c in arch.containers()]
    return [(machine, service, arch.spec.snapshots.on_failure, f"scheduled ({timer})")
            for machine in machines for timer, service in timer_services(repo, layout.dirs(arch, machine))]


def all_jobs(arch, repo):
    spec_jobs = job_units(arch)
    known = {(h, u) for h, u, _, _ in spec_jobs}
    return spec_jobs + [j for j in timer_jobs(arch, repo) if (j[0], j[1]) not in known]


def examined(arch, repo):
    return sorted({seen.real for host, unit, _, _ in all_jobs(arch, repo)
                   for seen, _ in unit_files(repo, layout.dirs(arch, host), unit)})


def unread_files(repo, dirs, name):
    """Files of a unit (or its drop-ins) in these folders that could not be read: what they hold is
    unknown, so nothing is concluded missing from the unit (they are findings of their own)."""
    template = template_of(name)
    names = {name} | ({template} if template else set())
    return [s.real for s in repo._of(dirs, "systemd") if s.real in repo.failures
            and (PurePosixPath(s.inner).name in names or PurePosixPath(s.inner).parent.name[:-2] in names)]


def check(arch, repo):
    findings = []
    for host, name, on_failure, does in all_jobs(arch, repo):
        files = unit_files(repo, layout.dirs(arch, host), name)
        if not files:
            continue
        unit = unit_from_files(name, [(seen.real, lines) for seen, lines in files])
        blind = unread_files(repo, layout.dirs(arch, host), name)
        for file, line, message in unit_problems(repo, unit, on_failure, does):
            if blind and line is None and "OnFailure" in message:
                continue
            findings.append(Finding(REQ, file or files[0][0].real, line, f"{name} on {host}: {message}"))
    return findings
