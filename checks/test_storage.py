"""STO: data and software apart, every data folder its own dataset, shared where the spec says."""
from checks import targets
from checks.requirement import report, requirement


def _where(c):
    return f"application container {c.name} on {c.host} ({c.application})"


def _mount_problems(f, mounts):
    problems = []
    for path, m in sorted(mounts.items()):
        found = f.mounts.get(path)
        if found is None:
            problems.append(f"{path} is not a mount (a plain folder?); expected dataset {m.dataset} of {m.host} "
                            f"({m.why} {m.folder} of {m.flavor})")
        elif found["source"].lstrip("/") != m.dataset:
            problems.append(f"{path} is mounted from {found['source']} ({found['fstype']}); expected dataset {m.dataset}")
    return problems


SHARED_FOLDERS = ("users", "orgs")      # STO-3
IMAGES_FOLDER = "images"                # STO-4


def requirement_of(mount):
    """Which requirement a mount of the spec stands for, so each missing mount turns one check red."""
    if mount.why == "movable":
        return "STO-5"
    if mount.folder in SHARED_FOLDERS:
        return "STO-3"
    if mount.folder == IMAGES_FOLDER:
        return "STO-4"
    return "STO-2"


def _check(req, target, facts, arch):
    mounts = {p: m for p, m in arch.mounts(target.application).items() if requirement_of(m) == req}
    report(_mount_problems(facts[target.name], mounts), _where(target))


@requirement("STO-1", over=targets.app_containers)
def test_software_tree_links_to_data(target, facts, arch):
    f = facts[target.name]
    root = arch.software_root(target.application)
    app = arch.spec.applications[target.application]
    problems = []
    for link, folder in arch.spec.software_links.items():
        expected = f"{app.mount_root}/{folder}"
        found = f.links.get(f"{root}/{link}", "-")
        if found != expected:
            problems.append(f"{root}/{link} is {'not a link' if found == '-' else 'a link to ' + found}; "
                            f"expected a link to the dataset at {expected}")
    if root in f.mounts:
        problems.append(f"{root} is itself a mount ({f.mounts[root]['source']}); the software tree holds no data")
    report(problems, _where(target))


@requirement("STO-2", over=targets.app_containers)
def test_data_folders_are_datasets(target, facts, arch):
    _check("STO-2", target, facts, arch)


@requirement("STO-3", over=targets.app_containers)
def test_users_and_orgs_are_shared(target, facts, arch):
    _check("STO-3", target, facts, arch)


@requirement("STO-4", over=targets.app_containers)
def test_product_images_are_shared_with_the_producer_platform(target, facts, arch):
    _check("STO-4", target, facts, arch)


@requirement("STO-5", over=targets.app_containers)
def test_other_flavors_products_are_mounted(target, facts, arch):
    _check("STO-5", target, facts, arch)


@requirement("STO-6", over=targets.app_containers)
def test_assets_are_read_only(target, facts, arch):
    f = facts[target.name]
    problems = []
    for name, path in sorted(arch.assets(target.application).items()):
        found = f.mounts.get(path)
        if found is None:
            problems.append(f"{path} ({name}) is not mounted; expected the published {name} volume, read-only")
        elif "ro" not in found["options"]:
            problems.append(f"{path} ({name}) is mounted read-write ({','.join(found['options'][:2])}); "
                            "expected read-only (ro)")
        problems += _writable_below(f.mounts, path, name)
    report(problems, _where(target))


def _writable_below(mounts, path, name):
    """Every mount under an asset folder is read-only too: a read-write one below a read-only folder
    makes that part of the published assets writable."""
    return [f"{below} ({found['fstype']} {found['source']}) is mounted read-write below {path} ({name}); "
            "every mount at or under an asset folder is read-only (ro)"
            for below, found in sorted(mounts.items())
            if below.startswith(path.rstrip("/") + "/") and "ro" not in found["options"]]
