"""YAML files read with the line of every key, so that errors can point at them."""
from pathlib import Path

import re

import yaml

from specs.errors import SpecError


class SpecLoader(yaml.SafeLoader):
    """SafeLoader where only true/false are booleans: `off` is a flavor here, not False."""


SpecLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
SpecLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))


class Located:
    """Data read from YAML files plus where each path (tuple of keys/indexes) came from."""

    def __init__(self):
        self.data = {}
        self.where = {}  # path tuple -> (file, line)

    def locate(self, path):
        """(file, line) of the longest known prefix of path."""
        path = tuple(path)
        while path:
            if path in self.where:
                return self.where[path]
            path = path[:-1]
        return self.where.get((), ("?", None))


def _construct(node, path, file, where, loader):
    where[path] = (file, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)
        out = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if not isinstance(key, (str, int)):
                raise SpecError(file, key_node.start_mark.line + 1, ".".join(map(str, path)), "a key must be a name")
            if key in out:
                raise SpecError(file, key_node.start_mark.line + 1, ".".join(map(str, path + (key,))), "key given twice")
            out[key] = _construct(value_node, path + (key,), file, where, loader)
            where[path + (key,)] = (file, key_node.start_mark.line + 1)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_construct(n, path + (i,), file, where, loader) for i, n in enumerate(node.value)]
    return loader.construct_object(node, deep=True)


def read_yaml(file, located=None):
    """Read one YAML file into `located` (a new Located if None). Its top level must be a mapping."""
    located = located or Located()
    file = Path(file)
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(file, None, None, f"cannot read: {exc.strerror if isinstance(exc, OSError) else exc}") from None
    loader = SpecLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise SpecError(file, None, None, "the file is empty; expected a YAML mapping")
        if not isinstance(node, yaml.MappingNode):
            raise SpecError(file, node.start_mark.line + 1, None, "expected a YAML mapping of names to values at the top")
        where = {}
        data = _construct(node, (), str(file), where, loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark else None
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise SpecError(file, line, None, f"not valid YAML: {problem}") from None
    finally:
        loader.dispose()
    for key, value in data.items():
        if key in located.data:
            prev = located.where[(key,)]
            raise SpecError(file, where[(key,)][1], key, f"already given in {prev[0]}:{prev[1]}")
        located.data[key] = value
    where.pop((), None)
    located.where.update(where)
    located.where.setdefault((), (str(file), 1))
    return located


def read_yaml_dir(folder):
    """Read every *.yaml file of a folder (or one file) into one Located."""
    folder = Path(folder)
    if folder.is_file():
        return read_yaml(folder)
    if not folder.is_dir():
        raise SpecError(folder, None, None, "no such spec file or folder")
    files = sorted(folder.glob("*.yaml")) + sorted(folder.glob("*.yml"))
    if not files:
        raise SpecError(folder, None, None, "no *.yaml file in this folder")
    located = Located()
    for file in files:
        read_yaml(file, located)
    located.where[()] = (str(folder), None)
    return located
