"""ZFS-8: replication is pulled through an unprivileged operator account holding only send and hold
rights on the source datasets, with no root login between sites. OPS-1: the replication and snapshot
jobs run as systemd units that exit non-zero when a dataset fails and name a notification in
OnFailure=.

Read the same way in production and in the lab: `getent passwd`, `sshd -T` (else the sshd_config
files), `zfs allow <dataset>` (the lab's zfs shim prints it from its delegation files), and
`systemctl cat <unit>` (without systemd as PID 1, the unit files and drop-ins it would print)."""
import re
from dataclasses import dataclass

from checks.requirement import report, requirement
from confs.replication import host_named
from confs.systemd import Unit, exec_command, is_instance_of, split_units
from confs.zfs_allow import parse_allow, rights_of
from fixtures.probes import MissingEvidence

OPERATOR_RIGHTS = {"send", "hold"}      # what the requirement grants
TOLERATED = {"release"}                 # releasing its own holds takes nothing from the source


def _runner_and_remote(arch, r):
    return arch.spec.replication.runner(r), arch.spec.replication.remote(r)


def _operator(arch, r):
    return arch.spec.replication.operator.format(target=r.target, source=r.source)


def reads_replica_pair(replica, arch):
    return [replica.source, replica.target]


def replicas(arch):
    """The replication jobs (one dataset and, recursive, those under it): the operator's rights are per job."""
    return arch.jobs()


# --- ZFS-8 ----------------------------------------------------------------------------------------

def _job_findings(arch, r, runner_facts, runner, remote, operator):
    pull = arch.spec.replication.pulls
    jobs = []
    for job in runner_facts.syncoid_jobs:
        far, here = (job.source, job.target) if pull else (job.target, job.source)
        if here.host is None and job.covers(r.source_dataset) is not None and host_named(arch.spec, far.host or "") == remote:
            jobs.append((job, far))
    if not jobs:
        return [f"no job in {runner}'s /etc/sanoid/syncoid-args.conf replicates {r.source_dataset} from {remote} "
                f"(ZFS-1 says more); expected one logging in as {operator}@{remote}"]
    problems = []
    for job, far in jobs:
        where = f"/etc/sanoid/syncoid-args.conf:{job.line} on {runner}"
        if far.user == "root":
            problems.append(f"{where} logs in to {remote} as root; expected the unprivileged {operator} account")
        elif far.user != operator:
            found = f"as {far.user}" if far.user else "with no user (ssh's default: root)"
            problems.append(f"{where} logs in to {remote} {found}; expected {operator}@{far.host}")
        if not job.has_flag("--no-privilege-elevation"):
            problems.append(f"{where} lacks --no-privilege-elevation, so syncoid runs zfs through sudo on {remote}; "
                            "add it (the operator needs only its delegated rights)")
    return problems


def _account_findings(remote_facts, remote, operator):
    entry = remote_facts.evidence("accounts").get(operator)
    if entry is None:
        return [f"the operator account {operator} does not exist on {remote} (getent passwd {operator} is empty); "
                f"create it (useradd) and delegate it send,hold with zfs allow"]
    if len(entry) > 2 and entry[2] == "0":
        return [f"the operator account {operator} on {remote} has uid 0 (root's privileges); give it its own uid"]
    return []


def _sshd_findings(remote_facts, remote):
    """No root login between sites: what sshd decides for root coming from each receiving site
    (`sshd -T -C user=root,host=..,addr=..`: Match blocks count). When sshd -T cannot run (not root),
    the files decide only if no Match block could change them."""
    reading = remote_facts.evidence("sshd")
    decided = [c for c in reading.contexts if c.rc == 0 and c.value]
    problems = [f"sshd on {remote} lets root log in from {c.host} ({c.address}): PermitRootLogin {c.value} "
                f"(sshd -T -C user=root,host={c.host},addr={c.address}); expected no: replication logs in as the "
                "operator, never root" for c in decided if c.value != "no"]
    if decided:
        return problems
    failed = next((c for c in reading.contexts if c.rc != 0), None)
    matches = [w for w, key, _ in reading.files if key == "match"]
    settings = [(w, v.lower()) for w, key, v in reading.files if key == "permitrootlogin"]
    why = f"sshd -T failed: {failed.value or 'exit ' + str(failed.rc)}" if failed else "sshd -T printed no PermitRootLogin"
    if matches:
        raise MissingEvidence(f"{remote}: {why}, and Match blocks ({', '.join(matches[:3])}) may allow root from "
                              "another site; read it as root")
    if not settings:
        return [f"sshd on {remote} sets no PermitRootLogin ({why}, no sshd_config file sets it): the default lets "
                "root log in with a key; set PermitRootLogin no"]
    where, value = settings[0]
    if value != "no":
        return [f"sshd on {remote} has PermitRootLogin {value} ({where}); expected no: replication logs in as the "
                "operator, never root"]
    return []


