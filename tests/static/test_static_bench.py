"""bench/static_bench.py --small runs and prints its figures (`name: value unit`), as the full run
does on the real repository and a 5,000-file one. No timing is asserted: the figures are read."""
import re
import subprocess
import sys
from pathlib import Path

MAIN = Path(__file__).resolve().parents[2]


def test_static_bench_small_prints_its_figures():
    proc = subprocess.run([sys.executable, "bench/static_bench.py", "--small"], cwd=MAIN, capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # `name: value unit`, with the shared printer's `figure: ` prefix where the tree has bench/figures.py
    figures = dict(re.findall(r"^(?:figure: )?(.+?): ([0-9.]+) \S+(?:  \(.*\))?$", proc.stdout, re.M))
    assert float(figures["generated 500 files: findings"]) == 0, proc.stdout
    assert "generated 500 files: gate wall time" in figures and "generated 250 files: cpu time per file" in figures
    assert any(k.endswith("parse cpu time") for k in figures), proc.stdout
    assert "growth of cpu time per file, smallest to largest (linear: about 1)" in figures
