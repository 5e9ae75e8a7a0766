"""Waivers: accepted exceptions to a requirement on one target, each with a reason, an approver and
an expiry date. A failing check with a waiver in force shows as `waived`; once the date has passed
it is a failure again. A broken waiver file stops the run with one line: `file:line: field: what`.

    waivers:
      - requirement: ZFS-3
        target: ovh3:rpool/off/products       # the check's target, as the report shows it
        reason: backups moved to the new pool next month
        approver: Jane Doe
        expires: 2026-12-31                   # in force through that day (UTC)
"""
import datetime
import difflib
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field

from specs.errors import SpecError
from specs.load import validate
from specs.yaml_source import SpecLoader, read_yaml


class Waiver(BaseModel):
    model_config = ConfigDict(extra="forbid")
    requirement: str
    target: str = Field(min_length=1)
    reason: str = Field(min_length=1)
    approver: str = Field(min_length=1)
    expires: datetime.date

    def in_force(self, today):
        return today <= self.expires

    def as_dict(self):
        return {"requirement": self.requirement, "target": self.target, "reason": self.reason,
                "approver": self.approver, "expires": self.expires.isoformat()}


class WaiverFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    waivers: list[Waiver] = []


def _bad_date_line(path):
    """The line of the first date-looking value YAML cannot make a date of (a ValueError, not a YAMLError)."""
    resolver = SpecLoader("")
    stack = [((), yaml.compose(Path(path).read_text(encoding="utf-8"), Loader=SpecLoader))]
    while stack:
        where, node = stack.pop()
        if isinstance(node, yaml.MappingNode):
            stack += [(where + (k.value,), v) for k, v in node.value]
        elif isinstance(node, yaml.SequenceNode):
            stack += [(where + (i,), v) for i, v in enumerate(node.value)]
        elif node is not None and node.tag == "tag:yaml.org,2002:timestamp":
            try:
                resolver.construct_yaml_timestamp(node)
            except ValueError as exc:
                return node.start_mark.line + 1, ".".join(map(str, where)), f"{node.value!r} is not a date: {exc}"
    return None, None, "not a valid date"


def load(path, catalogue, known_targets=None):
    """The waivers of a file, validated: requirement IDs from the catalogue, targets among the
    requirement's targets (`known_targets(requirement) -> set`, when given), no waiver given twice."""
    try:
        located = read_yaml(path)
    except ValueError as exc:
        if isinstance(exc, SpecError):
            raise
        raise SpecError(path, *_bad_date_line(path)) from None
    for i, entry in enumerate(located.data.get("waivers") or []):
        unknown = sorted(set(entry) - set(Waiver.model_fields)) if isinstance(entry, dict) else []
        if unknown:
            close = difflib.get_close_matches(str(unknown[0]), list(Waiver.model_fields), n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise SpecError(*located.locate(("waivers", i, unknown[0])), f"waivers.{i}.{unknown[0]}",
                            f"unknown field; {hint}expected one of: {', '.join(Waiver.model_fields)}")
    waivers = validate(located, WaiverFile).waivers
    seen = {}
    for i, w in enumerate(waivers):
        where = lambda field: located.locate(("waivers", i, field))
        if w.requirement not in catalogue:
            close = difflib.get_close_matches(w.requirement, list(catalogue), n=1)
            hint = f"did you mean {close[0]}? " if close else ""
            raise SpecError(*where("requirement"), f"waivers.{i}.requirement",
                            f"unknown requirement {w.requirement!r}; {hint}expected an ID of the catalogue")
        if known_targets is not None:
            targets = known_targets(w.requirement)
            if targets and w.target not in targets:
                close = difflib.get_close_matches(w.target, sorted(targets), n=1)
                hint = f"did you mean {close[0]!r}? " if close else ""
                raise SpecError(*where("target"), f"waivers.{i}.target",
                                f"{w.target!r} is not a target of {w.requirement}; {hint}"
                                f"expected one of its {len(targets)} targets")
        key = (w.requirement, w.target)
        if key in seen:
            raise SpecError(*where("requirement"), f"waivers.{i}",
                            f"{w.requirement} on {w.target} is already waived at line {seen[key]}")
        seen[key] = where("requirement")[1]
    return waivers


def match(waivers, requirement, target):
    return next((w for w in waivers if w.requirement == requirement and w.target == target), None)
