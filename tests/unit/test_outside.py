"""The view from outside (WEB-5, NET-8): the DNS client, the readings of the auditor's probes, and the rules, on
made-up answers shaped as production's (IPv4 and IPv6, several names) and as the lab's."""
import datetime
import socket
import struct
import threading

import pytest

from checks.test_outside import name_problems, stunnel_client_problems
from confs.stunnel import parse_stunnel_text
from fixtures.probes import dns
from fixtures.probes.outside import NameSeen, Visit, parse_names, parse_ports, parse_upstream, split_endpoint


def _answer(query, records, rcode=0):
    """A response to `query` with (type, rdata) records, the name as a compression pointer to the question."""
    ident = struct.unpack(">H", query[:2])[0]
    head = struct.pack(">HHHHHH", ident, 0x8180 | rcode, 1, len(records), 0, 0)
    body = query[12:]
    for rtype, rdata in records:
        body += struct.pack(">HHHIH", 0xC00C, rtype, 1, 300, len(rdata)) + rdata
    return head + body


def test_a_and_aaaa_records_are_read_and_other_types_skipped():
    q = dns.query_packet("openfoodfacts.org", "A", 7)
    data = _answer(q, [(5, b"\x03www\x00"), (1, socket.inet_aton("213.36.253.214")), (1, socket.inet_aton("1.2.3.4"))])
    assert dns.parse_answer(data, "A", 7) == ["213.36.253.214", "1.2.3.4"]
    q6 = dns.query_packet("openfoodfacts.org", "AAAA", 8)
    data6 = _answer(q6, [(28, socket.inet_pton(socket.AF_INET6, "2001:bc8:2::1"))])
    assert dns.parse_answer(data6, "AAAA", 8) == ["2001:bc8:2::1"]


def test_an_error_code_or_a_foreign_answer_is_no_answer():
    q = dns.query_packet("openfoodfacts.org", "A", 9)
    with pytest.raises(dns.DnsError, match="REFUSED"):
        dns.parse_answer(_answer(q, [], rcode=5), "A", 9)
    with pytest.raises(dns.DnsError, match="does not match"):
        dns.parse_answer(_answer(q, []), "A", 10)


def test_lookup_asks_the_inventorys_server(tmp_path):
    """A server on the loopback answering as the lab's dnsmasq does (A record; AAAA: none; unknown: NXDOMAIN)."""
    srv = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    srv.bind(("127.0.0.1", 0))
    port = srv.getsockname()[1]

    def serve():
        for _ in range(3):
            q, peer = srv.recvfrom(512)
            qtype = struct.unpack(">H", q[-4:-2])[0]
            known = b"\x0dopenfoodfacts\x03org\x00" in q
            if not known:
                srv.sendto(_answer(q, [], rcode=3), peer)
            else:
                srv.sendto(_answer(q, [(1, socket.inet_aton("198.18.0.12"))] if qtype == 1 else []), peer)

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    real = dns._udp
    try:
        dns._udp = lambda server, packet, timeout: real_udp(server, packet, timeout, port)
        assert dns.lookup("openfoodfacts.org", "A", "127.0.0.1") == ["198.18.0.12"]
        assert dns.lookup("openfoodfacts.org", "AAAA", "127.0.0.1") == []
        assert dns.lookup("forgotten.example.org", "A", "127.0.0.1") == []
    finally:
        dns._udp = real
        srv.close()


def real_udp(server, packet, timeout, port):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        s.sendto(packet, (server, port))
        return s.recv(4096)


def test_no_server_answering_is_an_error_not_an_empty_answer():
    with pytest.raises(dns.DnsError, match="no answer"):
        dns.lookup("openfoodfacts.org", "A", "127.0.0.1", timeout=0.2)   # nothing on the loopback's port 53


def test_port_probe_lines_ipv4_and_ipv6():
    got = parse_ports(["198.18.0.12:443 open", "[2001:41d0:203::12]:27017 open", "198.18.0.1:8006 filtered",
                       "198.18.0.12:22 error [Errno 113] No route to host"])
    assert got["[2001:41d0:203::12]:27017"] == "open"
    assert got["198.18.0.12:22"].startswith("error: ")
    assert split_endpoint("[2001:41d0:203::12]:27017") == ("2001:41d0:203::12", 27017)
    with pytest.raises(ValueError):
        parse_ports(["@@unread off2-reverse-proxy: ss: exit 1"])


