"""sanoid.conf: [template_<name>] sections and one section per dataset.

A dataset section applies to its children when `recursive` is yes (or zfs). Its effective
values are those of its templates (use_template, comma-separated, later ones win) under its own.
Unset autosnap means yes (sanoid's default); retention counts only when written explicitly.
"""
from dataclasses import dataclass

from confs.ini import read_ini
from confs.source import read_text

TEMPLATE_PREFIX = "template_"
RETENTION_KEYS = ("hourly", "daily", "monthly", "yearly")
TRUE_WORDS = {"yes", "1", "true", "on", "zfs"}


@dataclass(frozen=True)
class Value:
    value: str
    line: int
    origin: str             # the [section] it comes from


@dataclass(frozen=True)
class Policy:
    dataset: str            # the dataset asked about
    section: str            # the section that covers it
    line: int               # that section's header line
    values: dict            # key -> Value, effective

    def flag(self, key, default):
        v = self.values.get(key)
        return (v.value.lower() in TRUE_WORDS) if v else default

    def count(self, key):
        v = self.values.get(key)
        return int(v.value) if v and v.value.isdigit() else None


class SanoidConf:
    def __init__(self, sections):
        self.sections = {s.name: s for s in sections}
        self.repeats = getattr(sections, "repeats", ())

    def _covering_section(self, dataset):
        if dataset in self.sections:
            return self.sections[dataset]
        parts = dataset.split("/")
        for n in range(len(parts) - 1, 0, -1):
            parent = self.sections.get("/".join(parts[:n]))
            if parent and parent.get("recursive") and parent.get("recursive").value.lower() in TRUE_WORDS:
                return parent
        return None

    def _template_values(self, names, seen):
        values = {}
        for name in (n.strip() for n in names.split(",") if n.strip()):
            section = self.sections.get(TEMPLATE_PREFIX + name)
            if section is None or name in seen:
                continue
            inner = section.get("use_template")
            if inner:
                values.update(self._template_values(inner.value, seen | {name}))
            values.update({k: Value(o.value, o.line, section.name) for k, o in section.options.items()})
        return values

    def policy(self, dataset):
        """The effective Policy for a dataset, or None when no section covers it."""
        section = self._covering_section(dataset)
        if section is None:
            return None
        values = {}
        use = section.get("use_template")
        if use:
            values.update(self._template_values(use.value, frozenset()))
        values.update({k: Value(o.value, o.line, section.name) for k, o in section.options.items()})
        return Policy(dataset, section.name, section.line, values)

    def missing_template(self, dataset):
        """(template name, line) of a use_template naming no [template_...] section, else None."""
        section = self._covering_section(dataset)
        use = section.get("use_template") if section else None
        for name in (n.strip() for n in use.value.split(",")) if use else ():
            if name and TEMPLATE_PREFIX + name not in self.sections:
                return name, use.line
        return None


def parse_sanoid_text(text):
    """A repeated [section] is merged into the first and a repeated option keeps its last value
    (as Config::IniFiles gives sanoid a single value); both are remembered in `.repeats`."""
    return SanoidConf(read_ini(text))


def parse_sanoid(path):
    return parse_sanoid_text(read_text(path))
