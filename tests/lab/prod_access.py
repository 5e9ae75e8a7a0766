"""Helpers of the prod-path lab tests: the lab's access files, verdicts per (requirement, target), a
fingerprint of every lab machine (read-only proof), the lab's key material and PSKs (secret scan)."""
import concurrent.futures
import os
import subprocess
import sys

from fixtures.lab import access, docker_ops, hosts
from fixtures.lab.state import STATE_DIR, psk_line
from reports.results import read_cases
from tests.conftest import ROOT

PATHS = ("jump", "pct")   # the two access paths of an ssh inventory (STATE_DIR/access/inventory-<path>.yaml)


def inventory(path):
    return access.ACCESS_DIR / f"inventory-{path}.yaml"


def prod_audit(tmp_path, inventory_file, *args, env=None):
    """`pytest -m prod --inventory FILE` as the on-call engineer runs it: (cases, stdout+stderr)."""
    xml = tmp_path / f"prod-{len(list(tmp_path.iterdir()))}.xml"
    run_env = {k: v for k, v in os.environ.items() if k != "SSH_AUTH_SOCK"}
    run_env.update(env or {})
    proc = subprocess.run([sys.executable, "-m", "pytest", "checks", "-q", "-rA", "-m", "prod",
                           f"--inventory={inventory_file}", f"--junitxml={xml}", *args],
                          cwd=ROOT, capture_output=True, text=True, env=run_env)
    output = proc.stdout + proc.stderr
    assert xml.exists(), f"the prod audit wrote no JUnit XML:\n{output[-3000:]}"
    return read_cases(xml), output + xml.read_text()


def verdicts(cases):
    """{(requirement, case name): outcome}."""
    return {(c.requirement, c.name): c.outcome for c in cases}


def red_lines(cases):
    return "\n".join(f"{c.requirement} {c.name} {c.outcome}: {c.message.splitlines()[0][:300] if c.message else ''}"
                     for c in cases if c.outcome != "passed")


# --- the lab's secrets: nothing of them may appear in any output ---------------------------------------

def _key_material(path):
    """The base64 body lines of an OpenSSH private key (any one of them in an output is a leak)."""
    text = path.read_text()
    return [l.strip() for l in text.splitlines() if l.strip() and not l.startswith("-----") and len(l.strip()) > 20]


KEY_FILE_LIMIT = 64 * 1024   # a private key file is a few KiB; the lab's state also holds pool vdevs (GiBs)


def secrets(arch):
    """{label: secret text} of every private key and PSK of the lab."""
    out = {}
    for path in sorted(STATE_DIR.rglob("*")):
        if (path.is_file() and not path.name.endswith(".pub") and path.stat().st_size <= KEY_FILE_LIMIT
                and "PRIVATE KEY" in path.read_text(errors="replace")):
            for i, line in enumerate(_key_material(path)):
                out[f"{path.relative_to(STATE_DIR)} line {i + 1}"] = line
    for link in arch.links():
        out[f"PSK of {link.name}"] = psk_line(link.name).strip().split(":", 1)[1]
    return out


def leaks(arch, text):
    return [label for label, secret in secrets(arch).items() if secret in text]


# --- fingerprint of a lab machine: what an audit must not change ----------------------------------------

FINGERPRINT = r"""export LC_ALL=C
# PostgreSQL rewrites its own files after mere reads (hint bits and statistics flushed at a checkpoint):
# its data directory is read through the server instead (databases, owners, tables)
echo "## files"
find /etc /opt /srv /mnt /var/lib -xdev -type f ! -path '*/journal/*' ! -name '*.log' ! -path '/var/lib/postgresql/*' \
  -printf '%p %T@ %s %m %u\n' 2>/dev/null | sort
find /etc /opt /srv /mnt /var/lib -xdev -type f ! -path '*/journal/*' ! -name '*.log' ! -path '/var/lib/postgresql/*' \
  -size -64M -print0 2>/dev/null | sort -z | xargs -0 -r sha256sum 2>/dev/null
for m in $(awk '$2 ~ "^/mnt/" {print $2}' /proc/mounts); do
  find "$m" -xdev -type f -printf '%p %T@ %s %m\n' 2>/dev/null | sort
done
echo "## units"
systemctl list-units --all --no-legend --plain --no-pager 2>/dev/null | awk '{print $1, $2, $3, $4}' | sort
# enabled, disabled, masked: the links systemctl makes (list-unit-files reads every unit file: 0.6 s a machine)
find /etc /run/systemd/system -xdev -type l -printf '%p -> %l\n' 2>/dev/null | sort
echo "## processes"
# (read before the databases: a backend of the psql below may still be exiting when ps reads)
# (postfix's master runs its daemons on demand and lets them exit when idle: an audit's mailq starts showq)
P=$(ps -eo args=); printf '%s\n' "$P" | grep -v -e '^ps -eo' -e 'offsuite-fingerprint' -e '^sleep ' -e '^\[' \
  | grep -v -E -e ' -t (unix|fifo|inet|pass)( |$)' | sort
echo "## databases"
if [ -d /var/lib/postgresql ] && command -v psql >/dev/null; then
  for db in $(su postgres -c "psql -AtX -c 'select datname from pg_database where datallowconn order by 1'"); do
    su postgres -c "psql -AtX -d $db -c \"select '$db', pg_get_userbyid(d.datdba) from pg_database d where datname = '$db' \
      union all select '$db', schemaname || '.' || tablename || ' ' || tableowner from pg_tables order by 2\""
  done
fi
echo "## zfs"
command -v zfs >/dev/null && zfs list -H -t all -o name,used 2>/dev/null | awk '{print $1}' | sort
"""


def machines(arch):
    return [(m.name, hosts.machine_container_name(arch, m.name)) for m in arch.machines()]


def fingerprint(arch):
    """{machine: {section line}} of every lab machine, read with docker exec (not through the audited path)."""
    client = docker_ops.client()

    def one(item):
        machine, name = item
        text = docker_ops.sh(client.containers.get(name), f": offsuite-fingerprint\n{FINGERPRINT}",
                             f"fingerprint {machine}", check=False)
        return machine, set(text.splitlines())

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        return dict(pool.map(one, machines(arch)))


def changes(before, after):
    out = []
    for machine in before:
        gone, new = sorted(before[machine] - after[machine]), sorted(after[machine] - before[machine])
        out += [f"{machine}: - {l}" for l in gone] + [f"{machine}: + {l}" for l in new]
    return out

