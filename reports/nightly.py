"""The nightly compliance run: audit, then write everything into a dated folder and keep a bounded history.

    python -m reports.nightly [--out DIR] [--keep N] [--inventory NAME|FILE] [--waivers FILE]
                              [--textfile-dir DIR] [--now ISO-TIME] [--junit XML] [-- PYTEST ARGS...]

Each run writes `<out>/<UTC stamp>/`: audit.xml (JUnit, redacted), results.json, report.html,
metrics.prom, audit.log, and readings/ (each machine's reading, when the suite can record them).
`<out>/latest` points at the newest run; only the newest `--keep` runs are kept. The metrics file is
also written to `--textfile-dir` (the node exporter's textfile collector) as offsuite.prom.

Exit status: 0 when no requirement of high or critical severity fails unwaived, 1 when one does,
2 when the run could not be made (invalid waivers, spec or inventory: one line says where), 3 when
it crashed (an unexpected error, a bug: one line names it; OFFSUITE_DEBUG=1 adds the traceback).
`--now` sets the clock the waivers are judged by (and the run's folder name); `--junit` reports on
an existing JUnit file instead of running the audit.
"""
import argparse
import datetime
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from reports import elements, history, metrics, page, rundata, waivers as waivers_mod
from reports.redact import redact, redact_junit
from reports.results import read_cases
from specs import SpecError, load_requirements, load_spec
from specs.architecture import Architecture
from specs.crash import crashed
from specs.load import DEFAULT_SPEC
from specs.output import out_dir

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = out_dir() / "nightly"
DEFAULT_WAIVERS = ROOT / "waivers.yaml"


def parse(argv):
    p = argparse.ArgumentParser(prog="python -m reports.nightly", description=__doc__.splitlines()[0])
    p.add_argument("--out", default=str(DEFAULT_OUT), help="folder of the dated runs (default reports/out/nightly)")
    p.add_argument("--keep", type=int, default=30, help="runs kept in --out (default 30)")
    p.add_argument("--inventory", default="lab", help="inventory name or file (default lab)")
    p.add_argument("--spec", default=str(DEFAULT_SPEC), help="spec folder (default the shipped production spec)")
    p.add_argument("--waivers", default=None, help="waiver file (default waivers.yaml at the top, if present)")
    p.add_argument("--textfile-dir", default=None, help="also write offsuite.prom here (node exporter textfile collector)")
    p.add_argument("--now", default=None, help="the time of the run, ISO 8601 (default: now, UTC)")
    p.add_argument("--junit", default=None, help="report on this JUnit file instead of running the audit")
    p.add_argument("pytest_args", nargs="*", help="more pytest arguments, after --")
    return p.parse_args(argv)


def _now(text):
    if not text:
        return datetime.datetime.now(datetime.timezone.utc)
    when = datetime.datetime.fromisoformat(text)
    return when if when.tzinfo else when.replace(tzinfo=datetime.timezone.utc)


def _recording(folder):
    """`--record=<run>/readings` when the suite can record readings (fixtures/record.py)."""
    try:
        import fixtures.record  # noqa: F401
    except ImportError:
        return []
    return [f"--record={folder / 'readings'}"]


def audit(folder, args):
    """Run the checks into folder/audit.xml; (pytest exit code, seconds). The log is kept, redacted."""
    xml = folder / "audit.xml"
    if args.junit:
        shutil.copyfile(args.junit, xml)
        return 0, 0.0
    cmd = [sys.executable, "-m", "pytest", "checks", "-q", "-p", "no:cacheprovider", f"--spec={args.spec}",
           f"--inventory={args.inventory}", f"--junitxml={xml}", *_recording(folder), *args.pytest_args]
    start = time.monotonic()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    seconds = time.monotonic() - start
    (folder / "audit.log").write_text(redact(proc.stdout + proc.stderr), encoding="utf-8")
    if proc.returncode not in (0, 1) or not xml.exists():  # 1: checks failed; else the audit did not run
        lines = [line for line in (proc.stdout + proc.stderr).splitlines() if line.strip()]
        reason = next((line[line.index("offsuite:"):] for line in lines if "offsuite:" in line), lines[-1] if lines else "no output")
        raise RuntimeError(redact(reason.strip("! ")))
    return proc.returncode, seconds


def run(args):
    now = _now(args.now)
    arch = Architecture(load_spec(args.spec))
    catalogue = load_requirements()
    waiver_file = Path(args.waivers) if args.waivers else (DEFAULT_WAIVERS if DEFAULT_WAIVERS.exists() else None)
    waivers = waivers_mod.load(waiver_file, catalogue, lambda r: elements.targets_of(arch, r)) if waiver_file else []

    out = Path(args.out)
    folder = out / history.stamp(now)
    folder.mkdir(parents=True, exist_ok=True)
    try:
        code, seconds = audit(folder, args)
    except Exception:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    redact_junit(folder / "audit.xml")
    finished = now + datetime.timedelta(seconds=seconds)
    meta = {"stamp": folder.name, "started": now.isoformat(timespec="seconds"),
            "finished": finished.isoformat(timespec="seconds"), "finished_epoch": round(finished.timestamp(), 3),
            "duration_seconds": round(seconds, 2), "inventory": args.inventory, "spec": str(args.spec),
            "spec_digest": rundata.spec_digest(args.spec), "suite_version": rundata.suite_version(),
            "pytest_exit": code, "waivers": str(waiver_file) if waiver_file else None}
    result = rundata.build(read_cases(folder / "audit.xml"), catalogue, arch, waivers, now.date(), meta)
    rundata.write(result, folder / "results.json")

    previous = history.previous(out, folder)
    comparison = history.compare(previous, result)
    points = history.trend(out)
    (folder / "report.html").write_text(page.render(result, arch, comparison, previous is not None, points),
                                        encoding="utf-8")
    metrics.write(result, folder / "metrics.prom")
    if args.textfile_dir:
        Path(args.textfile_dir).mkdir(parents=True, exist_ok=True)
        metrics.write(result, Path(args.textfile_dir) / "offsuite.prom")
    history.prune(out, args.keep)
    latest = out / "latest"  # the newest kept run
    if latest.is_symlink() or not latest.exists():
        latest.unlink(missing_ok=True)
        latest.symlink_to(history.runs(out)[-1].name)
    return folder, result, comparison


def main(argv=None):
    args = parse(sys.argv[1:] if argv is None else argv)
    try:
        folder, result, comparison = run(args)
    except SpecError as exc:
        print(f"nightly: {exc}", file=sys.stderr)
        return 2
    except (RuntimeError, OSError, ValueError) as exc:
        print(f"nightly: the audit did not produce results: {redact(str(exc))}", file=sys.stderr)
        return 2
    except Exception as exc:   # a bug: its own code, never taken for findings
        return crashed("nightly", exc, clean=redact)
    s = result["summary"]
    print(f"nightly: {s['met']}/{s['requirements']} requirements met; {s['by_status']['failed']} failed, "
          f"{s['by_status']['error']} in error, {s['by_status']['waived']} waived; since last run "
          f"{len(comparison['broke'])} broke, {len(comparison['fixed'])} fixed -> {folder}/report.html", file=sys.stderr)
    if s["gate_failing"]:
        print(f"nightly: failing (high/critical, unwaived): {', '.join(s['gate_failing'])}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