def test_visitor_lines_give_each_name_its_visits_and_certificate():
    line = ('{"dns": {"A": ["198.18.0.12"], "AAAA": [], "error": ""}, "name": "openfoodfacts.org", "visits": '
            '[{"address": "198.18.0.12", "fingerprint": "AB:CD", "names": ["openfoodfacts.org"], '
            '"not_after": "2027-12-01T10:00:00Z", "says": "HTTP/1.1 200 OK", "seconds": 0.05, "status": 200, '
            '"tls": true, "verify": ""}]}')
    seen = parse_names([line, '{"dns": {"A": [], "AAAA": [], "error": "A: 198.18.0.53 answered REFUSED"}, '
                              '"name": "world.openfoodfacts.org", "visits": []}'])
    v = seen["openfoodfacts.org"].visits[0]
    assert v.status == 200 and v.served.covers("openfoodfacts.org")
    assert v.served.not_after == datetime.datetime(2027, 12, 1, 10, tzinfo=datetime.timezone.utc)
    assert seen["world.openfoodfacts.org"].dns_error.endswith("REFUSED")
    with pytest.raises(ValueError):
        parse_names(["not json"])


def test_upstream_lines():
    assert parse_upstream(["openfoodfacts.org 10.1.0.113:80 200", "pro.openfoodfacts.org 10.1.0.114:80 000 curl-exit-7"]) \
        == {"openfoodfacts.org": ("10.1.0.113:80", 200), "pro.openfoodfacts.org": ("10.1.0.114:80", 0)}


def _seen(name="openfoodfacts.org", a=("198.18.0.12",), aaaa=(), error="", **visit):
    v = {"address": (a + aaaa)[0] if a + aaaa else "", "tls": True, "status": 200,
         "says": "served-by=apache application=off container=off", **visit}
    return NameSeen(name, tuple(a), tuple(aaaa), error, (Visit(**v),) if a + aaaa else ())


SAYS = "application={application}"


def rule(seen, expected=("198.18.0.12",), own=("198.18.0.12",), app="off"):
    return name_problems(seen, list(expected), set(own), app, SAYS, 10)


def test_a_name_answering_from_its_own_application_is_green():
    assert rule(_seen()) == []
    # production-like: IPv4 and IPv6 of the proxy, both answering
    both = NameSeen("openfoodfacts.org", ("213.36.253.214",), ("2001:bc8:2::214",), "",
                    (Visit("213.36.253.214", True, 301, says="application=off"),
                     Visit("2001:bc8:2::214", True, 301, says="application=off")))
    assert rule(both, ["213.36.253.214"], {"213.36.253.214", "2001:bc8:2::214"}) == []


def test_each_way_a_name_fails_a_visitor_is_named():
    assert "does not resolve" in rule(_seen(a=(), error="A: no answer from 198.18.0.53: timed out"))[0]
    assert "not to the spec's 198.18.0.12" in rule(_seen(a=("198.18.0.99",)))[0]
    assert "none of its server's public addresses" in rule(_seen(aaaa=("2001:db8::1",)))[0]
    assert "no TLS handshake" in rule(_seen(tls=False, status=None, error="[Errno 113] No route to host"))[0]
    assert "answered HTTP 502" in rule(_seen(status=502))[0]
    assert "not from off" in rule(_seen(says="served-by=apache application=obf"))[0]
    assert "after 12.0 s" in rule(_seen(seconds=12.0))[0]
    assert rule(_seen(says="anything"), app=None) == []   # a name the spec forgot: no application to expect


def test_stunnel_clients_on_wildcards_or_public_addresses_are_found():
    text = """; as confs/ovh-stunnel-client/stunnel/off.conf
foreground = yes
[mongodb]
client = yes
accept = 0.0.0.0:27017
connect = 213.36.253.214:27017
[redis]
client = yes
accept = 6379
connect = 213.36.253.214:6379
[memcached]
client = yes
accept = 213.36.253.206:11211
connect = 213.36.253.214:11211
[postgres]
client = yes
accept = 10.1.0.113:5432
connect = 213.36.253.214:5432
[server]
client = no
accept = 213.36.253.214:27017
connect = 10.1.0.102:27017
"""
    internal = lambda a: a.startswith("10.")
    got = stunnel_client_problems({"/etc/stunnel/off.conf": parse_stunnel_text(text)}, internal)
    assert [(line, msg.split("]")[0]) for _, line, msg in got] == [(5, "[mongodb"), (9, "[redis"), (13, "[memcached")]
    assert "public address" in got[2][2]


