"""The configuration repository on disk: finds files by layout, parses each once, keeps failures.

A file that does not parse is remembered (with its ConfParseError) and read as absent; checks
ask `complete(folder)` before concluding that something is missing from a folder.
"""
from pathlib import Path

from confs import layout
from confs.errors import ConfParseError, ConfsRepoError
from confs.nginx import parse_nginx
from confs.pve import parse_pve
from confs.sanoid import parse_sanoid
from confs.stunnel import parse_stunnel
from confs.syncoid import parse_syncoid

PARSERS = {"nginx": parse_nginx, "pve": parse_pve, "sanoid": parse_sanoid,
           "stunnel": parse_stunnel, "syncoid": parse_syncoid}


class ConfRepo:
    def __init__(self, root):
        self.root = Path(root)
        if not (self.root / layout.ROOT).is_dir():
            raise ConfsRepoError(f"{self.root} is not a configuration repository: "
                                 f"expected a {layout.ROOT}/ folder in it")
        self.failures = {}      # relative path -> (format, ConfParseError)
        self._parsed = {}

    def exists(self, rel):
        return (self.root / rel).is_file()

    def read(self, rel, fmt):
        """The parsed file, or None when it is missing or does not parse."""
        if rel not in self._parsed:
            self._parsed[rel] = None
            if self.exists(rel):
                try:
                    self._parsed[rel] = PARSERS[fmt](self.root / rel)
                except ConfParseError as exc:
                    self.failures[rel] = (fmt, exc)
                except (UnicodeDecodeError, OSError) as exc:
                    self.failures[rel] = (fmt, ConfParseError(1, f"cannot read the file: {exc}"))
        return self._parsed[rel]

    def files(self, folder, pattern):
        base = self.root / folder
        return sorted(p.relative_to(self.root).as_posix() for p in base.glob(pattern) if p.is_file()) \
            if base.is_dir() else []

    def read_all(self, folder, pattern, fmt):
        """[(relative path, parsed)] of the files that parse."""
        out = []
        for rel in self.files(folder, pattern):
            if fmt == "nginx" and Path(rel).suffix in layout.NOT_NGINX_CONFIG:
                continue
            parsed = self.read(rel, fmt)
            if parsed is not None:
                out.append((rel, parsed))
        return out

    def complete(self, folder):
        """True when no file read under folder failed to parse (absence there is provable)."""
        prefix = folder.rstrip("/") + "/"
        return not any(rel.startswith(prefix) for rel in self.failures)

    def stunnel(self, machine):
        return self.read_all(layout.stunnel_dir(machine), "*.conf", "stunnel")

    def nginx(self, machine):
        return self.read_all(layout.nginx_dir(machine), "**/*", "nginx")

    def machines(self):
        return sorted(p.name for p in (self.root / layout.ROOT).iterdir() if p.is_dir())

    def all_stunnel(self):
        """Every stunnel file of every machine folder: [(machine, rel, [Service])]."""
        return [(m, rel, services) for m in self.machines() for rel, services in self.stunnel(m)]
