"""Read the cases of a JUnit XML file written by the suite (each case carries its requirement ID)."""
import xml.etree.ElementTree as ET
from dataclasses import dataclass


@dataclass(frozen=True)
class Case:
    name: str
    classname: str
    requirement: str
    severity: str
    outcome: str      # passed, failed, error, skipped
    message: str
    seconds: float

    @property
    def target(self):
        return self.name.partition("[")[2].rstrip("]") or "-"


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
                message = (el.get("message") or "") + ("\n" + el.text if el.text and kind != "skipped" else "")
                break
        cases.append(Case(tc.get("name"), tc.get("classname"), props.get("requirement", ""),
                          props.get("severity", ""), outcome, message.strip(), float(tc.get("time") or 0)))
    return cases


def failing_requirements(cases):
    return {c.requirement for c in cases if c.outcome in ("failed", "error")}
