"""Helpers of the recorded-reading tests: the healthy lab's readings, and readings edited section by
section into production's formats."""
from pathlib import Path

from fixtures.facts import Facts
from fixtures.gather import plan
from checks.offline import Fleet, checks, load_dir, marks, verdict, verdicts  # noqa: F401

HERE = Path(__file__).resolve().parent
LAB = HERE / "lab"
LAB_SPEC = HERE / "lab-spec"   # the spec the lab was built from when LAB was recorded


def section(text, name, lines, rc=0, err=""):
    """A reading with one probe's section replaced (added before the end marker if absent)."""
    import re
    block = f"@@@{name}\n" + "".join(l + "\n" for l in lines) + f"@@@.rc {name} {rc} {err}\n"
    pattern = re.compile(rf"^@@@{re.escape(name)}\n.*?^@@@\.rc {re.escape(name)} [^\n]*\n", re.S | re.M)
    if pattern.search(text):
        return pattern.sub(lambda m: block, text, count=1)
    return text.replace("@@@end\n", block + "@@@end\n", 1)


def zfs_snapshots(text, dataset, snapshots):
    """A reading whose `zfs get -Hp` lists exactly these snapshots of a dataset, each printed as
    OpenZFS 2.x prints a snapshot: (name after @, creation epoch, guid)."""
    import re
    lines = re.search(r"^@@@zfs\n(.*?)^@@@\.rc zfs", text, re.S | re.M).group(1).splitlines()
    kept = [l for l in lines if not l.startswith(dataset + "@")]
    for snap, created, guid in snapshots:
        name = f"{dataset}@{snap}"
        kept += [f"{name}\ttype\tsnapshot", f"{name}\torigin\t-", f"{name}\tcreation\t{created}",
                 f"{name}\tguid\t{guid}", f"{name}\tused\t0", f"{name}\tavailable\t-", f"{name}\tmountpoint\t-",
                 f"{name}\treadonly\t-"]
    return section(text, "zfs", kept)


def replaced(fleet, arch, machine, text):
    """The fleet with one machine's reading replaced."""
    out = Fleet(fleet)
    out[machine] = Facts(machine, text, plan(arch, machine))
    return out


def run(fn, target_id, fleet, arch):
    """Verdict of one check on the target whose id is target_id."""
    _, over, _ = marks(fn)
    target = next(t for t in over(arch) if str(t) == target_id)
    return verdict(fn, target, fleet, arch)


def served_to_visitor(text, name, lines, address="198.18.0.12"):
    """A reading whose certificate served for `name` is `lines` (openssl's fields, as the `tls` probe prints
    them) both on the machine (`tls`) and to the auditor from outside (`visitor`, NET-6's first reading)."""
    import json

    from fixtures.probes.network import parse_tls
    served = parse_tls(lines)[name]
    visit = {"address": address, "tls": served.not_after is not None, "status": 200, "says": "", "seconds": 0.1,
             "verify": ""}
    if served.not_after is not None:
        visit.update(not_after=served.not_after.strftime("%Y-%m-%dT%H:%M:%SZ"), names=list(served.names),
                     fingerprint=served.fingerprint)
    line = json.dumps({"name": name, "dns": {"A": [address], "AAAA": [], "error": ""}, "visits": [visit]})
    return section(section(text, "tls", lines), "visitor", [line])
