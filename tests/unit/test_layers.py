"""No import cycle between the suite's packages, read from the code with `ast` (imports inside functions
included, a module's `if __name__ == "__main__":` block apart: its command line, run from the checkout).

The lab (fixtures/lab, not shipped: the suite's own test bed) counts as a package of its own: it may use
the checks (which requirement a fault turns red), nothing shipped imports it (tests/package)."""
from pathlib import Path
from tests.code_imports import imports

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("specs", "checks", "fixtures", "confs", "reports", "provision")
LAB = "fixtures.lab"


def _node(module):
    """The package a module name belongs to (None: not one of the suite's)."""
    if module == LAB or module.startswith(LAB + "."):
        return LAB
    top = module.split(".")[0]
    return top if top in PACKAGES else None


def graph(root=ROOT):
    """{package: {package it imports: [where]}}."""
    out = {}
    for top in PACKAGES:
        for f in sorted((root / top).rglob("*.py")):
            mine = _node(".".join(f.relative_to(root).with_suffix("").parts))
            for name in imports(f):
                other = _node(name)
                if other and other != mine:
                    out.setdefault(mine, {}).setdefault(other, []).append(f"{f.relative_to(root)}: {name}")
    return out


def cycles(edges):
    """Every cycle of the graph, each once (as a list of packages, first repeated at the end)."""
    found = set()
    out = []

    def walk(path):
        for nxt in edges.get(path[-1], {}):
            if nxt == path[0]:
                key = frozenset(path)
                if key not in found:
                    found.add(key)
                    out.append(path + [nxt])
            elif nxt not in path:
                walk(path + [nxt])
    for start in sorted(edges):
        walk([start])
    return out


def test_no_import_cycle_between_the_packages():
    edges = graph()
    found = cycles(edges)
    assert not found, "\n".join(" -> ".join(c) + ": " + "; ".join(edges[a][b][0] for a, b in zip(c, c[1:]))
                                for c in found)


def test_a_cycle_is_found(tmp_path):
    """The reading catches the cycle of issue 17 (fixtures/offline.py imported reports, reports imported the lab)."""
    for top in PACKAGES:
        (tmp_path / top).mkdir()
    (tmp_path / "fixtures" / "offline.py").write_text("from reports.traceability import live_checks\n")
    (tmp_path / "reports" / "traceability.py").write_text("def f():\n    from fixtures import record\n")
    assert cycles(graph(tmp_path)) == [["fixtures", "reports", "fixtures"]]
