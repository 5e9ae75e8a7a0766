"""The architecture as data: load, validate and query the spec."""
from specs.errors import SpecError
from specs.load import load_spec, load_requirements

__all__ = ["SpecError", "load_spec", "load_requirements"]
