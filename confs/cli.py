"""`offsuite-gate [REPO] [pytest options]`: the static gate on a configuration repository, as the users'
CI or pre-commit hook runs it (REPO defaults to the current folder). Exit codes: 0 every requirement
met (or skipped, with the reason, for lack of files), 1 findings, 2 pytest interrupted, 3 crash (an
unexpected error: one line names it, OFFSUITE_DEBUG=1 adds the traceback), 4 usage error (no
repository, empty path, nothing recognised)."""
import sys
from pathlib import Path

import pytest

from specs.crash import crashed


def main(argv=None):
    args = list(sys.argv[1:] if argv is None else argv)
    repo = args.pop(0) if args and not args[0].startswith("-") else "."
    checks = Path(__file__).resolve().parent.parent / "checks" / "static"
    plugins = [] if "fixtures.plugin" in sys.modules else ["-p", "fixtures.plugin"]
    try:
        return int(pytest.main([str(checks), "-m", "static", f"--confs={repo}", "-p", "no:cacheprovider", "-q", "-rs",
                                *plugins, *args]))
    except Exception as exc:   # before pytest's session (the plugin could not load...): not findings
        return crashed("offsuite-gate", exc)


if __name__ == "__main__":
    sys.exit(main())
