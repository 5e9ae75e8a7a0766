"""How tests/lab/test_faults.py batches the lab's faults: every fault once, no requirement twice in a batch, no two
faults of a batch sharing what they run or break, the `first` fault's batch first, a fault restarting its container
first of its batch, and no more batches than needed."""
from fixtures.lab.faults import Fault, replication_into
from tests.lab.test_faults import BATCHES, CATALOGUE, batches


def fault(name, requirement, **kw):
    return Fault(name, requirement, name, lambda c: None, lambda c: None, **kw)


def check(catalogue, out):
    placed = [n for b in out for n in b]
    assert sorted(placed) == sorted(catalogue), "every fault exactly once"
    for b in out:
        reds = [r for n in b for r in catalogue[n].reds]
        assert len(reds) == len(set(reds)), f"a requirement twice in {b}"
        shares = [s for n in b for s in catalogue[n].shares]
        assert len(shares) == len(set(shares)), f"two faults of {b} share {shares}"
        restarting = [catalogue[n].restarts for n in b]
        assert restarting == sorted(restarting, reverse=True), f"a restarting fault after another in {b}"


def test_the_lab_catalogue_batches_hold_their_rules():
    check(CATALOGUE, BATCHES)
    first = [n for n in CATALOGUE if CATALOGUE[n].first]
    assert all(n in BATCHES[0] for n in first)
    assert [b for b in BATCHES if any(CATALOGUE[n].errors for n in b)] == [b for b in BATCHES if len(b) == 1
                                                                            and CATALOGUE[b[0]].errors]


def test_as_few_batches_as_the_requirements_and_shares_allow():
    catalogue = {f.name: f for f in [
        fault("a1", "A"), fault("a2", "A"), fault("a3", "A"),
        fault("b1", "B", shares=replication_into(("h", "pool/x"))),
        fault("c1", "C", shares=replication_into(("h", "pool/x/child"))),   # the same tree as b1
        fault("d1", "D", shares=replication_into(("h", "pool/y"))),
        fault("e1", "E", restarts=True), fault("f1", "F", first=True), fault("g1", "G", errors="ZFS did not answer")]}
    out = batches(catalogue)
    check(catalogue, out)
    assert len(out) == 4 and out[-1] == ["g1"]                        # three for A, the erring one alone
    assert "f1" in out[0]
    assert not any({"b1", "c1"} <= set(b) for b in out)
    e_batch = next(b for b in out if "e1" in b)
    assert e_batch[0] == "e1"


def test_a_batch_size_bound_adds_batches():
    catalogue = {f"x{i}": fault(f"x{i}", f"R{i}") for i in range(7)}
    assert [len(b) for b in batches(catalogue, size=3)] == [3, 2, 2]
