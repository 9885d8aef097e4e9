"""Light sources stepped together on one shared thread."""

from __future__ import annotations

import threading
import time

from wardwatch.app.clock import ScaledClock
from wardwatch.app.domain import LinkState, TechnicalKind
from wardwatch.app.hub import StreamHub
from wardwatch.devices.base import SharedRunner, Sink, SteppedSource


class Counting(SteppedSource):
    kind = "sim"

    def __init__(self, bed: str, runner: SharedRunner, explode_after: int | None = None) -> None:
        super().__init__(f"count@{bed}", bed, ScaledClock(1.0), runner)
        self.steps = 0
        self.explode_after = explode_after
        self.stepped_on: set[str] = set()

    def begin(self) -> None:
        self.steps = 0

    def step(self, sink: Sink) -> float:
        self.steps += 1
        self.stepped_on.add(threading.current_thread().name)
        if self.explode_after is not None and self.steps > self.explode_after:
            raise RuntimeError("driver bug")
        self._set_status(LinkState.CONNECTED)
        return 0.04


def _wait_for(predicate, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return False


def test_sources_on_a_shared_runner_are_stepped_on_one_thread():
    runner = SharedRunner(ScaledClock(1.0), interval_s=0.01, name="shared-test")
    hub = StreamHub()
    sources = [Counting(f"bed{i}", runner) for i in range(5)]
    for s in sources:
        s.start(hub)
    try:
        assert _wait_for(lambda: all(s.steps > 3 for s in sources))
        assert set().union(*(s.stepped_on for s in sources)) == {"shared-test"}
    finally:
        for s in sources:
            s.stop()
        runner.stop()
    assert all(s.status.state is LinkState.STOPPED for s in sources)


def test_a_source_that_raises_on_the_runner_fails_alone():
    runner = SharedRunner(ScaledClock(1.0), interval_s=0.01)
    hub = StreamHub()
    broken = Counting("bed1", runner, explode_after=2)
    healthy = Counting("bed2", runner)
    broken.start(hub)
    healthy.start(hub)
    try:
        assert _wait_for(lambda: broken.status.state is LinkState.FAILED)
        steps = healthy.steps
        assert _wait_for(lambda: healthy.steps > steps + 3)
        assert [c.kind for c in hub.conditions("bed1")] == [TechnicalKind.SOURCE_FAILED]
        assert "driver bug" not in broken.status.detail
    finally:
        broken.stop()
        healthy.stop()
        runner.stop()
