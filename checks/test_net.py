"""NET: network and secrets."""
from checks.requirement import report, requirement


def _links(arch):
    return arch.links()


def _reads_stunnel_machines(link, arch):
    return [c.name for c in arch.stunnel_containers()]


def _keys(f, path):
    entry = f.psk_files.get(path)
    return entry["entries"] if entry else []


@requirement("NET-3", over=_links, reads=_reads_stunnel_machines)
def test_stunnel_link_uses_its_own_psk(target, facts, arch):
    problems = []
    for end in (target.server, target.client):
        f = facts[end.name]
        service = f.stunnel_services.get(target.name)
        if service is None:
            problems.append(f"{end.name}: no [{target.name}] service in the stunnel configuration")
            continue
        if "PSK" not in service.get("ciphers", "").upper():
            problems.append(f"{end.name}: [{target.name}] in {service['_file']} has ciphers = "
                            f"{service.get('ciphers', '(unset)')}; expected PSK ciphers")
        if service.get("psksecrets") != target.psk_path:
            problems.append(f"{end.name}: [{target.name}] PSKsecrets = {service.get('psksecrets', '(unset)')}; "
                            f"expected its own file {target.psk_path}")
    mine = {d for end in (target.server, target.client) for d in _keys(facts[end.name], target.psk_path)}
    if not mine:
        problems.append(f"{target.server.name}: PSK file {target.psk_path} is missing or empty")
    for other in arch.links():
        if other.name == target.name:
            continue
        theirs = {d for end in (other.server, other.client) for d in _keys(facts[end.name], other.psk_path)}
        if {k for _, k in mine} & {k for _, k in theirs}:
            problems.append(f"the PSK key of link {target.name} ({target.psk_path}) is also the key of link "
                            f"{other.name} ({other.psk_path}); give each link its own key (digests compared, "
                            "no key printed)")
        if {i for i, _ in mine} & {i for i, _ in theirs}:
            problems.append(f"the PSK identity of link {target.name} is also used by link {other.name}")
    report(problems, f"stunnel link {target.name} ({target.client.name} -> {target.server.name})")
