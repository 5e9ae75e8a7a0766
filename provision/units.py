"""Services and job units: the one place that knows the init system.

Production runs systemd, and so does every lab machine (PID 1): services go through pyinfra's systemd
operations, which read the unit's state and do only what is needed. Unit names come from the spec (a
process's `unit`, the replication unit); pyinfra's systemd operations add `.service` to a bare name.
"""
from pyinfra.api import StringCommand, operation
from pyinfra.operations import systemd


@operation()
def service(service: str, action: str = None, enabled=None):
    """Do `action` (start, stop, restart, reload) on a service by its unit name (the spec's `unit`), and
    enable or disable it at boot; restart and reload touch only a running unit."""
    yield from systemd.service._inner(service=service, enabled=enabled,
                                      running={"start": True, "stop": False}.get(action),
                                      restarted=action == "restart", reloaded=action == "reload")


@operation()
def start_job(unit: str):
    """Run a job unit now (a oneshot: replication, snapshots), as its timer would; systemctl waits for
    a oneshot to finish and fails when it fails (its OnFailure= fires as on a timer's run)."""
    yield StringCommand("systemctl", "start", unit)


@operation()
def daemon_reload():
    """Make systemd read changed unit files."""
    yield from systemd.daemon_reload._inner()
