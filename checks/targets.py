"""Spec queries that parametrize checks, and which machines each target's check reads."""


def app_containers(arch):
    return arch.app_containers()


def containers(arch):
    return arch.containers()


def stunnel_containers(arch):
    return arch.stunnel_containers()


def databases(arch):
    return list(arch.spec.databases)


def chains(arch):
    return arch.chains()


def links(arch):
    return arch.links()


def reads_proxy(chain, arch):
    return [chain.proxy.name]


def reads_database_home(kind, arch):
    return [arch.spec.databases[kind].container]


def reads_link_ends(link, arch):
    return [link.server.name, link.client.name]
