"""NET-7 (routes as the spec says) and NET-9 (certificates renewed where served): the parsers on iproute2's
and systemctl's real output (production's reverse proxy of 2024-08-03-ovh-reverse-proxy-ip-lost, the lab's
Docker routes), the rules, failing closed, the spec's gateways and the lab's map."""
import json
from types import SimpleNamespace

import pytest

from checks.test_certs import name_problems, unit_problems
from checks.test_routes import peers, persistence_problems, route_problems
from fixtures.inventory import map_lab_networks
from fixtures.probes.certs import parse_certbot
from fixtures.probes.network import Served
from fixtures.probes.routes import interfaces_gateways, parse_netconf, parse_routes
from specs import load_spec
from specs.architecture import Architecture

ARCH = Architecture(load_spec())
LAB = map_lab_networks(Architecture(load_spec()))

# the OVH reverse proxy on 2024-08-03 (docs/reports/2024-08-03-ovh-reverse-proxy-ip-lost.md:18-24), as ip -j prints it
PROD_ROUTE = [{"dst": "default", "gateway": "193.70.55.1", "dev": "eth1", "flags": ["onlink"]},
              {"dst": "10.0.0.0/8", "dev": "eth0", "protocol": "kernel", "scope": "link", "prefsrc": "10.1.0.101", "flags": []},
              {"dst": "193.70.55.0/24", "dev": "eth1", "protocol": "kernel", "scope": "link", "prefsrc": "193.70.55.12", "flags": []}]
PROD_NEIGH = [{"dst": "10.1.0.100", "dev": "eth0", "lladdr": "d6:7b:64:f7:28:08", "state": ["STALE"]},
              {"dst": "10.0.0.1", "dev": "eth0", "lladdr": "a0:42:3f:46:e7:6d", "state": ["STALE"]},
              {"dst": "193.70.55.1", "dev": "eth1", "state": ["FAILED"]}]
# a lab container (Docker's route via its network's bridge), verbatim from `ip -4 -j route show`
LAB_ROUTE = '[{"dst":"default","gateway":"10.1.0.254","dev":"eth0","flags":[]},{"dst":"10.1.0.0/24","dev":"eth0","protocol":"kernel","scope":"link","prefsrc":"10.1.0.101","flags":[]},{"dst":"198.18.0.0/24","dev":"eth1","protocol":"kernel","scope":"link","prefsrc":"198.18.0.12","flags":[]}]'
LAB_NEIGH = '[{"dst":"10.1.0.254","dev":"eth0","lladdr":"02:42:5b:1e:7c:a1","state":["REACHABLE"]},{"dst":"10.1.0.113","dev":"eth0","lladdr":"02:42:0a:01:00:71","state":["STALE"]}]'


def reading(route, neigh):
    return ["@@route", route if isinstance(route, str) else json.dumps(route),
            "@@neigh", neigh if isinstance(neigh, str) else json.dumps(neigh)]


def test_the_lab_reverse_proxy_is_green():
    r = parse_routes(reading(LAB_ROUTE, LAB_NEIGH))
    assert [d.gateway for d in r.defaults] == ["10.1.0.254"]
    assert not route_problems(r, LAB.gateway("off2-reverse-proxy"), peers(LAB, "off2-reverse-proxy"))


def test_the_ovh_proxy_of_2024_08_03_is_red_on_its_failed_gateway():
    r = parse_routes(reading(PROD_ROUTE, PROD_NEIGH))
    (problem,) = route_problems(r, "193.70.55.1", {})
    assert "gateway 193.70.55.1 does not answer: neighbour FAILED on dev eth1" in problem


def test_a_default_route_via_another_gateway_is_red():
    route = json.loads(LAB_ROUTE)
    route[0]["gateway"] = "10.1.0.252"
    neigh = json.loads(LAB_NEIGH) + [{"dst": "10.1.0.252", "dev": "eth0", "lladdr": "02:42:0a:01:00:fc", "state": ["REACHABLE"]}]
    (problem,) = route_problems(parse_routes(reading(route, neigh)), "10.1.0.254", {})
    assert "goes via 10.1.0.252 dev eth0; expected via 10.1.0.254" in problem


