"""One clear error for a broken spec or inventory: file, line, field, what was expected."""


class SpecError(Exception):
    """A spec or inventory that cannot be used. str() is the one line shown to the user."""

    def __init__(self, file, line, field, message):
        self.file, self.line, self.field, self.message = str(file), line, field, message
        where = f"{self.file}:{line}" if line else self.file
        what = f"{field}: " if field else ""
        super().__init__(f"{where}: {what}{message}")
