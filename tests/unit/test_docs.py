"""The README and docs/ cannot rot unseen: every relative link (and its #anchor) leads somewhere, and
every module, script or command they name exists in the tree."""
import glob
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

FENCE = re.compile(r"^(```|~~~).*?^\1", re.S | re.M)
INLINE_CODE = re.compile(r"`[^`\n]*`")
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*#*\s*$", re.M)
# a path of this tree in backticks: `fixtures/gather.py`, `checks/test_*.py`, `bin/test`
TREE_PATH = re.compile(r"`((?:specs|checks|confs|fixtures|reports|provision|bench|tests|bin|inventories)/"
                       r"[\w*./-]*\.py|bin/[\w-]+)`")
MODULE = re.compile(r"python -m ((?:specs|checks|confs|fixtures|reports|provision|bench)(?:\.\w+)*)")


def slug(heading):
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*_]|\[([^\]]*)\]\([^)]*\)", r"\1", heading).strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(page):
    seen, out = {}, set()
    for heading in HEADING.findall(FENCE.sub("", page.read_text())):
        s = slug(heading)
        n = seen.get(s, 0)
        seen[s] = n + 1
        out.add(s if n == 0 else f"{s}-{n}")
    return out


def broken_links(page):
    """`page: target: why` for each relative link of a Markdown page that leads nowhere."""
    text = INLINE_CODE.sub("", FENCE.sub("", page.read_text()))
    problems = []
    for target in LINK.findall(text):
        if re.match(r"[a-z][a-z0-9+.-]*:", target):   # http:, https:, mailto:
            continue
        path, _, anchor = target.partition("#")
        dest = (page.parent / path).resolve() if path else page
        if not dest.exists():
            problems.append(f"{page.name}: {target}: no such file")
        elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
            problems.append(f"{page.name}: {target}: no heading #{anchor} in {dest.name}")
    return problems


def missing_names(page, root=ROOT):
    """`page: name: why` for each file of the tree or `python -m` module a page names that is not there."""
    text = page.read_text()
    problems = []
    for name in TREE_PATH.findall(text):
        if not glob.glob(str(root / name)):
            problems.append(f"{page.name}: {name}: no such file")
    for module in MODULE.findall(text):
        base = root / module.replace(".", "/")
        if not (base.with_suffix(".py").exists() or (base / "__main__.py").exists()):
            problems.append(f"{page.name}: python -m {module}: no such module")
    return problems


@pytest.mark.parametrize("page", PAGES, ids=[p.relative_to(ROOT).as_posix() for p in PAGES])
def test_every_relative_link_leads_somewhere(page):
    assert broken_links(page) == []


@pytest.mark.parametrize("page", PAGES, ids=[p.relative_to(ROOT).as_posix() for p in PAGES])
def test_every_module_and_script_named_exists(page):
    assert missing_names(page) == []


def test_a_broken_link_anchor_or_name_is_found(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "other.md").write_text("# Other page\n\n## What it reads, and why\n")
    page = tmp_path / "README.md"
    page.write_text(
        "# Title\n\n"
        "[ok](docs/other.md) [ok](docs/other.md#what-it-reads-and-why) [ok](#title) [web](https://example.org/x)\n"
        "[gone](docs/gone.md) [bad anchor](docs/other.md#nowhere) ![img](docs/missing.svg)\n"
        "`[in code](docs/ignored.md)`\n\n```\n[in a block](docs/ignored.md)\n```\n"
        "`fixtures/nothing.py` `bin/nothing` and `python -m fixtures.nothing`\n")
    assert broken_links(page) == [
        "README.md: docs/gone.md: no such file",
        "README.md: docs/other.md#nowhere: no heading #nowhere in other.md",
        "README.md: docs/missing.svg: no such file",
    ]
    assert missing_names(page, root=tmp_path) == [
        "README.md: fixtures/nothing.py: no such file",
        "README.md: bin/nothing: no such file",
        "README.md: python -m fixtures.nothing: no such module",
    ]


def test_the_drawing_is_committed_with_its_source():
    svg, dot = ROOT / "docs" / "architecture.svg", ROOT / "docs" / "architecture.dot"
    assert dot.exists() and svg.exists()
    assert "<svg" in svg.read_text()
    # every module the drawing names is in the tree
    for name in re.findall(r"((?:specs|checks|confs|fixtures|reports|provision)/[\w*/.-]*\.py)", dot.read_text()):
        assert glob.glob(str(ROOT / name)), f"docs/architecture.dot names {name}, which is not in the tree"
    # the SVG is rendered from this source: every line of every label is in it
    import html
    drawn = html.unescape(svg.read_text())
    stale = [line for label in re.findall(r'label="([^"]*)"', dot.read_text()) for line in label.split("\\n")
             if line and line not in drawn]
    assert not stale, ("docs/architecture.svg is older than docs/architecture.dot (not drawn: "
                       f"{stale[:3]}): dot -Tsvg docs/architecture.dot -o docs/architecture.svg")
