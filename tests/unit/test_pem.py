"""Certificates read as PEM and parsed here (fixtures/probes/pem.py) give what `openssl x509` printed before
(readings kept then still parse): end date, DNS names, SHA-256 fingerprint; the probes' shell prints the first
certificate of a file and nothing of a private key beside it."""
import datetime
import subprocess

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from fixtures.probes.certs import parse_certbot
from fixtures.probes.network import parse_tls
from fixtures.probes.pem import FIRST_CERTIFICATE

OLD_FIELDS = ["openssl", "x509", "-noout", "-enddate", "-ext", "subjectAltName", "-fingerprint", "-sha256"]


def certificate(names, days=90):
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])])
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=days))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)
            .sign(key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    return cert.public_bytes(serialization.Encoding.PEM).decode(), key_pem


def shell(command, stdin="", *files):
    return subprocess.run(["sh", "-c", f'{command} "$@"', "sh", *map(str, files)], input=stdin,
                          capture_output=True, text=True, check=True).stdout.splitlines()


def test_the_pem_gives_what_openssl_printed(tmp_path):
    pem, _ = certificate(["world.example.org", "*.example.org"])
    other, _ = certificate(["other.example"])
    chain = tmp_path / "fullchain.pem"
    chain.write_text(pem + other)   # the leaf first, then the chain: the leaf is read
    new = parse_tls(["@@name f", *shell(FIRST_CERTIFICATE, "", chain), "@@rc 0"])["f"]
    old = parse_tls(["@@name f", *shell(" ".join(OLD_FIELDS) + " -in", "", chain), "@@rc 0"])["f"]
    assert new == old and new.not_after and new.names == ("world.example.org", "*.example.org")
    assert new.fingerprint.count(":") == 31 and not new.error


def test_only_the_first_certificate_is_printed_never_a_key(tmp_path):
    pem, key = certificate(["a.example"])
    combined = tmp_path / "combined.pem"
    combined.write_text(key + pem + key)   # nginx accepts a key beside the certificate in one file
    printed = "\n".join(shell(FIRST_CERTIFICATE, "", combined))
    assert printed.strip() == pem.strip()
    assert "PRIVATE KEY" not in printed
    served = "CONNECTED(00000003)\n---\nServer certificate\n" + pem + "subject=CN = a.example\n"
    assert "\n".join(shell(FIRST_CERTIFICATE, served)).strip() == pem.strip()


@pytest.mark.parametrize("lines, says", [
    ([], "no certificate read"),
    (["no certificate in the answer to the TLS handshake"], "no certificate in the answer"),
    (["-----BEGIN CERTIFICATE-----", "MIIB"], "cut short"),
    (["-----BEGIN CERTIFICATE-----", "not base64!", "-----END CERTIFICATE-----"], "unreadable certificate"),
])
def test_no_certificate_or_a_broken_one_says_why(lines, says):
    served = parse_tls(["@@name n", *lines, "@@rc 1"])["n"]
    assert served.not_after is None and says in served.error


def test_certbot_archive_fingerprint_from_the_pem_as_openssl_printed_it(tmp_path):
    pem, _ = certificate(["world.example.org"])
    cert = tmp_path / "cert3.pem"
    cert.write_text(pem)
    old_line = shell("openssl x509 -noout -fingerprint -sha256 -in", "", cert)
    head = ["@@units", "Id=certbot.timer", "", "@@renewal world.example.org", "authenticator = webroot"]
    new = parse_certbot([*head, "@@archive world.example.org 3", *shell(FIRST_CERTIFICATE, "", cert), "@@plugins"])
    old = parse_certbot([*head, "@@archive world.example.org 3", *old_line, "@@plugins"])
    assert new == old and new.renewals["world.example.org"].fingerprint


def test_certbot_archive_that_is_not_a_certificate_is_an_error_not_a_fingerprint():
    body = ["-----BEGIN CERTIFICATE-----", "aGVsbG8gd29ybGQ=", "-----END CERTIFICATE-----"]
    with pytest.raises(ValueError):
        parse_certbot(["@@units", "Id=certbot.timer", "", "@@archive world.example.org 3", *body, "@@plugins"])
