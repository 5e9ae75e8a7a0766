"""The provisioner on the lab: red checks, planned fixes (nothing changed), one apply, green checks, nothing
destroyed, a second plan changing nothing; manual steps named and left alone; production refused without the
second confirmation.

Lean for CI: every fault with an automatic fix is put in at once, with replicas holding snapshots and clones
of their own and a stale replica, so one plan and one apply cover each fix and show that they destroy nothing.
The faults with no safe fix are judged by the provisioner's plan from the reading tests/lab/test_faults.py
makes of each (only manual steps, saying what to do; apply runs no manual step)."""
import os
import subprocess
import sys
import warnings

import pytest

from fixtures.lab import docker_ops, faults
from fixtures.lab import remediable
from fixtures.lab.remediable import FIXABLE, apply, container as _container, restore
from fixtures.lab.state import psk_line
from provision.remedies import REMEDIES
from tests.lab.prod_access import changes

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# what a plan must not touch, byte for byte: files of /etc (content, mode, owner), the running programs
# (pid and name; the lab's job timers' own runs left out), the datasets (names, origins, mount points)
JOBS = ("ps", "sh", "sort", "grep", "sleep", "find", "sha256sum", "zfs", "apache2", "sanoid", "syncoid", "perl",
        "lab-replicate", "ssh", "sshd", "sudo", "operator-zfs", "lab-zfs-compat", "mbuffer", "pv", "lzop", "zstd",
        "systemctl",
        # postfix's daemons that its master starts on demand and that exit when idle
        "trivial-rewrite", "cleanup", "smtp", "bounce", "local", "pickup", "anvil", "showq", "proxymap",
        "scache", "flush", "tlsmgr", "error", "discard")
FINGERPRINT = ("find /etc -xdev \\( -type f -o -type l \\) -printf '%p %m %u %g %l\\n' 2>/dev/null | sort; "
               "find /etc -xdev -type f -exec sha256sum {} + 2>/dev/null | sort; "
               "ps -eo pid=,comm= | grep -v -w " + " ".join(f"-e '{j}'" for j in JOBS) + "; "
               "command -v zfs >/dev/null && zfs list -H -o name,origin,mountpoint 2>/dev/null; true")


def provision(*args, log):
    return subprocess.run([sys.executable, "-m", "provision", *args, "--log", str(log)], cwd=ROOT,
                          capture_output=True, text=True)


def fingerprint(client, arch, machines):
    machines = sorted(machines)
    read = docker_ops.at_once(lambda m: docker_ops.sh(_container(client, arch, m), FINGERPRINT, f"fingerprint {m}"),
                              machines)
    return {m: set(text.splitlines()) for m, text in zip(machines, read)}


def unchanged(before, after, what):
    diff = changes(before, after)
    assert not diff, f"{what}:\n" + "\n".join(diff[:40])


def _lines(out, prefix):
    return [l for l in out.splitlines() if l.startswith(prefix)]


def _secrets(client, arch):
    """Every PSK identity and key the lab holds now, and those its bring-up made."""
    keys = set()
    for link in arch.links():
        keys |= set(psk_line(link.name).strip().split(":"))
        for end in (link.server, link.client):
            text = docker_ops.sh(_container(client, arch, end.name), f"cat {link.psk_path}", "read PSK")
            keys |= {part for l in text.split() for part in l.split(":")}
    return {k for k in keys if len(k) >= 8}


