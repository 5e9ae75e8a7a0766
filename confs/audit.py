"""The static gate: every requirement the configuration files can prove, checked against the spec.

run_gate(arch, repo_path) -> GateResult: the findings (sorted by requirement, file, line), the files
each requirement was judged from (a requirement with none is not checked: skipped with the reason,
never passed), and the coverage (files examined by format, files and folders not recognised, why).
A file that does not parse gives one finding under the requirement its format serves and is left
out of the checks (which then do not conclude that something is missing from its folder).
A path that is no repository, an empty path, or a repository where nothing is recognised raise
ConfsRepoError (a usage error, exit code 4).
"""
import os
import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from confs import (check_containers, check_job_timeouts, check_logs, check_mounts, check_pruning, check_pve_net,
                   check_renewal, check_replication, check_routes, check_secrets, check_snapshots, check_stunnel,
                   check_stunnel_accept,
                   check_unit_types, check_units, check_web, formats, layout)
from confs.errors import ConfsRepoError
from confs.findings import Finding
from confs.repo import ROOT, ConfRepo

# the requirement IDs this gate has rules for, in catalogue order
RULES_FOR = ("WEB-1", "WEB-2", "WEB-4", "STO-2", "STO-3", "STO-4", "STO-5", "STO-6",
             "ZFS-1", "ZFS-3", "ZFS-5", "NET-1", "NET-2", "NET-3", "NET-4", "ZFS-8", "ZFS-9", "OPS-1",
             "OPS-2", "STO-7", "OPS-3", "ZFS-12", "NET-7", "NET-9", "NET-8")


def _catalogued(ids):
    """The IDs the catalogue (specs/requirements.yaml) has: a rule written before its requirement lands
    in the catalogue (with its live check and lab fault) gives no finding and no test until then."""
    from specs import load_requirements
    known = set(load_requirements())
    return tuple(r for r in ids if r in known)


# the requirement IDs this gate checks
STATIC_REQUIREMENTS = _catalogued(RULES_FOR)

CHECKS = (check_web.check, check_mounts.check, check_replication.check, check_snapshots.check,
          check_stunnel.check, check_units.check, check_pve_net.check, check_containers.check, check_unit_types.check,
          check_logs.check, check_job_timeouts.check, check_pruning.check,
          check_routes.check, check_renewal.check, check_stunnel_accept.check)


@dataclass
class GateResult:
    findings: list
    evidence: dict                      # requirement -> [files it was judged from]
    reasons: dict                       # requirement -> what it would read (for a skip)
    examined: dict                      # format -> [files]
    not_recognised: dict                # path -> why
    links: dict = field(default_factory=dict)
    spec_folders: dict = field(default_factory=dict)    # folder -> [machines] (those in the repository)
    other_folders: list = field(default_factory=list)   # folders no machine of the spec names
    not_checked: list = field(default_factory=list)     # [(requirements, why)]: targets with nothing to read

    def of(self, requirement):
        return [f for f in self.findings if f.requirement == requirement]

    def skip_reason(self, requirement):
        if self.evidence.get(requirement):
            return None
        return f"nothing to examine: {self.reasons.get(requirement, 'no file this requirement reads')}"


def _files(repo, dirs, fmt, where=None):
    return sorted({s.real for s in repo._of(dirs, fmt) if where is None or where(s.inner)})


def _dirs(arch, machines):
    return sorted({d for m in machines for d in layout.dirs(arch, m)})


