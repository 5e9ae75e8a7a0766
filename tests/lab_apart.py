"""`bin/test`'s two workers (pytest-xdist, `-n 2`): the lab's tests (tests/lab), in their order, on one worker,
which also brings the lab up; every other test on the other worker, at a lower CPU priority. The lab is one
shared machine room, so its tests take turns, and they are the session's longest path; the others fill the time
the lab's tests leave the CPU idle (a bring-up, a time-out waited out, a container restarting) instead of adding
to it. Without `-n` (`bin/test --quick`, a single folder) nothing here applies."""
import os

LAB_TESTS = "tests/lab/"
LAB_WORKER = "gw0"
OTHERS_NICENESS = 10   # about a tenth of a CPU against a busy one; never starved (their own time-outs hold)


def worker_id(config):
    """The xdist worker this process is ("gw0", ...), or None in a process of its own (or the controller)."""
    return getattr(config, "workerinput", {}).get("workerid")


def runs_lab(config):
    """Whether this process runs the lab's tests (and so brings the lab up): the lab's worker, or a run
    without workers."""
    return worker_id(config) in (None, LAB_WORKER)


def lower_priority(config):
    """The other worker's tests (and the processes they start) yield the CPU to the lab's."""
    if not runs_lab(config):
        os.nice(OTHERS_NICENESS)


def scheduler(config, log):
    """The scheduler of bin/test's workers (pytest-xdist is imported only when its workers run)."""
    from xdist.scheduler import LoadScopeScheduling

    class LabApart(LoadScopeScheduling):
        """Two work units: the lab's tests to the lab's worker, the rest to another worker; a worker left
        without a unit is shut down."""

        def _split_scope(self, nodeid):
            return "lab" if nodeid.startswith(LAB_TESTS) else "others"

        def schedule(self):
            assert self.collection_is_completed
            if self.collection is not None:
                return super().schedule()
            if not self._check_nodes_have_same_collection():
                self.log("**Different tests collected, aborting run**")
                return
            self.collection = list(next(iter(self.registered_collections.values())))
            for nodeid in self.collection:
                self.workqueue.setdefault(self._split_scope(nodeid), {})[nodeid] = False
            nodes = sorted(self.nodes, key=lambda n: n.workerinput["workerid"] != LAB_WORKER)
            if "lab" in self.workqueue:
                self._give(nodes.pop(0), "lab")
            if "others" in self.workqueue:
                self._give(nodes.pop(0) if nodes else self.nodes[0], "others")
            for node in self.nodes:
                node.shutdown()   # after the tests it was given

        def _give(self, node, scope):
            unit = self.workqueue.pop(scope)
            self.assigned_work[node][scope] = unit
            collected = {nodeid: i for i, nodeid in enumerate(self.registered_collections[node])}
            node.send_runtest_some([collected[nodeid] for nodeid in unit])

    return LabApart(config, log)
