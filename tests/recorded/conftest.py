import pytest

from specs import load_spec
from specs.architecture import Architecture
from fixtures.archcache import memoized
from fixtures.record import judge_as_read
from tests.recorded.harness import LAB, LAB_SPEC, Fleet, load_dir


@pytest.fixture(scope="session")
def shipped():
    """The spec the lab's readings were recorded with (the shipped spec of that day), kept beside them
    so that these tests do not depend on later changes of specs/production."""
    arch = memoized(Architecture(load_spec(LAB_SPEC)))
    # what the lab's inventory says of its machines when they were read (the lab's stand-ins run through sudo)
    index = LAB / "index.json"
    return judge_as_read(arch, index) if index.is_file() else arch


@pytest.fixture(scope="session")
def lab_readings(shipped):
    """The healthy lab's readings as recorded (--record) with the shipped spec."""
    return load_dir(LAB, shipped)


@pytest.fixture
def fleet(lab_readings):
    return Fleet(lab_readings)
