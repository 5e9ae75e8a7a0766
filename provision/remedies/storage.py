"""Storage (STO-*): the software tree's links, datasets mounted in the containers, read-only assets, space."""
from pyinfra import host
from pyinfra.api import FactBase, StringCommand, operation
from pyinfra.facts.files import Link
from pyinfra.operations import files

from provision.remedies import Action, Manual, _facts, _ids, first_problem, guest_lines, remedy


class FolderEntries(FactBase):
    """How many entries a real folder (not a link) holds; None when the path is not such a folder."""

    def command(self, path):
        return f"if [ -d {path} ] && [ ! -L {path} ]; then ls -A {path} | wc -l; else echo none; fi"

    def process(self, output):
        value = output[0].strip() if output else "none"
        return int(value) if value.isdigit() else None



@operation()
def link_in_place_of_empty_folder(path: str, target: str):
    """Make `path` a link to `target`; an empty folder in its place is removed first (rmdir only
    removes an empty one), a folder holding files is left alone (nothing planned)."""
    link = host.get_fact(Link, path=path)
    if link and link.get("link_target") == target:
        return
    if link:   # a link to elsewhere: pyinfra points it at the target
        yield from files.link._inner(path=path, target=target)
        return
    entries = host.get_fact(FolderEntries, path=path)
    if entries:
        return   # it holds files: a person moves them (the fallback)
    if entries == 0:
        yield StringCommand("rmdir", path)
    yield StringCommand("ln", "-s", target, path)



# --- storage --------------------------------------------------------------------------------------

@remedy("STO-1")
def software_links(f, arch, audit):
    c = f.target
    facts = _facts(audit, c.name)
    root, app = arch.software_root(c.application), arch.spec.applications[c.application]
    ops, manual = [], []
    for link, folder in arch.spec.software_links.items():
        path, target = f"{root}/{link}", f"{app.mount_root}/{folder}"
        if facts.links.get(path, "-") != target:
            ops.append((link_in_place_of_empty_folder, dict(name=f"{path} -> {target} (an empty folder in its "
                                                                 "place removed; one with files left alone)",
                                                            path=path, target=target)))
            manual += [f"ls -A {path}  # files here belong in {target}",
                       f"mv {path} {path}.plain-$(date +%Y%m%d) && ln -s {target} {path}",
                       f"rsync -a --ignore-existing {path}.plain-*/ {target}/  # then check and decide"]
    fallback = Manual(c.name, *_ids(f), "the software tree holds data where links to the datasets belong",
                      [f"# in {c.name}:"] + manual)
    if root in facts.mounts:
        return [fallback]
    return [Action(c.name, *_ids(f), "link the software tree to the data folders", ops, fallback=fallback)] \
        if ops else [fallback]


@remedy("STO-2", "STO-3", "STO-4", "STO-5")
def dataset_not_mounted(f, arch, audit):
    c = f.target
    facts = _facts(audit, c.name)
    out = []
    for p, m in sorted(arch.mounts(c.application).items()):
        if p in facts.mounts:
            continue
        out.append(Manual(c.name, *_ids(f), f"{m.path} is a plain folder where dataset {m.dataset} of {m.host} "
                          "belongs; files written there since are not in the dataset",
                          [f"# in {c.name}: what is in the folder",
                           f"du -sh {m.path}; find {m.path} -xdev -type f | head",
                           f"mv {m.path} {m.path}.plain-$(date +%Y%m%d) && mkdir {m.path}",
                           f"# on {m.host}: mount the dataset into container {c.id} again and restart it",
                           f"pct set {c.id} -mpN /{m.dataset},mp={m.path}  # N: its mount point, see pct config {c.id}",
                           f"pct reboot {c.id}",
                           f"# then copy back what was written meanwhile: rsync -a --ignore-existing "
                           f"{m.path}.plain-*/ {m.path}/"]))
    return out


@remedy("STO-6")
def assets_read_write(f, arch, audit):
    c = f.target
    return [Manual(c.host, *_ids(f), f"built assets are mounted read-write in {c.name}: {first_problem(f)}",
                   [f"# on {c.host}: add ro=1 to each asset mount point of container {c.id}, restart it",
                    f"pct config {c.id} | grep ^mp", f"pct set {c.id} -mpN <volume>,mp=<path>,ro=1",
                    f"pct reboot {c.id}"])]




@remedy("STO-7")
def space_short(f, arch, audit):
    """Space is freed by removing or moving data, or given by growing a quota or a disk: a person's
    decision, never automatic. The manual step names, for each filesystem or dataset the check found
    short, the read-only commands that show what takes the space."""
    m = f.target
    commands = [f"# on {m.name}: what takes the space; then remove or move data, or grow the quota or disk"]
    for line in f.message.splitlines()[1:]:
        line = line.strip(" -")
        if line.startswith("dataset "):
            ds = line.split()[1].rstrip(":")
            commands += [f"zfs get -p quota,refquota,used,referenced,usedbysnapshots {ds}",
                         f"zfs list -o name,used,usedbysnapshots,usedbydataset -s used -r {ds} | tail"]
        elif line.startswith("/"):
            path = line.split(" (", 1)[0]
            commands += [f"df -h {path}", f"du -xh --max-depth=2 {path} 2>/dev/null | sort -h | tail -15"]
    for run, problem in guest_lines(f):   # a guest outside the spec: looked at through its host
        if problem.startswith("/"):
            path = problem.split(" (", 1)[0]
            commands += [f"{run} df -h {path}",
                         f"{run} sh -c 'du -xh --max-depth=2 {path} 2>/dev/null | sort -h | tail -15'"]
    if len(commands) == 1:
        commands += ["df -h -x tmpfs -x devtmpfs", "zfs get -p quota,refquota,used,referenced  # on a Proxmox host"]
    return [Manual(m.name, *_ids(f), f"{m.name} is short of free space: {first_problem(f)}", commands)]
