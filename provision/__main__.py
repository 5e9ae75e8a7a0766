"""`python -m provision plan|apply [--requirement ID] [--inventory lab|FILE] [--yes-i-mean-prod]`

plan (the default) audits, then lists per machine what each remediation would change, and changes
nothing. apply changes the machines, logs every operation, and audits the affected checks again.
Against a production inventory (any SSH inventory) apply also needs --yes-i-mean-prod, else it is
refused in one line before any machine is contacted.

Exit codes: 0 done (apply: every fix rechecked green); 1 an operation failed or a check is still red;
2 the command line is wrong (argparse); 3 the provisioner crashed (a bug; one line, OFFSUITE_DEBUG=1 for
the traceback: specs/crash.py, as every entry point); 4 the spec, inventory or audit could not be used;
5 apply to production refused without --yes-i-mean-prod.
"""
import argparse
import sys

from fixtures.inventory import NotConfigured, load_inventory, resolve
from specs import SpecError, load_spec
from specs.architecture import Architecture
from specs.crash import crashed
from specs.load import DEFAULT_SPEC
from specs.output import out_dir

REFUSED = 5   # apply to production without the second confirmation
LOG = out_dir() / "provision.log"


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m provision", description=__doc__.split("\n\n")[1])
    ap.add_argument("command", nargs="?", choices=("plan", "apply"), default="plan")
    ap.add_argument("--requirement", action="append", default=[], metavar="ID",
                    help="only the checks of this requirement (repeatable)")
    ap.add_argument("--inventory", default="lab", help="lab (default), prod, or an inventory file")
    ap.add_argument("--spec", default=str(DEFAULT_SPEC))
    ap.add_argument("--yes-i-mean-prod", action="store_true", help="second confirmation to apply to production")
    ap.add_argument("--log", default=str(LOG), help=f"change log (default {LOG})")
    args = ap.parse_args(argv)

    try:
        arch = Architecture(load_spec(args.spec))
        path = resolve(args.inventory)
        inventory = load_inventory(path, arch)
    except (NotConfigured, SpecError) as exc:
        print(f"provision: {exc}", file=sys.stderr)
        return 4
    inventory.path = path
    if args.command == "apply" and inventory.kind != "docker" and not args.yes_i_mean_prod:
        print(f"provision: refusing to apply to production inventory {path} without --yes-i-mean-prod "
              "(run `plan` first; nothing was contacted)", file=sys.stderr)
        return REFUSED

    from provision import run
    from provision.audit import AuditStopped
    try:
        return _run(run, args, arch, inventory)
    except AuditStopped as exc:
        print(f"provision: {exc}", file=sys.stderr)
        return 4
    except Exception as exc:  # a bug: one line (the traceback with OFFSUITE_DEBUG=1), its own exit code
        return crashed("provision", exc)


def _run(run, args, arch, inventory):
    p, seconds = run.timed(run.plan, arch, inventory, [r.upper() for r in args.requirement], spec=args.spec)
    print(run.render(p, inventory, applying=args.command == "apply"))
    print(f"provision: planned in {seconds:.1f}s")
    if args.command == "plan":
        return 0
    from pathlib import Path
    Path(args.log).parent.mkdir(parents=True, exist_ok=True)
    (lines, verdict), seconds = run.timed(run.apply, inventory, p, args.log, spec=args.spec)
    for l in lines:
        print(f"log: {l}")
    for f, green in verdict:
        print(f"recheck: [{f.requirement} {f.target}] {'turned green' if green else 'STILL RED'}")
    print(f"provision: applied in {seconds:.1f}s (log: {args.log})")
    failed = any("FAILED" in l or "stopped" in l for l in lines) or not all(g for _, g in verdict)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
