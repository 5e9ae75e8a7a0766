"""systemd units as `systemctl cat` prints them: the unit file, then its drop-ins, each after a
`# <path>` line. Later files override earlier ones; for list settings (ExecStart=, OnFailure=, ...)
an empty assignment clears what came before, as systemd does."""
import re
import shlex
from dataclasses import dataclass

HEADER = re.compile(r"^# (/\S+)$")
# ExecStart= prefixes: '-' ignores the exit status; the others change privileges or specifier expansion
EXEC_PREFIXES = "-@:+!"


@dataclass(frozen=True)
class Setting:
    value: str
    file: str
    line: int

    @property
    def where(self):
        return f"{self.file}:{self.line}"


class Unit:
    def __init__(self, name, text_lines):
        self.name = name
        self.files = []
        self._settings = {}   # (section, key) -> [Setting]
        self.cleared = {}     # (section, key) -> the last empty assignment (it cleared what came before)
        file, section, n = None, None, 0
        for raw in text_lines:
            m = HEADER.match(raw)
            if m:
                file, section, n = m.group(1), None, 0
                self.files.append(file)
                continue
            n += 1
            line = raw.strip()
            if not line or line[0] in "#;":
                continue
            if line.startswith("[") and line.endswith("]"):
                section = line[1:-1]
                continue
            if "=" in line and section:
                key, value = (s.strip() for s in line.split("=", 1))
                values = self._settings.setdefault((section, key), [])
                if value == "":
                    values.clear()
                    self.cleared[(section, key)] = Setting(value, file or self.name, n)
                else:
                    values.append(Setting(value, file or self.name, n))

    @property
    def exists(self):
        return bool(self.files)

    def get(self, section, key):
        return list(self._settings.get((section, key), []))

    def words(self, section, key):
        """[(word, Setting)] of a space-separated list setting (OnFailure=, After=, ...)."""
        return [(w, s) for s in self.get(section, key) for w in s.value.split()]

    def expand(self, text):
        """Unit specifiers a check needs: %n, %N, %p, %i, %%."""
        stem, _, suffix = self.name.rpartition(".")
        prefix, at, instance = stem.partition("@")
        table = {"n": self.name, "N": stem, "p": prefix, "i": instance, "%": "%"}
        return re.sub(r"%(.)", lambda m: table.get(m.group(1), m.group(0)), text)


def exec_command(setting):
    """(prefixes, argv) of an ExecStart= value."""
    value = setting.value
    i = 0
    while i < len(value) and value[i] in EXEC_PREFIXES:
        i += 1
    try:
        argv = shlex.split(value[i:])
    except ValueError:
        argv = value[i:].split()
    return value[:i], argv


def template_of(name):
    """'email-failures@.service' for 'email-failures@x.service'; None for a unit that is no instance."""
    stem, dot, suffix = name.rpartition(".")
    prefix, at, instance = stem.partition("@")
    return f"{prefix}@.{suffix}" if at and instance else None


def is_instance_of(name, template):
    """Is `name` the unit `template`, or (when it is a template, `p@.service`) one of its instances?"""
    if name == template:
        return True
    prefix, at, rest = template.partition("@")
    return bool(at) and rest.startswith(".") and name.startswith(prefix + "@") and name.endswith(rest) \
        and len(name) > len(prefix) + 1 + len(rest)


def split_units(lines):
    """{unit name: [lines]} from a gather section where each unit follows a line `@@unit <name>`;
    and {unit name: [(runner path, [lines])]} for the `@@runner <unit> <path>` blocks."""
    units, runners, current = {}, {}, None
    for line in lines:
        if line.startswith("@@unit "):
            current = units.setdefault(line[7:].strip(), [])
        elif line.startswith("@@runner "):
            _, unit, path = line.split(" ", 2)
            current = []
            runners.setdefault(unit, []).append((path.strip(), current))
        elif current is not None:
            current.append(line)
    return units, runners


def read_unit_file(path):
    """The lines of a unit file or drop-in of the repository (size limit, encoding checked)."""
    from confs.source import read_text
    return read_text(path).splitlines()


def unit_from_files(name, files):
    """A Unit from [(path, lines)]: the unit file first, then its drop-ins in the order systemd
    applies them (by file name), as `systemctl cat` would show them."""
    lines = []
    for path, body in files:
        lines.append(f"# /{path.lstrip('/')}")
        lines += body
    return Unit(name, lines)
