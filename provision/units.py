"""Services and job units: the one place that knows the init system.

Production runs systemd, and so does every lab machine (PID 1); a machine without systemd running gets
sysvinit scripts for its services and no job units. pyinfra's `server.service` picks systemd whenever
`systemctl` is installed, even when systemd is not PID 1, so the choice is made here from
/run/systemd/system (present only when systemd is running). Unit names come from the spec (a process's
`unit`, the replication unit); pyinfra's systemd operations add `.service` to a bare name.
"""
from pyinfra import host
from pyinfra.api import OperationError, StringCommand, operation
from pyinfra.facts.files import Directory, File
from pyinfra.operations import systemd, sysvinit


def _systemd():
    return bool(host.get_fact(Directory, path="/run/systemd/system"))


@operation()
def service(service: str, action: str = None, enabled=None):
    """Do `action` (start, stop, restart, reload) on a service by its unit name (the spec's `unit`), and
    enable or disable it at boot. Under systemd pyinfra reads the unit's state and does only what is
    needed (restart and reload only a running unit). Under sysvinit the action always runs (it is planned
    only when a check saw the service in the wrong state; init scripts' `status` is not reliable enough
    to ask again); enabling and disabling read the rc links."""
    if _systemd():
        yield from systemd.service._inner(service=service, enabled=enabled,
                                          running={"start": True, "stop": False}.get(action),
                                          restarted=action == "restart", reloaded=action == "reload")
        return
    script = service.removesuffix(".service")
    if not host.get_fact(File, path=f"/etc/init.d/{script}"):
        if action in ("start", "restart", "reload") or enabled:
            raise OperationError(f"service {service} is not installed (no /etc/init.d/{script})")
        return  # not installed: nothing runs from it, nothing starts it at boot
    yield from sysvinit.service._inner(service=script, running=None, command=action, enabled=enabled)


@operation()
def start_job(unit: str):
    """Run a job unit now (a oneshot: replication, snapshots), as its timer would; systemctl waits for
    a oneshot to finish and fails when it fails (its OnFailure= fires as on a timer's run)."""
    if not _systemd():
        raise OperationError(f"systemd is not running here: cannot start job unit {unit}")
    yield StringCommand("systemctl", "start", unit)


@operation()
def daemon_reload():
    """Make the init system read changed unit files (systemd only)."""
    if _systemd():
        yield from systemd.daemon_reload._inner()