@pytest.mark.lab
def test_fixable_faults_planned_applied_green_and_nothing_destroyed(lab, audit, tmp_path):
    """Every fault with an automatic fix put in at once, with a lab whose replicas hold a snapshot of their own
    (newer than every received one), a clone of it and a clone of a received one, one replica stale besides
    (its old fix, "run the replication now", had syncoid roll the replica back). The plan changes nothing and
    plans each fix; the stale replica's and the own snapshots' fixes are manual, saying why; one apply turns
    each fixed check green and destroys nothing (every dataset and snapshot of every host still there, by
    GUID, renamed or not, each clone with the same origin); a second plan changes nothing."""
    catalogue = faults.catalogue(lab)
    client = docker_ops.client()
    assert {catalogue[n].requirement for n in FIXABLE} <= set(REMEDIES)
    log = tmp_path / "provision.log"
    applied, own = [], False
    remediable.hold_jobs(client, lab)   # (held for the whole session already: tests/conftest.py)
    try:
        apply(client, catalogue, FIXABLE + remediable.DESTROY_PRONE, applied)
        own = True   # (removed even when made in part)
        remediable.own_snapshots_and_clones(client, lab)
        machines = [m.name for m in lab.machines()]
        before = fingerprint(client, lab, machines)
        kept = remediable.zfs_state(client, lab)
        plan = provision("plan", log=log)
        assert plan.returncode == 0, plan.stdout[-3000:] + plan.stderr[-3000:]
        unchanged(before, fingerprint(client, lab, machines), "the plan changed a machine")
        assert not log.exists(), "the plan logged a change"
        automatic, _, manual = plan.stdout.partition("== manual steps")
        for name in FIXABLE:   # each red, and its fix planned (an action listed under its machine)
            req = catalogue[name].requirement
            assert any(l.strip().startswith(f"[{req} ") for l in automatic.splitlines()), \
                f"{name}: no fix planned for {req}\n{plan.stdout}"
        # the stale replica's fix: manual, saying why (syncoid would roll the replica's own snapshot back)
        assert "[ZFS-2 " in manual and "[ZFS-9 " in manual and "--no-rollback" in manual, plan.stdout
        print(_lines(plan.stdout, "provision: planned")[0], "(with faults)")

        done = provision("apply", log=log)
        out = done.stdout + done.stderr
        assert done.returncode == 0, out[-5000:]
        rechecked = _lines(done.stdout, "recheck: ")
        for name in FIXABLE:
            req = catalogue[name].requirement
            assert any(l.startswith(f"recheck: [{req} ") for l in rechecked), f"{name}: not rechecked\n{out[-4000:]}"
        assert all(l.endswith("turned green") for l in rechecked), "\n".join(rechecked)
        lines = log.read_text().splitlines()
        assert lines and all(len(l.split()) >= 4 and not l.endswith("FAILED") for l in lines), lines
        leaked = [k for k in _secrets(client, lab) if k in out + log.read_text() + plan.stdout + plan.stderr]
        assert not leaked, "a PSK appeared in the provisioner's output or log"
        after = remediable.zfs_state(client, lab)
        lost = [f"{h}: {name} (guid {g}) destroyed" for h in kept for g, (name, _) in kept[h].items()
                if g not in after[h]]
        moved = [f"{h}: clone {name} had origin {origin}, now {after[h][g][1]}" for h in kept
                 for g, (name, origin) in kept[h].items() if g in after[h] and after[h][g][1] != origin]
        assert not lost and not moved, "\n".join((lost + moved)[:40]) + "\n" + done.stdout[-3000:]
        print(_lines(done.stdout, "provision: applied")[0], f"; nothing destroyed: "
              f"{sum(len(v) for v in kept.values())} datasets and snapshots kept on {len(kept)} hosts")

        second = provision("plan", log=log)   # what is left needs a person: nothing more to change
        assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
        assert "0 change(s) planned" in second.stdout, second.stdout[-3000:]
        print(_lines(second.stdout, "provision: planned")[0], "(fixed; the manual steps left)")
    finally:
        restore(client, lab, catalogue, applied)
        if own:
            remediable.own_snapshots_and_clones(client, lab, remove=True)
        remediable.release_jobs(client, lab)
    red_now = lambda cases: sorted(f"{c.requirement} {c.name}: {c.message[:300]}" for c in cases
                                   if c.outcome in ("failed", "error"))
    first = red_now(audit())
    if first:   # the jobs once more (every host's sanoid, then its replication), as their timers would
        remediable.catch_up(client, lab)
        again = red_now(audit())
        assert not again, "the lab is not healthy again, even after one more run of its jobs:\n" + "\n".join(again)
        warnings.warn("the lab was healthy again only after one more run of its jobs; before it:\n"
                      + "\n".join(first[:10]))


def test_apply_to_prod_refused_without_confirmation(tmp_path):
    from specs import load_spec
    from specs.load import DEFAULT_SPEC
    inv = tmp_path / "prod-like.yaml"
    config = tmp_path / "ssh_config"
    config.write_text("".join(f"Host {h}\n    HostName 192.0.2.{i + 1}\n    User ops\n"
                              for i, h in enumerate(load_spec(DEFAULT_SPEC).hosts)))
    inv.write_text(f"backend: ssh\nssh_config: {config}\nvia: pct\n")
    log = tmp_path / "provision.log"
    done = provision("apply", "--inventory", str(inv), log=log)
    assert done.returncode == 5, done.stdout + done.stderr
    assert done.stdout == "" and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "--yes-i-mean-prod" in done.stderr and not log.exists()
