"""Where each kind of file lives in the configuration repository (paths relative to its root).

One folder per machine: confs/<name>/ where <name> is a host or a container of the spec.
Proxmox container definitions sit under the host that runs them, by container id.
"""

ROOT = "confs"
NOT_NGINX_CONFIG = {".md", ".txt", ".pem", ".crt", ".key", ".sh", ".py", ".json", ".yaml", ".yml", ".html"}


def machine_dir(name):
    return f"{ROOT}/{name}"


def stunnel_dir(name):
    return f"{ROOT}/{name}/stunnel"          # *.conf


def nginx_dir(name):
    return f"{ROOT}/{name}/nginx"            # every config file below, any depth


def pve_file(host, container_id):
    return f"{ROOT}/{host}/pve/lxc_{container_id}.conf"


def sanoid_file(host):
    return f"{ROOT}/{host}/sanoid/sanoid.conf"


def syncoid_file(host):
    return f"{ROOT}/{host}/sanoid/syncoid-args.conf"