def _allow_output(remote_facts, dataset):
    """(exit code, [lines]) of `zfs allow <dataset>` as gathered, or None if it was not read."""
    out, current = {}, None
    for line in remote_facts.evidence("zfs_allow"):
        if line.startswith("@@dataset "):
            _, name, rc = line.split(" ", 2)
            current = out.setdefault(name, [int(rc) if rc.strip().isdigit() else 1, []])
        elif current is not None:
            current[1].append(line)
    return out.get(dataset)


def _rights_findings(remote_facts, remote, operator, dataset):
    read = _allow_output(remote_facts, dataset)
    if read is None or read[0] != 0:
        first = next((l.strip() for l in (read[1] if read else []) if l.strip()), "not read")
        return [f"could not read the delegations of {dataset} on {remote} (zfs allow {dataset}: {first}); "
                f"expected {operator} to hold {','.join(sorted(OPERATOR_RIGHTS))}"]
    rights = rights_of(parse_allow(read[1]), operator, dataset)
    problems = []
    extra = sorted(set(rights) - OPERATOR_RIGHTS - TOLERATED)
    if extra:
        granted = "; ".join(f"{r} ({rights[r]})" for r in extra)
        problems.append(f"{operator} holds more than send and hold on {dataset}: {granted}; a stolen replication "
                        f"key could use them; on {remote} run `zfs unallow -u {operator} {','.join(extra)} <dataset>` "
                        "on the dataset named there")
    missing = sorted(OPERATOR_RIGHTS - set(rights))
    if missing:
        problems.append(f"{operator} lacks {','.join(missing)} on {dataset} (zfs allow {dataset}); expected "
                        f"`zfs allow -u {operator} send,hold` on it or a parent, or replication fails")
    return problems


def _operator_login_findings(remote_facts, remote, operator, arch):
    """What the operator may do beyond its delegated rights: run anything as root through sudo (its
    rules as `sudo -l -U` lists them, group rules included; an inventory may name a stand-in for a
    kernel feature, the lab's `zfs allow`), or log in interactively (a login shell and a key without
    `restrict`, `no-pty` or a forced `command=`)."""
    account = remote_facts.evidence("operators").get(operator)
    if account is None:
        raise MissingEvidence(f"{remote}: the operator account {operator} is not in the reading of its shell, sudo "
                              "rights and keys")
    if not account.exists:
        return []          # _account_findings says it is missing
    if account.sudo_error:
        raise MissingEvidence(f"{remote}: sudo -l -U {operator} could not say what {operator} may run as root: "
                              f"{account.sudo_error}")
    problems = []
    extra = [r for r in account.sudo if r.split(":", 1)[-1].strip() not in arch.operator_sudo]
    if extra:
        problems.append(f"the operator account {operator} on {remote} (shell {account.shell or '?'}) may run as root "
                        f"through sudo: {'; '.join(extra)} (sudo -l -U {operator}); expected no sudo right: it holds "
                        "only send and hold, delegated with zfs allow (remove its sudoers rule or group)")
    if account.keys_error:
        raise MissingEvidence(f"{remote}: the keys {operator} may log in with are unread: {account.keys_error}")
    if account.login_shell:
        for file, kind, options in account.keys:
            opts = {o.split("=", 1)[0].lower() for o in _key_options(options)}
            if not opts & {"restrict", "no-pty", "command"}:
                problems.append(f"the operator account {operator} on {remote} can log in interactively: shell "
                                f"{account.shell} and a {kind} key in {file} with "
                                f"{'options ' + options if options != '-' else 'no options'}; restrict the key "
                                "(restrict or no-pty, from=) or give the account no login shell")
    return problems


def _key_options(text):
    """authorized_keys options (comma-separated, commas inside quotes kept)."""
    if text == "-":
        return []
    out, word, quoted = [], "", False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        if ch == "," and not quoted:
            out.append(word)
            word = ""
        else:
            word += ch
    return out + ([word] if word else [])


@requirement("ZFS-8", over=replicas, reads=reads_replica_pair)
def test_replication_pulls_through_an_unprivileged_operator(target, facts, arch):
    runner, remote = _runner_and_remote(arch, target)
    operator = _operator(arch, target)
    problems = _job_findings(arch, target, facts[runner], runner, remote, operator)
    remote_facts = facts[remote]
    problems += _account_findings(remote_facts, remote, operator)
    problems += _sshd_findings(remote_facts, remote)
    problems += _operator_login_findings(remote_facts, remote, operator, arch)
    if arch.spec.replication.pulls:   # push mode: the operator receives; its rights differ
        problems += _rights_findings(remote_facts, remote, operator, target.source_dataset)
    report(problems, f"replication of {target.source}:{target.source_dataset} to {target.target}")


