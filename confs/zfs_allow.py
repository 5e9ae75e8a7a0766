"""`zfs allow <dataset>` output (OpenZFS): the delegations on the dataset and on each ancestor
that has some, e.g.

    ---- Permissions on zfs-nvme ----------------------------------------
    Local+Descendent permissions:
            user off1operator hold,send

A right reaches a dataset when it is granted on the dataset itself (Local, Local+Descendent) or on
an ancestor (Descendent, Local+Descendent). Permission sets (@name) are resolved."""
import re
from dataclasses import dataclass, field

HEADER = re.compile(r"^-+ Permissions on (\S+) -*\s*$")
KINDS = {"Local permissions:": "local", "Descendent permissions:": "descendent",
         "Local+Descendent permissions:": "both", "Permission sets:": "sets",
         "Create time permissions:": "create"}


@dataclass
class Block:
    dataset: str
    grants: list = field(default_factory=list)    # (kind, who, name, [rights])
    sets: dict = field(default_factory=dict)      # @name -> [rights]


def parse_allow(lines):
    blocks, block, kind = [], None, None
    for raw in lines:
        m = HEADER.match(raw.strip())
        if m:
            block = Block(m.group(1))
            blocks.append(block)
            kind = None
            continue
        if block is None:
            continue
        text = raw.strip()
        if text in KINDS:
            kind = KINDS[text]
            continue
        words = text.split()
        if not words or kind is None:
            continue
        if kind == "sets" and words[0].startswith("@") and len(words) == 2:
            block.sets[words[0]] = words[1].split(",")
        elif kind == "create":
            continue
        elif words[0] == "everyone" and len(words) == 2:
            block.grants.append((kind, "everyone", None, words[1].split(",")))
        elif words[0] in ("user", "group") and len(words) == 3:
            block.grants.append((kind, words[0], words[1], words[2].split(",")))
    return blocks


def rights_of(blocks, user, dataset):
    """{right: 'granted to <who> on <dataset>'} reaching `user` (directly or as everyone) on `dataset`.
    Rights granted to groups are left out (group membership is not read)."""
    out, sets = {}, {}
    for b in blocks:
        sets.update(b.sets)
    for b in blocks:
        here = b.dataset == dataset
        above = dataset.startswith(b.dataset + "/")
        for kind, who, name, rights in b.grants:
            if not ((here and kind in ("local", "both")) or (above and kind in ("descendent", "both"))):
                continue
            if who == "group" or (who == "user" and name != user):
                continue
            label = f"{'everyone' if who == 'everyone' else 'user ' + name} on {b.dataset}"
            for r in rights:
                for right in (sets.get(r, [r]) if r.startswith("@") else [r]):
                    out.setdefault(right, label)
    return out
