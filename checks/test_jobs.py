"""Jobs end and their failures reach a person, from the users' incident reports (OPS-3): every job unit the
spec names has a time-out no longer than the spec's and no run past it, each job timer fires at its cadence,
and on the machines that run the jobs (the hosts) the failure mail leaves: the MTA runs, a relay and an
alias for root are set, nothing is stuck in the queue."""
from checks import targets
from checks.requirement import report, requirement
from checks.test_health import _where

# the words of postfix's delivery errors when the next hop cannot be reached at all
UNREACHABLE = ("connect to", "Connection refused", "Connection timed out", "No route to host", "Network is unreachable",
               "Host or domain name not found", "Name service error", "lost connection")


def _duration(minutes):
    if minutes >= 120:
        return f"{minutes / 60:.1f} h"
    return f"{minutes:.0f} min" if minutes >= 1 else f"{minutes * 60:.0f} s"


def job_problems(reading, jobs):
    """What OPS-3 finds in a JobsReading against the spec's jobs (timeouts and timers, in minutes). A unit
    this machine does not use (not loaded, or installed by a package and never enabled nor run) is not its
    job (OPS-1 judges where each job must be)."""
    problems = []
    for unit, bound in sorted(jobs.timeouts.items()):
        u = reading.units.get(unit)
        if u is None or not u.in_use(reading.units.get(unit.rsplit(".", 1)[0] + ".timer")):
            continue
        if u.timeout_minutes is None:
            problems.append(f"{unit} has no time-out (TimeoutStartSec= and RuntimeMaxSec= infinity): a hung run "
                            f"never ends and never fails; expected at most {_duration(bound)} "
                            f"(`systemctl edit {unit}`: [Service] TimeoutStartSec=)")
        elif u.timeout_minutes > bound:
            problems.append(f"{unit}'s time-out ({u.timeout_text}) is longer than the spec's {_duration(bound)}")
        limit = min(bound, u.timeout_minutes or bound)
        if u.started is not None:
            ran = (reading.now - u.started) / 60
            if ran > limit:
                problems.append(f"{unit} has been running for {_duration(ran)} ({u.active}/{u.sub}), past its "
                                f"time-out of {_duration(limit)}: `systemctl status {unit}`, `journalctl -u {unit} -n 50`")
    for unit, every in sorted(jobs.timers.items()):
        u = reading.units.get(unit)
        if u is None or not u.in_use():
            continue
        if not u.enabled_at_boot:
            problems.append(f"{unit} is not enabled ({u.enabled or 'no unit file state'}): its job does not run "
                            f"after a reboot: `systemctl enable --now {unit}`")
        if u.period_minutes is None:
            problems.append(f"{unit} has no repeating schedule (OnCalendar=, OnUnitActiveSec=, "
                            f"OnUnitInactiveSec=): expected to fire every {_duration(every)}")
        elif u.period_minutes > every:
            problems.append(f"{unit} fires every {_duration(u.period_minutes)} at most; expected every "
                            f"{_duration(every)}: `systemctl cat {unit}`")
        if u.last_trigger is not None and (reading.now - u.last_trigger) / 60 > jobs.stale_after_minutes:
            problems.append(f"{unit} last fired {_duration((reading.now - u.last_trigger) / 60)} ago (more than "
                            f"{_duration(jobs.stale_after_minutes)}): `systemctl list-timers {unit}`")
        elif u.last_trigger is None and u.since is not None and (reading.now - u.since) / 60 > jobs.stale_after_minutes:
            # never fired (no LastTriggerUSec) though started that long ago: not firing either
            problems.append(f"{unit} has not fired since it was started {_duration((reading.now - u.since) / 60)} ago "
                            f"(more than {_duration(jobs.stale_after_minutes)}): `systemctl list-timers {unit}`")
    return problems


def mail_problems(mail, now, max_deferred_minutes):
    """What OPS-3 finds in the failure mail's path (Mail): the MTA stopped, no relay, no alias for root, a
    deferred message older than the bound, or deferred messages whose delivery error says the relay
    cannot be reached (nothing leaves until it can: 2024-08-22-postfix-exporter-on-pmg)."""
    problems = []
    if mail.active != "active":
        problems.append(f"the MTA (postfix@-.service) is {mail.active or 'not running'}: failure mail stays here: "
                        "`systemctl status postfix@-.service`")
    if not mail.relayhost:
        problems.append("no relay (postfix relayhost is empty): failure mail is not sent through the mail gateway: "
                        "`postconf relayhost`")
    if not mail.root_alias:
        problems.append("no alias for root in /etc/aliases: failure mail to root reaches no person")
    deferred = [q for q in mail.queue if q.queue == "deferred"]
    old = [q for q in deferred if (now - q.arrival) / 60 > max_deferred_minutes]
    if old:
        oldest = max((now - q.arrival) / 60 for q in old)
        problems.append(f"{len(old)} deferred message(s) older than {_duration(max_deferred_minutes)} (oldest "
                        f"{_duration(oldest)}, {old[0].queue_id}: {(old[0].reasons or ('?',))[0][:160]}): `postqueue -p`")
    stuck = [q for q in deferred if q not in old and any(w in r for r in q.reasons for w in UNREACHABLE)]
    if stuck:
        problems.append(f"{len(stuck)} deferred message(s) whose relay cannot be reached ({stuck[0].queue_id}: "
                        f"{stuck[0].reasons[0][:160]}): nothing leaves until it can: `postqueue -p`, "
                        f"`postconf relayhost`")
    return problems


@requirement("OPS-3", over=targets.machines)
def test_jobs_end_and_their_failures_reach_a_person(target, facts, arch):
    f = facts[target.name]
    jobs = arch.spec.jobs
    reading = f.evidence("jobs")
    problems = job_problems(reading, jobs)
    if target.name in arch.spec.hosts:
        problems += mail_problems(f.evidence("mail"), reading.now, jobs.max_deferred_minutes)
    report(problems, _where(target))
