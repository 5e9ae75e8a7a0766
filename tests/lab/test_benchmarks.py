"""The lab's benchmarks run small (seconds each), so none can rot unnoticed: each exits 0 and prints its
figures the one way (bench/figures.py). The full-size figures are for the notes, not asserted."""
import pytest

from bench.figures import figures
from fixtures.lab import docker_ops
from tests.bench.test_benchmarks import run_bench
from tests.lab.test_lifecycle import lab_containers


@pytest.fixture(autouse=True)
def _lab_up(lab):
    return lab


def test_lab_bench_small_times_a_bring_up_of_the_lab_already_up_which_changes_nothing():
    """The bring-up is idempotent: the one the benchmark times, of the lab up, leaves every container as it was
    (none made again, none restarted)."""
    client = docker_ops.client()
    before = lab_containers(client)
    got = figures(run_bench("lab_bench", "--small"))
    assert "second bring-up (nothing changed)" in got and "memory of the lab" in got, got
    assert any(name.startswith("image ") for name in got), got
    assert lab_containers(client) == before


def test_audit_bench_small_audits_one_requirement():
    got = figures(run_bench("audit_bench", "--small"))
    wall = [name for name in got if name.startswith("audit (") and name.endswith("wall")]
    assert wall and got["audit remote commands"][0] > 0, got


def test_prod_latency_bench_small_audits_by_one_path():
    out = run_bench("prod_latency_bench", "--small")
    got = figures(out)
    assert list(got) == ["ssh + sudo, ProxyJump (jump) wall"], out


def test_provision_bench_small_plans_on_the_healthy_lab():
    out = run_bench("provision_bench", "--small")
    assert list(figures(out)) == ["plan, healthy lab"] and "exit 0" in out, out
