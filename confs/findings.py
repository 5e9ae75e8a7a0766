"""A finding: one requirement broken in one place of the configuration repository."""
from dataclasses import dataclass
from typing import Optional


@dataclass(frozen=True, order=True)
class Finding:
    requirement: str        # requirement ID, e.g. "NET-3"
    file: str               # path relative to the repository root, e.g. "confs/off2/pve/lxc_113.conf"
    line: Optional[int]     # 1-based line, None when the problem is something missing from the file
    message: str            # what was expected, what was found, where

    @property
    def where(self):
        return f"{self.file}:{self.line}" if self.line else self.file

    def __str__(self):
        return f"{self.where}: {self.message}"
