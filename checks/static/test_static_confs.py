"""Static gate: the configuration repository (--confs PATH) meets every requirement its files
can prove, checked against the spec. One test per requirement ID: a failure lists each finding as
`file:line: message`; a requirement with nothing to examine is skipped with the reason (never passed).
The run ends with the coverage: files examined by format, files and folders not recognised, why."""
import pytest

from confs.audit import STATIC_REQUIREMENTS

pytestmark = pytest.mark.static


@pytest.fixture(scope="module")
def gate(request):
    result = getattr(request.config, "offsuite_gate", None)
    if result is None:
        pytest.skip("no configuration repository given (--confs PATH)")
    return result


@pytest.mark.parametrize("requirement", [pytest.param(r, marks=pytest.mark.requirement(r), id=r)
                                         for r in STATIC_REQUIREMENTS])
def test_configuration_meets(requirement, gate):
    broken = gate.of(requirement)
    if broken:
        pytest.fail(f"{requirement}: {len(broken)} finding(s) in the configuration repository\n"
                    + "\n".join(map(str, broken)), pytrace=False)
    reason = gate.skip_reason(requirement)
    if reason:
        pytest.skip(f"{requirement} not checked: {reason}")


def test_repository_reads_cleanly(gate):
    """Links that lead outside the repository or nowhere, unreadable folders: whatever format they are."""
    broken = gate.of("")
    if broken:
        pytest.fail(f"{len(broken)} problem(s) reading the repository\n" + "\n".join(map(str, broken)), pytrace=False)


