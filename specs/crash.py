"""An entry point's crash: an unexpected exception (a bug, or an installation missing a module) exits
with its own code, CRASH (3), and one line naming the error; OFFSUITE_DEBUG=1 adds the traceback.
Findings exit 1 and a run that could not be made (bad arguments, spec, inventory) exits 2 or 4 as
each command documents, so a crash is never taken for findings."""
import os
import sys
import traceback

CRASH = 3


def debugging():
    return os.environ.get("OFFSUITE_DEBUG") == "1"


def crash_line(prog, exc, clean=str):
    """`prog: crashed: Type: message (...)`, on one line (`clean`: e.g. a redaction of the message)."""
    message = " ".join(clean(str(exc)).split())[:300]
    return (f"{prog}: crashed: {type(exc).__name__}{': ' + message if message else ''} "
            "(a bug of the suite or of its installation; OFFSUITE_DEBUG=1 shows the traceback)")


def crashed(prog, exc, stream=None, clean=str):
    """Print the crash line (the traceback first with OFFSUITE_DEBUG=1); return CRASH."""
    stream = stream or sys.stderr
    if debugging():
        traceback.print_exception(exc, file=stream)
    print(crash_line(prog, exc, clean), file=stream)
    return CRASH