def test_two_default_routes_and_none_are_red():
    route = json.loads(LAB_ROUTE)
    two = route + [{"dst": "default", "gateway": "198.18.0.254", "dev": "eth1", "metric": 100, "flags": []}]
    problems = route_problems(parse_routes(reading(two, LAB_NEIGH)), "10.1.0.254", {})
    assert "2 IPv4 default routes" in problems[0]
    assert "no IPv4 default route" in route_problems(parse_routes(reading(route[1:], "[]")), "10.1.0.254", {})[0]


def test_an_unanswering_gateway_or_peer_is_red():
    neigh = json.loads(LAB_NEIGH)
    neigh[1]["state"] = ["INCOMPLETE"]
    problems = route_problems(parse_routes(reading(LAB_ROUTE, neigh[1:])), "10.1.0.254", {"10.1.0.113": "off"})
    assert any("has no neighbour entry" in p for p in problems)
    assert any("internal peer off (10.1.0.113) does not answer: neighbour INCOMPLETE" in p for p in problems)


@pytest.mark.parametrize("lines", [["@@route", LAB_ROUTE], ["@@route", "not json", "@@neigh", "[]"], ["junk"]])
def test_a_cut_or_garbled_reading_is_no_evidence(lines):
    with pytest.raises(ValueError):
        parse_routes(lines)


def test_the_spec_gateways_are_the_users():
    assert ARCH.gateway("off") == "10.0.0.2"              # lxc_113.conf:22 gw=10.0.0.2 (off2's internal address)
    assert ARCH.gateway("off2-reverse-proxy") == "198.18.0.254"   # its public network's only (lxc_101.conf:7)
    assert ARCH.gateway("off2") == "198.18.0.254"
    assert LAB.gateway("off2-reverse-proxy") == "10.1.0.254" and LAB.gateway("ovh-stunnel-client") == "10.1.3.254"


# /etc/pve/lxc/101.conf of off2 (confs/off2/pve/lxc_101.conf) and PVE's /etc/network/interfaces (docs/proxmox.md:46-60)
INTERFACES = """auto lo
iface lo inet loopback

auto vmbr0
iface vmbr0 inet static
\taddress 213.36.253.208/27
\tgateway 213.36.253.222
\tbridge-ports eno1
""".splitlines()


def test_persistent_definitions_are_read_and_judged():
    assert interfaces_gateways(INTERFACES) == [("213.36.253.222", "interfaces:7")]
    lines = ["@@interfaces", *INTERFACES, "@@pve 101.conf",
             "net0: name=eth0,bridge=vmbr1,firewall=1,hwaddr=82:B8:56:FD:98:6E,ip=10.1.0.101/24,type=veth",
             "net1: name=net1,bridge=vmbr0,firewall=1,gw=213.36.253.222,hwaddr=8A:54:38:D6:95:DB,ip=213.36.253.214/27,type=veth",
             "@@pve 113.conf",
             "net0: name=eth0,bridge=vmbr1,firewall=1,gw=10.0.0.2,hwaddr=62:79:6B:52:14:A3,ip=10.1.0.113/24,type=veth",
             "net1: name=eth1,bridge=vmbr0,gw=213.36.253.222,ip=213.36.253.220/27,type=veth"]
    conf = parse_netconf(lines)
    assert [i.gw for i in conf.containers[101]] == [None, "213.36.253.222"]
    problems = persistence_problems(conf, ARCH, "off2")
    assert any("gateway 213.36.253.222 (/etc/network/interfaces:7); expected one, 198.18.0.254" in p for p in problems)
    assert any("container off (id 113): two default gateways" in p for p in problems)
    assert any("container off2-reverse-proxy (id 101): net1 gw=213.36.253.222; expected gw=198.18.0.254" in p
               for p in problems)
    assert any("container obf (id 116): no /etc/pve/lxc/116.conf" in p for p in problems)
    with pytest.raises(ValueError):
        parse_netconf(["@@pve 101.conf", "net0: ip=10.1.0.101/24"])   # no interfaces section: cut short


