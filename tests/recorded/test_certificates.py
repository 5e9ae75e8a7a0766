"""NET-6's diagnosis (issue 18): a served certificate that does not cover the public name was called
"an older certificate still served" (and the fix was a reload). The check now says whether the file on
disk or only the served one is wrong, and whether by dates or by names (confs.check_tls.certificate_problem,
which the provisioner calls too)."""
from checks import test_web
from confs.check_tls import certificate_problem
from fixtures.probes.network import parse_tls
from tests.recorded.harness import replaced, run, section, served_to_visitor

NAME = "openfoodfacts.org"
CLOCK = "1799971200"                     # 2027-01-15 00:00 UTC
FP_A = "sha256 Fingerprint=AA:" + ":".join(["11"] * 31)
FP_B = "sha256 Fingerprint=BB:" + ":".join(["22"] * 31)


def _cert(end, names, fingerprint):
    return [f"notAfter={end} GMT", "X509v3 Subject Alternative Name: ",
            "    " + ", ".join(f"DNS:{n}" for n in names), fingerprint]


def _fleet(fleet, shipped, served, on_disk):
    """The proxy of NAME serving `served`; its configured file (as nginx -T names it) holding `on_disk`
    (None: the certificate files' reading failed)."""
    proxy = next(c.proxy.name for c in shipped.chains() if c.public_name == NAME)
    path = next(s.certificate for s in fleet[proxy].nginx_servers if NAME in s.names and s.certificate)
    text = served_to_visitor(fleet[proxy].text, NAME, [f"@@name {NAME}", *served, "@@rc 0"])
    if on_disk is None:
        text = section(text, "certfiles", [], rc=1, err="permission missing: sudo -n /bin/sh -c ...")
    else:
        text = section(text, "certfiles", [f"@@name {path}", *on_disk, "@@rc 0"])
    return replaced(fleet, shipped, proxy, section(text, "clock", [CLOCK])), path


def _net6(f, shipped):
    return run(test_web.test_public_certificate_is_valid_long_enough, NAME, f, shipped)


def test_served_for_other_names_and_the_file_is_the_same_says_the_file_is_wrong_by_names(fleet, shipped):
    other = _cert("Jan 16 00:00:00 2028", ["other.example"], FP_A)
    f, path = _fleet(fleet, shipped, other, other)
    outcome, message = _net6(f, shipped)
    assert outcome == "failed" and "by names" in message and "by dates" not in message
    assert f"the file on disk {path} is the served certificate" in message and "only the served" not in message


def test_served_expiring_while_the_file_is_renewed_says_only_the_served_one_by_dates(fleet, shipped):
    f, path = _fleet(fleet, shipped, _cert("Jan 17 00:00:00 2027", [NAME], FP_A),
                     _cert("Jan 16 00:00:00 2028", [NAME], FP_B))
    outcome, message = _net6(f, shipped)
    assert outcome == "failed" and "by dates" in message and "by names" not in message
    assert "only the served one is wrong" in message and path in message


def test_served_for_other_names_while_the_file_is_right_says_only_the_served_one_by_names(fleet, shipped):
    f, _ = _fleet(fleet, shipped, _cert("Jan 16 00:00:00 2028", ["other.example"], FP_A),
                  _cert("Jan 16 00:00:00 2028", [NAME], FP_B))
    outcome, message = _net6(f, shipped)
    assert outcome == "failed" and "by names" in message and "only the served one is wrong" in message


def test_files_unreadable_is_said_and_no_cause_is_guessed(fleet, shipped):
    f, _ = _fleet(fleet, shipped, _cert("Jan 16 00:00:00 2028", ["other.example"], FP_A), None)
    outcome, message = _net6(f, shipped)
    assert outcome == "failed" and "was not compared" in message and "permission missing" in message
    assert "only the served" not in message and "reload nginx and check" not in message


def test_a_good_certificate_passes(fleet, shipped):
    good = _cert("Jan 16 00:00:00 2028", [NAME], FP_A)
    f, _ = _fleet(fleet, shipped, good, good)
    assert _net6(f, shipped) == ("passed", "")


def test_certificate_problem_for_the_provisioner():
    """The provisioner's NET-6 remedy reloads only where `where == "served"`."""
    import datetime
    now = datetime.datetime(2027, 1, 15, tzinfo=datetime.timezone.utc)
    read = parse_tls(["@@name served", *_cert("Jan 16 00:00:00 2028", ["x.example"], FP_A), "@@rc 0",
                      "@@name /f.pem", *_cert("Jan 17 00:00:00 2027", ["x.example"], FP_B), "@@rc 0"])
    problem = certificate_problem(NAME, read["served"], {"/f.pem": read["/f.pem"]}, now=now, min_days=14)
    assert (problem.where, problem.by, problem.file_by) == ("file", ("names",), ("dates", "names"))
    assert problem.files == ("/f.pem",) and "not the one served" in problem.message
    assert certificate_problem("x.example", read["served"], {}, now=now, min_days=14) is None
