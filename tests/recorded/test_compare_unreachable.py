"""A check that compares machines is an error naming the one it could not read, never a pass on the
others (issue 18): each machine of the recorded lab is taken out of the fleet in turn, and every check
that asked for it must end in an error with its reason."""
import pytest

from tests.recorded.harness import Fleet, checks, marks, replaced, run, section, verdict


class _Spy(Fleet):
    """A fleet that notes which missing machines a check asked for."""

    def __init__(self, *args):
        super().__init__(*args)
        self.asked = []

    def __missing__(self, machine):
        self.asked.append(machine)
        return super().__missing__(machine)


def test_a_check_that_asks_for_an_unreachable_machine_is_an_error_naming_it(lab_readings, shipped):
    wrong = []
    for gone in sorted(lab_readings):
        fleet = _Spy({m: f for m, f in lab_readings.items() if m != gone})
        for req, fn in checks():
            _, over, _ = marks(fn)
            for target in over(shipped):
                fleet.asked.clear()
                outcome, message = verdict(fn, target, fleet, shipped)
                if fleet.asked and (outcome != "error" or gone not in message):
                    wrong.append(f"{req}[{target}] without {gone}: {outcome} {message[:80]!r}")
    assert not wrong, "\n".join(wrong[:20])


@pytest.mark.parametrize("req, target, gone", [("DB-1", "memcached", "off1"), ("NET-1", "obf", "off"),
                                                 ("NET-3", "mongodb", "ovh-stunnel-client")])
def test_comparisons_read_the_other_machines_at_set_up(req, target, gone, lab_readings, shipped):
    fleet = Fleet({m: f for m, f in lab_readings.items() if m != gone})
    fn = next(fn for r, fn in checks([req]))
    outcome, message = run(fn, target, fleet, shipped)
    assert outcome == "error" and message.startswith("unreachable: ") and gone in message


def test_net3_client_and_server_holding_different_keys_is_red(fleet, shipped):
    from checks import test_net
    link = shipped.links()[0]
    client = link.client.name
    text = fleet[client].text
    lines = [l if not l.startswith(f"entry {link.psk_path} ") else f"entry {link.psk_path} 068ebfa7fc25cc32 ffffffffffffffff"
             for l in fleet[client].raw["psk"]]
    f = replaced(fleet, shipped, client, section(text, "psk", lines))
    outcome, message = run(test_net.test_stunnel_link_uses_its_own_psk, str(link), f, shipped)
    assert outcome == "failed" and "differs between the server" in message
    assert "ffffffffffffffff" not in message   # no digest of a key printed either