def _ca_and_site(tmp_path, name, days=90):
    """A CA file and a certificate + key for `name` signed by it (as the lab's CA makes them)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(1).not_valid_before(now - datetime.timedelta(days=1))
          .not_valid_after(now + datetime.timedelta(days=365))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True).sign(ca_key, hashes.SHA256()))
    cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(2)
            .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=days))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    (tmp_path / "ca.pem").write_bytes(ca.public_bytes(pem))
    (tmp_path / "site.pem").write_bytes(cert.public_bytes(pem))
    (tmp_path / "site.key").write_bytes(key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                                          serialization.NoEncryption()))
    return tmp_path / "ca.pem"


def _https_server(tmp_path, body):
    import ssl
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(tmp_path / "site.pem", tmp_path / "site.key")
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen()

    def serve():
        for _ in range(2):
            conn, _ = srv.accept()
            try:
                with ctx.wrap_socket(conn, server_side=True) as tls:
                    tls.settimeout(2)
                    try:
                        tls.recv(4096)
                        tls.sendall(body)
                    except OSError:
                        pass
            except (OSError, ssl.SSLError):
                pass

    threading.Thread(target=serve, daemon=True).start()
    return srv


def test_a_visit_reads_the_served_certificate_the_status_and_the_answer(tmp_path):
    from fixtures.probes.outside import Settings, visit
    ca = _ca_and_site(tmp_path, "openfoodfacts.org", days=5)
    srv = _https_server(tmp_path, b"HTTP/1.1 200 OK\r\nContent-Length: 22\r\n\r\napplication=off served")
    try:
        got = visit("openfoodfacts.org", "127.0.0.1", Settings(ca_file=str(ca), timeout=5), port=srv.getsockname()[1])
    finally:
        srv.close()
    assert got["tls"] and got["status"] == 200 and "application=off" in got["says"]
    assert got["names"] == ["openfoodfacts.org"] and got["verify"] == ""
    seen = parse_names(['{"dns": {"A": ["127.0.0.1"], "AAAA": [], "error": ""}, "name": "openfoodfacts.org", '
                        f'"visits": [{__import__("json").dumps(got)}]}}'])
    assert rule(seen["openfoodfacts.org"], ["127.0.0.1"], {"127.0.0.1"}) == []


def test_a_certificate_not_chaining_to_the_trusted_ca_is_told(tmp_path):
    from fixtures.probes.outside import Settings, visit
    (tmp_path / "other").mkdir()
    other = _ca_and_site(tmp_path / "other", "x.org")          # another CA (same name, another key)
    _ca_and_site(tmp_path, "openfoodfacts.org")
    srv = _https_server(tmp_path, b"HTTP/1.1 503 Service Unavailable\r\n\r\n")
    try:
        got = visit("openfoodfacts.org", "127.0.0.1", Settings(ca_file=str(other), timeout=5), port=srv.getsockname()[1])
    finally:
        srv.close()
    assert got["tls"] and got["status"] == 503   # the handshake completes: what is served is still read
    assert got["verify"]                          # but a browser would refuse it (NET-6 says why)


def test_nothing_listening_is_no_handshake():
    from fixtures.probes.outside import Settings, visit
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    got = visit("openfoodfacts.org", "127.0.0.1", Settings(timeout=2), port=port)
    assert not got["tls"] and "refused" in got["error"].lower()


def _facts(listen, addrs):
    from fixtures.facts import Facts
    text = ("@@@listen\n" + "\n".join(listen) + "\n@@@.rc listen 0 \n@@@addrs\n" + "\n".join(addrs)
            + "\n@@@.rc addrs 0 \n@@@end\n")
    return Facts("ovh-stunnel-client", text)


def test_a_port_the_machine_shows_listening_publicly_is_net2s_else_net8s():
    from checks.test_outside import _shown_listening
    internal = lambda a: a.startswith("10.")
    f = _facts(['LISTEN 0 128 0.0.0.0:27017 0.0.0.0:* users:(("stunnel4",pid=10,fd=7))',
                'LISTEN 0 128 10.1.3.113:6379 0.0.0.0:* users:(("stunnel4",pid=10,fd=8))'],
               ["1: eth0    inet 10.1.3.113/24 brd 10.1.3.255 scope global eth0",
                "2: eth1    inet 198.18.0.128/24 brd 198.18.0.255 scope global eth1"])
    assert _shown_listening(f, "198.18.0.128", 27017, internal)        # the wildcard takes the public address
    assert not _shown_listening(f, "198.18.0.128", 6379, internal)     # answered though nothing listens there
    assert not _shown_listening(f, "198.18.0.128", 8080, internal)


def test_net2_leaves_a_stunnel_clients_own_accept_to_net8():
    from checks.test_net import _stunnel_client_accepts, _wild
    from fixtures.facts import Facts
    conf = "[mongodb]\nclient = yes\naccept = 0.0.0.0:27017\nconnect = 198.18.0.12:27017\n[redis]\nclient = yes\n" \
           "accept = 10.1.3.113:6379\nconnect = 198.18.0.12:6379\n"
    f = Facts("ovh-stunnel-client", "@@@stunnel\n@@file /etc/stunnel/off.conf\n" + conf + "@@@.rc stunnel 0 \n@@@end\n")
    accepts = _stunnel_client_accepts(f)
    assert (_wild("0.0.0.0"), 27017) in accepts and ("10.1.3.113", 6379) in accepts
    assert (_wild("0.0.0.0"), 11211) not in accepts     # another listener on a wildcard stays NET-2's
