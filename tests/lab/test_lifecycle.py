"""Tear-down leaves nothing behind; a failed step says which and why. (Bring-up is idempotent:
tests/lab/test_benchmarks.py, on the bring-up the lab's benchmark times.)"""
import subprocess

import pytest

from fixtures.lab import bringup, docker_ops
from fixtures.lab.image import LabError
from fixtures.lab.state import PREFIX, STATE_DIR
from tests.conftest import EARLY, FROM_NOTHING


def lab_containers(client):
    return {c.name: c.attrs["State"]["StartedAt"] for c in client.containers.list(all=True, filters={"label": "offlab"})
            if c.name.startswith(f"{PREFIX}-")}


@pytest.mark.lab
@pytest.mark.last
def test_tear_down_leaves_nothing_then_the_lab_comes_back(lab):
    """Run last. When this session brought the lab up from nothing (as CI does after `lab down`), that
    bring-up is the coming back and the lab is left down as it was found; otherwise it is brought up again."""
    client = docker_ops.client()
    bringup.down()
    assert not lab_containers(client)
    assert not [n.name for n in client.networks.list(filters={"label": "offlab"}) if n.name.startswith(f"{PREFIX}-")]
    assert not STATE_DIR.exists()
    mounts = subprocess.run(["findmnt", "-rn", "-o", "TARGET"], capture_output=True, text=True).stdout
    assert str(STATE_DIR) not in mounts
    if FROM_NOTHING:
        return
    bringup.up(lab)
    assert len(lab_containers(client)) >= len(lab.containers())


@pytest.mark.lab   # run with the lab's tests, after the bring-up started at collection
def test_failed_step_names_the_step(monkeypatch, arch):
    """The image step refused in this process: a bring-up started at collection (tests/conftest.py) must be
    over first, or it would meet the refusal too."""
    early = EARLY.get("up")
    if early is not None:
        early.exception()   # waits; its outcome is the lab fixture's to say

    def refuse(*args, **kwargs):
        raise LabError("image: mmdebstrap failed: E: cannot reach the mirror")
    monkeypatch.setattr(bringup.image, "build_base", refuse)
    with pytest.raises(LabError, match=r"^image: mmdebstrap failed"):
        bringup.up(arch)
