"""The compliance report of one JUnit file, without history: `python -m reports.compliance AUDIT.xml OUT.html`
[--waivers FILE]. The nightly command (`python -m reports.nightly`) writes the same page with history,
results.json and metrics; this is for a one-off audit (CI, on-call). Exit status: 0 the page is written,
2 it could not be made (invalid spec, waivers; a JUnit file missing or unreadable), 3 a crash (a bug: one
line names it; OFFSUITE_DEBUG=1 adds the traceback), as `python -m reports.nightly`.
"""
import argparse
import sys

from reports import elements, page, rundata, waivers as waivers_mod
from reports.redact import redact
from reports.results import read_cases
from specs import SpecError, load_requirements, load_spec
from specs.architecture import Architecture
from specs.crash import crashed
from specs.load import DEFAULT_SPEC


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m reports.compliance")
    p.add_argument("junit")
    p.add_argument("html")
    p.add_argument("--waivers", default=None)
    p.add_argument("--spec", default=str(DEFAULT_SPEC))
    args = p.parse_args(sys.argv[1:] if argv is None else argv)
    try:
        return _make(args)
    except Exception as exc:   # a bug: its own code
        return crashed("compliance", exc, clean=redact)


def _make(args):
    try:
        arch, catalogue = Architecture(load_spec(args.spec)), load_requirements()
        waivers = waivers_mod.load(args.waivers, catalogue, lambda r: elements.targets_of(arch, r)) if args.waivers else []
        cases = read_cases(args.junit)
    except SpecError as exc:
        print(f"compliance: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # a missing or broken XML file: one line
        print(f"compliance: cannot read {args.junit}: {redact(str(exc))}", file=sys.stderr)
        return 2
    meta = {"spec": args.spec, "spec_digest": rundata.spec_digest(args.spec), "suite_version": rundata.suite_version(),
            "inventory": f"(from {args.junit})"}
    run = rundata.build(cases, catalogue, arch, waivers, meta=meta)
    with open(args.html, "w", encoding="utf-8") as out:
        out.write(page.render(run, arch))
    failing = run["summary"]["checks"]["failed"] + run["summary"]["checks"]["error"]
    print(f"compliance: {len(cases)} checks, {failing} failing -> {args.html}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
