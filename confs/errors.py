"""Errors raised while reading the configuration repository."""


class ConfParseError(Exception):
    """A file that does not parse: the line where it went wrong and why."""

    def __init__(self, line, message):
        self.line, self.message = line, message
        super().__init__(f"line {line}: {message}")


class ConfsRepoError(Exception):
    """The given path is not a configuration repository (no confs/ folder)."""
