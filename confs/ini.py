"""A line-numbered reader for the INI dialects of stunnel and sanoid.

Full-line comments start with ';' or '#'. Option names are case-insensitive (stored lower-case).
Options before the first [section] belong to the global section (name None), allowed only
when the dialect has one (stunnel).

Repeats are read as the program reads them, and remembered (`Ini.repeats`) so the gate can name
both lines: a repeated [section] starts a new section (stunnel: a second service) or is merged into
the first one (sanoid, Config::IniFiles); a repeated option keeps the last value.
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


@dataclass(frozen=True)
class Repeat:
    what: str               # "section [x]" or "option y in [x]"
    first: int              # line of the first occurrence
    line: int               # line of the repeat


@dataclass
class Section:
    name: Optional[str]     # None for the global section
    line: int               # line of the [name] header (0 for the global section)
    options: dict = field(default_factory=dict)     # lower-case name -> Option

    def get(self, key):
        return self.options.get(key.lower())


class Ini(list):
    """[Section] in file order, with the repeats found while reading."""
    repeats = ()


def read_ini(text, global_section=False, merge_repeated_sections=True):
    current = Section(None, 0) if global_section else None
    sections = Ini([current] if current else [])
    sections.repeats = []
    seen = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line[0] in ";#":
            continue
        header = SECTION.match(line)
        if header:
            name = header.group(1).strip()
            if name in seen:
                sections.repeats.append(Repeat(f"section [{name}]", seen[name].line, number))
                if merge_repeated_sections:
                    current = seen[name]
                    continue
            current = Section(name, number)
            seen.setdefault(name, current)
            sections.append(current)
            continue
        option = OPTION.match(line)
        if not option:
            raise ConfParseError(number, f"cannot read {line!r}; expected 'name = value', '[section]' or a comment")
        if current is None:
            raise ConfParseError(number, f"option {option.group(1)!r} before any [section]")
        key = option.group(1).lower()
        if key in current.options:
            where = f"[{current.name}]" if current.name else "the global section"
            sections.repeats.append(Repeat(f"option {option.group(1)} in {where}", current.options[key].line, number))
        current.options[key] = Option(option.group(2).strip(), number)
    return sections
