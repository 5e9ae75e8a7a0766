"""A machine that could not be read is said by every check reading it, each time as a new exception: raising
the one remembered would add that raise's frames to its traceback at every check (hundreds for a host read by
many checks), and pytest walks them all to report each error (an audit with a host unknown: 24 s -> 9 s)."""
from fixtures.readings import Readings, Unreachable


class Refusing:
    """An inventory whose every machine refuses the connection."""

    def read(self, machine):
        raise OSError("connection refused")

    def describe(self, machine):
        return f"ssh://{machine}"


def frames(exc):
    count, tb = 0, exc.__traceback__
    while tb:
        count, tb = count + 1, tb.tb_next
    return count


def test_an_unreachable_machine_is_raised_anew_at_each_read_with_its_reason():
    readings = Readings(Refusing(), arch=None)
    caught = []
    try:
        for _ in range(50):
            try:
                readings["off1"]
            except Unreachable as exc:
                caught.append(exc)
    finally:
        readings.close()
    assert len(caught) == 50 and len({id(exc) for exc in caught}) == 50
    assert frames(caught[-1]) == frames(caught[0]), "the traceback grows at each read"
    assert str(caught[-1]) == str(caught[0])
    assert "off1 (ssh://off1) cannot be read: connection refused" in str(caught[0])