def test_the_lab_stand_ins_are_green():
    from fixtures.lab.host_render import render_host
    cfg = render_host(LAB, "off2")
    lines = ["@@interfaces", *cfg.files["/etc/network/interfaces"][0].splitlines()]
    for path, (text, _) in cfg.files.items():
        if path.startswith("/etc/pve/lxc/"):
            lines += [f"@@pve {path.rsplit('/', 1)[1]}", *[l for l in text.splitlines() if l.startswith("net")]]
    assert not persistence_problems(parse_netconf(lines), LAB, "off2")


# NET-9: systemctl show of certbot's units and the probe's sections, as Debian 12's certbot and the lab print them
UNITS = """Id=certbot.timer
LoadState=loaded
UnitFileState=enabled
ActiveState=active
Result=success
OnFailure=

Id=certbot.service
LoadState=loaded
UnitFileState=static
ActiveState=inactive
Result=success
OnFailure=email-failures@certbot.service
"""
FP = "sha256 Fingerprint=AB:CD:EF:01"
NAME = "world.openfoodfacts.org"


def certbot_reading(units=UNITS, authenticator="webroot", newest="1", plugins=("manual", "null", "standalone", "webroot")):
    return [*"@@units\n".splitlines(), *units.splitlines(), f"@@renewal {NAME}", f"authenticator = {authenticator}",
            f"@@archive {NAME} {newest}", FP if newest != "-" else "", "@@plugins", *plugins]


def test_a_renewed_name_is_green():
    state = parse_certbot(certbot_reading())
    assert state.renewals[NAME].newest == 1 and "webroot" in state.plugins
    renewal = ARCH.spec.web.renewal
    served = {f"/etc/letsencrypt/live/{NAME}/fullchain.pem": Served(0, fingerprint="AB:CD:EF:01")}
    assert not unit_problems(state, renewal) and not name_problems(state, served, [NAME], renewal)


def test_renewal_faults_are_red():
    renewal = ARCH.spec.web.renewal
    served = {f"/etc/nginx/tls/{NAME}.pem": Served(0, fingerprint="AB:CD:EF:01")}
    off = parse_certbot(certbot_reading(UNITS.replace("UnitFileState=enabled", "UnitFileState=disabled")
                                        .replace("ActiveState=active", "ActiveState=inactive", 1)))
    assert "certbot.timer is disabled and inactive" in unit_problems(off, renewal)[0]
    quiet = parse_certbot(certbot_reading(UNITS.replace("OnFailure=email-failures@certbot.service", "OnFailure=")))
    assert "has no OnFailure=" in unit_problems(quiet, renewal)[0]
    ovh = parse_certbot(certbot_reading(authenticator="dns-ovh"))
    assert "authenticator dns-ovh is not installed" in name_problems(ovh, served, [NAME], renewal)[0]
    newer = parse_certbot(certbot_reading(newest="2"))
    newer = newer.__class__(newer.units, {NAME: newer.renewals[NAME].__class__(NAME, True, "webroot", "", 2, "sha256 Fingerprint=11:22")},
                            newer.plugins)
    assert "no file holding the newest certificate on disk" in name_problems(newer, served, [NAME], renewal)[0]
    none = parse_certbot(["@@units", *UNITS.splitlines(), f"@@renewal {NAME}", f"@@archive {NAME} -", "@@plugins"])
    problems = name_problems(none, served, [NAME], renewal)
    assert "no renewal configuration" in problems[0] and "no certificate in" in problems[1]


def test_renewal_fails_closed():
    from fixtures.probes import MissingEvidence
    with pytest.raises(ValueError):
        parse_certbot(["@@units", *UNITS.splitlines()])          # cut short: no plugins section
    with pytest.raises(ValueError):
        parse_certbot(["@@units", *UNITS.splitlines(), f"@@archive {NAME} 3", "unable to load certificate", "@@plugins"])
    with pytest.raises(MissingEvidence):
        name_problems(parse_certbot(certbot_reading()), {"/etc/nginx/tls/x.pem": Served(1, error="No such file")}, [NAME],
                      ARCH.spec.web.renewal)


