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


def reads_all_containers(target, arch):
    return [c.name for c in arch.containers()]


def reads_stunnel_containers(target, arch):
    return [c.name for c in arch.stunnel_containers()]
