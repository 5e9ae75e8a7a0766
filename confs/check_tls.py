"""NET-6's rule and diagnosis: the certificate a TLS handshake for a public name gets must cover the name
and stay valid long enough; when it does not, say whether the file on disk or only the served one is
wrong, and whether by dates or by names. `certificate_problem` is the one place that decides it: the check
reports its message, the provisioner chooses its remedy from its `where` (a reload only fixes "served").

A certificate (served or file) is anything with `not_after` (aware datetime or None), `names` (DNS names),
`fingerprint` (SHA-256, may be empty in old readings), `error` and `covers(name)`:
fixtures.probes.network.Served, as `openssl x509 -enddate -ext subjectAltName -fingerprint` reads it."""
from dataclasses import dataclass


@dataclass(frozen=True)
class CertificateProblem:
    where: str          # "served": the file on disk is right, nginx serves another certificate (a reload fixes it)
                        # "file": the file on disk is wrong too (renew or replace it, then reload)
                        # "unknown": no file on disk could be compared (none configured for the name, or unreadable)
    by: tuple           # what is wrong with the served certificate: ("dates",), ("names",) or both
    message: str
    files: tuple = ()   # the certificate files nginx is configured with for the name
    file_by: tuple = () # what is wrong with the file(s) on disk ("where" == "file")


def _faults(cert, name, now, min_days):
    out = []
    if cert.not_after is None or (cert.not_after - now).total_seconds() < min_days * 86400:
        out.append("dates")
    if not cert.covers(name):
        out.append("names")
    return tuple(out)


def _describe(cert, now):
    if cert.not_after is None:
        return cert.error or "unreadable"
    days = (cert.not_after - now).total_seconds() / 86400
    return (f"valid until {cert.not_after:%Y-%m-%d} ({days:.1f} days left), names "
            f"{', '.join(cert.names) or 'no DNS name'}")


def _same(a, b):
    if a.fingerprint and b.fingerprint:
        return a.fingerprint.replace(":", "").lower() == b.fingerprint.replace(":", "").lower()
    return (a.not_after, tuple(sorted(a.names))) == (b.not_after, tuple(sorted(b.names)))


def _wrong(by):
    return " and ".join({"dates": "by dates (expires too soon)", "names": "by names (does not cover it)"}[b] for b in by)


def certificate_problem(name, served, files, files_error="", *, now, min_days):
    """The diagnosis of the certificate served for `name`, or None when it covers the name for at least
    `min_days` more days. `files`: {path: certificate} of the files nginx is configured with for the name
    (`ssl_certificate` of the server blocks naming it); `files_error`: why they could not be read, if so."""
    by = _faults(served, name, now, min_days)
    if not by:
        return None   # (the files are then not looked at: call it with {} first to know whether to read them)
    head = f"the certificate served for {name} ({_describe(served, now)}) is wrong {_wrong(by)}"
    paths = tuple(sorted(files))
    if not files:
        why = files_error or "no server block of nginx -T names it with an ssl_certificate"
        return CertificateProblem("unknown", by, f"{head}; the file on disk was not compared ({why})", paths)
    readable = {p: c for p, c in files.items() if c.not_after is not None}
    if not readable:
        errors = "; ".join(f"{p}: {c.error or 'unreadable'}" for p, c in sorted(files.items()))
        return CertificateProblem("unknown", by, f"{head}; the file on disk could not be read ({errors})", paths)
    good = sorted(p for p, c in readable.items() if not _faults(c, name, now, min_days))
    if good:
        return CertificateProblem(
            "served", by, f"{head}; only the served one is wrong: the file on disk {good[0]} is right "
            f"({_describe(readable[good[0]], now)}) and nginx serves another certificate (not reloaded since the "
            "file changed, or the handshake reaches another server block): reload nginx and check again", paths)
    path = sorted(readable)[0]
    cert = readable[path]
    file_by = _faults(cert, name, now, min_days)
    if _same(cert, served):
        what = f"the file on disk {path} is the served certificate: renew or replace it ({name} must be among its names)"
    else:
        what = (f"the file on disk {path} is wrong too ({_describe(cert, now)}: {_wrong(file_by)}), and it is not the "
                "one served: renew or replace it")
    return CertificateProblem("file", by, f"{head}; {what}, then reload nginx", paths, file_by)
