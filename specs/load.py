"""Load a spec folder (or the requirements catalogue) and validate it: one SpecError or a model."""
import difflib
from pathlib import Path

from pydantic import BaseModel, ValidationError

from specs.crossref import cross_reference_errors
from specs.errors import SpecError
from specs.model import Catalogue, Spec
from specs.yaml_source import read_yaml, read_yaml_dir

SPECS_DIR = Path(__file__).resolve().parent
DEFAULT_SPEC = SPECS_DIR / "production"
DEFAULT_REQUIREMENTS = SPECS_DIR / "requirements.yaml"


def _field_names(model, path):
    """The allowed field names at `path` of `model`, for a 'misspelt key' message."""
    cls = model
    for part in path:
        field = cls.model_fields.get(part) if isinstance(part, str) and hasattr(cls, "model_fields") else None
        if field is None:
            # a dict key or list index: step into the value type
            args = getattr(cls, "__args__", None)
            if args:
                cls = args[-1]
                continue
            return []
        cls = field.annotation
        while getattr(cls, "__args__", None) and not (isinstance(cls, type) and issubclass(cls, BaseModel)):
            inner = [a for a in cls.__args__ if isinstance(a, type) and issubclass(a, BaseModel)]
            if inner:
                cls = inner[0]
                break
            cls = cls.__args__[-1]
    return sorted(cls.model_fields) if isinstance(cls, type) and issubclass(cls, BaseModel) else []


def _explain(err, model):
    loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and ("[" in p or p in {"str", "int", "list", "none"})))
    kind = err["type"]
    if kind == "extra_forbidden":
        allowed = _field_names(model, loc[:-1])
        close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        return loc, f"unknown field; {hint}expected one of: {', '.join(allowed)}"
    if kind == "missing":
        return loc, "missing; this field is required"
    got = err.get("input")
    shown = repr(got) if not isinstance(got, (dict, list)) else type(got).__name__
    return loc, f"{err['msg'].lower()} (found {shown})"


def validate(located, model):
    """Validate located.data against model; raise one SpecError at the first problem."""
    try:
        return model.model_validate(located.data)
    except ValidationError as exc:
        errors = exc.errors()
        # a misspelt key also makes the real one "missing": name the misspelling first
        err = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
        loc, message = _explain(err, model)
        file, line = located.locate(loc)
        raise SpecError(file, line, ".".join(map(str, loc)), message) from None


def load_spec(path=DEFAULT_SPEC):
    """The architecture spec from a folder of YAML files (or one file), validated."""
    located = read_yaml_dir(path)
    spec = validate(located, Spec)
    for loc, message in cross_reference_errors(spec):
        file, line = located.locate(loc)
        raise SpecError(file, line, ".".join(map(str, loc)), message)
    return spec


def load_requirements(path=DEFAULT_REQUIREMENTS):
    """The requirements catalogue, validated; IDs unique."""
    located = read_yaml(path)
    catalogue = validate(located, Catalogue)
    seen = set()
    for i, req in enumerate(catalogue.requirements):
        if req.id in seen:
            file, line = located.locate(("requirements", i, "id"))
            raise SpecError(file, line, f"requirements.{i}.id", f"requirement {req.id} is listed twice")
        seen.add(req.id)
    return {r.id: r for r in catalogue.requirements}
