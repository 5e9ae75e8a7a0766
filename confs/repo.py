"""The configuration repository on disk, as the machines see it.

Every file under confs/ is visited once per folder that shows it. Folders are named after servers,
containers and VMs (the spec says which folder(s) each machine uses: arch.conf_dirs); symlinks
inside the repository are followed, whether real links or links checked out as small text files
holding the target path (git without symlink support), so a file of a shared folder is read as part
of each machine folder linking to it. An absolute link into the deploy path (where every machine
clones the repository, spec `deploy_path`) is a link into the repository itself. A link is followed
once, and never into a folder that contains it (a link from a machine's folder to a folder above it
would read the whole repository as that machine's): that is a finding, not followed. A link that
leads outside the repository (and its deploy path) or nowhere is a finding; so are unreadable files
and folders, files over the size limit, bad encodings. An unreadable folder is remembered
(`unreadable`), so nothing is concluded missing from the machine folder it is in.

Each visited file gets a format from where it sits (an nginx folder, a stunnel folder, a systemd
unit or drop-in, sanoid.conf, ...), is parsed once by that format's parser, and is either examined
or listed as not recognised, with why (coverage).
"""
import os
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from confs import formats
from confs.errors import ConfParseError, ConfsRepoError
from confs.findings import Finding
from confs.source import MAX_BYTES, TooBig, Unreadable

ROOT = "confs"
LINK_STUB_MAX = 1024
LINK_STUB = re.compile(r"^\.{1,2}/[^\s]*$|^[^\s/]+(/[^\s]*)+$|^/[^\s/]+(/[^\s]*)+$")


@dataclass(frozen=True)
class Seen:
    view: str               # the path as its folder shows it: confs/ks1/systemd/system/x.service.d/override.conf
    real: str               # the file read, relative to the repository root
    folder: str             # the folder under confs/ it is seen in
    inner: str              # the path inside that folder
    fmt: str                # format, or None when not recognised


