"""The machine-readable form of each tool that has one (issue 18), parsed from the real tool's recorded
output (tests/recorded/tools/README.md): `systemctl show -p`, `findmnt -J` (paths with non-ASCII
characters were mangled by the raw form's parser), `ip -j` and `nft -j` (test_nft_rules.py, test_ipv6.py)."""
from pathlib import Path

import pytest

from checks import test_app
from fixtures.probes.files import parse_mounts
from fixtures.probes.processes import parse_services
from tests.recorded.harness import replaced, run, section

TOOLS = Path(__file__).resolve().parent / "tools"


def _lines(name):
    return (TOOLS / name).read_text(encoding="utf-8").splitlines()


@pytest.mark.parametrize("name", ["findmnt-J-non-ascii.json", "findmnt-r-non-ascii.txt"])
def test_findmnt_paths_with_non_ascii_characters_and_spaces_are_kept(name):
    mounts = parse_mounts(_lines(name))
    assert mounts["/tmp/vbmnt/données é"]["options"][0] == "rw"
    assert mounts["/tmp/vbmnt/with space"]["options"][0] == "ro"
    assert mounts["/tmp/vbmnt/images"] == {"source": "offsuite-test[/images]", "fstype": "tmpfs",
                                           "options": ["ro", "relatime"]}


def test_findmnt_j_of_a_lab_application_container():
    mounts = parse_mounts(_lines("lab-findmnt-J-off.json"))
    assert mounts["/"]["fstype"] == "overlay"
    assert any(t.startswith("/mnt/off/") for t in mounts)


def test_malformed_findmnt_json_is_no_evidence():
    with pytest.raises(ValueError):
        parse_mounts(['{"filesystems": [{"target": "relative"}]}'])
    with pytest.raises(ValueError):
        parse_mounts(['{"filesystems": ['])


def test_systemctl_show_tells_masked_missing_and_disabled():
    units = parse_services(_lines("lab-systemctl-show-off.txt"))
    assert units["nginx"].is_enabled and units["nginx"].is_active
    assert (units["dev-hugepages.mount"].enabled, units["dev-hugepages.mount"].load) == ("masked", "masked")
    assert (units["nosuch.service"].enabled, units["nosuch.service"].load) == ("not-found", "not-found")
    assert (units["stunnel@off"].enabled, units["stunnel@off"].active) == ("disabled", "inactive")


def test_malformed_systemctl_show_is_no_evidence():
    with pytest.raises(ValueError):
        parse_services(["@@unit nginx", "this is not Key=Value output"])
    with pytest.raises(ValueError):
        parse_services(["@@unit nginx", "UnitFileState=enabled"])     # no LoadState/ActiveState


def test_app2_reads_systemctl_show(fleet, shipped):
    """The application's units as systemctl show prints them, incron masked: APP-2 red, saying masked."""
    app = "off"
    lines = _lines("lab-systemctl-show-off.txt")
    at = lines.index("@@unit incron")
    lines[at + 1:at + 4] = ["LoadState=masked", "ActiveState=inactive", "UnitFileState=masked"]
    f = replaced(fleet, shipped, app, section(fleet[app].text, "services", lines))
    outcome, message = run(test_app.test_application_runs_its_services_enabled_at_boot, app, f, shipped)
    assert outcome == "failed" and "masked" in message and "incron" in message
