"""Certificates are renewed where they are served (NET-9, from 2023-09-27-expired-ssl-certificate-for-images-on-off2
and 2024-01-19-certbot-failure-off2-proxy): for each name a machine serves over TLS, a renewal configuration
whose plugins are installed, the renewal timer enabled and active, the renewal service not failed and
reporting its failures (OnFailure=), and the certificate served the newest one on disk."""
from checks.requirement import report, requirement


def tls_machines(arch):
    return [m for m in arch.machines() if arch.served_names(m.name)]


def _where(m):
    return f"{m.role} {m.name}" + (f" on {m.host}" if m.host != m.name else "")


def _fp(text):
    return text.split("=", 1)[-1].strip().replace(":", "").upper()


def unit_problems(state, renewal):
    problems = []
    timer = state.units.get(renewal.timer, {})
    service = state.units.get(renewal.service, {})
    if timer.get("LoadState") != "loaded":
        problems.append(f"{renewal.timer} is not installed ({timer.get('LoadState', 'not read')}): nothing renews "
                        "the certificates")
    elif timer.get("UnitFileState") not in ("enabled", "enabled-runtime", "static") or timer.get("ActiveState") != "active":
        problems.append(f"{renewal.timer} is {timer.get('UnitFileState', '?')} and {timer.get('ActiveState', '?')}; "
                        f"expected enabled and active: `systemctl enable --now {renewal.timer}`")
    if service.get("LoadState") == "loaded":
        if service.get("ActiveState") == "failed":
            problems.append(f"{renewal.service} failed ({service.get('Result', '?')}): the last renewal did not "
                            f"happen: `journalctl -u {renewal.service} -n 50`, /var/log/letsencrypt/letsencrypt.log")
        if not service.get("OnFailure", "").strip():
            problems.append(f"{renewal.service} has no OnFailure=: a failed renewal tells no one (the users' "
                            "confs/off1-reverse-proxy/systemd/system/certbot.service.d/override.conf sets "
                            "OnFailure=email-failures@certbot.service)")
    else:
        problems.append(f"{renewal.service} is not installed ({service.get('LoadState', 'not read')})")
    return problems


def name_problems(state, served, names, renewal):
    """What NET-9 finds for each name: {name: Served} is what the visitor's handshake got (NET-6's probe)."""
    from fixtures.probes import MissingEvidence
    problems = []
    conf = f"{renewal.config_dir}/renewal"
    for name in names:
        r = state.renewals.get(name)
        if r is None or not r.configured:
            problems.append(f"{name}: no renewal configuration {conf}/{name}.conf (with an authenticator): its "
                            "certificate is never renewed")
        else:
            for role, plugin in (("authenticator", r.authenticator), ("installer", r.installer)):
                if plugin and plugin not in state.plugins:
                    problems.append(f"{name}: {conf}/{name}.conf's {role} {plugin} is not installed (plugins "
                                    f"installed: {', '.join(sorted(state.plugins)) or 'none'}): renewal fails")
        if r is None or r.newest is None:
            problems.append(f"{name}: no certificate in {renewal.config_dir}/archive/{name}/")
            continue
        s = served.get(name)
        if s is None or not s.fingerprint:
            why = s.error if s is not None and s.error else "no fingerprint read"
            raise MissingEvidence(f"{name}: the certificate served could not be read ({why})")
        if _fp(s.fingerprint) != _fp(r.fingerprint):
            problems.append(f"{name}: the certificate served is not the newest on disk "
                            f"({renewal.config_dir}/archive/{name}/cert{r.newest}.pem): nginx serves an older one; "
                            "`systemctl reload nginx` (and a renewal deploy hook that reloads it)")
    return problems


@requirement("NET-9", over=tls_machines)
def test_certificates_are_renewed_where_served(target, facts, arch):
    f = facts[target.name]
    state = f.evidence("certbot")
    names = arch.served_names(target.name)
    renewal = arch.spec.web.renewal
    problems = unit_problems(state, renewal) + name_problems(state, f.evidence("tls"), names, renewal)
    report(problems, _where(target))
