"""Benchmarks that cannot rot: every bench/ script has a --small size and prints its figures the one
way (bench/figures.py); the benchmarks that need no lab run small here (the lab's: tests/lab/test_benchmarks.py)."""
import subprocess
import sys
from pathlib import Path

import pytest

from bench.figures import figure, figures

ROOT = Path(__file__).resolve().parents[2]
BENCHES = sorted(p.stem for p in (ROOT / "bench").glob("*_bench.py"))


def run_bench(name, *args):
    proc = subprocess.run([sys.executable, "-m", f"bench.{name}", *args], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout


def test_figures_are_printed_and_read_back_the_one_way(capsys):
    figure("audit wall", 1.234, "s", "median of 3 runs")
    figure("remote commands", 42, "commands")
    assert figures(capsys.readouterr().out) == {"audit wall": (1.23, "s"), "remote commands": (42.0, "commands")}


@pytest.mark.parametrize("name", BENCHES)   # static_bench runs small in tests/static/test_static_bench.py
def test_every_benchmark_has_a_small_size(name):
    assert "--small" in run_bench(name, "--help")


def test_the_scale_benchmark_runs_small_and_the_generated_fleet_is_green():
    """The generated fleet is the healthy lab's readings grown: every check on it passes (a failure is the
    generator or a check gone out of step with the spec, bench/fleet.py's KeyError of issue 17)."""
    out = run_bench("scale_bench", "--small")
    got = figures(out)
    checks = [name for name in got if name.endswith(": checks")]
    assert len(checks) == 2 and all(got[n][0] > 100 for n in checks), out
    assert all(f"passed {int(got[n][0])}" in out for n in checks), out    # every case passed
    assert {"growth: size", "growth: time"} <= set(got), out
