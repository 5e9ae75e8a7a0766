"""NET-9 from the files: a machine of the spec that serves names over TLS (a reverse proxy's chains, the
images host) has, in its folders of the repository, a renewal configuration for each name
(letsencrypt/renewal/<name>.conf, as certbot writes it) and a failure notification on its renewal service
(OnFailure= in certbot.service or a drop-in, as confs/off1-reverse-proxy/systemd/system/certbot.service.d/
override.conf). 2024-01-19-certbot-failure-off2-proxy: the renewal failed and only Let's Encrypt's mail told."""
from confs import layout
from confs.check_units import unit_files
from confs.findings import Finding
from confs.systemd import unit_from_files

REQ = "NET-9"


def tls_machines(arch):
    """{machine: [names it serves over TLS]} from the spec."""
    out = {}
    for m in arch.machines():
        names = arch.served_names(m.name)
        if names:
            out[m.name] = names
    return out


def check(arch, repo):
    findings = []
    renewal = arch.spec.web.renewal
    for machine, names in tls_machines(arch).items():
        dirs = layout.dirs(arch, machine)
        if not any(repo.folder_exists(d) for d in dirs):
            continue                                   # no folder: nothing to judge from (the gate says so)
        here = layout.folder(arch, machine)
        inner = {s.inner for s in repo.seen if s.folder in dirs}
        for name in names:
            path = f"letsencrypt/renewal/{name}.conf"
            if path not in inner:
                findings.append(Finding(REQ, f"{here}/{path}", None,
                                        f"{machine} serves {name} over TLS and the repository holds no renewal "
                                        f"configuration for it ({path} in {', '.join(dirs)}): how it is renewed "
                                        "(authenticator, plugin) is not reviewed"))
        files = unit_files(repo, dirs, renewal.service)
        unit = unit_from_files(renewal.service, [(s.real, lines) for s, lines in files])
        if not [w for w, _ in unit.words("Unit", "OnFailure")]:
            findings.append(Finding(REQ, f"{here}/systemd/system/{renewal.service}.d/override.conf", None,
                                    f"{machine} serves {', '.join(names)} over TLS and its {renewal.service} has no "
                                    "OnFailure= in the repository: a failed renewal tells no one (as "
                                    "confs/off1-reverse-proxy/systemd/system/certbot.service.d/override.conf sets)"))
    return findings
