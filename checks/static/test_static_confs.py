"""Static gate: the configuration repository (--confs PATH) meets every requirement its files
can prove, checked against the spec (fixture `arch`). One test per requirement ID; a failure
lists each finding as `file:line: message`."""
import pytest

from confs.audit import STATIC_REQUIREMENTS, static_findings
from confs.errors import ConfsRepoError

pytestmark = pytest.mark.static


@pytest.fixture(scope="module")
def confs_findings(request, arch):
    path = request.config.getoption("confs")
    if not path:
        pytest.skip("no configuration repository given (--confs PATH)")
    try:
        return static_findings(arch, path)
    except ConfsRepoError as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.mark.parametrize("requirement", [pytest.param(r, marks=pytest.mark.requirement(r), id=r)
                                         for r in STATIC_REQUIREMENTS])
def test_configuration_meets(requirement, confs_findings):
    broken = [f for f in confs_findings if f.requirement == requirement]
    if broken:
        pytest.fail(f"{requirement}: {len(broken)} finding(s) in the configuration repository\n"
                    + "\n".join(map(str, broken)), pytrace=False)
