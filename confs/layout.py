"""Where each kind of file lives in a machine's folder(s) of the configuration repository.

A machine's folders are the spec's (arch.conf_dirs(machine): the users' convention, one folder per
server, container or VM, unless the spec names others; one folder may serve several machines).
Paths below are inside a folder; Proxmox container definitions sit in the host's folder, by id.
The clean example repository (confs.example) writes into each machine's first folder.
"""
import re

ROOT = "confs"


def dirs(arch, machine):
    return list(arch.conf_dirs(machine))


def sharing(arch, repo, name):
    """The folders read together with folder `name`: it and every folder of the machines that use it (the
    spec's conf_dirs); a folder no machine of the spec names is read alone."""
    machines = repo.machines_of_folder.get(name, [])
    return sorted({name} | {d for m in machines for d in dirs(arch, m)})


def folder(arch, machine):
    """The folder a missing file of a machine is expected in (its first)."""
    return f"{ROOT}/{dirs(arch, machine)[0]}"


def machine_dir(arch, name):
    return folder(arch, name)


def stunnel_dir(arch, name):
    return f"{folder(arch, name)}/stunnel"          # *.conf


def nginx_dir(arch, name):
    return f"{folder(arch, name)}/nginx"            # every config file below, any depth


def pve_inner(container_id):
    return f"pve/lxc_{container_id}.conf"


def pve_file(arch, host, container_id):
    return f"{folder(arch, host)}/{pve_inner(container_id)}"


def sanoid_file(arch, host):
    return f"{folder(arch, host)}/sanoid/sanoid.conf"


def syncoid_file(arch, host):
    return f"{folder(arch, host)}/sanoid/syncoid-args.conf"


def is_pve_of(container_id):
    pattern = re.compile(rf"(^|/)pve/lxc_{container_id}\.conf$")
    return lambda inner: bool(pattern.search(inner))


def named(name):
    return lambda inner: inner.rsplit("/", 1)[-1] == name
