"""Prometheus metrics of a run in the text format of the node exporter's textfile collector,
written with prometheus_client: each requirement's status, replication lag per dataset against its
maximum, the checks by status, and the run's time and duration.
"""
from prometheus_client import CollectorRegistry, Enum, Gauge, write_to_textfile

from reports import rundata


def registry(run):
    reg = CollectorRegistry()
    status = Enum("offsuite_requirement_status", "Status of each requirement in the last audit (worst of its checks)",
                  ["requirement", "severity"], states=list(rundata.ORDER), registry=reg)
    failing = Gauge("offsuite_requirement_failing_checks", "Failing (unwaived) check instances of each requirement",
                    ["requirement", "severity"], registry=reg)
    for rid, req in run["requirements"].items():
        status.labels(rid, req["severity"]).state(req["status"])
        failing.labels(rid, req["severity"]).set(req["failing"])
    Gauge("offsuite_requirements_met_ratio", "Share of the catalogue's requirements met (all checks passed)",
          registry=reg).set(run["summary"]["share_met"])
    checks = Gauge("offsuite_checks", "Check instances of the last audit by status", ["status"], registry=reg)
    for s, n in run["summary"]["checks"].items():
        checks.labels(s).set(n)
    Gauge("offsuite_gate_failing_requirements", "Unwaived high or critical requirements failing (non-zero fails the run)",
          registry=reg).set(len(run["summary"]["gate_failing"]))
    lag = Gauge("offsuite_replication_lag_minutes", "Age of the newest snapshot received by each replica",
                ["source", "target", "dataset"], registry=reg)
    for point in lags(run):
        lag.labels(point["source"], point["target"], point["dataset"]).set(point["minutes"])
    Gauge("offsuite_replication_max_lag_minutes", "The spec's maximum replication lag",
          registry=reg).set(run["max_lag_minutes"])
    meta = run["run"]
    if "finished_epoch" in meta:
        Gauge("offsuite_last_run_timestamp_seconds", "When the last audit finished (Unix time)",
              registry=reg).set(meta["finished_epoch"])
    if "duration_seconds" in meta:
        Gauge("offsuite_last_run_duration_seconds", "How long the last audit took",
              registry=reg).set(meta["duration_seconds"])
    return reg


def lags(run):
    """[{"source", "target", "dataset", "minutes", "status"}] from the checks that recorded `lag_minutes`."""
    out = []
    for c in run["checks"]:
        minutes = c["properties"].get("lag_minutes")
        if minutes is None:
            continue
        edge = next((e for e in c["elements"] if e.startswith("replication:")), None)
        source = edge.split(":")[1] if edge else ""
        target, _, dataset = c["target"].partition(":")
        out.append({"source": source, "target": target, "dataset": dataset, "minutes": float(minutes),
                    "status": c["status"]})
    return out


def write(run, path):
    """Write atomically (the textfile collector may read at any moment)."""
    write_to_textfile(str(path), registry(run))
