"""The static gate: every requirement the configuration files can prove, checked against the spec.

static_findings(arch, repo_path) -> [Finding], sorted by requirement, file and line.
A file that does not parse gives one finding, under the requirement its format serves, and is
left out of the other checks (which then do not conclude that something is missing from its folder).
"""
from confs import check_mounts, check_replication, check_snapshots, check_stunnel, check_web
from confs.findings import Finding
from confs.repo import ConfRepo

# the requirement IDs this gate checks, in catalogue order
STATIC_REQUIREMENTS = ("WEB-1", "WEB-4", "STO-2", "STO-3", "STO-4", "STO-5", "STO-6",
                       "ZFS-1", "ZFS-3", "ZFS-5", "NET-2", "NET-3", "ZFS-8", "ZFS-9")

# a file that does not parse blocks the requirement its format is read for first
PARSE_REQUIREMENT = {"nginx": "WEB-1", "stunnel": "NET-3", "pve": "STO-2", "sanoid": "ZFS-3", "syncoid": "ZFS-1"}

CHECKS = (check_web.check, check_mounts.check, check_replication.check, check_snapshots.check, check_stunnel.check)


def parse_findings(repo):
    return [Finding(PARSE_REQUIREMENT[fmt], rel, error.line, f"does not parse as {fmt} configuration: {error.message}")
            for rel, (fmt, error) in repo.failures.items()]


def static_findings(arch, repo_path):
    repo = ConfRepo(repo_path)
    findings = set()
    for check in CHECKS:
        findings.update(check(arch, repo))
    findings.update(parse_findings(repo))
    return sorted(findings, key=lambda f: (f.requirement, f.file, f.line or 0, f.message))
