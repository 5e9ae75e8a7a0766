"""Job units (OPS-1): failures reported (OnFailure=)."""
from io import StringIO

from pyinfra.operations import files

from provision import units
from provision.remedies import Action, Manual, _facts, _ids, first_problem, remedy


DROPIN = "offsuite-on-failure.conf"   # the provisioner's drop-in restoring OnFailure= (OPS-1)


@remedy("OPS-1")
def on_failure(f, arch, audit):
    from confs.systemd import Unit, split_units
    job = f.target
    facts = _facts(audit, job.host)
    present, _ = split_units(facts.evidence("units"))
    unit = Unit(job.unit, present.get(job.unit, []))
    value = job.on_failure.replace("@.", "@%n.")
    manual = Manual(job.host, *_ids(f), f"{job.unit} on {job.host} does not report its failures: {first_problem(f)}",
                    [f"# on {job.host}:", f"systemctl cat {job.unit}",
                     f"# ExecStart= must let a failure reach the exit status, OnFailure={value} in [Unit]",
                     f"systemctl edit {job.unit}"])
    if not unit.exists or unit.words("Unit", "OnFailure"):
        return [manual]
    # drop-ins apply in the order of their file names: ours comes last, so no earlier one clears it
    names = [p.rsplit("/", 1)[-1] for p in unit.files[1:]]
    prefix = "zz-"
    while names and prefix + DROPIN <= max(names):
        prefix = "z" + prefix
    dropin = f"/etc/systemd/system/{job.unit}.d/{prefix}{DROPIN}"
    return [Action(job.host, *_ids(f), f"restore OnFailure={value} on {job.unit} (a drop-in)",
                   [(files.put, dict(name=f"write {dropin}", src=StringIO(f"[Unit]\nOnFailure={value}\n"),
                                     dest=dropin, mode="644", create_remote_dir=True)),
                    (units.daemon_reload, dict(name="reload unit files"))])]
