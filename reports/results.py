"""Read the cases of a JUnit XML file written by the suite (each case carries its requirement ID,
severity, the machines it read and any figure a check recorded, e.g. `lag_minutes`)."""
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Case:
    name: str
    classname: str
    requirement: str
    severity: str
    outcome: str      # passed, failed, error, skipped
    message: str
    seconds: float
    machines: tuple = ()
    properties: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def target(self):
        return self.name.partition("[")[2].rstrip("]") or "-"

    @property
    def check(self):
        """module::function of the check (no target)."""
        return f"{self.classname}::{self.name.partition('[')[0]}"


def read_cases(path):
    root = ET.parse(path).getroot()
    cases = []
    for tc in root.iter("testcase"):
        props = {p.get("name"): p.get("value") for p in tc.iter("property")}
        outcome, message = "passed", ""
        for kind in ("failure", "error", "skipped"):
            el = tc.find(kind)
            if el is not None:
                outcome = {"failure": "failed"}.get(kind, kind)
                message = el.get("message") or ""
                text = (el.text or "").strip()
                if text and kind != "skipped" and not message.endswith(text):  # pytrace=False repeats it
                    message += "\n" + text
                break
        machines = tuple(m for m in (props.pop("machine", "") or "").split(",") if m)
        cases.append(Case(tc.get("name"), tc.get("classname"), props.pop("requirement", ""),
                          props.pop("severity", ""), outcome, message.strip(), float(tc.get("time") or 0),
                          machines, props))
    return cases


def failing_requirements(cases):
    return {c.requirement for c in cases if c.outcome in ("failed", "error")}