def test_the_lab_serves_certbot_state_where_names_are_served():
    from fixtures.lab.render import render
    proxy = LAB.container("off2-reverse-proxy")
    cfg = render(LAB, proxy)
    names = [c.public_name for c in LAB.chains() if c.proxy.name == proxy.name]
    assert names and all(f"/etc/letsencrypt/renewal/{n}.conf" in cfg.files for n in names)
    assert "certbot.timer" in cfg.enable
    assert "certbot.timer" not in render(LAB, LAB.container("off")).enable
    assert SimpleNamespace  # (imported for readers of the fixtures above)


def test_the_provisioner_enables_the_timer_and_leaves_routes_to_a_person():
    from provision.audit import Finding
    from provision.remedies import Action, Manual, steps_for
    proxy = ARCH.container("off2-reverse-proxy")
    message = f"reverse-proxy {proxy.name} on off2:\n  - certbot.timer is disabled and inactive; expected enabled and active"
    steps = steps_for(Finding("NET-9", proxy, "failed", message), ARCH, SimpleNamespace(facts=lambda m: None))
    (action,) = [s for s in steps if isinstance(s, Action)]
    assert [kw["enabled"] for _, kw in action.ops] == [True] and any(isinstance(s, Manual) for s in steps)
    message = f"reverse-proxy {proxy.name} on off2:\n  - the default route goes via 10.0.0.9 dev eth0; expected via 198.18.0.254"
    steps = steps_for(Finding("NET-7", proxy, "failed", message), ARCH, SimpleNamespace(facts=lambda m: None))
    assert steps and all(isinstance(s, Manual) for s in steps)
    assert any("pct set" in c for c in steps[0].commands) and "10.0.0.9" in steps[0].what


def test_the_static_gate_finds_two_gateways_or_one_not_the_hosts():
    from confs.check_routes import SimpleContainer, gateway_problems
    from confs.pve import net_interface
    spec = ARCH.spec
    off = SimpleContainer("off", spec.hosts["off2"].containers["off"])
    proxy = SimpleContainer("off2-reverse-proxy", spec.hosts["off2"].containers["off2-reverse-proxy"])
    theirs = net_interface("net0", "name=eth0,bridge=vmbr1,firewall=1,gw=10.0.0.2,ip=10.1.0.113/24,type=veth", 22)
    assert not gateway_problems(spec, "off2", off, [theirs])
    other = net_interface("net0", "name=eth0,bridge=vmbr1,gw=10.0.0.1,ip=10.1.0.113/24,type=veth", 22)
    assert "is not its host's internal address 10.0.0.2" in gateway_problems(spec, "off2", off, [other])[0][1]
    # off1's proxy as its install report made it: gw on both interfaces (2024-06-05-off1-reverse-proxy-install:23,36)
    two = [net_interface("net0", "name=eth0,bridge=vmbr1,ip=10.1.0.101/24,gw=10.0.0.2", 6),
           net_interface("net1", "name=net1,bridge=vmbr0,gw=198.18.0.254,ip=198.18.0.12/24", 7)]
    assert "two default gateways" in gateway_problems(spec, "off2", proxy, two)[0][1]
    assert not gateway_problems(spec, "off2", proxy, two[1:])
    inside = [net_interface("net0", "name=eth0,bridge=vmbr1,ip=10.1.0.101/24,gw=10.0.0.2", 6)]
    assert "expected the gateway on off2's public bridge vmbr0" in gateway_problems(spec, "off2", proxy, inside)[0][1]


def test_blank_lines_of_the_reading_are_no_interface():
    conf = parse_netconf(["@@interfaces", *INTERFACES, "", "@@pve 113.conf",
                          "net0: name=eth0,bridge=vmbr1,gw=10.0.0.2,ip=10.1.0.113/24,type=veth", ""])
    assert [i.gw for i in conf.containers[113]] == ["10.0.0.2"]
