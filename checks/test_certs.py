"""Certificates are renewed where they are served (NET-9, from 2023-09-27-expired-ssl-certificate-for-images-on-off2
and 2024-01-19-certbot-failure-off2-proxy): for each name a machine serves over TLS, a renewal configuration
whose plugins are installed, the renewal timer enabled and active, the renewal service not failed and
reporting its failures (OnFailure=), and nginx configured with the newest certificate on disk."""
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


def name_problems(state, certfiles, names, renewal):
    """What NET-9 finds for each name. certfiles {path: Served}: the certificate files nginx is configured
    with (`ssl_certificate` of nginx -T, read on disk): one of them must be certbot's newest for the name
    (nginx pointing at live/<name>/fullchain.pem is; a copy made by hand is not once renewed). Whether
    nginx was reloaded since is NET-6's (what the visitor is served)."""
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
        if any(s.fingerprint and _fp(s.fingerprint) == _fp(r.fingerprint) for s in certfiles.values()):
            continue
        unread = [f"{path} ({s.error or 'no fingerprint'})" for path, s in certfiles.items() if not s.fingerprint]
        if unread or not certfiles:
            raise MissingEvidence(f"{name}: nginx's certificate files could not all be read: "
                                  f"{', '.join(unread) or 'no ssl_certificate in nginx -T'}")
        problems.append(f"{name}: nginx is configured with no file holding the newest certificate on disk "
                        f"({renewal.config_dir}/archive/{name}/cert{r.newest}.pem; its files: "
                        f"{', '.join(sorted(certfiles))}): it serves an older one; point ssl_certificate at "
                        f"{renewal.config_dir}/live/{name}/fullchain.pem and reload nginx")
    return problems


@requirement("NET-9", over=tls_machines)
def test_certificates_are_renewed_where_served(target, facts, arch):
    f = facts[target.name]
    state = f.evidence("certbot")
    names = arch.served_names(target.name)
    renewal = arch.spec.web.renewal
    problems = unit_problems(state, renewal) + name_problems(state, f.evidence("certfiles"), names, renewal)
    report(problems, _where(target))
