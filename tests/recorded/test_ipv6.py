"""Every address, listener and firewall reading covers IPv6 (issue 18): a listener on [::] of a machine
whose IPv4 addresses are all internal but which holds a public IPv6 address was green (addresses were read
with `ip -4`). The addresses are `ip -j addr show`'s real output (tests/recorded/tools/README.md)."""
from pathlib import Path

from checks import test_net, test_web
from fixtures.probes.network import parse_addrs
from tests.recorded.harness import replaced, run, section

TOOLS = Path(__file__).resolve().parent / "tools"
DB = "off-postgres"


def _db(fleet, shipped, listen, addrs="ip-j-addr-container-ipv6.json"):
    text = section(fleet[DB].text, "listen", listen)
    text = section(text, "addrs", (TOOLS / addrs).read_text().splitlines())
    return replaced(fleet, shipped, DB, text)


def test_a_database_port_on_ipv6_alone_with_a_public_ipv6_address_is_red(fleet, shipped):
    f = _db(fleet, shipped, ["LISTEN 0      244       0.0.0.0:5432  0.0.0.0:*",
                             "LISTEN 0      244          [::]:5432     [::]:*"])
    outcome, message = run(test_net.test_no_internal_port_outside_the_internal_network, DB, f, shipped)
    assert outcome == "failed" and "port 5432 (postgresql) listens on :: (public: 2001:db8:18::120)" in message


def test_a_web_server_on_ipv6_alone_with_a_public_ipv6_address_is_red(fleet, shipped):
    f = _db(fleet, shipped, ["LISTEN 0      5          [::]:80     [::]:*"])
    outcome, message = run(test_web.test_only_the_proxy_listens_for_the_public, DB, f, shipped)
    assert outcome == "failed" and "listens on :: (public: 2001:db8:18::120) port 80" in message


def test_an_ipv4_wildcard_does_not_take_the_public_ipv6_address(fleet, shipped):
    f = _db(fleet, shipped, ["LISTEN 0      244       0.0.0.0:5432  0.0.0.0:*"])
    assert run(test_net.test_no_internal_port_outside_the_internal_network, DB, f, shipped) == ("passed", "")


def test_the_lab_containers_ip_j_output_parses(fleet, shipped):
    """`docker exec offlab-<name> ip -j addr show` (Debian 12's iproute2): IPv4 with interfaces, no IPv6
    address kept (the lab's networks are IPv4; link-local is left out)."""
    addrs = parse_addrs((TOOLS / "lab-ip-j-addr-off1-reverse-proxy.json").read_text().splitlines())
    assert addrs and all(a.family == "ip" and a.ifname.startswith("eth") for a in addrs)
    assert len({a.ifname for a in addrs}) == 2    # the internal network and wan
