"""A line-numbered reader for the INI dialects of stunnel and sanoid.

Full-line comments start with ';' or '#'. Option names are case-insensitive (stored lower-case).
Options before the first [section] belong to the global section (name None), allowed only
when the dialect has one (stunnel); a section may appear once.
"""
import re
from dataclasses import dataclass, field
from typing import Optional

from confs.errors import ConfParseError

SECTION = re.compile(r"^\[([^\]]+)\]$")
OPTION = re.compile(r"^([A-Za-z0-9_.-]+)\s*=\s*(.*)$")


@dataclass(frozen=True)
class Option:
    value: str
    line: int


@dataclass
class Section:
    name: Optional[str]     # None for the global section
    line: int               # line of the [name] header (0 for the global section)
    options: dict = field(default_factory=dict)     # lower-case name -> Option

    def get(self, key):
        return self.options.get(key.lower())


def read_ini(text, global_section=False):
    """[Section] in file order; the first is the global section when global_section is True."""
    current = Section(None, 0) if global_section else None
    sections = [current] if current else []
    seen = set()
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line[0] in ";#":
            continue
        header = SECTION.match(line)
        if header:
            name = header.group(1).strip()
            if name in seen:
                raise ConfParseError(number, f"section [{name}] appears a second time; each section appears once")
            seen.add(name)
            current = Section(name, number)
            sections.append(current)
            continue
        option = OPTION.match(line)
        if not option:
            raise ConfParseError(number, f"cannot read {line!r}; expected 'name = value', '[section]' or a comment")
        if current is None:
            raise ConfParseError(number, f"option {option.group(1)!r} before any [section]")
        current.options[option.group(1).lower()] = Option(option.group(2).strip(), number)
    return sections
