import pytest

from specs import load_spec
from specs.architecture import Architecture
from tests.recorded.harness import LAB, Fleet, load_dir


@pytest.fixture(scope="session")
def shipped():
    return Architecture(load_spec())


@pytest.fixture(scope="session")
def lab_readings(shipped):
    """The healthy lab's readings as recorded (--record) with the shipped spec."""
    return load_dir(LAB, shipped)


@pytest.fixture
def fleet(lab_readings):
    return Fleet(lab_readings)
