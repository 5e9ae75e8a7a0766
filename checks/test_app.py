"""APP: one application, one container."""
from checks.requirement import report, requirement


def _app_containers(arch):
    return arch.app_containers()


@requirement("APP-2", over=_app_containers)
def test_application_runs_its_services_enabled_at_boot(target, facts, arch):
    f = facts[target.name]
    problems = []
    for name, proc in arch.runs(target.role):
        if not f.running(proc):
            problems.append(f"{name} is not running (expected a process {proc.comm or proc.args!r}); "
                            f"start it: service {proc.unit} start")
        if proc.unit not in f.enabled:
            problems.append(f"{name} is not enabled at boot (unit {proc.unit}); enable it: "
                            f"systemctl enable {proc.unit} / update-rc.d {proc.unit} enable")
    report(problems, f"application container {target.name} on {target.host} ({target.application})")


@requirement("APP-3", over=_app_containers)
def test_no_database_server_in_application_container(target, facts, arch):
    f = facts[target.name]
    problems = [f"database server {name} runs here (pid {', '.join(str(p.pid) for p in found)}: {found[0].args!r}); "
                f"databases belong in their dedicated container: stop and disable it"
                for name, proc in arch.database_processes() if (found := f.running(proc))]
    report(problems, f"application container {target.name} on {target.host} ({target.application})")


@requirement("APP-1", over=_app_containers)
def test_container_serves_one_application(target, facts, arch):
    f = facts[target.name]
    others = {name: app for app, a in arch.spec.applications.items() if app != target.application
              for name in a.public_names}
    problems = [f"nginx {s.file}:{s.line} serves {name}, a public name of application {others[name]}; "
                f"each application has its own container"
                for s in f.nginx_servers for name in s.names if name in others]
    report(problems, f"application container {target.name} on {target.host} ({target.application})")
