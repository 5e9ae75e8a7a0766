"""The healthy lab's recorded readings: every check passes on them, offline."""
from tests.recorded.harness import verdicts


def test_every_check_passes_on_the_healthy_recording(fleet, shipped):
    got = verdicts(fleet, shipped)
    bad = {k: v for k, v in got.items() if v[0] != "passed"}
    assert len(got) > 150
    assert not bad, "\n".join(f"{k}: {v}" for k, v in bad.items())
