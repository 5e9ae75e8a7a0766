"""NET-5 on nftables rules as `nft -j list ruleset` prints them (issue 18): rules bound to an interface
(iifname/oifname) are honoured and jump/goto are followed, IPv6 included. The rulesets and the host's
addresses are the real tools' output (tests/recorded/tools/README.md)."""
from pathlib import Path

import pytest

from checks import test_net
from fixtures.probes.nftables import Packet, certainly_dropped, parse_nft
from fixtures.probes.network import parse_addrs
from tests.recorded.harness import replaced, run, section

TOOLS = Path(__file__).resolve().parent / "tools"
HOST = "off1"
LISTEN_ALL = ['LISTEN 0      4096               *:8006             *:*    users:(("pveproxy",pid=1501,fd=6))']


def _lines(name):
    return (TOOLS / name).read_text().splitlines()


def _host(fleet, shipped, ruleset):
    text = section(fleet[HOST].text, "listen", LISTEN_ALL)
    text = section(text, "addrs", _lines("ip-j-addr-host.json"))
    text = section(text, "nft", _lines(ruleset))
    text = section(text, "outside", ["198.18.0.1:8006 filtered"])
    return replaced(fleet, shipped, HOST, text)


@pytest.mark.parametrize("form", ["json", "txt"])
def test_a_jump_on_the_public_interface_to_a_chain_that_accepts_is_red(form, fleet, shipped):
    """A: `iifname "vmbr0" jump from_public` accepts 8006; the later drops (one bound to an output
    interface, which an input packet has not) come too late."""
    outcome, message = run(test_net.test_proxmox_web_interface_is_not_public, HOST,
                           _host(fleet, shipped, f"nft-A.{form}"), shipped)
    assert outcome == "failed" and "198.18.0.1 (vmbr0)" in message and "2001:db8:18::1 (vmbr0)" in message


@pytest.mark.parametrize("form", ["json", "txt"])
def test_the_public_interfaces_chain_refusing_the_port_passes(form, fleet, shipped):
    """B: reached by `iifname "vmbr0" jump from_public`, the port goes to `goto refuse` (reject)."""
    assert run(test_net.test_proxmox_web_interface_is_not_public, HOST,
               _host(fleet, shipped, f"nft-B.{form}"), shipped) == ("passed", "")


@pytest.mark.parametrize("form", ["json", "txt"])
def test_a_drop_for_ipv4_only_leaves_the_public_ipv6_address_red(form, fleet, shipped):
    outcome, message = run(test_net.test_proxmox_web_interface_is_not_public, HOST,
                           _host(fleet, shipped, f"nft-C.{form}"), shipped)
    assert outcome == "failed" and "2001:db8:18::1 (vmbr0)" in message and "198.18.0.1 (vmbr0)" not in message


@pytest.mark.parametrize("form", ["json", "txt"])
def test_a_verdict_map_before_the_drop_is_not_taken_for_filtered(form, fleet, shipped):
    """D: `tcp dport vmap { 22 : accept, 8006 : accept }` then `tcp dport 8006 drop`: the map decides first."""
    outcome, message = run(test_net.test_proxmox_web_interface_is_not_public, HOST,
                           _host(fleet, shipped, f"nft-D.{form}"), shipped)
    assert outcome == "failed" and "198.18.0.1 (vmbr0)" in message


def test_json_and_text_read_alike():
    for name in "ABCD":
        j, t = parse_nft(_lines(f"nft-{name}.json")), parse_nft(_lines(f"nft-{name}.txt"))
        assert set(j.chains) == set(t.chains)
        for iface in ("vmbr0", "vmbr1", "eth0", None):
            for family, addr in (("ip", "198.18.0.1"), ("ip6", "2001:db8:18::1")):
                p = Packet(family, addr, 8006, iface)
                assert certainly_dropped(j, p) == certainly_dropped(t, p), (name, p)


def test_interfaces_decide_and_an_unknown_interface_is_not_filtered():
    rules = parse_nft(_lines("nft-B.json"))
    assert certainly_dropped(rules, Packet("ip", "198.18.0.1", 8006, "vmbr0")) is True
    assert certainly_dropped(rules, Packet("ip", "198.18.0.1", 22, "vmbr0")) is False
    assert certainly_dropped(rules, Packet("ip", "198.18.0.1", 8006, "eth9")) is False
    assert certainly_dropped(rules, Packet("ip", "198.18.0.1", 8006, None)) is False   # either way: not certain


def test_ip_j_addr_show_gives_both_families_with_their_interfaces():
    addrs = parse_addrs(_lines("ip-j-addr-host.json"))
    assert [(a, a.ifname, a.family) for a in addrs] == [("198.18.0.1", "vmbr0", "ip"), ("2001:db8:18::1", "vmbr0", "ip6"),
                                                          ("10.1.0.1", "vmbr1", "ip")]
    text = parse_addrs(_lines("ip-o-addr-host.txt"))
    assert [(a, a.ifname, a.family) for a in text] == [(a, a.ifname, a.family) for a in addrs]


def test_malformed_json_is_no_evidence():
    with pytest.raises(ValueError):
        parse_nft(['{"nftables": [{"rule": {"family": "inet", "table": "t", "chain": "nope", "expr": []}}]}'])
    with pytest.raises(ValueError):
        parse_addrs(['[{"garbage": 1}]'])
