"""How every benchmark prints its figures, one per line:

    figure: <name>: <value> <unit>[  (<note>)]

and its `--small` option: a size the tests run (tests/bench, tests/lab/test_benchmarks.py) so that no
benchmark can rot unnoticed; the figures quoted in the notes come from the full size."""
import re

LINE = re.compile(r"^figure: (?P<name>.+?): (?P<value>-?[0-9.]+|\S+) (?P<unit>\S+)(?:  \((?P<note>.*)\))?$", re.M)


def figure(name, value, unit, note=""):
    """Print one figure (a float with 2 decimals) and return its line."""
    text = f"{value:.2f}" if isinstance(value, float) else str(value)
    line = f"figure: {name}: {text} {unit}" + (f"  ({note})" if note else "")
    print(line, flush=True)
    return line


def figures(output):
    """{name: (value, unit)} of the figures printed in a benchmark's output."""
    out = {}
    for m in LINE.finditer(output):
        value = m["value"]
        out[m["name"]] = (float(value) if re.fullmatch(r"-?[0-9.]+", value) else value, m["unit"])
    return out


def add_small(parser, what):
    """--small: `what` (a size the tests run in seconds)."""
    parser.add_argument("--small", action="store_true", help=f"small size, run by the tests: {what}")
