"""OPS-1 from the files: the spec's replication and snapshot units on each host that runs them, with
their drop-ins (the unit's own `<unit>.d/` and its template's) and the scripts their ExecStart runs
(found in the repository by the path's tail, e.g. /opt/<clone>/scripts/zfs/x.sh -> scripts/zfs/x.sh).

A failure cannot be seen when: the unit has no OnFailure= (in its file or a drop-in); ExecStart= is
prefixed with '-'; a command hides the job's status (`|| true`); or the exit status is computed in
a loop that is the last part of a pipeline (`... | while ...; do ...; R=$((R+$?)); done; exit $R`):
bash runs that loop in a subshell, the variable set there is lost, so the job always exits 0.
"""
import re
from pathlib import PurePosixPath

from confs import layout
from confs.findings import Finding
from confs.source import read_text
from confs.systemd import exec_command, is_instance_of, template_of, unit_from_files

REQ = "OPS-1"
MASKS = re.compile(r"\|\|\s*(true|:|exit\s+0)\b")
PIPE_LOOP = re.compile(r"\|\s*while\b(?P<body>.*?)\bdone\b(?P<after>.*)", re.S)
ASSIGN = re.compile(r"\b([A-Za-z_][A-Za-z0-9_]*)=")


def unit_files(repo, dirs, name):
    """[(seen, lines)] of a unit and its drop-ins in these folders (template drop-ins apply too)."""
    template = template_of(name)
    names = {name} | ({template} if template else set())
    main, dropins = [], []
    for seen, lines in repo.files(dirs, "systemd"):
        p = PurePosixPath(seen.inner)
        if p.name in names and not p.parent.name.endswith(".d"):
            main.append((seen, lines))
        elif p.parent.name[:-2] in names and p.parent.name.endswith(".d"):
            dropins.append((seen, lines))
    dropins.sort(key=lambda x: PurePosixPath(x[0].inner).name)
    return main[:1] + dropins


def lost_status(command):
    """Why a shell command loses its failure, or None."""
    m = PIPE_LOOP.search(command)
    if m:
        assigned = set(ASSIGN.findall(m.group("body")))
        used = {v for v in assigned if re.search(rf"\$\$?\{{?{v}\b", m.group("after"))}
        if used:
            v = sorted(used)[0]
            return (f"${v} is set inside `| while ... done`, which bash runs in a subshell: it is lost after "
                    f"`done`, so `{m.group('after').strip(' ;')[:40]}` always sees its first value and the job "
                    "exits 0 even when a run failed; read the input with `done < <(...)` or `done < file`")
    mask = MASKS.search(command)
    if mask:
        return f"`{mask.group(0)}` hides the failure of the command before it"
    return None


def script_in_repo(repo, argv):
    """(rel, text) of a script an ExecStart runs when the repository holds it (by path tail)."""
    for word in argv[:2]:
        if not word.startswith("/"):
            continue
        parts = PurePosixPath(word).parts[1:]
        for i in range(len(parts)):
            candidate = repo.root.joinpath(*parts[i:])
            if len(parts) - i >= 2 and candidate.is_file():
                try:
                    return PurePosixPath(*parts[i:]).as_posix(), read_text(candidate)
                except Exception:
                    return None
    return None


def unit_problems(repo, unit, on_failure, does):
    """[(file, line, message)] for one unit as the files give it."""
    problems = []
    first = unit.files[0].lstrip("/") if unit.files else None
    notified = unit.words("Unit", "OnFailure")
    if not notified:
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
            for n, line in enumerate(text.splitlines(), 1):
                code = line.split("#", 1)[0] if not line.lstrip().startswith("#!") else ""
                why = lost_status(code) if "done" in code or "||" in code else None
                if why:
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


def examined(arch, repo):
    return sorted({seen.real for host, unit, _, _ in job_units(arch)
                   for seen, _ in unit_files(repo, layout.dirs(arch, host), unit)})


def check(arch, repo):
    findings = []
    for host, name, on_failure, does in job_units(arch):
        files = unit_files(repo, layout.dirs(arch, host), name)
        if not files:
            continue
        unit = unit_from_files(name, [(seen.real, lines) for seen, lines in files])
        for file, line, message in unit_problems(repo, unit, on_failure, does):
            findings.append(Finding(REQ, file or files[0][0].real, line, f"{name} on {host}: {message}"))
    return findings