# --- OPS-1 ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class JobUnit:
    host: str
    unit: str
    on_failure: str
    does: str        # what the unit's jobs are, for messages

    def __str__(self):
        return f"{self.host}:{self.unit}"


def job_units(arch):
    """The replication unit on each host that runs jobs; the snapshot unit on each host with
    snapshots (taken where data is written, pruned on replicas)."""
    rep, snaps = arch.spec.replication, arch.spec.snapshots
    runners = rep.runners()
    snapshotting = set(arch.source_datasets()) | {r.target for r in arch.replicas()}
    out = [JobUnit(h, rep.unit, rep.on_failure, "replication") for h in arch.spec.hosts if h in runners]
    out += [JobUnit(h, snaps.unit, snaps.on_failure, "snapshot") for h in arch.spec.hosts if h in snapshotting]
    return out


def reads_host(job_unit, arch):
    return [job_unit.host]


MASKS = re.compile(r"\|\|\s*(true|:|exit\s+0)\b")
LAST_MASKS = re.compile(r"^(exit\s+0|true|:)\s*(;|$)")


QUOTED = re.compile(r"\"[^\"]*\"|'[^']*'")


def _masking_lines(tool, lines, where, unquote=False):
    """Lines of a command or script that hide a failure of the job's tool (run there, not just named in
    a quoted message when `unquote`)."""
    problems = []
    for n, line in enumerate(lines, 1):
        code = line.split("#", 1)[0] if not line.lstrip().startswith("#!") else ""
        runs = QUOTED.sub("''", code) if unquote else code
        if re.search(rf"\b{re.escape(tool)}\b", runs) and MASKS.search(code):
            problems.append(f"{where(n)} hides a failing {tool}: `{code.strip()}` ({MASKS.search(code).group(0)}); "
                            "let the failure reach the exit status")
    return problems


def _runner_findings(tool, path, lines):
    problems = _masking_lines(tool, lines, lambda n: f"{path}:{n}", unquote=True)
    code = [(n, l.split("#", 1)[0].strip()) for n, l in enumerate(lines, 1)]
    code = [(n, l) for n, l in code if l]
    errexit = any(re.match(r"^set\s+(-\w*e\w*|-o\s+errexit)\b", l) for _, l in code)
    if code and LAST_MASKS.match(code[-1][1]) and not errexit:
        n, l = code[-1]
        problems.append(f"{path}:{n} ends with `{l}`: the script exits 0 even when a {tool} job failed; "
                        "exit non-zero when any job failed")
    return problems


@requirement("OPS-1", over=job_units, reads=reads_host)
def test_a_failing_job_is_reported(target, facts):
    f = facts[target.host]
    units, runners = split_units(f.evidence("units"))
    unit = Unit(target.unit, units.get(target.unit, []))
    where = f"{target.unit} on {target.host}"
    if not unit.exists:
        report([f"no systemd unit {target.unit} (systemctl cat {target.unit} is empty); expected the {target.does} "
                f"jobs to run as that unit with OnFailure={target.on_failure.replace('@.', '@%n.')}"], where)
    problems = []
    tool = target.unit.rsplit(".", 1)[0]
    notified = unit.words("Unit", "OnFailure")
    if not notified:
        problems.append(f"{target.unit} has no OnFailure= (files: {', '.join(unit.files)}): a failing {target.does} "
                        f"job goes unnoticed; add OnFailure={target.on_failure.replace('@.', '@%n.')} in [Unit]")
    for word, setting in notified:
        name = unit.expand(word)
        if not is_instance_of(name, target.on_failure):
            problems.append(f"OnFailure={word} ({setting.where}) is not the spec's notification "
                            f"{target.on_failure}; expected OnFailure={target.on_failure.replace('@.', '@%n.')}")
        elif not Unit(name, units.get(name, [])).exists:
            problems.append(f"OnFailure={word} ({setting.where}) names {name}, which does not exist on "
                            f"{target.host}: install the notification unit {target.on_failure}")
    starts = unit.get("Service", "ExecStart")
    if not starts:
        problems.append(f"{target.unit} has no ExecStart=; expected it to run the {target.does} jobs")
    for setting in starts:
        prefixes, argv = exec_command(setting)
        if "-" in prefixes:
            problems.append(f"ExecStart={setting.value} ({setting.where}) starts with '-': systemd ignores its exit "
                            "status, so OnFailure= never fires; remove the '-'")
        problems += _masking_lines(tool, [" ".join(argv)], lambda n: f"ExecStart= ({setting.where})")
    for setting in unit.get("Service", "SuccessExitStatus"):
        codes = [w for w in setting.value.split() if w.isdigit() and w != "0"]
        if codes:
            problems.append(f"SuccessExitStatus={setting.value} ({setting.where}) counts exit status "
                            f"{','.join(codes)} as success: a failed job is not reported; remove it")
    for path, lines in runners.get(target.unit, []):
        problems += _runner_findings(tool, path, lines)
    report(problems, where)
