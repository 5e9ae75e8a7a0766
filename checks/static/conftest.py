"""The static gate's coverage, printed at the end of every --confs run."""
from confs.audit import coverage_lines


def pytest_terminal_summary(terminalreporter, config):
    result = getattr(config, "offsuite_gate", None)
    if result is None:
        return
    terminalreporter.section("offsuite static gate: coverage")
    for line in coverage_lines(result):
        terminalreporter.write_line(line)
