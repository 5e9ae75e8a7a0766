"""Reading one configuration file safely: a size limit, the real line of a bad encoding, unreadable
files told apart from missing ones. Every parser of confs/ reads its text through here."""
from confs.errors import ConfParseError

# No configuration file of the repository is near this; a bigger one is a finding, never read whole.
MAX_BYTES = 2 * 1024 * 1024


class Unreadable(Exception):
    """The file exists but cannot be read (permissions, I/O): its message says so."""


class TooBig(Exception):
    """The file is larger than MAX_BYTES: not read."""


def decode(data):
    """Text of UTF-8 bytes; a bad byte raises ConfParseError at its real line."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ConfParseError(line, f"is not UTF-8 text (byte 0x{data[exc.start]:02x} at line {line}); "
                                   "expected a UTF-8 text file") from None


def read_text(path, limit=MAX_BYTES):
    """The text of a file, at most `limit` bytes read (TooBig beyond), Unreadable on an OS error."""
    try:
        with open(path, "rb") as f:
            data = f.read(limit + 1)
    except OSError as exc:
        raise Unreadable(f"unreadable: {exc.strerror or exc}") from None
    if len(data) > limit:
        raise TooBig(f"larger than {limit // (1024 * 1024)} MiB: not read (a configuration file is far smaller)")
    return decode(data)
