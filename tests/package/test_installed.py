"""The suite as users install it: a wheel (not the editable checkout), in a fresh virtual environment
outside the checkout, run from another folder.

The wheel is built from a copy of the tree (the build leaves nothing in the checkout) with the
project environment's setuptools (no build isolation, no index: nothing is downloaded). The fresh
environment gets its third-party dependencies from the project's own .venv through a `.pth` line
(installing them again from PyPI took 26-35 s here against 2 s, and needs the network); the suite
itself comes only from the wheel, which `test_the_suite_comes_from_the_wheel` proves, and
`test_every_third_party_import_is_a_declared_dependency` covers what a real install would catch of
the dependencies."""
import ast
import importlib.metadata
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
REAL = ROOT.parent / "shared" / "off-infrastructure"
SHIPPED = ("specs", "checks", "confs", "fixtures", "reports", "provision")
NOT_SHIPPED = ("fixtures/lab", "reports/out")   # the lab is the suite's own test bed; reports/out is run output (git-ignored)


def _run(cmd, cwd, **kw):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "OFFSUITE_DEBUG")}
    return subprocess.run([str(c) for c in cmd], cwd=cwd, capture_output=True, text=True,
                          env={**env, "PYTHONDONTWRITEBYTECODE": "1", **kw.pop("env", {})}, **kw)


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(python of the fresh environment, its bin folder, a folder outside the checkout to run from)."""
    base = tmp_path_factory.mktemp("installed")
    src = base / "src"
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(
        ".venv", ".git", "__pycache__", "*.egg-info", "build", "dist", "out", "tests"))
    # with the project environment's setuptools (pyproject.toml's dev extra): offline, and quicker
    proc = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q",
                 "-w", base / "wheel", src], cwd=base)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    wheel, = (base / "wheel").glob("offsuite-*.whl")
    venv = base / "venv"
    proc = _run([sys.executable, "-m", "venv", "--without-pip", venv], cwd=base)
    assert proc.returncode == 0, proc.stderr
    python = venv / "bin" / "python"
    site = _run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], cwd=base).stdout.strip()
    # the dependencies, from the project's environment (after the wheel's own folder on sys.path)
    deps = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    Path(site, "zz_offsuite_deps.pth").write_text("".join(d + "\n" for d in sorted(deps)))
    proc = _run([sys.executable, "-m", "pip", "--python", python, "install", "-q", "--no-deps", "--no-index", "--no-compile", wheel],
                cwd=base)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    elsewhere = base / "elsewhere"
    elsewhere.mkdir()
    return python, venv / "bin", elsewhere


def test_the_suite_comes_from_the_wheel(installed):
    python, _, elsewhere = installed
    proc = _run([python, "-c", "import importlib, sys; "
                 f"print('\\n'.join(importlib.import_module(p).__file__ for p in {SHIPPED!r}))"], cwd=elsewhere)
    assert proc.returncode == 0, proc.stderr
    site = Path(python).parent.parent
    assert all(Path(f).is_relative_to(site) for f in proc.stdout.split()), proc.stdout


def test_every_shipped_package_and_data_file_is_in_the_wheel(installed):
    """Every package of the shipped folders (the lab apart) and every non-Python file they read."""
    python, _, elsewhere = installed
    site = Path(_run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                     cwd=elsewhere).stdout.strip())
    missing = []
    for top in SHIPPED:
        for f in (ROOT / top).rglob("*"):
            rel = f.relative_to(ROOT)
            if f.is_dir() or "__pycache__" in rel.parts or any(str(rel).startswith(n) for n in NOT_SHIPPED):
                continue
            if not (site / rel).exists():
                missing.append(str(rel))
    assert not missing, f"not installed: {missing}"
    assert not (site / "fixtures" / "lab").exists(), "the lab is not shipped"


def _main_block(node):
    """`if __name__ == "__main__":` (a module's command line, run from the checkout)."""
    return (isinstance(node, ast.If) and isinstance(node.test, ast.Compare)
            and getattr(node.test.left, "id", None) == "__name__")


def _imports(path):
    """The modules a file imports (anywhere but in its `__main__` block)."""
    tree = ast.parse(path.read_text())
    tree.body = [n for n in tree.body if not _main_block(n)]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module


def test_nothing_shipped_imports_the_lab_the_benches_or_the_tests():
    found = [f"{f.relative_to(ROOT)}: {name}" for top in SHIPPED for f in (ROOT / top).rglob("*.py")
             if not f.relative_to(ROOT).as_posix().startswith(NOT_SHIPPED)
             for name in _imports(f) if name.split(".")[0] in ("bench", "tests") or name.startswith("fixtures.lab")]
    assert not found


def test_every_third_party_import_is_a_declared_dependency():
    """What a real install from PyPI would catch: a shipped module importing a distribution that
    pyproject.toml does not declare."""
    declared = {r.split(";")[0].split("[")[0].split("=")[0].split("<")[0].split(">")[0].strip().lower().replace("_", "-")
                for r in importlib.metadata.requires("offsuite") or []}
    providers = importlib.metadata.packages_distributions()
    stdlib = sys.stdlib_module_names
    undeclared = set()
    for top in SHIPPED:
        for f in (ROOT / top).rglob("*.py"):
            if f.relative_to(ROOT).as_posix().startswith(NOT_SHIPPED):
                continue
            for name in _imports(f):
                first = name.split(".")[0]
                if first in stdlib or first in SHIPPED:
                    continue
                dists = {d.lower().replace("_", "-") for d in providers.get(first, [first])}
                if not dists & declared and not any(_required_by(d, declared) for d in dists):
                    undeclared.add(f"{f.relative_to(ROOT)}: {first}")
    assert not undeclared, sorted(undeclared)


def _required_by(dist, declared):
    """A distribution installed as a dependency of a declared one (pytest's pluggy, pydantic's core)."""
    for d in declared:
        for r in importlib.metadata.requires(d) or []:
            if r.split(";")[0].split("[")[0].split("=")[0].split("<")[0].split(">")[0].strip().lower() == dist:
                return True
    return False


def test_the_gate_runs_on_the_users_repository(installed):
    if not (REAL / "confs").is_dir():
        pytest.skip(f"the users' real repository is absent ({REAL})")
    _, bin_dir, elsewhere = installed
    proc = _run([bin_dir / "offsuite-gate", REAL], cwd=elsewhere)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out[-3000:]          # findings, listed in tests/static/real_repo_findings.yaml
    assert "Traceback" not in out and "failed" in out and "offsuite static gate: coverage" in out, out[-3000:]


def test_the_plugins_static_checks_run_from_the_installed_package(installed):
    if not (REAL / "confs").is_dir():
        pytest.skip(f"the users' real repository is absent ({REAL})")
    python, _, elsewhere = installed
    proc = _run([python, "-m", "pytest", "--pyargs", "checks.static", "-m", "static", f"--confs={REAL}",
                 "-p", "no:cacheprovider", "-q"], cwd=elsewhere)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1 and "passed" in out and "failed" in out, out[-3000:]
    assert "Traceback" not in out


def test_the_installed_audit_checks_kept_readings(installed):
    """The live audit's checks, probes and parsers from the wheel, on the healthy lab's kept readings."""
    python, _, elsewhere = installed
    recorded = ROOT / "tests" / "recorded"
    proc = _run([python, "-m", "pytest", "--pyargs", "checks", "-p", "no:cacheprovider", "-q",
                 f"--replay={recorded / 'lab'}", f"--spec={recorded / 'lab-spec'}"], cwd=elsewhere)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0 and " passed" in out, out[-3000:]


TRIVIAL = '''
import sys

def test_one():
    assert 1 + 1 == 2

def test_the_suite_stayed_out():
    loaded = sorted(m for m in sys.modules if m.split(".")[0] in {shipped!r} or m in ("pydantic", "yaml", "paramiko", "docker"))
    print("LOADED", loaded)
    assert not loaded, loaded
'''


def test_an_unrelated_project_runs_with_the_plugin_inert(installed):
    """The plugin loads in every pytest run of the environment (entry point): there it must neither
    stop the run nor read the spec; it reads nothing until its options or checks are used."""
    python, _, elsewhere = installed
    project = elsewhere / "unrelated"
    project.mkdir()
    (project / "test_trivial.py").write_text(TRIVIAL.format(shipped=tuple(p for p in SHIPPED if p != "fixtures")))
    proc = _run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=project)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0 and "2 passed" in out, out[-3000:]
    plugins = _run([python, "-m", "pytest", "--trace-config", "-q", "-p", "no:cacheprovider", "--co"], cwd=project).stdout
    assert "fixtures.plugin" in plugins, "the plugin is registered by its entry point"
    assert "spec:" not in out