def evidence(arch, repo, scanned):
    """{requirement: (files judged from, what it reads)}."""
    proxies = _dirs(arch, {c.proxy.name for c in arch.chains() if c.proxy} | {c.name for c in arch.containers("reverse-proxy")})
    apps = _dirs(arch, [c.name for c in arch.app_containers()])
    images = _dirs(arch, [arch.spec.web.images.host])
    pve = sorted({f for c in arch.app_containers()
                  for f in _files(repo, layout.dirs(arch, c.host), "pve", layout.is_pve_of(c.id))})
    targets = {j.target for j in arch.spec.replication.jobs}
    runners = arch.spec.replication.runners()
    syncoid = [f for h in sorted(runners) for f in _files(repo, layout.dirs(arch, h), "syncoid")]
    all_syncoid = sorted({s.real for s in repo.seen if s.fmt == "syncoid"})
    sanoid = [f for h in sorted(targets) for f in _files(repo, layout.dirs(arch, h), "sanoid")]
    machines = list(arch.spec.hosts) + [c.name for c in arch.containers()]
    net2 = sorted({f for d in _dirs(arch, machines) for fmt in ("nginx", "stunnel") for f in _files(repo, [d], fmt)}
                  | {f for c in arch.containers("database") for fmt in check_web.DB_FORMATS
                     for f in _files(repo, layout.dirs(arch, c.name), fmt)})
    stunnel = sorted({s.real for s in repo.seen if s.fmt == "stunnel"})
    every_pve = sorted({f for c in arch.containers() for f in _files(repo, layout.dirs(arch, c.host), "pve",
                                                                      layout.is_pve_of(c.id))})
    folders = lambda ds: ", ".join(f"confs/{d}/" for d in ds) or "(none)"
    sto = (pve, f"no Proxmox definition (pve/lxc_<id>.conf) of an application container in its host's folder "
                f"({folders(_dirs(arch, {c.host for c in arch.app_containers()}))})")
    out = {
        "WEB-1": (_files(repo, proxies, "nginx"), f"no nginx file in the reverse proxies' folders ({folders(proxies)})"),
        "WEB-2": (_files(repo, apps, "nginx"), f"no nginx file in the application containers' folders "
                                               f"({folders(apps)}): their nginx configuration is not in this repository"),
        "WEB-4": (_files(repo, images, "nginx"), f"no nginx file in the images host's folder ({folders(images)})"),
        "NET-1": sto, "STO-2": sto, "STO-3": sto, "STO-4": sto, "STO-5": sto,
        "STO-6": (pve if arch.spec.assets else [], "the spec names no front-end asset folders" if pve else sto[1]),
        "ZFS-1": (syncoid, f"no syncoid-args.conf in the folders of the hosts that run jobs "
                           f"({folders(_dirs(arch, runners))})"),
        "ZFS-5": (all_syncoid, "no syncoid-args.conf in the hosts' folders"),
        "ZFS-8": (all_syncoid, "no syncoid-args.conf in the hosts' folders"),
        "ZFS-3": (sanoid, f"no sanoid.conf in the replicas' folders ({folders(_dirs(arch, targets))})"),
        "ZFS-9": (sanoid, f"no sanoid.conf in the replicas' folders ({folders(_dirs(arch, targets))})"),
        "NET-2": (net2, "no nginx, stunnel or database file in the spec's machines' folders"),
        "NET-7": (every_pve, "no Proxmox definition (pve/lxc_<id>.conf) of a spec container in its host's folder"),
        "NET-9": (sorted({s.real for m in check_renewal.tls_machines(arch) for s in repo.seen
                          if s.folder in layout.dirs(arch, m)}),
                  "no folder of a machine serving names over TLS in the repository"),
        "NET-8": (check_stunnel_accept.examined(arch, repo),
                  "no stunnel file (stunnel/*.conf) in the folders of the machines with a public address (the hosts, "
                  f"the reverse proxies: {folders(_dirs(arch, check_stunnel_accept.public_machines(arch)))})"),
        "NET-3": (stunnel, "no stunnel file (stunnel/*.conf) in the repository"),
        "NET-4": (scanned, "no readable file in confs/"),
        "OPS-1": (check_units.examined(arch, repo), "no unit file or drop-in of the spec's replication and snapshot "
                                                   f"units ({arch.spec.replication.unit}, {arch.spec.snapshots.unit}) "
                                                   "nor any timer's service in the machines' folders"),
        "OPS-2": (sorted(set(check_containers.examined(repo)) | set(check_unit_types.examined(arch, repo))),
                  "no Proxmox container definition (pve/lxc_<id>.conf) and no Redis unit in the repository"),
        "STO-7": (check_logs.examined(repo), "no nginx access_log/error_log, no unit appending to a file "
                                             "(StandardOutput=append:) and no logrotate file in the repository"),
        "OPS-3": (check_job_timeouts.examined(arch, repo), "no job unit file in the repository (a service a timer "
                                                           "starts, the spec's replication and snapshot units)"),
        "ZFS-12": (check_pruning.examined(arch, repo), "no sanoid.conf nor syncoid-args.conf in the hosts' folders"),
    }
    return out


def parse_findings(repo):
    out = []
    for rel, (fmt, error) in repo.failures.items():
        for req in formats.REQUIREMENTS.get(fmt, ("",)):
            what = error.message if error.line is None or "unreadable" in error.message or "larger" in error.message \
                else f"does not parse as {fmt} configuration: {error.message}"
            out.append(Finding(req, rel, error.line, what))
    return out


def unproven_absence_dropped(repo, findings):
    """What could not be read proves nothing absent: a finding of something missing (no line) in a
    machine folder where a folder was unreadable is left out; the unreadable folder is the finding."""
    blind = {f"{ROOT}/{folder}/" for folder, _ in repo.unreadable}
    reading = {f.file for f in repo.problems}
    return {f for f in findings if f.line is not None or f.file in reading
            or not any(f.file.startswith(b) for b in blind)}


def merged_across_machines(findings, arch):
    """One finding per (requirement, file, line, message) where only the machine named differs: a file
    linked from several machines' folders is one defect, named with each machine."""
    names = sorted(set(arch.spec.hosts) | {c.name for c in arch.containers()}, key=len, reverse=True)
    pattern = re.compile(r"(?<![\w./-])(" + "|".join(map(re.escape, names)) + r")(?![\w-])") if names else None
    groups = {}
    for f in findings:
        shape = pattern.sub("\0", f.message) if pattern else f.message
        groups.setdefault((f.requirement, f.file, f.line, shape), []).append(f)
    out = set()
    for (req, file, line, shape), group in groups.items():
        if len(group) == 1:
            out.add(group[0])
            continue
        columns = list(zip(*[pattern.findall(f.message) for f in group]))
        merged, parts = "", shape.split("\0")
        for i, part in enumerate(parts[:-1]):
            merged += part + ", ".join(sorted(set(columns[i]))) if i < len(columns) else part
        out.add(Finding(req, file, line, merged + parts[-1]))
    return out