class ConfRepo:
    def __init__(self, root, machines_of_folder=None, deploy_path=None):
        """machines_of_folder: {folder: [machine]} from the spec (arch.conf_dir_machines());
        deploy_path: where the machines clone the repository (links into it resolve here)."""
        self.root = Path(root)
        base = self.root / ROOT
        if base.exists() and not base.is_dir():
            raise ConfsRepoError(f"{base} is not a folder; expected the repository's {ROOT}/ folder")
        if not base.is_dir():
            raise ConfsRepoError(f"{self.root} is not a configuration repository: expected a {ROOT}/ folder in it")
        self.machines_of_folder = machines_of_folder or {}
        self.deploy_path = deploy_path.rstrip("/") if deploy_path else None
        self.unreadable = []        # (folder, view) of folders that could not be listed, links not followed
        self.problems = []          # Finding: links, unreadable, too big, encoding (requirement by format)
        self.failures = {}          # real path -> (format, ConfParseError): parsed as nothing
        self.not_recognised = {}    # real path or folder/ -> why
        self.links = {}             # view path of a link -> real target
        self.seen = []              # [Seen]
        self._parsed = {}
        self._walk_all(base)

    # -- walking --------------------------------------------------------------------------------
    def rel(self, path):
        return PurePosixPath(os.path.relpath(path, self.root)).as_posix()

    def _inside(self, path):
        real = os.path.realpath(path)
        root = os.path.realpath(self.root)
        return real == root or real.startswith(root + os.sep)

    def _link_target(self, path):
        """(target path, written target) when `path` is a link (real or checked out as text), else None."""
        if os.path.islink(path):
            written = os.readlink(path)
            return os.path.normpath(os.path.join(os.path.dirname(path), written)), written
        try:
            if not os.path.isfile(path) or os.path.getsize(path) > LINK_STUB_MAX:
                return None
            with open(path, "rb") as f:
                data = f.read()
        except OSError:
            return None
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return None
        if "\n" in text.rstrip("\n") or not LINK_STUB.match(text.strip()):
            return None
        written = text.strip()
        target = os.path.normpath(os.path.join(os.path.dirname(path), written))
        if written.startswith(("./", "../", "/")) or os.path.exists(target):
            return target, written
        return None

    def _walk_all(self, base):
        try:
            folders = sorted(os.scandir(base), key=lambda e: e.name)
        except OSError as exc:
            raise ConfsRepoError(f"{base}: unreadable folder ({exc.strerror})") from None
        # folders reached through links from other folders are shared: read through those links
        self._pending = []
        for entry in folders:
            path = entry.path
            if entry.is_dir(follow_symlinks=False) or self._link_target(path):
                self._walk(path, f"{ROOT}/{entry.name}", entry.name, "", set())
            else:
                self.not_recognised[self.rel(path)] = "a file directly under confs/, in no machine's folder"
        linked = {PurePosixPath(t).parts[1] for t in self.links.values()
                  if t.startswith(ROOT + "/") and len(PurePosixPath(t).parts) > 2}
        self.shared = {f for f in linked if f not in self.machines_of_folder
                       and any(s.folder != f and s.real.startswith(f"{ROOT}/{f}/") for s in self.seen)}
        reached = {s.real for s in self.seen if s.folder not in self.shared}
        kept = []
        for s in self.seen:
            if s.folder in self.shared:
                if s.real not in reached:
                    self.not_recognised[s.real] = (f"in {ROOT}/{s.folder}/, a shared folder machines reach through "
                                                   "links, and no machine's folder links to this file")
                continue
            kept.append(s)
        self.seen = kept

    def in_deploy_path(self, written):
        """The repository path an absolute path into the deploy path stands for, else None."""
        d = self.deploy_path
        if d and written.startswith(d + "/"):
            return str(self.root / written[len(d) + 1:])
        return None

    def _walk(self, path, view, folder, inner, stack):
        link = self._link_target(path)
        if link:
            target, written = link
            fmt = formats.classify(inner) if inner else None
            if written.startswith("/"):
                deployed = self.in_deploy_path(os.path.normpath(written))
                if deployed is None:
                    self.links[view] = self.rel(target)
                    where = f" or the deploy path {self.deploy_path}/" if self.deploy_path else ""
                    self.unreadable.append((folder, view))
                    self._problem(fmt, view, f"link to the absolute path {written} leads outside the repository{where} "
                                             "(it works only on a machine where that path exists); expected a "
                                             "relative link inside the repository")
                    return
                target = deployed
            self.links[view] = self.rel(target)
            if not self._inside(target):
                self.unreadable.append((folder, view))
                self._problem(fmt, view, f"link to {written} leads outside the repository; expected a link "
                                         "to a file of the repository (the gate reads nothing outside it)")
                return
            if not os.path.exists(target):
                self.unreadable.append((folder, view))
                self._problem(fmt, view, f"link to {written} leads nowhere ({self.rel(target)} does not exist)")
                return
            real = os.path.realpath(target)
            here = os.path.realpath(os.path.dirname(path))
            if real in stack or here == real or here.startswith(real + os.sep):
                self._problem(fmt, view, f"link to {written} leads to {self.rel(real) or '.'}/, a folder that "
                                         "contains the link: not followed (it would read that folder, and the "
                                         "link again, as this machine's); expected a link to a file or a sibling "
                                         "folder")
                return
            path = target
            stack = stack | {real}
        if os.path.isdir(path):
            try:
                entries = sorted(os.listdir(path))
            except OSError as exc:
                self.unreadable.append((folder, view))
                self._problem(formats.folder_format(inner), view,
                              f"unreadable folder ({exc.strerror}): its files cannot be checked, and nothing is "
                              "concluded missing from this machine's folder")
                return
            for name in entries:
                sub = f"{inner}/{name}" if inner else name
                self._walk(os.path.join(path, name), f"{view}/{name}", folder, sub, stack | {os.path.realpath(path)})
            return
        real = self.rel(path)
        fmt, why = formats.classify_why(inner)
        self.seen.append(Seen(view, real, folder, inner, fmt))
        if fmt is None:
            self.not_recognised.setdefault(real, why)

    def _problem(self, fmt, where, message):
        for req in (formats.REQUIREMENTS.get(fmt) or ("",)):
            self.problems.append(Finding(req, where, None, message))

    # -- reading --------------------------------------------------------------------------------
    def parsed(self, real, fmt):
        """The parsed file, or None when it does not parse (failure kept) or cannot be read."""
        key = (real, fmt)
        if key not in self._parsed:
            self._parsed[key] = None
            try:
                self._parsed[key] = formats.PARSERS[fmt](self.root / real)
            except ConfParseError as exc:
                self.failures[real] = (fmt, exc)
            except Unreadable as exc:
                self.failures[real] = (fmt, ConfParseError(None, str(exc)))
            except TooBig as exc:
                self.failures[real] = (fmt, ConfParseError(None, str(exc)))
        return self._parsed[key]

    def _of(self, folders, fmt):
        """[Seen] of a format in these folders, in walk order (an index built once: linear)."""
        index = getattr(self, "_index", None)
        if index is None or self._indexed != len(self.seen):
            index = {}
            for s in self.seen:
                index.setdefault((s.folder, s.fmt), []).append(s)
            self._index, self._indexed = index, len(self.seen)
        folders = set(folders)
        if len(folders) == 1:
            return index.get((next(iter(folders)), fmt), [])
        return sorted((s for f in folders for s in index.get((f, fmt), [])), key=self._order)

    def _order(self, seen):
        order = getattr(self, "_position", None)
        if order is None or len(order) != len(self.seen):
            order = self._position = {id(s): n for n, s in enumerate(self.seen)}
        return order[id(seen)]

    def files(self, folders, fmt, where=None):
        """[(Seen, parsed)] of the files of a format in these folders (where(inner) filters)."""
        out = []
        for s in self._of(folders, fmt):
            if where is None or where(s.inner):
                parsed = self.parsed(s.real, fmt)
                if parsed is not None:
                    out.append((s, parsed))
        return out

    def all(self, fmt):
        return self.files({s.folder for s in self.seen}, fmt)

    def has(self, folders, fmt, where=None):
        """Is there any file of this format in these folders (parsed or not)?"""
        return any(where is None or where(s.inner) for s in self._of(folders, fmt))

    def complete(self, folders):
        """True when no file of these folders failed to parse and none of their folders was unreadable
        (absence there is provable)."""
        folders = set(folders)
        return not any(f in folders for f, _ in self.unreadable) and \
            not any(s.folder in folders and s.real in self.failures for s in self.seen)

    def folder_exists(self, folder):
        return any(s.folder == folder for s in self.seen) or (self.root / ROOT / folder).exists()

    # -- coverage --------------------------------------------------------------------------------
    def coverage(self):
        """({format: sorted real files read by a check}, {path: why not recognised}). A file of a known
        format that no check read (its folder is no machine of the spec, or no check asks for it) is
        named with why, never counted as examined."""
        examined, skipped = {}, {}
        read = {key for key in self._parsed}
        for s in self.seen:
            if not s.fmt:
                continue
            if (s.real, s.fmt) in read:
                examined.setdefault(s.fmt, set()).add(s.real)
            else:
                owner = ("no machine of the spec uses this folder" if s.folder not in self.machines_of_folder
                         else "no check of the spec's machines asks for this file")
                skipped.setdefault(s.real, f"a {s.fmt} file not read: {owner}")
        for fmt, files in examined.items():
            for f in files:
                skipped.pop(f, None)
        not_recognised = {**self.not_recognised, **skipped}
        return {k: sorted(v) for k, v in sorted(examined.items())}, dict(sorted(not_recognised.items()))


__all__ = ["ConfRepo", "Seen", "MAX_BYTES"]
