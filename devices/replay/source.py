"""`ReplaySource`: a recorded WFDB record played as a live bed, on its own thread."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from pathlib import Path

from wardwatch.app.clock import Clock
from wardwatch.app.domain import LinkState
from wardwatch.devices.base import Sink, SourceError, ThreadedSource
from wardwatch.devices.replay.cursor import ReplayCursor
from wardwatch.devices.replay.record import load_record, record_path

DEFAULT_BLOCK_INTERVAL_S = 0.04


class ReplaySource(ThreadedSource):
    """Loads the record on its own thread, then pushes what is due every `block_interval_s` of wall time.

    The station clock sets the pace: at speed 10 each push carries ten times as many samples, so the
    playback keeps up without waking more often.
    """

    kind = "replay"

    def __init__(
        self,
        path: Path,
        bed: str,
        clock: Clock,
        loop: bool = True,
        block_interval_s: float = DEFAULT_BLOCK_INTERVAL_S,
    ) -> None:
        super().__init__(f"replay:{path.name}@{bed}", bed, clock)
        self.path = path
        self.loop = loop
        self.block_interval_s = block_interval_s

    def run(self, sink: Sink, stop: threading.Event) -> None:
        # Loading here, not in the constructor: a long record (beat detection takes seconds) never
        # holds up whoever builds the station, and a broken one fails this bed only.
        recording = load_record(self.path)
        if stop.is_set():  # stopped while loading: do not claim a connection nobody will feed
            return
        cursor = ReplayCursor(recording, self.bed, origin=self.clock.now(), loop=self.loop)
        self._set_status(LinkState.CONNECTED, recording.name)
        while not stop.is_set():
            now = self.clock.now()
            for block in cursor.due_until(now):
                sink.push_block(block)
            for obs in cursor.numerics_until(now):
                sink.push_observation(obs)
            if cursor.finished:
                self._set_status(LinkState.STOPPED, "end of record")
                return
            # The interval is wall time; the clock waits in station time.
            if self.clock.wait(self.block_interval_s * self.clock.speed, stop):
                return


def _bool_option(options: Mapping[str, object], key: str, default: bool) -> bool:
    value = options.get(key, default)
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "yes", "1", "false", "no", "0"):
        return value.strip().lower() in ("true", "yes", "1")
    raise SourceError(f"replay option {key!r} must be true or false, not {value!r}")


def _positive_option(options: Mapping[str, object], key: str, default: float) -> float:
    value = options.get(key, default)
    number = float(value) if isinstance(value, int | float | str) and not isinstance(value, bool) else -1.0
    if not 0.0 < number < float("inf"):  # also refuses NaN
        raise SourceError(f"replay option {key!r} must be a positive number of seconds, not {value!r}")
    return number


def make_replay_source(arg: str, bed: str, clock: Clock, options: Mapping[str, object]) -> ReplaySource:
    """Build (not start) a replay source; only the arguments are checked here, the record in `run()`."""
    if not arg.strip():
        raise SourceError("replay needs a record path, e.g. replay:/data/mitdb/100")
    return ReplaySource(
        record_path(arg.strip()),
        bed,
        clock,
        loop=_bool_option(options, "loop", True),
        block_interval_s=_positive_option(options, "block_interval_s", DEFAULT_BLOCK_INTERVAL_S),
    )