def check_path(path):
    """A usage error (ConfsRepoError) for an empty or missing path."""
    if path is None or not str(path).strip():
        raise ConfsRepoError("--confs is empty; expected the path of a configuration repository (with a confs/ folder)")
    if not os.path.exists(path):
        raise ConfsRepoError(f"--confs {path}: no such folder; expected the path of a configuration repository")
    if not os.path.isdir(path):
        raise ConfsRepoError(f"--confs {path}: not a folder (a file); expected the path of a configuration repository")
    if not os.access(path, os.R_OK | os.X_OK):
        raise ConfsRepoError(f"--confs {path}: unreadable folder")


def run_gate(arch, repo_path):
    check_path(repo_path)
    repo = ConfRepo(repo_path, arch.conf_dir_machines(), arch.spec.deploy_path)
    if not any(s.fmt for s in repo.seen):
        raise ConfsRepoError(f"{repo_path}: nothing recognised under confs/ ({len(repo.seen)} files, none of a format "
                             "the gate reads: nginx, stunnel, sanoid, syncoid, Proxmox, systemd, database configs); "
                             "is it a configuration repository?")
    findings = set(repo.problems)
    for check in CHECKS:
        findings.update(check(arch, repo))
    secrets, scanned = check_secrets.scan(repo)
    findings.update(secrets)
    findings.update(parse_findings(repo))
    findings = {f for f in findings if not f.requirement or f.requirement in STATIC_REQUIREMENTS}
    findings = unproven_absence_dropped(repo, findings)
    findings = merged_across_machines(findings, arch)
    ev = evidence(arch, repo, scanned)
    present = {s.folder for s in repo.seen}
    examined, not_recognised = repo.coverage()
    return GateResult(sorted(findings, key=lambda f: (f.requirement, f.file, f.line or 0, f.message)),
                      {r: files for r, (files, _) in ev.items()}, {r: why for r, (_, why) in ev.items()},
                      examined, not_recognised, links=dict(repo.links),
                      spec_folders={d: m for d, m in arch.conf_dir_machines().items() if d in present},
                      other_folders=sorted(present - set(arch.conf_dir_machines())),
                      not_checked=check_mounts.not_checked(arch, repo))


def static_findings(arch, repo_path):
    return run_gate(arch, repo_path).findings


def coverage_lines(result, root="confs"):
    """Human lines: files examined by format (grouped by folder), then what was not recognised."""
    lines = []
    total = sum(len(v) for v in result.examined.values())
    lines.append(f"examined {total} files:")
    for fmt, files in result.examined.items():
        by_dir = {}
        for f in files:
            d, _, name = f.rpartition("/")
            by_dir.setdefault(d, []).append(name)
        lines.append(f"  {fmt} ({len(files)}): " + "; ".join(
            f"{d}/{names[0]}" if len(names) == 1 else f"{d}/{{{', '.join(names)}}}" for d, names in by_dir.items()))
    if result.links:
        lines.append(f"  through {len(result.links)} links (followed inside the repository)")
    if result.spec_folders:
        lines.append("folders of the spec's machines: " + "; ".join(
            f"confs/{d}/ ({', '.join(m)})" for d, m in sorted(result.spec_folders.items())))
    if result.other_folders:
        lines.append("folders no machine of the spec names (read by the rules that need no spec: stunnel ciphers and "
                     "PSK files, repeats, secrets, parse errors): " + ", ".join(f"confs/{d}/" for d in result.other_folders))
    for reqs, why in result.not_checked:
        lines.append(f"not checked ({', '.join(reqs)}): {why}")
    grouped = _group_not_recognised(result.not_recognised)
    lines.append(f"not recognised ({len(result.not_recognised)} files):")
    for path, (why, count) in grouped.items():
        lines.append(f"  {path}{f' ({count} files)' if count > 1 else ''}: {why}")
    return lines


def _group_not_recognised(items):
    """{path or folder/: (why, count)}: a folder whose every unrecognised file has one reason is listed once."""
    out = {}
    by_dir = {}
    for path, why in items.items():
        by_dir.setdefault(str(PurePosixPath(path).parent), []).append((path, why))
    for d, entries in sorted(by_dir.items()):
        reasons = {w for _, w in entries}
        if len(entries) > 4 and len(reasons) == 1:
            out[d + "/"] = (reasons.pop(), len(entries))
        elif len(entries) > 1 and len(reasons) == 1:
            names = ", ".join(PurePosixPath(p).name for p, _ in entries)
            out[f"{d}/{{{names}}}"] = (reasons.pop(), 1)
        else:
            out.update({p: (w, 1) for p, w in entries})
    return out
